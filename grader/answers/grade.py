"""Grading one written answer against its question: numeric, choice, expression, shape, or by hand.

Numbers and expressions are read with sympy (`expression.py`, `equivalence.py`), imported by the
first question that reads one: choice, shape and manual questions, and classes without written
answers, never import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from grader.answers.choice import fold, read_choice
from grader.answers.locate import FoundAnswer
from grader.answers.mathtext import math_segments, right_hand_side
from grader.answers.questions import AnswerVerdict, Question
from grader.answers.shape import read_shapes
from grader.model import Diagnosis

if TYPE_CHECKING:
    from grader.answers.expression import Parsed

_PLACEHOLDERS = frozenset(
    {
        "",
        "todo",
        "tbd",
        "tba",
        "none",
        "n a",
        "na",
        "your answer here",
        "type your answer here",
        "answer here",
        "fill in",
        "fill me in",
        "your answer",
        "write your answer here",
    }
)
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def grade_answer(question: Question, found: FoundAnswer | None) -> AnswerVerdict:
    """The verdict on one answer; a missing, empty or unreadable answer scores 0 with a message, never raises.

    An answer the grader is not sure it found right (`found.doubt`: under a heading of a
    free-form report) passes when it is right and is held for review (`needs_review`) when it
    is not; one it must not judge (`found.hold`: a picture) is always held.
    """
    if question.kind == "manual":
        return AnswerVerdict(
            question.id, False, 0.0, "graded by hand", found.text if found else "", manual=True
        )
    if found is None:
        return _not_answered(
            question,
            f'no answer to {question.id} was found: looked for ANSWERS["{question.id}"], '
            f"a markdown cell tagged `answer:{question.id}`, one starting with "
            f"`Answer {question.id}`, and a heading or label naming {question.id} or its task",
        )
    if found.hold:
        return _held(question, found.hold, found.math or found.text.strip())
    if found.how == "heading" and question.kind in ("expression", "numeric") and found.math is None:
        return _not_answered(question, f"there is no math to read {found.where}", found.text.strip()[:200])
    if _is_blank(found):
        return _not_answered(
            question,
            f"the answer to {question.id} is empty or still a placeholder (read `{found.text.strip()}`)",
            found.text.strip(),
        )
    verdict = _GRADERS[question.kind](question, found)
    if not found.doubt:
        return verdict
    if verdict.passed:
        return replace(verdict, message=f"{verdict.message} ({found.doubt})")
    return _held(question, f"{verdict.message}; the answer was {found.doubt}", verdict.read)


READ_WITH_SYMPY = frozenset({"numeric", "expression"})


def import_readers(questions: Iterable[Question]) -> None:
    """Import sympy now if these questions read math: a grading process forked afterwards inherits it."""
    if any(question.kind in READ_WITH_SYMPY for question in questions):
        import grader.answers.equivalence  # noqa: F401 - imports sympy and the expression reader


def validate_question(question: Question) -> tuple[str, ...]:
    """What is wrong with a question as configured (an unreadable expected answer), for `assignment.py` to report."""
    if question.kind == "expression":
        from grader.answers.expression import Unreadable, parse_expression

        expected = parse_expression(
            right_hand_side(str(question.expected)), question.symbols, question.index_superscripts
        )
        if isinstance(expected, Unreadable):
            return (f"the expected answer `{expected.source}` cannot be read: {expected.reason}",)
    if question.kind == "numeric" and not _expected_numbers(question):
        return (f"the expected answer {question.expected!r} is not a number or a tuple of numbers",)
    if question.kind == "choice" and not question.right_spellings:
        return ("a choice question needs `expected` or `accepted`",)
    if question.kind == "shape" and not isinstance(question.expected, Mapping):
        return ("a shape question needs `expected` as a table of name -> dimensions",)
    return ()


# ---------------------------------------------------------------- verdicts


def _not_answered(question: Question, message: str, read: str = "") -> AnswerVerdict:
    return AnswerVerdict(question.id, False, 0.0, message, read, (Diagnosis.NOT_IMPLEMENTED,))


def _wrong(question: Question, message: str, read: str, score: float = 0.0) -> AnswerVerdict:
    return AnswerVerdict(question.id, False, score, message, read, (Diagnosis.WRONG_ANSWER,))


def _held(question: Question, message: str, read: str) -> AnswerVerdict:
    """Not decided: the grader is not sure it read the student's answer, so a person decides the points."""
    return AnswerVerdict(question.id, False, 0.0, f"held for review: {message}", read, needs_review=True)


def _right(question: Question, read: str) -> AnswerVerdict:
    return AnswerVerdict(question.id, True, 1.0, "correct", read)


def _is_blank(found: FoundAnswer) -> bool:
    if found.is_literal and (found.value is None or found.value is Ellipsis):
        return True
    if found.math is not None and not found.math.strip():
        return True
    return fold(found.text) in _PLACEHOLDERS


def _math_of(found: FoundAnswer) -> str:
    """The math an answer gives: its extracted math, else the right-hand side of its plain text."""
    return found.math if found.math is not None else right_hand_side(found.text)


# ---------------------------------------------------------------- numeric


def _grade_numeric(question: Question, found: FoundAnswer) -> AnswerVerdict:
    expected = _expected_numbers(question)
    if not expected:
        return _wrong(question, f"the expected answer of {question.id} is not configured as a number", "")
    values, read = _read_numbers(found, question, len(expected))
    if values is None:
        return _wrong(question, f"`{read}` could not be read as {_count(len(expected))}", read)
    right = sum(_within(v, e, question.tolerance) for v, e in zip(values, expected, strict=True))
    if right == len(expected):
        return _right(question, read)
    if len(expected) == 1:
        return _wrong(question, f"`{read}` is not the right value", read)
    return _wrong(
        question, f"{right} of the {len(expected)} values in `{read}` are right", read, right / len(expected)
    )


def _expected_numbers(question: Question) -> tuple[float, ...]:
    expected = question.expected
    items = expected if isinstance(expected, tuple) else (expected,)
    try:
        return tuple(float(x) for x in items if not isinstance(x, bool))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ()


def _count(n: int) -> str:
    return "a number" if n == 1 else f"{n} numbers"


def _within(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance * max(1.0, abs(expected))


def _read_numbers(found: FoundAnswer, question: Question, count: int) -> tuple[tuple[float, ...] | None, str]:
    """`count` numbers from an answer: a literal, else its math, else the numbers written in its text."""
    value = found.value if found.is_literal else None
    if count == 1 and isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value),), found.text
    if isinstance(value, tuple | list):
        return _all_numbers([str(v) for v in value], question, count), found.text
    if count > 1:
        pieces = [right_hand_side(m) for m in math_segments(found.text)] or re.split(
            r",|;|\band\b", found.text
        )
        return _last_numbers(pieces, question, count), found.text.strip()
    read = _math_of(found)
    number = _number(read, question)
    if number is None:
        written = _NUMBER.findall(found.text)  # "the limit is 1." has no math but one number
        number = float(written[0]) if len(written) == 1 else None
    return ((number,) if number is not None else None), read


def _all_numbers(pieces: list[str], question: Question, count: int) -> tuple[float, ...] | None:
    numbers = [_number(p, question) for p in pieces]
    read = tuple(n for n in numbers if n is not None)
    return read if len(read) == len(numbers) == count else None


def _last_numbers(pieces: list[str], question: Question, count: int) -> tuple[float, ...] | None:
    """The last `count` readable numbers: "if $n\\bar{x} = 0$ then $\\mu_{MLE} = 0$ and $\\mu_{MAP} = 0$"."""
    read = tuple(n for n in (_number(p, question) for p in pieces) if n is not None)
    return read[-count:] if len(read) >= count else None


def _number(text: str, question: Question) -> float | None:
    from grader.answers.expression import Unreadable, evaluate, parse_expression

    parsed = parse_expression(text, question.symbols, question.index_superscripts)
    if isinstance(parsed, Unreadable) or parsed.symbols:
        return None
    try:
        value = evaluate(parsed, {})
    except (ArithmeticError, ValueError):
        return None
    return value.real if abs(value.imag) < 1e-12 else None


# ---------------------------------------------------------------- choice


def _grade_choice(question: Question, found: FoundAnswer) -> AnswerVerdict:
    value = found.value if found.is_literal else None
    text = {True: "yes", False: "no"}.get(value, found.text) if isinstance(value, bool) else found.text
    reading = read_choice(text, question.right_spellings, question.options)
    read = text.strip()
    if reading.passed:
        return _right(question, read)
    return _wrong(question, f"`{read}`: {reading.message}", read)


# ---------------------------------------------------------------- expression


def _grade_expression(question: Question, found: FoundAnswer) -> AnswerVerdict:
    from grader.answers.expression import Unreadable, parse_expression

    expected = parse_expression(
        right_hand_side(str(question.expected)), question.symbols, question.index_superscripts
    )
    if isinstance(expected, Unreadable):
        return AnswerVerdict(
            question.id,
            False,
            0.0,
            f"the expected answer of {question.id} cannot be read "
            f"(an error in the assignment, not in the answer): {expected.reason}",
            found.text,
        )
    read = _math_of(found)
    answer = parse_expression(read, question.symbols, question.index_superscripts)
    if isinstance(answer, Unreadable) and answer.optimisation:
        return _wrong(question, f"`{read}` is not a value: {answer.reason}", read)
    if isinstance(answer, Unreadable):
        return _wrong(question, f"`{read}` could not be read as an expression: {answer.reason}", read)
    return _verdict_on(question, answer, expected, read)


def _verdict_on(question: Question, answer: Parsed, expected: Parsed, read: str) -> AnswerVerdict:
    from grader.answers.equivalence import compare

    comparison = compare(answer, expected, seed=question.id)
    if comparison.equal:
        return _right(question, read)
    if comparison.equal is None:
        return _wrong(
            question, f"`{read}` could not be checked against the expected answer; ask for a regrade", read
        )
    hint = f" ({comparison.hint})" if comparison.hint else ""
    return _wrong(question, f"`{read}` is not equivalent to the expected answer{hint}", read)


# ---------------------------------------------------------------- shape


def _grade_shape(question: Question, found: FoundAnswer) -> AnswerVerdict:
    expected = question.expected
    if not isinstance(expected, Mapping):
        return _wrong(question, f"the expected shapes of {question.id} are not configured", found.text)
    value = found.value if found.is_literal else None
    if not isinstance(value, Mapping):
        return _wrong(
            question,
            f"`{found.text.strip()}` is not a dict of shapes such as "
            f'ANSWERS["{question.id}"] = {{"W1": ("H", "M"), ...}}',
            found.text.strip(),
        )
    reading = read_shapes(expected, value)
    if reading.right == reading.total:
        return _right(question, found.text)
    message = f"{reading.right} of {reading.total} shapes right: " + "; ".join(reading.problems)
    return _wrong(question, message, found.text, reading.right / reading.total if reading.total else 0.0)


# ---------------------------------------------------------------- manual


def _grade_manual(question: Question, found: FoundAnswer) -> AnswerVerdict:
    return AnswerVerdict(question.id, False, 0.0, "graded by hand", found.text, manual=True)


_GRADERS: dict[str, Callable[[Question, FoundAnswer], AnswerVerdict]] = {
    "numeric": _grade_numeric,
    "choice": _grade_choice,
    "expression": _grade_expression,
    "shape": _grade_shape,
    "manual": _grade_manual,
}
