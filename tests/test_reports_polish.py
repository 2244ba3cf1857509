"""The feedback as a new user saw it: long lines wrap (HTML and PDF), 0-point tasks are "not scored", and the
same message from several tests of one cause is said once."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from grader.model import CodeUnit, Diagnosis, ModuleCode, StudentResult, TaskResult, TestResult, TraceFrame
from grader.report.html import feedback_html, summary_html
from grader.report.jsonout import result_dict

LONG = "    return np.sum(" + " + ".join(f"weights_{i} * inputs_{i}" for i in range(40)) + ")  # END_OF_LONG_LINE"
SOURCE = f"def forward(inputs):\n{LONG}\n"


def student(tasks: tuple[TaskResult, ...]) -> StudentResult:
    unit = CodeUnit("submission", "submission.py", 1, SOURCE, ("forward",))
    return StudentResult("ann", "demo", "graded", sum(t.score for t in tasks), sum(t.max_score for t in tasks), tasks,
                         sources=(ModuleCode("submission", (unit,)),))


def failing(name: str, message: str, traceback: tuple[TraceFrame, ...] = ()) -> TestResult:
    return TestResult(name, "public", False, 0.0, 2.0, message, (Diagnosis.EXCEPTION,), traceback=traceback)


def long_line_result() -> StudentResult:
    frame = (TraceFrame("submission.py", 2, "forward"),)
    return student((TaskResult("1a", "Forward", 0.0, 2.0, (failing("forward on a batch", "NameError: weights_0", frame),)),))


def test_a_long_code_line_wraps_in_the_html():
    html = feedback_html(long_line_result(), "Demo")
    assert "END_OF_LONG_LINE" in html
    style = html[html.index("pre.code {"):]
    style = style[:style.index("}")]
    assert "pre-wrap" in style and "overflow-wrap: anywhere" in style and "break-inside: avoid" in style
    assert "overflow-x: auto" not in style  # a PDF has no scroll bar: the end of the line would be cut


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_a_long_code_line_is_not_cut_at_the_pdf_page_edge(tmp_path):
    from grader.report.pdf import html_to_pdf

    pdf = tmp_path / "feedback.pdf"
    pdf.write_bytes(html_to_pdf(feedback_html(long_line_result(), "Demo")))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "END_OF_LONG_LINE" in text.replace("\n", "")
    assert "weights_39" in text


def zero_point_result() -> StudentResult:
    scored = TaskResult("1a", "Forward", 2.0, 2.0, (TestResult("forward", "public", True, 2.0, 2.0, "", ()),))
    shown = TaskResult("4b", "Weight images", 0.0, 0.0, (TestResult("weights drawn", "public", True, 0.0, 0.0, "", ()),))
    return student((scored, shown))


def test_a_zero_point_task_is_not_scored_rather_than_zero_of_zero():
    html = feedback_html(zero_point_result(), "Demo")
    task = html[html.index("Task 4b"):]
    assert "not scored" in task[:400] and "0 / 0" not in html
    summary = summary_html("Demo", ["1a", "4b"], [result_dict(zero_point_result())], [])
    tasks = summary[summary.index("<h2>Tasks</h2>"):]
    row = tasks[tasks.index("<td>4b</td>"):]
    row = row[:row.index("</tr>")]
    assert "not scored" in row and "100%" not in row


def test_one_cause_repeated_by_several_tests_is_said_once():
    message = "`forward` is not defined in your submission"
    tests = tuple(failing(f"forward test {n}", message) for n in range(3))
    other = failing("backward", "a different message")
    html = feedback_html(student((TaskResult("1a", "Forward", 0.0, 8.0, (*tests, other)),)), "Demo")
    assert html.count("is not defined in your submission") == 1
    assert html.count("the same as for “forward test 0” above") == 2
    assert "a different message" in html


def test_the_class_mean_is_shown_to_one_decimal():
    """Three students at 2, 1 and 1 of 2 points: the mean 1.3333 is shown as 1.3, a whole mean without decimals."""
    def scored(name: str, points: float) -> dict:
        task = TaskResult("1a", "Forward", points, 2.0, (TestResult("forward", "public", points == 2.0, points, 2.0, "", ()),))
        result = student((task,))
        return result_dict(StudentResult(name, result.assignment, result.status, points, 2.0, (task,), sources=result.sources))

    uneven = summary_html("Demo", ["1a"], [scored("a", 2.0), scored("b", 1.0), scored("c", 1.0)], [])
    assert "mean 1.3 / 2" in uneven and "1.333" not in uneven
    even = summary_html("Demo", ["1a"], [scored("a", 2.0), scored("b", 2.0)], [])
    assert "mean 2 / 2" in even
