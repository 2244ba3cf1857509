"""A grading session: what grading needs in one process, built once and closed once.

The session owns the loaded context (the assignment, its collected tests, the data, the
reference) and the pool of sandbox workers. Every executor (in this process, forked
processes, Dask workers) grades through one session per process, so the same hand-in
gets the same grade wherever it is graded.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.answers import import_readers
from grader.assignment import Assignment
from grader.environment import current_environment
from grader.model import StudentResult
from grader.pipeline import grade_submission
from grader.sandbox.client import default_python
from grader.sandbox.proxy import WorkerPool
from grader.testing.collect import collect
from grader.testing.fixtures import injected_values, load_data, load_reference
from grader.testing.runner import TestContext
from grader.written import questions_of


def build_context(
    assignment: Assignment, include_hidden: bool = True, data: dict[str, Any] | None = None, cache: bool = True
) -> TestContext:
    """Load tests, data (unless given: a cluster worker gets the client's) and reference once for a grading process."""
    data = load_data(assignment) if data is None else data
    inject = injected_values(assignment, data)
    reference = load_reference(assignment, inject)
    questions = questions_of(assignment)
    import_readers(question for _, question in questions)  # once here, not once per forked grading process
    return TestContext(assignment, collect(assignment, include_hidden), reference, data, inject, questions, cache=cache)


def new_pool(assignment: Assignment) -> WorkerPool:
    """Sandbox workers for this assignment's interpreter, limits and preloaded modules."""
    return WorkerPool(assignment.python or default_python(), assignment.limits, assignment.preload)


class GradingSession:
    """The context and the sandbox pool of one grading process; `grade` one hand-in after another."""

    def __init__(self, context: TestContext) -> None:
        self.context = context
        self._pool: WorkerPool | None = None

    @classmethod
    def for_assignment(cls, assignment: Assignment, include_hidden: bool = True, cache: bool = True) -> GradingSession:
        return cls(build_context(assignment, include_hidden, cache=cache))

    @property
    def assignment(self) -> Assignment:
        return self.context.assignment

    @property
    def pool(self) -> WorkerPool:
        """The sandbox pool, started on first use (so that a forked process starts its own)."""
        if self._pool is None:
            self._pool = new_pool(self.context.assignment)
        return self._pool

    def grade(self, student: str, path: Path) -> StudentResult:
        """One hand-in, from its files to its result. Never raises for anything the student did."""
        result = grade_submission(self.context, self.pool, student, path)
        return replace(result, environment=current_environment(self.pool.python).describe())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
