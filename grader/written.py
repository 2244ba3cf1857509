"""Written questions of an assignment graded as test outcomes, beside the code tests of their task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.answers import FoundAnswer, Question, find_for, grade_answer, validate_question
from grader.assignment import Assignment, QuestionSpec
from grader.errors import ConfigError
from grader.model import Record, SourceFile, TestOutcome


def question_from_spec(
    spec: QuestionSpec, where: str, siblings: tuple[QuestionSpec, ...] = ()
) -> Question:
    """The answers module's `Question` from a `[[questions]]` table; config problems name the question.

    `siblings` are every question of the assignment, in order: a question with `part_of` is
    that question's part at its position among the questions with the same `part_of`.
    """
    fields: Mapping[str, Any] = spec.fields
    part_of = str(fields.get("part_of", ""))
    parts = [s.id for s in siblings if s.fields.get("part_of") == part_of] if part_of else []
    if part_of and part_of in {s.id for s in siblings}:
        raise ConfigError(
            f"{where}: question {spec.id}: part_of = {part_of!r} is the id of a question; "
            "name the whole question by an id of its own (its task's id, for example)"
        )
    try:
        names = fields.get("part_names", ())
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
            task=spec.task,
            part_of=part_of,
            part=parts.index(spec.id) if spec.id in parts else 0,
            part_count=len(parts),
            part_names=(names,) if isinstance(names, str) else tuple(str(n) for n in names),
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
    specs = assignment.questions
    return tuple((spec, question_from_spec(spec, where, specs)) for spec in specs)


def grade_written(
    questions: tuple[tuple[QuestionSpec, Question], ...], files: tuple[SourceFile, ...]
) -> tuple[TestOutcome, ...]:
    """One outcome per question, worth its points, named `written answer QID`.

    A question whose answer the grader is not sure it read gets `verdict="needs_review"`:
    it scores 0 here and its points are held until an instructor reviews it.
    """
    found = find_for(files, tuple(question for _, question in questions))
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
                message=_manual_message(spec) if verdict.manual else verdict.message,
                diagnoses=verdict.diagnoses,
                weight=spec.points,
                is_question=True,
                partial=0.0 if verdict.needs_review else verdict.score,
                records=_what_was_read(answer, verdict.read, question.kind),
                # a manual question has no automatic verdict: straight to the instructor's queue
                verdict="needs_review" if verdict.needs_review or verdict.manual else None,
            )
        )
    return tuple(outcomes)


def _manual_message(spec: QuestionSpec) -> str:
    """What a manual question says before the instructor grades it."""
    prompt = str(spec.fields.get("prompt", "")).strip()
    return "graded by the instructor" + (f": {prompt}" if prompt else "")


def _what_was_read(answer: FoundAnswer | None, read: str, kind: str) -> tuple[Record, ...]:
    """What the grader read of the answer, for the report to show (as math when math was graded)."""
    if answer is None or not read:
        return ()
    if answer.math and kind in ("expression", "numeric"):
        return (Record("math", "what was read", {"latex": answer.math}),)
    return (Record("text", "what was read", {"text": read}),)
