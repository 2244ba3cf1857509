"""The reference canary: before any student, every test runs on the reference and the template.

A test the reference fails, or a test that errors in its own code on either of them, is
the instructor's mistake: the batch stops (exit 3) naming the test, its file and line and
the error, before one student is graded, so that no student is ever charged for it.
The verdict is remembered in the output folder, keyed by the assignment's and the
grader's fingerprint, so a rerun with nothing changed does not pay for it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import ConfigError
from grader.model import StudentResult
from grader.report.files import write_atomic

if TYPE_CHECKING:
    from grader.executors import Executor

MARKER = ".canary"


@dataclass(frozen=True)
class CanaryFailure:
    """One test that failed the canary, and why."""

    who: str  # "reference" or "template"
    test: str
    message: str


def check_canary(executor: Executor, assignment_id: str, out: Path, fingerprint: str) -> None:
    """Raise `ConfigError` when a test fails on the reference or errors on either; quiet when all is well."""
    marker = out / MARKER
    if marker.is_file() and marker.read_text() == fingerprint:
        return
    reference, template = executor.canary()
    failures: list[CanaryFailure] = []
    if reference is not None:
        failures += [CanaryFailure("reference", name, message) for name, message in _not_passed(reference)]
    if template is not None:
        failures += [CanaryFailure("template", name, message) for name, message in _errors(template)]
    if failures:
        lines = [f"- on the {f.who}: {f.test}: {f.message}" for f in failures[:20]]
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise ConfigError(
            f"{assignment_id}: the tests do not run clean on the reference solution, so no student was graded "
            "(fix the tests or the reference, then run grade again):\n" + "\n".join(lines) + more
        )
    write_atomic(marker, fingerprint)


def _not_passed(result: StudentResult) -> list[tuple[str, str]]:
    """Every test or written answer the reference did not pass in full."""
    found = list(_errors(result))
    for task in result.tasks:
        for test in task.tests:
            # `needs_review` is not decided (a manual question is always so): only decided tests count
            if test.verdict is None and (not test.passed or test.score < test.max_score - 1e-9):
                found.append((test.ident or f"task {task.id}: {test.name}", test.message or "it failed"))
    if result.status == "unreadable":
        found.append(("loading", "; ".join(result.errors) or "the reference could not be read"))
    return found


def _errors(result: StudentResult) -> list[tuple[str, str]]:
    """Every test that failed through the grader's or the test's own fault."""
    return [(test.ident or f"task {task.id}: {test.name}", test.message) for task in result.tasks
            for test in task.tests if test.verdict == "error"]

