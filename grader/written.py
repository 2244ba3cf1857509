"""Written questions of an assignment graded as test outcomes, beside the code tests of their task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.answers import FoundAnswer, Question, find_answers, grade_answer, validate_question
from grader.assignment import Assignment, QuestionSpec
from grader.errors import ConfigError
from grader.model import Record, SourceFile, TestOutcome


def question_from_spec(spec: QuestionSpec, where: str) -> Question:
    """The answers module's `Question` from a `[[questions]]` table; config problems name the question."""
    fields: Mapping[str, Any] = spec.fields
    try:
        question = Question(
            id=spec.id,
            kind=spec.kind,  # type: ignore[arg-type]
            points=spec.points,
            expected=fields.get("expected"),
            tolerance=float(fields.get("tolerance", 1e-6)),
            accepted=tuple(fields.get("accepted", ())),
            options=tuple(fields.get("options", ())),
            symbols={k: tuple(v) for k, v in dict(fields.get("symbols", {})).items()},
            index_superscripts=tuple(fields.get("index_superscripts", ())),
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: question {spec.id}: {error}") from None
    problems = validate_question(question)
    if problems:
        raise ConfigError(f"{where}: question {spec.id}: {'; '.join(problems)}")
    return question


def questions_of(assignment: Assignment) -> tuple[tuple[QuestionSpec, Question], ...]:
    """Every question, validated once (a broken one stops the batch before any student is graded)."""
    where = str(assignment.folder / "assignment.toml")
    return tuple((spec, question_from_spec(spec, where)) for spec in assignment.questions)


def grade_written(
    questions: tuple[tuple[QuestionSpec, Question], ...], files: tuple[SourceFile, ...]
) -> tuple[TestOutcome, ...]:
    """One outcome per question, worth its points, named `written answer QID`."""
    found = find_answers(files, tuple(spec.id for spec, _ in questions))
    outcomes = []
    for spec, question in questions:
        answer = found.get(spec.id)
        verdict = grade_answer(question, answer)
        outcomes.append(
            TestOutcome(
                name=f"written answer {spec.id}",
                task=spec.task,
                visibility="public",
                passed=verdict.passed,
                message=verdict.message,
                diagnoses=verdict.diagnoses,
                weight=spec.points,
                is_question=True,
                partial=verdict.score,
                records=_what_was_read(answer, verdict.read, question.kind),
            )
        )
    return tuple(outcomes)


def _what_was_read(answer: FoundAnswer | None, read: str, kind: str) -> tuple[Record, ...]:
    """What the grader read of the answer, for the report to show (as math when math was graded)."""
    if answer is None or not read:
        return ()
    if answer.math and kind in ("expression", "numeric"):
        return (Record("math", "what was read", {"latex": answer.math}),)
    return (Record("text", "what was read", {"text": read}),)
