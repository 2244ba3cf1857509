"""One submission from files to a `StudentResult`: load, extract, run the tests, score.

This is the whole per-student data flow in one place, used by `grade` (every test)
and by `grader check` (public tests only).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from grader.assignment import Assignment
from grader.extract import extract
from grader.model import Diagnosis, Finding, SourceFile, StudentResult, TestOutcome
from grader.policy import forbidden_calls
from grader.sandbox.proxy import WorkerPool
from grader.scoring import score
from grader.submission import load
from grader.testing.runner import TestContext, run_suite
from grader.written import grade_written


def grade_submission(context: TestContext, pool: WorkerPool, student: str, path: Path) -> StudentResult:
    """Grade one hand-in. Never raises for anything the student did."""
    started = time.perf_counter()
    assignment = context.assignment
    loaded = load(student, path)
    if not loaded.readable:
        outcomes = tuple(_unreadable_outcome(test.name, test.task, test.visibility, test.points)
                         for test in context.suite.tests)
        outcomes += grade_written(context.questions, ())
        result = score(assignment, student, outcomes, loaded.problems or ("nothing could be read",), "unreadable")
        return _timed(result, started)
    program = extract(loaded.files, assignment.needs, frozenset(assignment.inject))
    outcomes = run_suite(context, program, pool) + grade_written(context.questions, loaded.files)
    outcomes = apply_policy(outcomes, policy_findings(assignment, loaded.files))
    result = score(assignment, student, outcomes, loaded.problems)
    return _timed(result, started, program.modules)


def policy_findings(assignment: Assignment, files: tuple[SourceFile, ...]) -> dict[str, tuple[Finding, ...]]:
    """Per task with a `forbidden` list, the forbidden APIs its extracted code uses (none: no entry).

    A function is judged in the first task (in assignment order) that needs it: `softmax`
    calling `torch.softmax` costs the task that asks for `softmax`, not the later ones using it.
    """
    found: dict[str, tuple[Finding, ...]] = {}
    for index, task in enumerate(assignment.tasks):
        if not task.forbidden or not task.needs:
            continue
        elsewhere = frozenset(n.split(":")[-1] for t in assignment.tasks[:index] for n in t.needs)
        program = extract(files, task.needs, frozenset(assignment.inject))
        findings = forbidden_calls(program, task.needs, task.forbidden, elsewhere)
        if findings:
            found[task.id] = findings
    return found


def apply_policy(outcomes: tuple[TestOutcome, ...], findings: dict[str, tuple[Finding, ...]]) -> tuple[TestOutcome, ...]:
    """Every outcome of a task that uses a forbidden API fails with `forbidden_api`: the task scores 0."""
    if not findings:
        return outcomes
    changed = []
    for outcome in outcomes:
        task_findings = findings.get(outcome.task)
        if task_findings:
            message = "\n".join(f.message for f in task_findings)
            outcome = replace(outcome, passed=False, partial=0.0, message=message,
                              diagnoses=(Diagnosis.FORBIDDEN_API,))
        changed.append(outcome)
    return tuple(changed)


def _unreadable_outcome(name: str, task: str, visibility: str, points: float | None) -> TestOutcome:
    return TestOutcome(name=name, task=task, visibility=visibility,  # type: ignore[arg-type]
                       passed=False, message="the submission could not be read", weight=points)


def _timed(result: StudentResult, started: float, sources: tuple = ()) -> StudentResult:
    return replace(result, seconds=time.perf_counter() - started, sources=sources)
