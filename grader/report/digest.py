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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClassDigest:
    """Condensed rows, sorted by student, and the per-test and per-diagnosis counts of graded students."""

    rows: list[StudentRow] = field(default_factory=list)
    passed: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    diagnoses: Counter[tuple[str, str]] = field(default_factory=Counter)
    graded: int = 0


def digest(results: Iterable[dict[str, Any]]) -> ClassDigest:
    """Walk the results once (a generator reading files is fine) into a `ClassDigest`."""
    found = ClassDigest()
    shared: dict[tuple[TaskRow, ...], tuple[TaskRow, ...]] = {}
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
        found.rows.append(condensed(result, shared))
    found.rows.sort(key=lambda row: row["student"])
    return found


def condensed(result: dict[str, Any], shared: dict[tuple[TaskRow, ...], tuple[TaskRow, ...]]) -> StudentRow:
    """A result without what the class pages never show (every key they read is kept), compactly.

    Students with the same task rows (most of a class: the same scores, nothing reviewed or held)
    share one tuple of them, so a row costs about 150 bytes whatever the class size.
    """
    tasks = tuple(
        TaskRow(sys.intern(task["id"]), task["score"], task["max_score"], task.get("held"),
                tuple(test for test in task["tests"] if test.get("verdict") == "error" or test.get("reviewed")) or ())
        for task in result["tasks"]
    )
    if all(not task.tests for task in tasks):
        tasks = shared.setdefault(tasks, tasks)
    extra = {key: value for key, value in result.items() if key not in _ROW_KEYS}
    return StudentRow(result["student"], sys.intern(result["status"]), result["score"], result["max_score"],
                      tuple(result.get("errors") or ()), tasks, extra or None)


_ROW_KEYS = frozenset({"student", "status", "score", "max_score", "errors", "tasks", "assignment"})


class StudentRow(Mapping[str, Any]):
    """One student on the class pages: read as `row["score"]`, `row.get("reviewed")` or `row.score` alike."""

    __slots__ = ("student", "status", "score", "max_score", "errors", "tasks", "extra")

    def __init__(self, student: str, status: str, score: Any, max_score: Any, errors: tuple[str, ...],
                 tasks: tuple[TaskRow, ...], extra: dict[str, Any] | None) -> None:
        self.student, self.status, self.score, self.max_score = student, status, score, max_score
        self.errors, self.tasks, self.extra = errors, tasks, extra

    def __getitem__(self, key: str) -> Any:
        if key in _ROW_KEYS and key != "assignment":
            return getattr(self, key)
        if self.extra is not None and key in self.extra:
            return self.extra[key]
        raise KeyError(key)

    def __getattr__(self, key: str) -> Any:  # only for what is not a slot: the result's other keys
        extra = object.__getattribute__(self, "extra")
        if extra is not None and key in extra:
            return extra[key]
        raise AttributeError(key)

    def __iter__(self) -> Iterator[str]:
        yield from ("student", "status", "score", "max_score", "errors", "tasks")
        yield from self.extra or ()

    def __len__(self) -> int:
        return 6 + len(self.extra or ())


class TaskRow:
    """One task of a condensed row: read as `task["score"]`, `task.get("held")` or `task.score` alike."""

    __slots__ = ("id", "score", "max_score", "held", "tests")

    def __init__(self, id: str, score: Any, max_score: Any, held: Any, tests: tuple[dict[str, Any], ...]) -> None:
        self.id, self.score, self.max_score, self.held, self.tests = id, score, max_score, held, tests

    def _key(self) -> tuple[Any, ...]:
        return (self.id, self.score, self.max_score, self.held)

    def __eq__(self, other: object) -> bool:  # equal rows without tests are shared between students
        return isinstance(other, TaskRow) and not self.tests and not other.tests and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, default)
        return default if value is None else value
