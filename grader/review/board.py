"""A graded output folder as the review page sees it: every test of every student, the queue, the groups.

Read from each student's `.review.json` (the grader's verdicts before any review) and
`OUT/reviews.json` (the instructor's). Written answers are grouped by the grader's own
equivalence (`grader.answers`), so that `\\frac{1}{N}(\\psi - \\Delta)` and `(\\psi - \\Delta)/N`
are one decision; code tests by verdict, diagnoses and message (numbers set aside).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader.answers import Parsed, Question, parse_expression, right_hand_side
from grader.answers.equivalence import compare
from grader.assignment import load_assignment
from grader.errors import GraderError
from grader.model import TestResult
from grader.report.stored import Stored, read_stored
from grader.reviews import Review, is_stale, load_reviews
from grader.written import questions_of

NEEDS_REVIEW, FAILED_WRITTEN, REST = 0, 1, 2
CATEGORY_NAMES = {NEEDS_REVIEW: "needs review", FAILED_WRITTEN: "failed written answer", REST: "decided by the grader"}


@dataclass(frozen=True)
class Item:
    """One test or written answer of one student, with the grader's verdict and the instructor's review."""

    student: str
    task: str
    test: str
    visibility: str
    passed: bool
    score: float
    max_score: float
    message: str
    diagnoses: tuple[str, ...]
    verdict: str | None
    written: bool
    read: str  # what was read of a written answer (LaTeX when it was math), else ""
    read_is_math: bool
    review: Review | None
    stale: bool

    @property
    def category(self) -> int:
        if self.verdict == "needs_review":
            return NEEDS_REVIEW
        if self.written and not self.passed:
            return FAILED_WRITTEN
        return REST

    @property
    def to_review(self) -> bool:
        """In the queue: the grader could not decide it, or it is a failed written answer."""
        return self.category != REST

    @property
    def reviewed(self) -> bool:
        """Reviewed for the hand-in graded now."""
        return self.review is not None and not self.stale


@dataclass(frozen=True)
class Group:
    """Items one decision covers: equivalent written answers, or code tests failing the same way."""

    index: int
    items: tuple[Item, ...]
    latex: str  # the answer drawn as math ("" when it is not math)
    text: str  # the answer as text, or the test's message

    @property
    def first(self) -> Item:
        return self.items[0]

    @property
    def category(self) -> int:
        return min(i.category for i in self.items)

    @property
    def pending(self) -> int:
        return sum(1 for i in self.items if not i.reviewed)

    @property
    def stale(self) -> int:
        return sum(1 for i in self.items if i.stale)

    @property
    def review(self) -> Review | None:
        """The review every member shares, when they all share one."""
        reviews = {(i.review.points, i.review.comment) if i.review else None for i in self.items}
        return self.items[0].review if len(reviews) == 1 else None


@dataclass(frozen=True)
class QuestionRow:
    """One test or question across the class, for the index page."""

    task: str
    test: str
    written: bool
    items: tuple[Item, ...]

    @property
    def category(self) -> int:
        return min(i.category for i in self.items)

    @property
    def to_review(self) -> int:
        return sum(1 for i in self.items if i.to_review)

    @property
    def pending(self) -> int:
        return sum(1 for i in self.items if i.to_review and not i.reviewed)

    @property
    def reviewed(self) -> int:
        return sum(1 for i in self.items if i.reviewed)

    @property
    def stale(self) -> int:
        return sum(1 for i in self.items if i.stale)


@dataclass(frozen=True)
class ManualQuestion:
    """A question only a person grades: what it asks, and where its answer is (a written answer, or figures)."""

    prompt: str
    answer_from: str


@dataclass(frozen=True)
class Board:
    """The whole output folder for the page."""

    out: Path
    stored: dict[str, Stored]
    reviews: tuple[Review, ...]
    items: tuple[Item, ...]
    questions: dict[str, Question] = field(default_factory=dict)  # by test name ("written answer 1.4")
    manual: dict[str, ManualQuestion] = field(default_factory=dict)  # the manual questions, by test name

    @property
    def students(self) -> list[str]:
        return sorted(self.stored)

    @property
    def to_review(self) -> int:
        return sum(1 for i in self.items if i.to_review)

    @property
    def pending(self) -> int:
        return sum(1 for i in self.items if i.to_review and not i.reviewed)

    def rows(self) -> list[QuestionRow]:
        """Every test and question in the queue's order: needs review, failed written answers, the rest."""
        order: dict[tuple[str, str], list[Item]] = {}
        for item in self.items:
            order.setdefault((item.task, item.test), []).append(item)
        rows = [QuestionRow(t, n, items[0].written, tuple(items)) for (t, n), items in order.items()]
        return sorted(rows, key=lambda r: (r.category, r.pending == 0))

    def next_pending(self) -> QuestionRow | None:
        """The first question of the queue with something left to review."""
        return next((r for r in self.rows() if r.pending), None)

    def figures_of(self, student: str, task: str) -> list[TestResult]:
        """The tests of a student's task that recorded figures (what a manual question with `answer_from = "figures"` shows)."""
        stored = self.stored.get(student)
        if stored is None:
            return []
        return [test for t in stored.result.tasks if t.id == task for test in t.tests
                if any(r.kind in ("images", "series") for r in test.records)]

    def items_of(self, student: str) -> list[Item]:
        return [i for i in self.items if i.student == student]

    def groups(self, task: str, test: str) -> list[Group]:
        """The class's items of one test or question, grouped: the queue's order, larger groups first."""
        items = [i for i in self.items if i.task == task and i.test == test]
        question = self.questions.get(test)
        if test in self.manual and self.manual[test].answer_from == "figures":
            groups = [_Open([i], "", i.read) for i in items]  # each student's own figures: nothing to group
        elif items and items[0].written:
            groups = _written_groups(items, question)
        else:
            groups = _code_groups(items)
        # a stable order (not moved once reviewed): the next group is below the one just decided
        ordered = sorted(groups, key=lambda g: (g.category, -len(g.items), g.text))
        return [Group(n, tuple(g.items), g.latex, g.text) for n, g in enumerate(ordered)]


def load_board(out: Path) -> Board:
    """Read an output folder; a folder that `grade` has not written raises a GraderError that says so."""
    if not out.is_dir():
        raise GraderError(f"{out} is not a folder of grades (run `grade` first)")
    stored = {}
    current = _current_students(out)
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and (current is None or p.name in current)):
        found = _cached_stored(folder / ".review.json", _mtime(folder / ".review.json"))
        if found is not None:
            stored[found.result.student] = found
    if not stored:
        raise GraderError(f"{out} holds no graded students that can be reviewed (grade them again with this grader)")
    reviews = load_reviews(out)
    by_key = {r.key: r for r in reviews}
    items = []
    for student, s in stored.items():
        for task in s.result.tasks:
            for test in task.tests:
                review = by_key.get((student, task.id, test.name))
                read, is_math = _what_was_read(test.records)
                items.append(Item(student, task.id, test.name, test.visibility, test.passed, test.score,
                                  test.max_score, test.message, tuple(str(d) for d in test.diagnoses),
                                  getattr(test, "verdict", None), test.name.startswith("written answer "),
                                  read, is_math, review,
                                  review is not None and is_stale(review, s.fingerprint)))
    folders = {s.assignment_folder for s in stored.values()}
    questions, manual = _questions(next(iter(folders))) if len(folders) == 1 else ({}, {})
    return Board(out, stored, reviews, tuple(items), questions, manual)


def _current_students(out: Path) -> set[str] | None:
    """The students of the last `grade` run (a folder left from a student no longer handed in is not reviewed)."""
    try:
        return {str(s) for s in json.loads((out / ".class.json").read_text(encoding="utf-8"))["students"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=4096)
def _cached_stored(path: Path, mtime: int) -> Stored | None:
    """A sidecar read once per version of the file (a class of 200 is read once, not per page)."""
    return read_stored(path.parent)


@lru_cache(maxsize=8)
def _questions(folder: str) -> tuple[dict[str, Question], dict[str, ManualQuestion]]:
    """The assignment's questions by test name, and its manual ones; none when the assignment cannot be read any more."""
    try:
        pairs = questions_of(load_assignment(Path(folder)))
    except (GraderError, OSError):
        return {}, {}
    manual = {f"written answer {spec.id}": ManualQuestion(str(spec.fields.get("prompt", "")),
                                                          str(spec.fields.get("answer_from", "written")))
              for spec, _ in pairs if spec.kind == "manual"}
    return {f"written answer {spec.id}": q for spec, q in pairs}, manual


def _what_was_read(records: Sequence[object]) -> tuple[str, bool]:
    for record in records:
        kind = getattr(record, "kind", "")
        payload = getattr(record, "payload", {})
        if kind == "math":
            return str(payload.get("latex", "")), True
        if kind == "text" and getattr(record, "title", "") == "what was read":
            return str(payload.get("text", "")), False
    return "", False


# ---------------------------------------------------------------- grouping


@dataclass
class _Open:
    items: list[Item]
    latex: str
    text: str
    parsed: Parsed | None = None

    @property
    def pending(self) -> int:
        return sum(1 for i in self.items if not i.reviewed)

    @property
    def category(self) -> int:
        return min(i.category for i in self.items)


def _written_groups(items: list[Item], question: Question | None) -> list[_Open]:
    """Equivalent answers together: by the grader's equivalence when they read as expressions, else by text."""
    groups: list[_Open] = []
    by_text: dict[str, _Open] = {}
    for item in items:
        parsed = _parsed(item.read, question) if item.read else None
        if parsed is not None:
            home = next((g for g in groups if g.parsed is not None and _same(parsed, g.parsed, question)), None)
            if home is None:
                home = _Open([], item.read if item.read_is_math else _latex(parsed), item.read, parsed)
                groups.append(home)
            home.items.append(item)
            continue
        key = _folded(item.read) if item.read else f"\0{_folded(item.message)}"
        if key not in by_text:
            by_text[key] = _Open([], item.read if item.read_is_math else "", item.read or item.message)
            groups.append(by_text[key])
        by_text[key].items.append(item)
    return groups


def _parsed(text: str, question: Question | None) -> Parsed | None:
    if question is None or question.kind not in ("expression", "numeric"):
        return None
    parsed = parse_expression(right_hand_side(text), question.symbols, question.index_superscripts)
    return parsed if isinstance(parsed, Parsed) else None


def _same(a: Parsed, b: Parsed, question: Question | None) -> bool:
    return bool(compare(a, b, seed=question.id if question else "").equal)


def _latex(parsed: Parsed) -> str:
    import sympy

    try:
        return str(sympy.latex(parsed.expr))
    except Exception:  # noqa: BLE001  (sympy's printer on odd input: draw nothing rather than fail the page)
        return ""


_NUMBERS = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.I)


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _code_groups(items: list[Item]) -> list[_Open]:
    """Tests failing the same way together: verdict, diagnoses and message with its numbers set aside."""
    by_key: dict[tuple[object, ...], _Open] = {}
    for item in items:
        key = (item.passed, item.verdict, item.diagnoses, _NUMBERS.sub("#", _folded(item.message)))
        if key not in by_key:
            by_key[key] = _Open([], "", item.message)
        by_key[key].items.append(item)
    return list(by_key.values())
