"""The output folder's layout: which file holds what, written atomically, read back for the class files.

    OUT/gradebook.csv
    OUT/summary.html               (summary.pdf with --pdf)
    OUT/STUDENT/result.json
    OUT/STUDENT/feedback.html      (feedback.pdf with --pdf)
    OUT/STUDENT/.seconds           (grading time, for the summary; kept out of result.json)
    OUT/STUDENT/.fingerprint       (written last: the student is done)
    OUT/gradescope/STUDENT.json    (with --gradescope)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.model import StudentResult
from grader.report.csvout import gradebook_csv
from grader.report.files import write_atomic
from grader.report.gradescope import gradescope_json
from grader.report.html import feedback_html, summary_html
from grader.report.jsonout import result_json


@dataclass(frozen=True)
class StudentFiles:
    """Which optional files to write per student."""

    pdf: bool = False
    gradescope: bool = False


def write_student_files(out: Path, result: StudentResult, assignment: Assignment, options: StudentFiles, fingerprint: str) -> None:
    """Everything of one student, each file atomic, the fingerprint last."""
    folder = out / result.student
    write_atomic(folder / "result.json", result_json(result))
    html = feedback_html(result, assignment.title)
    write_atomic(folder / "feedback.html", html)
    if options.pdf:
        from grader.report.pdf import html_to_pdf

        write_atomic(folder / "feedback.pdf", html_to_pdf(html))
    if options.gradescope:
        write_atomic(out / "gradescope" / f"{result.student}.json", gradescope_json(result))
    write_atomic(folder / ".seconds", f"{result.seconds:.3f}\n")
    write_atomic(folder / ".fingerprint", fingerprint)


def remove_partial_files(out: Path) -> int:
    """Delete the temporary files of writes a killed run never finished (`.NAME.*.part`); how many."""
    partial = [*out.glob(".*.part"), *out.glob("*/.*.part")]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def read_results(out: Path, students: Sequence[str]) -> list[dict[str, Any]]:
    """The result.json of each listed student (those of students no longer submitted are left out)."""
    results = []
    for student in students:
        path = out / student / "result.json"
        if path.is_file():
            results.append(json.loads(path.read_text(encoding="utf-8")))
    return results


def read_seconds(out: Path, students: Sequence[str]) -> dict[str, float]:
    """How long each listed student took to grade, when it was recorded."""
    seconds = {}
    for student in students:
        try:
            seconds[student] = float((out / student / ".seconds").read_text())
        except (OSError, ValueError):
            continue
    return seconds


def write_class_files(
    out: Path,
    assignment: Assignment,
    results: list[dict[str, Any]],
    ignored: Sequence[str],
    options: StudentFiles = StudentFiles(),
    similar: Sequence[dict[str, Any]] = (),
) -> None:
    """The gradebook and the class summary (HTML, and PDF with --pdf), from the students' result.json files."""
    task_ids = [t.id for t in assignment.tasks]
    write_atomic(out / "gradebook.csv", gradebook_csv(task_ids, results))
    seconds = read_seconds(out, [r["student"] for r in results])
    html = summary_html(assignment.title, task_ids, results, ignored, similar, seconds)
    write_atomic(out / "summary.html", html)
    if options.pdf:
        from grader.report.pdf import html_to_pdf

        write_atomic(out / "summary.pdf", html_to_pdf(html))
