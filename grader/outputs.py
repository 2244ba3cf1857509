"""The output folder's layout: which file holds what, written atomically, read back for the class files.

    OUT/gradebook.csv
    OUT/summary.html               (summary.pdf with --pdf)
    OUT/STUDENT/result.json
    OUT/STUDENT/feedback.html      (feedback.pdf with --pdf)
    OUT/STUDENT/.grading.json      (time, time in the student's code, environment: kept out of result.json)
    OUT/STUDENT/.fingerprint       (written last: the student is done)
    OUT/STUDENT/.review.json       (the grader's whole result before reviews, for `grader review`)
    OUT/gradescope/STUDENT.json    (with --gradescope)
    OUT/reviews.json               (the instructor's reviews: written by `grader review` only, never by grade)
    OUT/.class.json                (what the summary needs beyond the results, to write it again after a review)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from grader.assignment import Assignment
from grader.model import StudentResult
from grader.report.digest import ClassDigest, digest
from grader.report.files import write_atomic
from grader.report.gradescope import gradescope_json
from grader.report.html import feedback_html, summary_html_chunks
from grader.report.jsonout import result_json
from grader.report.reviewed import reviewed_gradebook_csv, reviewed_gradescope_json, reviewed_result_json
from grader.report.stored import STORED_FILE, Stored, read_stored, stored_json
from grader.reviews import apply_reviews, handin_fingerprint, load_reviews

CLASS_FILE = ".class.json"


GRADING_FILE = ".grading.json"


@dataclass(frozen=True)
class StudentFiles:
    """Which optional files to write per student."""

    pdf: bool = False
    gradescope: bool = False


def write_student_files(out: Path, result: StudentResult, assignment: Assignment, options: StudentFiles, fingerprint: str,
                        handin: Path | None = None) -> None:
    """Everything of one student, each file atomic, the fingerprint last; the instructor's reviews applied."""
    folder = out / result.student
    stored = Stored(result, handin_fingerprint(handin) if handin is not None else fingerprint, assignment.title,
                    str(assignment.folder), options.pdf, options.gradescope)
    write_atomic(folder / STORED_FILE, stored_json(stored))
    write_reports(out, stored)
    write_atomic(folder / GRADING_FILE, json.dumps({"seconds": round(result.seconds, 3),
                                                   "student_seconds": round(result.student_seconds, 3),
                                                   "environment": result.environment}))
    if result.status == "error":  # not final: no fingerprint, so the next run grades this student again
        (folder / ".fingerprint").unlink(missing_ok=True)
    else:
        write_atomic(folder / ".fingerprint", fingerprint)


def write_reports(out: Path, stored: Stored, pdf: bool = True) -> None:
    """result.json, feedback (and PDF) and Gradescope JSON of one student, with the current reviews applied.

    `pdf=False` leaves feedback.pdf to the caller (the review page writes PDFs in the background).
    """
    result, applied = apply_reviews(stored.result, load_reviews(out), stored.fingerprint)
    folder = out / result.student
    write_atomic(folder / "result.json", reviewed_result_json(result, applied) if applied else result_json(result))
    html = feedback_html(result, stored.title, applied)
    write_atomic(folder / "feedback.html", html)
    if stored.pdf and pdf:
        from grader.report.pdf import html_to_pdf

        write_atomic(folder / "feedback.pdf", html_to_pdf(html))
    if stored.gradescope:
        text = reviewed_gradescope_json(result, applied) if applied else gradescope_json(result)
        write_atomic(out / "gradescope" / f"{result.student}.json", text)


def rewrite_after_review(out: Path, students: Sequence[str], pdf: bool = True) -> None:
    """Every report of these students and the class files again, from what was stored: nothing is graded again.

    `pdf=False`: the HTML, JSON and CSV only; the PDFs are the caller's (`pdfs_behind`).
    """
    for student in students:
        stored = read_stored(out / student)
        if stored is not None:
            write_reports(out, stored, pdf)
    try:
        saved = json.loads((out / CLASS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    _write_class_pages(out, saved["title"], saved["task_ids"], read_results(out, saved["students"]), saved["ignored"],
                       saved["similar"], bool(saved.get("pdf")) and pdf)


def pdfs_behind(out: Path) -> list[Path]:
    """The feedback and summary PDFs older than the HTML they are made from (after a review), oldest first."""
    behind = []
    for html in [out / "summary.html", *out.glob("*/feedback.html")]:
        pdf = html.with_suffix(".pdf")
        try:
            if pdf.is_file() and pdf.stat().st_mtime_ns < html.stat().st_mtime_ns:
                behind.append(pdf)
        except OSError:
            continue
    return sorted(behind, key=lambda p: p.stat().st_mtime_ns if p.exists() else 0)


def write_pdf_from_html(pdf: Path) -> None:
    """A PDF again from the HTML page beside it, dated as that HTML: an HTML written meanwhile stays newer."""
    import os

    from grader.report.pdf import html_to_pdf

    html = pdf.with_suffix(".html")
    made_from = html.stat().st_mtime_ns
    write_atomic(pdf, html_to_pdf(html.read_text(encoding="utf-8")))
    os.utime(pdf, ns=(made_from, made_from))


def remove_partial_files(out: Path) -> int:
    """Delete the temporary files of writes a killed run never finished (`.NAME.*.part`); how many."""
    partial = [*out.glob(".*.part"), *out.glob("*/.*.part")]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def read_results(out: Path, students: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The result.json of each listed student, one at a time (those of students no longer submitted are left out)."""
    for student in students:
        path = out / student / "result.json"
        if path.is_file():
            yield json.loads(path.read_text(encoding="utf-8"))


class GradingRecord(NamedTuple):
    """How one student was graded: `seconds` in all, `student_seconds` of them inside the student's own code,
    and the `environment` (isolation layer and versions). A tuple: a class of 10,000 holds 10,000 of them."""

    seconds: float
    student_seconds: float
    environment: str


def read_grading(out: Path, students: Sequence[str]) -> dict[str, GradingRecord]:
    """Each listed student's grading record, when one was written."""
    found = {}
    for student in students:
        try:
            record = json.loads((out / student / GRADING_FILE).read_text())
            found[student] = GradingRecord(float(record.get("seconds", 0.0)), float(record.get("student_seconds", 0.0)),
                                           sys.intern(str(record.get("environment", ""))))  # one string for a class
        except (OSError, ValueError, TypeError):
            continue
    return found


def class_files_current(out: Path, assignment: Assignment, students: Sequence[str], ignored: Sequence[str],
                        options: StudentFiles) -> bool:
    """Whether the class files already show exactly this class (a rerun with nothing graded need not redraw them)."""
    try:
        saved = json.loads((out / CLASS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pages = [out / "gradebook.csv", out / "summary.html", *([out / "summary.pdf"] if options.pdf else [])]
    return (all(page.is_file() for page in pages) and saved.get("students") == sorted(students)
            and saved.get("ignored") == list(ignored) and saved.get("pdf") == options.pdf
            and saved.get("title") == assignment.title and saved.get("task_ids") == [t.id for t in assignment.tasks])


def write_class_files(
    out: Path,
    assignment: Assignment,
    results: Iterable[dict[str, Any]],
    ignored: Sequence[str],
    options: StudentFiles = StudentFiles(),
    similar: Sequence[dict[str, Any]] = (),
) -> None:
    """The gradebook and the class summary (HTML, and PDF with --pdf), from the students' result.json files.

    `results` is walked once (`read_results` reads them one at a time): a class of any size is condensed
    to what the class pages show, never held whole in memory.
    """
    task_ids = [t.id for t in assignment.tasks]
    found = digest(results)
    # what the summary needs beyond the results, so that `grader review` can write it again after a review
    write_atomic(out / CLASS_FILE, json.dumps({"title": assignment.title, "task_ids": task_ids, "pdf": options.pdf,
                                               "students": [r["student"] for r in found.rows], "ignored": list(ignored),
                                               "similar": list(similar)}, ensure_ascii=False))
    _write_class_pages(out, assignment.title, task_ids, found, ignored, similar, options.pdf)


def _write_class_pages(out: Path, title: str, task_ids: Sequence[str], results: Iterable[dict[str, Any]] | ClassDigest,
                       ignored: Sequence[str], similar: Sequence[dict[str, Any]], pdf: bool) -> None:
    """gradebook.csv (with the reviewed column once something is reviewed) and summary.html (and .pdf)."""
    found = results if isinstance(results, ClassDigest) else digest(results)
    write_atomic(out / "gradebook.csv", reviewed_gradebook_csv(task_ids, found.rows))
    seconds = read_grading(out, [r["student"] for r in found.rows])
    write_atomic(out / "summary.html", summary_html_chunks(title, task_ids, found, ignored, similar, seconds))
    if pdf:
        from grader.report.pdf import html_to_pdf

        write_atomic(out / "summary.pdf", html_to_pdf((out / "summary.html").read_text(encoding="utf-8")))
