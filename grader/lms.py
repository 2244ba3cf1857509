"""Grades out to an LMS: the files Canvas's and Moodle's gradebook imports read, and a plain CSV.

Read from the output folder's `result.json` files (so the instructor's reviews are in them).

- **canvas**: Canvas's gradebook CSV (Grades > Import). The header row is
  `Student,ID,SIS User ID,SIS Login ID,Section,` then one column per assignment, named
  `Assignment Name (ASSIGNMENT_ID)` for an assignment that exists in Canvas, or a bare name that Canvas
  offers to create; the second row is `Points Possible` with each column's points. Canvas matches
  a row by `ID` (the Canvas user id), else by the SIS ids.
- **moodle**: Moodle's grade import CSV (Grades > Import > CSV file): one row per student with an
  identifier column to map to a user field (`Email address`, `ID number`, or the participant id),
  one grade column per grade item, and an optional feedback column.
- **csv**: student, name, email, score, max_score, percent, status (and tasks with `--per-task`).

A student the grader failed on (`status` error) has an empty grade: no points were decided. Text
cells that a spreadsheet would read as a formula (`=`, `+`, `-`, `@` first) are quoted with `'`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.errors import UsageError

Format = Literal["canvas", "moodle", "csv"]
FORMATS: tuple[Format, ...] = ("canvas", "moodle", "csv")


@dataclass(frozen=True)
class ExportOptions:
    """What to write beside the total."""

    per_task: bool = False
    assignment_name: str = ""  # default: the assignment's title
    canvas_assignment_id: str = ""  # Canvas's id of the assignment, when it exists there


def read_class(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The class's saved layout (title, task ids) and every student's result.json, by student id."""
    try:
        saved = json.loads((out / ".class.json").read_text(encoding="utf-8"))
        students = list(saved["students"])
    except (OSError, ValueError, KeyError):
        saved = {}
        students = sorted(p.parent.name for p in out.glob("*/result.json"))
    results = []
    for student in students:
        try:
            results.append(json.loads((out / student / "result.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    if not results:
        raise UsageError(f"{out} holds no graded students (run `grade` first)")
    if "task_ids" not in saved:
        saved["task_ids"] = [t["id"] for t in results[0]["tasks"]]
    saved.setdefault("title", results[0]["assignment"])
    return saved, sorted(results, key=lambda r: r["student"])


def export(out: Path, fmt: Format, people: dict[str, Any] | None = None,
           options: ExportOptions = ExportOptions()) -> str:
    """The text of the export file for `fmt`; `people` is a roster by student id (`grader.lms_import.read_roster`)."""
    saved, results = read_class(out)
    people = people or {}
    name = options.assignment_name or str(saved["title"])
    task_ids = list(saved["task_ids"])
    writer = {"canvas": _canvas, "moodle": _moodle, "csv": _plain}[fmt]
    return writer(results, people, name, task_ids, options)


def _score(result: dict[str, Any]) -> str:
    if result.get("status") == "error" or result.get("score") is None:
        return ""
    return _number(result["score"])


def _task_score(result: dict[str, Any], task_id: str) -> str:
    if result.get("status") == "error":
        return ""
    return next((_number(t["score"]) for t in result["tasks"] if t["id"] == task_id), "")


def _task_max(results: Sequence[dict[str, Any]], task_id: str) -> str:
    return next((_number(t["max_score"]) for r in results for t in r["tasks"] if t["id"] == task_id), "")


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:.6g}"


def _safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _person(people: dict[str, Any], student: str, field: str) -> str:
    person = people.get(student)
    return str(getattr(person, field, "") or "") if person is not None else ""


def _rows(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _canvas(results: Sequence[dict[str, Any]], people: dict[str, Any], name: str, task_ids: list[str],
            options: ExportOptions) -> str:
    total = f"{name} ({options.canvas_assignment_id})" if options.canvas_assignment_id else name
    columns = [total] + ([f"{name}: task {t}" for t in task_ids] if options.per_task else [])
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *columns]
    points = ["Points Possible", "", "", "", "", _number(results[0]["max_score"])]
    if options.per_task:
        points += [_task_max(results, t) for t in task_ids]
    rows = [points]
    for result in results:
        student = result["student"]
        canvas_id = _person(people, student, "lms_id") or (student if student.isdigit() else "")
        row = [_safe(_person(people, student, "name") or student), canvas_id,
               _safe(_person(people, student, "sis_user_id")), _safe(_person(people, student, "sis_login_id")),
               _safe(_person(people, student, "section")), _score(result)]
        if options.per_task:
            row += [_task_score(result, t) for t in task_ids]
        rows.append(row)
    return _rows(header, rows)


def _moodle(results: Sequence[dict[str, Any]], people: dict[str, Any], name: str, task_ids: list[str],
            options: ExportOptions) -> str:
    header = ["Full name", "Email address", "ID number", "Participant", name]
    if options.per_task:
        header += [f"{name} - task {t}" for t in task_ids]
    header.append("Feedback comments")
    rows = []
    for result in results:
        student = result["student"]
        row = [_safe(_person(people, student, "name") or student), _safe(_person(people, student, "email")),
               _safe(_person(people, student, "id_number")), _safe(_person(people, student, "lms_id") or student),
               _score(result)]
        if options.per_task:
            row += [_task_score(result, t) for t in task_ids]
        row.append(_safe(_feedback(result)))
        rows.append(row)
    return _rows(header, rows)


def _feedback(result: dict[str, Any]) -> str:
    """One line for the student: the score, and the instructor's comments on reviewed tests."""
    if result.get("status") == "error":
        return "not graded yet"
    parts = [f"{_number(result['score'])} / {_number(result['max_score'])}"]
    for task in result["tasks"]:
        for test in task["tests"]:
            if test.get("reviewed") and test.get("review_comment"):
                parts.append(f"{task['id']} {test['name']}: {test['review_comment']}")
    return "; ".join(parts)


def _plain(results: Sequence[dict[str, Any]], people: dict[str, Any], name: str, task_ids: list[str],
           options: ExportOptions) -> str:
    header = ["student", "name", "email", "score", "max_score", "percent", "status"]
    header += task_ids if options.per_task else []
    rows = []
    for result in results:
        student = result["student"]
        score = _score(result)
        percent = f"{100 * float(score) / float(result['max_score']):.1f}" if score and result["max_score"] else ""
        row = [_safe(student), _safe(_person(people, student, "name")), _safe(_person(people, student, "email")),
               score, _number(result["max_score"]), percent, result["status"]]
        row += [_task_score(result, t) for t in task_ids] if options.per_task else []
        rows.append(row)
    return _rows(header, rows)
