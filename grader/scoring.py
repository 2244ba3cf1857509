"""Outcomes to points, per test, per task and in total. Pure: no I/O, no randomness.

Points are summed exactly (as fractions) and rounded once, where they are shown
(`shown`): a task whose points split three ways sums to exactly its points.
A test with verdict `needs_review` holds its points (neither earned nor lost) until an
instructor reviews it; a test with verdict `error` failed through the grader's fault,
and makes the whole student `error`: no points are decided for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from grader.assignment import Assignment
from grader.errors import ConfigError
from grader.model import Status, StudentResult, TaskResult, TestOutcome, TestResult


def test_points(assignment: Assignment, outcomes: Sequence[TestOutcome]) -> tuple[Fraction, ...]:
    """Each outcome's maximum: its explicit points, else an even share of what its task has left."""
    maxima: list[Fraction] = []
    for outcome in outcomes:
        if outcome.weight is not None:
            maxima.append(Fraction(outcome.weight))
            continue
        siblings = [o for o in outcomes if o.task == outcome.task and o.weight is None and not o.is_question]
        maxima.append(share_left(assignment, outcome.task, outcomes) / len(siblings))
    return tuple(maxima)


def share_left(assignment: Assignment, task_id: str, outcomes: Sequence[TestOutcome]) -> Fraction:
    """What a task's tests without explicit points share: its points less the explicit ones."""
    task = assignment.task(task_id)
    explicit = sum((Fraction(o.weight) for o in outcomes if o.task == task_id and o.weight is not None
                    and not o.is_question), Fraction(0))
    left = Fraction(task.points) - explicit
    if left < 0:
        raise ConfigError(f"task {task.id}: its tests' points add up to {float(explicit):g}, more than its {task.points:g}")
    return left


def score(
    assignment: Assignment,
    student: str,
    outcomes: tuple[TestOutcome, ...],
    errors: tuple[str, ...] = (),
    status: Status = "graded",
) -> StudentResult:
    """The student's result: every test with its points, every task with its sum, the total."""
    maxima = test_points(assignment, outcomes)
    tasks = []
    total = Fraction(0)
    held_total = Fraction(0)
    for task in assignment.tasks:
        pairs = [(o, m) for o, m in zip(outcomes, maxima, strict=True) if o.task == task.id]
        earned = sum((m * _earned(o) for o, m in pairs), Fraction(0))
        held = sum((m for o, m in pairs if o.verdict == "needs_review"), Fraction(0))
        tests = tuple(
            TestResult(
                name=o.name,
                visibility=o.visibility,
                passed=o.passed,
                score=float(m * _earned(o)),
                max_score=float(m),
                message=o.message,
                diagnoses=o.diagnoses,
                records=o.records,
                traceback=o.traceback,
                verdict=o.verdict,
                ident=o.ident,
            )
            for o, m in pairs
        )
        task_max = float(sum((m for _, m in pairs), Fraction(0))) if pairs else task.points
        tasks.append(TaskResult(task.id, task.title, float(earned), task_max, tests, held=float(held)))
        total += earned
        held_total += held
    if any(o.verdict == "error" for o in outcomes):
        status = "error"
    return StudentResult(
        student=student,
        assignment=assignment.id,
        status=status,
        score=float(total),
        max_score=float(Fraction(assignment.total_points)),
        tasks=tuple(tasks),
        errors=errors,
        held=float(held_total),
    )


def _earned(outcome: TestOutcome) -> Fraction:
    """The fraction of a test's points earned: all or nothing, or the partial credit it reports.

    A test in `error` or `needs_review` earns nothing yet: its points are not decided.
    """
    if outcome.verdict is not None:
        return Fraction(0)
    if outcome.partial is not None:
        return Fraction(min(1.0, max(0.0, outcome.partial)))
    return Fraction(1 if outcome.passed else 0)


def shown(value: float) -> float | int:
    """Points as they are shown and stored: rounded once, to 1e-6, an integer when whole."""
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def grader_failure(assignment: Assignment, student: str, reason: str) -> StudentResult:
    """The result of a hand-in the grader failed on: status `error`, no points decided, the reason recorded."""
    return score(assignment, student, (), (reason,), "error")
