"""The review page in a real headless Chromium (Debian's), driven by Playwright: an instructor's whole session."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from review_class import ReviewServer, grade, make_class

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and shutil.which("chromium") is None,
                                reason="Debian's chromium is not installed")


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
                                     args=ARGS)
        yield launched
        launched.close()


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def card_of(page, student: str):
    """The group card on the question page whose members include `student`."""
    return page.locator("section.card").filter(has=page.locator(f"a:text-is('{student}')"))


def test_an_instructor_reviews_a_class_and_the_reviews_survive_regrading(tmp_path, browser):
    submissions = make_class(tmp_path / "submissions")
    out = tmp_path / "grades"
    grade(submissions, out)
    before = gradebook(out)
    server = ReviewServer(out)
    try:
        page = browser.new_page()
        # refused without the token, then in with it
        response = page.goto(server.base + "/")
        assert response.status == 403 and "token" in page.content()
        page.goto(server.url)
        assert page.url == server.base + "/"  # the token left the address bar for a cookie
        progress = page.locator("#progress").inner_text()
        assert "2 of 2 to review" in progress  # frank's and gina's wrong written answers

        # by question: q1's five answers in two groups: the three right ones (written three ways) and the two wrong
        page.click("text=written answer q1")
        cards = page.locator("section.card")
        assert cards.count() == 2
        right = card_of(page, "alice")
        assert right.locator("a", has_text="erin").count() == 1 and right.locator("a", has_text="hal").count() == 1
        assert right.locator("svg").count() >= 1  # the answer drawn as math
        wrong = card_of(page, "frank")
        assert wrong.locator("a", has_text="gina").count() == 1  # w*x - y and (w*x - y): one group
        wrong.locator("input[name=points]").fill("1")
        wrong.locator("input[name=comment]").fill("right idea, the factor x is missing")
        wrong.locator("button", has_text="Apply to 2").click()
        page.wait_for_load_state()
        assert "0 of 2 to review" in page.locator("#progress").inner_text()
        assert "reviewed" in card_of(page, "frank").inner_text()

        # by student: override one test of erin with a comment
        page.goto(server.base + "/student/erin")
        row = page.locator("tr", has_text="squared norm of a vector")
        row.locator("input[name=points]").fill("1.5")
        row.locator("input[name=comment]").fill("sq_norm by hand: fine but slow")
        row.locator("button", has_text="Save").click()
        page.wait_for_load_state()

        # reload: kept
        page.reload()
        row = page.locator("tr", has_text="squared norm of a vector")
        assert row.locator("input[name=points]").input_value() == "1.5"
        assert row.locator("input[name=comment]").input_value() == "sq_norm by hand: fine but slow"

        # the outputs follow at once
        book = gradebook(out)
        assert float(book["frank"]["score"]) == float(before["frank"]["score"]) + 1
        assert float(book["erin"]["norm"]) == 1.5 and float(before["erin"]["norm"]) == 2
        assert "right idea, the factor x is missing" in book["gina"]["reviewed"]

        # a rerun of grade keeps every review
        reviews_before = (out / "reviews.json").read_text()
        grade(submissions, out)
        assert (out / "reviews.json").read_text() == reviews_before
        page.reload()
        assert page.locator("tr", has_text="squared norm of a vector").locator("input[name=points]").input_value() == "1.5"
        assert float(gradebook(out)["erin"]["norm"]) == 1.5

        # erin hands in again: her review is stale, shown so, and not applied
        (submissions / "erin.py").write_text((submissions / "erin.py").read_text() + "\n# resubmitted\n")
        grade(submissions, out)
        page.reload()
        stale_row = page.locator("tr", has_text="squared norm of a vector")
        assert "stale" in stale_row.inner_text()
        assert float(gradebook(out)["erin"]["norm"]) == 2  # the grader's points again
        page.goto(server.base + "/")
        assert page.locator("#students tr", has_text="erin").locator(".badge.stale").count() == 1

        # the gradebook, result.json and feedback of frank show the reviewed points and the comment
        page.goto(server.base + "/files/frank/feedback.html")
        text = page.locator("body").inner_text()
        assert "Reviewed by the instructor" in text and "right idea, the factor x is missing" in text
        result = json.loads((out / "frank" / "result.json").read_text())
        q1 = next(t for task in result["tasks"] for t in task["tests"] if t["name"] == "written answer q1")
        assert q1["reviewed"] is True and q1["score"] == 1 and q1["auto_score"] == 0
        assert q1["review_comment"] == "right idea, the factor x is missing"
        assert float(gradebook(out)["frank"]["score"]) == float(before["frank"]["score"]) + 1

        # looked at again and saved: applied to the new hand-in
        page.goto(server.base + "/student/erin")
        page.locator("tr", has_text="squared norm of a vector").locator("button", has_text="Save").click()
        page.wait_for_load_state()
        assert "stale" not in page.locator("tr", has_text="squared norm of a vector").inner_text()
        assert float(gradebook(out)["erin"]["norm"]) == 1.5
    finally:
        server.close()
