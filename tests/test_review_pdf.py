"""With `grade --pdf`, a review reaches feedback.pdf too: written in the background, after the page answered."""

from __future__ import annotations

import shutil
import subprocess
import time
from urllib.parse import urlencode

import pytest
from review_class import ReviewServer, grade, make_class
from test_review_security import cookie, csrf_of, request

from grader.outputs import pdfs_behind

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


def pdf_text(path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())  # a table cell wraps lines anywhere


def test_a_review_is_written_into_the_feedback_pdf(tmp_path):
    submissions = make_class(tmp_path / "submissions")
    out = tmp_path / "grades"
    grade(submissions, out, "--pdf")
    assert "Reviewed by the instructor" not in pdf_text(out / "frank" / "feedback.pdf")
    server = ReviewServer(out)
    try:
        auth = cookie(server)
        form = {"csrf": csrf_of(server, auth, "frank"), "task": "grad", "test": "written answer q1",
                "student": "frank", "points": "1", "comment": "the factor x is missing"}
        status, _, _ = request(server, "POST", "/review", {**auth, "Origin": server.base}, urlencode(form))
        assert status == 303
        assert "the factor x is missing" in (out / "frank" / "feedback.html").read_text()  # at once
        deadline = time.monotonic() + 180
        while pdfs_behind(out) and time.monotonic() < deadline:
            time.sleep(1)
        assert pdfs_behind(out) == []  # every PDF caught up with its HTML, the summary's too
        text = pdf_text(out / "frank" / "feedback.pdf")
        assert "Reviewed by the instructor" in text and "the factor x is missing" in text
        assert "the factor x is missing" not in pdf_text(out / "gina" / "feedback.pdf")
    finally:
        server.close()
