"""One submission from files to a `StudentResult`: load, extract, run the tests, score.

This is the whole per-student data flow in one place, used by `grade` (every test)
and by `grader check` (public tests only).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from grader.extract import extract
from grader.model import ModuleCode, StudentResult, TestOutcome, Visibility
from grader.policy import apply_policy, policy_findings
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
    result = replace(result, student_seconds=sum(o.student_seconds for o in outcomes))
    return _timed(result, started, program.modules)


def _unreadable_outcome(name: str, task: str, visibility: Visibility, points: float | None) -> TestOutcome:
    return TestOutcome(name=name, task=task, visibility=visibility,
                       passed=False, message="the submission could not be read", weight=points)


def _timed(result: StudentResult, started: float, sources: tuple[ModuleCode, ...] = ()) -> StudentResult:
    return replace(result, seconds=time.perf_counter() - started, sources=sources)
