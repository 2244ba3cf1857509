"""Outcomes to points, per test, per task and in total. Pure: no I/O, no randomness."""

from __future__ import annotations

from grader.assignment import Assignment
from grader.errors import ConfigError
from grader.model import StudentResult, TaskResult, TestOutcome, TestResult


def test_points(assignment: Assignment, outcomes: tuple[TestOutcome, ...]) -> tuple[float, ...]:
    """Each outcome's maximum: its explicit points, else an even share of what its task has left."""
    maxima: list[float] = []
    for outcome in outcomes:
        if outcome.weight is not None:
            maxima.append(outcome.weight)
            continue
        task = assignment.task(outcome.task)
        siblings = [o for o in outcomes if o.task == outcome.task and o.weight is None and not o.is_question]
        explicit = sum(o.weight for o in outcomes if o.task == outcome.task and o.weight is not None and not o.is_question)
        left = task.points - explicit
        if left < -1e-9:
            raise ConfigError(f"task {task.id}: its tests' points add up to {explicit:g}, more than its {task.points:g}")
        maxima.append(left / len(siblings))
    return tuple(maxima)


def score(
    assignment: Assignment,
    student: str,
    outcomes: tuple[TestOutcome, ...],
    errors: tuple[str, ...] = (),
    status: str = "graded",
) -> StudentResult:
    """The student's result: every test with its points, every task with its sum, the total."""
    maxima = test_points(assignment, outcomes)
    tasks = []
    for task in assignment.tasks:
        tests = tuple(
            TestResult(
                name=o.name,
                visibility=o.visibility,
                passed=o.passed,
                score=_round(m * _earned(o)),
                max_score=_round(m),
                message=o.message,
                diagnoses=o.diagnoses,
                records=o.records,
                traceback=o.traceback,
            )
            for o, m in zip(outcomes, maxima, strict=True)
            if o.task == task.id
        )
        task_max = _round(sum(t.max_score for t in tests)) if tests else task.points
        tasks.append(TaskResult(task.id, task.title, _round(sum(t.score for t in tests)), task_max, tests))
    return StudentResult(
        student=student,
        assignment=assignment.id,
        status="graded" if status == "graded" else "unreadable",
        score=_round(sum(t.score for t in tasks)),
        max_score=_round(assignment.total_points),
        tasks=tuple(tasks),
        errors=errors,
    )


def _earned(outcome: TestOutcome) -> float:
    """The fraction of a test's points earned: all or nothing, or the partial credit it reports."""
    if outcome.partial is not None:
        return min(1.0, max(0.0, outcome.partial))
    return 1.0 if outcome.passed else 0.0


def _round(value: float) -> float:
    """Points rounded to 1e-6 so that sums of shares print cleanly and compare exactly."""
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded
