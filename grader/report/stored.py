"""A student's whole result as the grader decided it, kept beside the reports (`OUT/STUDENT/.review.json`).

result.json holds the contract's fields only; this file also keeps what the reports draw (what was
read of each written answer, plots, tracebacks, the extracted code) and the hand-in's fingerprint,
so that `grader review` can group answers and write every report again after a review without
grading anything again. It holds the grader's verdicts before any review.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.model import (
    CodeUnit,
    Diagnosis,
    ModuleCode,
    Record,
    StudentResult,
    TaskResult,
    TestResult,
    TraceFrame,
)

STORED_FILE = ".review.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Stored:
    """What `grader review` needs of one graded student."""

    result: StudentResult  # before any review
    fingerprint: str  # of the hand-in's content
    title: str  # the assignment's title, for the feedback page
    assignment_folder: str  # to find the questions again (grouping written answers)
    pdf: bool  # whether feedback.pdf is written
    gradescope: bool  # whether gradescope/STUDENT.json is written


def stored_json(stored: Stored) -> str:
    """The sidecar's text."""
    data = {"schema_version": SCHEMA_VERSION, "fingerprint": stored.fingerprint, "title": stored.title,
            "assignment_folder": stored.assignment_folder, "pdf": stored.pdf, "gradescope": stored.gradescope,
            "result": _plain(stored.result)}
    return json.dumps(data, ensure_ascii=False) + "\n"


def read_stored(folder: Path) -> Stored | None:
    """The sidecar of one student folder; None when it is missing or from another version."""
    try:
        data = json.loads((folder / STORED_FILE).read_text(encoding="utf-8"))
        if data.get("schema_version") != SCHEMA_VERSION:
            return None
        return Stored(_result(data["result"]), str(data["fingerprint"]), str(data["title"]),
                      str(data["assignment_folder"]), bool(data["pdf"]), bool(data["gradescope"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Diagnosis):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Only the fields this version of the dataclass has (a sidecar may come from an older grader)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _test(data: dict[str, Any]) -> TestResult:
    fields = _known(TestResult, data)
    fields["diagnoses"] = tuple(Diagnosis(d) for d in data.get("diagnoses", ()))
    fields["records"] = tuple(Record(r["kind"], r["title"], r.get("payload", {})) for r in data.get("records", ()))
    fields["traceback"] = tuple(TraceFrame(**_known(TraceFrame, t)) for t in data.get("traceback", ()))
    return TestResult(**fields)


def _result(data: dict[str, Any]) -> StudentResult:
    tasks = tuple(TaskResult(**{**_known(TaskResult, t), "tests": tuple(_test(x) for x in t["tests"])})
                  for t in data["tasks"])
    sources = tuple(
        ModuleCode(m["name"], tuple(CodeUnit(**{**_known(CodeUnit, u), "binds": tuple(u.get("binds", ()))})
                                    for u in m["units"]))
        for m in data.get("sources", ())
    )
    return StudentResult(**{**_known(StudentResult, data), "tasks": tasks, "errors": tuple(data.get("errors", ())),
                            "sources": sources})
