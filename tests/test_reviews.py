"""Reviews as data: reviews.json, staleness, and what applying them does to a result and to each output."""

from __future__ import annotations

import csv
import io
import json

import pytest

from grader.errors import GraderError
from grader.model import Diagnosis, StudentResult, TaskResult, TestResult
from grader.report.jsonout import result_json
from grader.report.reviewed import reviewed_gradebook_csv, reviewed_gradescope_json, reviewed_result_json
from grader.report.stored import Stored, read_stored, stored_json
from grader.reviews import (
    Review,
    apply_reviews,
    handin_fingerprint,
    load_reviews,
    merged,
    save_reviews,
    without,
)


def result(student: str = "ann") -> StudentResult:
    tests_a = (
        TestResult("gradient", "public", True, 4.0, 4.0, "", ()),
        TestResult("written answer 1", "public", False, 0.0, 2.0, "`w` is not equivalent", (Diagnosis.WRONG_ANSWER,)),
    )
    tests_b = (TestResult("norm", "hidden", False, 0.0, 2.0, "", (Diagnosis.EXCEPTION,)),)
    tasks = (TaskResult("a", "A", 4.0, 6.0, tests_a), TaskResult("b", "B", 0.0, 2.0, tests_b))
    return StudentResult(student, "demo", "graded", 4.0, 8.0, tasks)


def review(test: str = "written answer 1", task: str = "a", points: float | None = 1.5, comment: str = "half",
           fingerprint: str = "F1", student: str = "ann") -> Review:
    return Review(student, task, test, points, comment, "2026-11-30T08:00:00Z", fingerprint)


def test_a_review_sets_the_points_and_the_sums_follow():
    reviewed, applied = apply_reviews(result(), [review()], "F1")
    test = reviewed.tasks[0].tests[1]
    assert test.score == 1.5 and not test.passed
    assert reviewed.tasks[0].score == 5.5 and reviewed.score == 5.5
    assert [(a.task, a.test, a.auto_score, a.points, a.comment) for a in applied] == [("a", "written answer 1", 0.0, 1.5, "half")]
    full, _ = apply_reviews(result(), [review(points=2)], "F1")
    assert full.tasks[0].tests[1].passed and full.score == 6


def test_points_are_clamped_to_the_test_and_a_comment_alone_keeps_the_grader_points():
    over, _ = apply_reviews(result(), [review(points=99), review("norm", "b", points=-3)], "F1")
    assert over.tasks[0].tests[1].score == 2 and over.tasks[1].tests[0].score == 0
    commented, applied = apply_reviews(result(), [review("gradient", points=None, comment="nice")], "F1")
    assert commented.score == 4 and commented.tasks[0].tests[0] == result().tasks[0].tests[0]
    assert applied[0].comment == "nice"


def test_a_stale_review_or_another_students_is_not_applied():
    assert apply_reviews(result(), [review(fingerprint="OLD")], "F1") == (result(), ())
    assert apply_reviews(result(), [review(student="bob")], "F1") == (result(), ())


def test_a_review_decides_a_test_awaiting_review():
    base = result()
    if not hasattr(base.tasks[0], "held"):
        pytest.skip("this model has no held points")
    from dataclasses import replace

    waiting = replace(base.tasks[0].tests[1], verdict="needs_review")
    task = replace(base.tasks[0], tests=(base.tasks[0].tests[0], waiting), held=2.0)
    held = replace(base, tasks=(task, base.tasks[1]), held=2.0)
    reviewed, _ = apply_reviews(held, [review(points=2)], "F1")
    assert reviewed.tasks[0].tests[1].verdict is None and reviewed.tasks[0].held == 0 and reviewed.held == 0
    assert reviewed.score == 6


def test_reviews_json_round_trips_sorted_and_versioned(tmp_path):
    entries = [review("norm", "b", points=None, comment=""), review(), review(student="<b>x</b>")]
    save_reviews(tmp_path, entries)
    text = (tmp_path / "reviews.json").read_text()
    data = json.loads(text)
    assert data["schema_version"] == 1 and [r["student"] for r in data["reviews"]] == ["<b>x</b>", "ann", "ann"]
    assert set(data["reviews"][0]) == {"student", "task", "test", "points", "comment", "time", "fingerprint"}
    assert sorted(load_reviews(tmp_path), key=lambda r: r.key) == sorted(entries, key=lambda r: r.key)
    save_reviews(tmp_path, reversed(entries))
    assert (tmp_path / "reviews.json").read_text() == text  # the same reviews are the same bytes
    assert not list(tmp_path.glob(".*.part"))


def test_merging_replaces_one_entry_per_student_task_and_test():
    first = merged([review()], [review(points=2, comment="full after all")])
    assert len(first) == 1 and first[0].points == 2
    assert without(first, [("ann", "a", "written answer 1")]) == ()


@pytest.mark.parametrize("text", ['{"schema_version": 2, "reviews": []}', "not json",
                                  '{"schema_version": 1, "reviews": [{"student": "a"}]}'])
def test_a_broken_reviews_file_is_an_error_that_names_it(tmp_path, text):
    (tmp_path / "reviews.json").write_text(text)
    with pytest.raises(GraderError, match="reviews.json"):
        load_reviews(tmp_path)


def test_the_hand_in_fingerprint_follows_its_content_only(tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    (one / "a.py").write_text("x = 1\n")
    first = handin_fingerprint(one)
    assert handin_fingerprint(one) == first
    (one / "a.py").write_text("x = 2\n")
    assert handin_fingerprint(one) != first


def test_outputs_mark_what_was_reviewed_and_nothing_else():
    plain = result()
    assert reviewed_result_json(plain, ()) == result_json(plain)  # no review: the contract's bytes
    reviewed, applied = apply_reviews(plain, [review()], "F1")
    data = json.loads(reviewed_result_json(reviewed, applied))
    tests = data["tasks"][0]["tests"]
    assert tests[1]["reviewed"] is True and tests[1]["review_comment"] == "half" and tests[1]["auto_score"] == 0
    assert tests[1]["score"] == 1.5 and "reviewed" not in tests[0]
    assert set(json.loads(result_json(plain))["tasks"][0]["tests"][1]) < set(tests[1])  # only keys added
    grades = json.loads(reviewed_gradescope_json(reviewed, applied))
    written = next(t for t in grades["tests"] if t["name"] == "a: written answer 1")
    assert written["output"].startswith("Reviewed by the instructor: 1.5 / 2. half") and written["score"] == 1.5
    assert grades["score"] == 5.5


def test_the_gradebook_gains_a_reviewed_column_only_once_something_is_reviewed():
    reviewed, applied = apply_reviews(result(), [review()], "F1")
    rows = [json.loads(reviewed_result_json(reviewed, applied)), json.loads(result_json(result("bob")))]
    book = list(csv.DictReader(io.StringIO(reviewed_gradebook_csv(["a", "b"], rows))))
    assert book[0]["student"] == "ann" and float(book[0]["score"]) == 5.5 and float(book[0]["a"]) == 5.5
    assert "written answer 1" in book[0]["reviewed"] and "half" in book[0]["reviewed"] and book[1]["reviewed"] == ""
    plain = reviewed_gradebook_csv(["a", "b"], [json.loads(result_json(result()))])
    assert "reviewed" not in plain.splitlines()[0]


def test_the_stored_result_reads_back_equal(tmp_path):
    stored = Stored(result(), "F1", "Demo", "/somewhere", False, True)
    (tmp_path / ".review.json").write_text(stored_json(stored))
    assert read_stored(tmp_path) == stored
    (tmp_path / ".review.json").write_text("{}")
    assert read_stored(tmp_path) is None
