"""Written answers: where they are in a submission, and whether they are equivalent to the expected one.

The math of expression and numeric answers is read with sympy, which takes a third of a second
to import: `Parsed`, `Unreadable` and `parse_expression` are imported on first use, so that an
assignment without such questions never imports sympy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.answers.find import find_for
from grader.answers.grade import grade_answer, import_readers, validate_question
from grader.answers.locate import FoundAnswer, FoundBy, find_answers
from grader.answers.mathtext import extract_math, right_hand_side
from grader.answers.questions import AnswerVerdict, Dim, Question, QuestionKind

if TYPE_CHECKING:
    from grader.answers.expression import Parsed, Unreadable, parse_expression

_WITH_SYMPY = frozenset({"Parsed", "Unreadable", "parse_expression"})


def __getattr__(name: str) -> object:
    """The names of `grader.answers.expression`, which imports sympy, on first use."""
    if name in _WITH_SYMPY:
        from grader.answers import expression

        return getattr(expression, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnswerVerdict",
    "Dim",
    "FoundAnswer",
    "FoundBy",
    "Parsed",
    "Question",
    "QuestionKind",
    "Unreadable",
    "extract_math",
    "find_answers",
    "find_for",
    "grade_answer",
    "import_readers",
    "parse_expression",
    "right_hand_side",
    "validate_question",
]
