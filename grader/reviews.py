"""An instructor's reviews as data: `OUT/reviews.json`, and their effect on a student's result.

    {"schema_version": 1,
     "reviews": [{"student": "alice", "task": "1a", "test": "written answer 1.4",
                  "points": 2, "comment": "right, but say why", "time": "2026-11-30T08:00:00Z",
                  "fingerprint": "<sha256 of the hand-in the review was made for>"}]}

One entry per student, task and test; `points` may be null (a comment only, the grader's
points stand). A review whose hand-in has changed since (its fingerprint is not the
hand-in's current one) is *stale*: it is kept and shown, but not applied until an
instructor looks at it again. Pure except for `load_reviews`, `save_reviews` and
`handin_fingerprint`.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.model import StudentResult, TaskResult, TestResult
from grader.report.files import write_atomic

SCHEMA_VERSION = 1
REVIEWS_FILE = "reviews.json"


@dataclass(frozen=True)
class Review:
    """The instructor's decision on one test or question of one student."""

    student: str
    task: str
    test: str
    points: float | None  # None: a comment only, the grader's points stand
    comment: str
    time: str  # ISO 8601, UTC
    fingerprint: str  # of the hand-in the review was made for

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.student, self.task, self.test)


@dataclass(frozen=True)
class AppliedReview:
    """A review as it changed a result: the grader's points beside the instructor's."""

    task: str
    test: str
    auto_score: float
    points: float
    comment: str
    time: str


def now() -> str:
    """The current time as reviews store it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def handin_fingerprint(path: Path) -> str:
    """The hand-in's content alone (not the grader's or the assignment's version): what a review was made for.

    Every file's relative name and bytes, read in blocks (a large file is never whole in memory); a link,
    folder, FIFO or device counts by its name only: links are never followed, and nothing but a regular file
    is opened (a hand-in must not make this read /dev/zero or block on a pipe).
    """
    digest = hashlib.sha256()
    files = [path] if not path.is_dir() or path.is_symlink() else sorted(path.rglob("*"))
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode())
        digest.update(_content_key(file))
    return digest.hexdigest()


def _content_key(file: Path) -> bytes:
    """The SHA-256 of a regular file's bytes; for anything else what it is."""
    try:
        info = file.lstat()
    except OSError:
        return b"missing"
    if not stat.S_ISREG(info.st_mode):
        return b"other"
    try:
        with open(file, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except OSError:
        return b"unreadable"


# ---------------------------------------------------------------- the file


def load_reviews(out: Path) -> tuple[Review, ...]:
    """The reviews of an output folder; none when there is no reviews.json yet."""
    path = out / REVIEWS_FILE
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GraderError(f"{path} cannot be read ({error}); fix or move it, reviews are never overwritten blindly") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise GraderError(f"{path}: schema_version must be {SCHEMA_VERSION}")
    reviews = []
    for index, entry in enumerate(data.get("reviews", [])):
        try:
            points = entry.get("points")
            reviews.append(Review(str(entry["student"]), str(entry["task"]), str(entry["test"]),
                                  None if points is None else float(points), str(entry.get("comment", "")),
                                  str(entry.get("time", "")), str(entry.get("fingerprint", ""))))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise GraderError(f"{path}: reviews[{index}] needs student, task, test and numeric points") from None
    return tuple(reviews)


def reviews_json(reviews: Iterable[Review]) -> str:
    """The text of reviews.json: sorted, so that the same reviews are the same bytes."""
    entries = [_entry(r) for r in sorted(reviews, key=lambda r: r.key)]
    return json.dumps({"schema_version": SCHEMA_VERSION, "reviews": entries}, indent=2, ensure_ascii=False) + "\n"


def _entry(review: Review) -> dict[str, Any]:
    points: float | int | None = review.points
    if points is not None and points == int(points):
        points = int(points)
    return {"student": review.student, "task": review.task, "test": review.test, "points": points,
            "comment": review.comment, "time": review.time, "fingerprint": review.fingerprint}


def save_reviews(out: Path, reviews: Iterable[Review]) -> None:
    """Write reviews.json atomically."""
    write_atomic(out / REVIEWS_FILE, reviews_json(reviews))


def merged(reviews: Sequence[Review], new: Iterable[Review]) -> tuple[Review, ...]:
    """`reviews` with each of `new` replacing the entry of the same student, task and test."""
    by_key = {r.key: r for r in reviews}
    for review in new:
        by_key[review.key] = review
    return tuple(by_key.values())


def without(reviews: Sequence[Review], keys: Iterable[tuple[str, str, str]]) -> tuple[Review, ...]:
    """`reviews` less the entries of these keys."""
    drop = set(keys)
    return tuple(r for r in reviews if r.key not in drop)


def is_stale(review: Review, fingerprint: str) -> bool:
    """Made for another version of the hand-in than the one graded now."""
    return review.fingerprint != fingerprint


# ---------------------------------------------------------------- applying


def apply_reviews(
    result: StudentResult, reviews: Sequence[Review], fingerprint: str
) -> tuple[StudentResult, tuple[AppliedReview, ...]]:
    """The result with every current (not stale) review of its student applied, and what was applied.

    A reviewed test scores the instructor's points (clamped to 0..its maximum), counts as passed
    when it earns them all, and is no longer awaiting review; task and total scores follow.
    """
    mine = {(r.task, r.test): r for r in reviews if r.student == result.student and not is_stale(r, fingerprint)}
    if not mine:
        return result, ()
    applied: list[AppliedReview] = []
    tasks = []
    for task in result.tasks:
        tests = []
        for test in task.tests:
            review = mine.get((task.id, test.name))
            if review is None:
                tests.append(test)
                continue
            tests.append(_reviewed_test(test, review))
            applied.append(AppliedReview(task.id, test.name, test.score, tests[-1].score, review.comment, review.time))
        tasks.append(_summed(task, tuple(tests)))
    total = replace(result, tasks=tuple(tasks), score=round(sum(t.score for t in tasks), 9))
    if hasattr(result, "held"):
        total = replace(total, held=round(sum(getattr(t, "held", 0.0) for t in tasks), 9))
    return total, tuple(applied)


def _reviewed_test(test: TestResult, review: Review) -> TestResult:
    if review.points is None:
        return test  # a comment only: the grader's verdict and points stand
    points = min(max(review.points, 0.0), test.max_score)
    changes: dict[str, Any] = {"score": points, "passed": points >= test.max_score - 1e-9}
    if hasattr(test, "verdict") and test.verdict == "needs_review":
        changes["verdict"] = None
    return replace(test, **changes)


def _summed(task: TaskResult, tests: tuple[TestResult, ...]) -> TaskResult:
    changes: dict[str, Any] = {"tests": tests, "score": round(sum(t.score for t in tests), 9)}
    if hasattr(task, "held"):
        changes["held"] = round(sum(t.max_score for t in tests if getattr(t, "verdict", None) == "needs_review"), 9)
    return replace(task, **changes)
