"""Written answers: where they are in a submission, and whether they are equivalent to the expected one."""

from grader.answers.expression import Parsed, Unreadable, parse_expression
from grader.answers.find import find_for
from grader.answers.grade import grade_answer, validate_question
from grader.answers.locate import FoundAnswer, FoundBy, find_answers
from grader.answers.mathtext import extract_math, right_hand_side
from grader.answers.questions import AnswerVerdict, Dim, Question, QuestionKind

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
    "parse_expression",
    "right_hand_side",
    "validate_question",
]
