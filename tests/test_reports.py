"""The reports as a reader gets them: the feedback PDF read back, the summary checked against the gradebook."""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DEMO, run_cli
from test_batch import BUGGY, GOOD

pypdf = pytest.importorskip("pypdf")
HIDDEN_TESTS = DEMO / "tests" / "hidden" / "test_grad_hidden.py"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    submissions = root / "submissions"
    submissions.mkdir()
    (submissions / "alice.py").write_text(GOOD)
    (submissions / "bob.py").write_text(BUGGY)
    (submissions / "carol.py").write_text("def mse_grad(X, y, w):\n    return (\n")
    out = root / "grades"
    run = run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", "--pdf", "-j", "1")
    assert run.returncode == 0, run.stderr
    return out


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def test_every_task_score_is_in_the_feedback_pdf(graded):
    import json

    for student in ("alice", "bob", "carol"):
        result = json.loads((graded / student / "result.json").read_text())
        text = re.sub(r"\s+", " ", pdf_text(graded / student / "feedback.pdf"))
        assert f"Score: {result['score']:g} / {result['max_score']:g}" in text
        for task in result["tasks"]:
            assert f"Task {task['id']}:" in text
            assert f"{task['score']:g} / {task['max_score']:g}" in text


def test_no_hidden_test_code_or_expected_value_in_any_feedback(graded):
    hidden_lines = [line.strip() for line in HIDDEN_TESTS.read_text().splitlines() if len(line.strip()) > 12]
    for student in ("alice", "bob", "carol"):
        for text in (pdf_text(graded / student / "feedback.pdf"), (graded / student / "feedback.html").read_text()):
            for line in hidden_lines:
                assert line not in text
            assert "12345" not in text  # the hidden test's seed
            assert "21.0" not in text  # the hidden test's expected value


class _Table(HTMLParser):
    """The rows of the summary's first table (the students)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tables = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self.tables == 1:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_the_summary_numbers_equal_the_gradebook(graded):
    table = _Table()
    table.feed((graded / "summary.html").read_text())
    header, *rows = table.rows
    gradebook = list(csv.DictReader((graded / "gradebook.csv").open()))
    assert [r[0] for r in rows] == [g["student"] for g in gradebook]
    status = header.index("status")
    task_ids = header[2:status]
    for row, book in zip(rows, gradebook, strict=True):
        assert row[1] == f"{book['score']} / {book['max_score']}"
        assert dict(zip(task_ids, row[2:2 + len(task_ids)], strict=True)) == {t: book[t] for t in task_ids}
        assert row[status] == book["status"]
    summary_pdf = re.sub(r"\s+", " ", pdf_text(graded / "summary.pdf"))
    for book in gradebook:
        assert f"{book['student']} {book['score']} / {book['max_score']}" in summary_pdf
