"""The class in one pass: what the gradebook and the summary need, read one result.json at a time.

A class of 10,000 must not hold 10,000 results in memory. `digest` walks the results once and
keeps, per student, a condensed row (the scores per task, the status, the errors, and only
the tests that the class pages name: those the grader failed on and those an instructor
reviewed), and for the class the counters the summary shows (pass rates per test, diagnoses
per task). The gradebook and the summary are written from it.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClassDigest:
    """Condensed rows, sorted by student, and the per-test and per-diagnosis counts of graded students."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    passed: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    diagnoses: Counter[tuple[str, str]] = field(default_factory=Counter)
    graded: int = 0


def digest(results: Iterable[dict[str, Any]]) -> ClassDigest:
    """Walk the results once (a generator reading files is fine) into a `ClassDigest`."""
    found = ClassDigest()
    for result in results:
        if result["status"] == "graded":
            found.graded += 1
            for task in result["tasks"]:
                codes = set()
                for test in task["tests"]:
                    key = (sys.intern(task["id"]), sys.intern(test["name"]))
                    found.seen[key] += 1
                    found.passed[key] += bool(test["passed"])
                    codes.update(test["diagnoses"])
                found.diagnoses.update((task["id"], code) for code in codes)
        found.rows.append(condensed(result))
    found.rows.sort(key=lambda row: row["student"])
    return found


def condensed(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what the class pages never show (every key they read is kept), compactly."""
    row = {key: value for key, value in result.items() if key not in ("tasks", "assignment")}
    row["status"] = sys.intern(row["status"])
    row["tasks"] = [
        TaskRow(sys.intern(task["id"]), task["score"], task["max_score"], task.get("held"),
                tuple(test for test in task["tests"] if test.get("verdict") == "error" or test.get("reviewed")) or ())
        for task in result["tasks"]
    ]
    return row


class TaskRow:
    """One task of a condensed row: read as `task["score"]`, `task.get("held")` or `task.score` alike."""

    __slots__ = ("id", "score", "max_score", "held", "tests")

    def __init__(self, id: str, score: Any, max_score: Any, held: Any, tests: tuple[dict[str, Any], ...]) -> None:
        self.id, self.score, self.max_score, self.held, self.tests = id, score, max_score, held, tests

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, default)
        return default if value is None else value
