"""Run the instructor's tests against one student's program, each test becoming a `TestOutcome`.

Tests run on the host. They reach the student through the `student` fixture, whose
every call crosses into the sandboxed worker with the test's remaining time budget.
Whatever goes wrong becomes data: a failed check, a student exception, a timeout, a
dead worker, or a test that could not make sense of the student's result.
"""

from __future__ import annotations

import inspect
import time
import traceback
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.answers import Question
from grader.assignment import Assignment, QuestionSpec
from grader.model import Diagnosis, Finding, Program, TestOutcome, TraceFrame, Verdict
from grader.sandbox.client import SandboxUnavailable, StudentError
from grader.sandbox.proxy import StudentNamespace, StudentSession, WorkerPool
from grader.testing.checks import CheckFailed
from grader.testing.collect import InstructorTest, Suite, location
from grader.testing.expected import ExpectedMissing, ExpectedValues, read_store, store_path
from grader.testing.fixtures import Recorder, ReferenceNamespace
from grader.testing.shared import SharedResults


@dataclass(frozen=True)
class TestContext:
    """What every test of a batch shares: loaded once per process."""

    assignment: Assignment
    suite: Suite
    reference: ReferenceNamespace | None
    data: Mapping[str, Any]
    inject: Mapping[str, Any]
    questions: tuple[tuple[QuestionSpec, Question], ...] = ()
    expected: ExpectedValues | None = None  # default: from the reference if loaded, else the store
    cache: bool = True  # keep the reference's values for the next student (off: `grade --no-cache`)

    def __post_init__(self) -> None:
        if self.expected is None:
            store = store_path(self.assignment.public_tests)
            values = {} if self.reference is not None else read_store(store)
            object.__setattr__(self, "expected", ExpectedValues(self.reference, values, store, self.cache))


# Errors a test raises when a value is not what it expected: a result of the wrong type, shape or
# size. A test reaches a student only after it ran clean on the reference (the batch's canary),
# so these come from the student's result. Anything else raised by the test's own code is the
# grader's failure (`error`), never the student's.
RESULT_ERRORS = (TypeError, ValueError, IndexError, KeyError, AttributeError, ArithmeticError)


def describe_test_error(test: InstructorTest, error: BaseException) -> str:
    """`NameError: name 'rgn' is not defined (test_task2.py, line 41)`: the error and where in the test files."""
    here = Path(inspect.getfile(test.function)).parent.parent
    place = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if Path(frame.filename).resolve().is_relative_to(here.resolve()):
            place = f" ({Path(frame.filename).name}, line {frame.lineno})"
    return f"{type(error).__name__}: {_short(str(error))}{place}"


def test_seed(assignment_id: str, test: InstructorTest) -> int:
    """A fixed seed per test, the same on every run and every machine."""
    return zlib.crc32(f"{assignment_id}::{test.ident}".encode())


def run_suite(context: TestContext, program: Program, pool: WorkerPool) -> tuple[TestOutcome, ...]:
    """Every test of the suite against one program; a fresh worker after any crash."""
    session = StudentSession(program, pool, dict(context.inject))
    for name, source in context.assignment.provide.items():  # `[sandbox] provide`: before any student code runs
        session.add_helper(name, source)
    shared = SharedResults(session, context.cache)
    try:
        return tuple(run_test(context, test, session, shared) for test in context.suite.tests)
    finally:
        session.close()


def run_test(
    context: TestContext, test: InstructorTest, session: StudentSession, shared: SharedResults | None = None
) -> TestOutcome:
    """One test, with its fixtures, seed and time budget; `shared` holds the hand-in's shared results."""
    needs = context.assignment.task(test.task).needs
    recorder = Recorder()
    seed = test_seed(context.assignment.id, test)
    budget = test.timeout or context.assignment.limits.test_timeout
    started = time.perf_counter()
    student_seconds = session.student_seconds
    passed, message = True, ""
    diagnoses: tuple[Diagnosis, ...] = ()
    frames: tuple[TraceFrame, ...] = ()
    verdict: Verdict | None = None
    try:
        session.start_test(seed, budget, test.name, test.fresh)
        student_seconds = session.student_seconds
        shared = shared or SharedResults(session, context.cache)
        test.function(**_fixtures(test, context, session, needs, recorder, seed, shared))
    except ExpectedMissing:
        raise  # the public material is out of date: the instructor's mistake, not the student's
    except CheckFailed as failure:
        passed, message, diagnoses = False, failure.message, failure.diagnoses
    except StudentError as error:
        passed, message, diagnoses = False, error.failure.message, (error.failure.diagnosis,)
        frames = error.failure.frames
    except AssertionError as failure:
        # pytest's rewritten asserts print both sides: in a hidden test that would reveal the expected value
        passed = False
        message = _assertion_text(failure) if test.visibility == "public" else "a check of this hidden test failed"
    except RESULT_ERRORS as error:
        # the test ran on the reference without this error: the student's result is what it could not use
        passed, diagnoses = False, (Diagnosis.WRONG_SHAPE,)
        message = f"the test could not use the result: {type(error).__name__}: {_short(str(error))}"
    except SandboxUnavailable as error:
        passed, verdict = False, "error"
        message = f"the grader could not run this test (not the student's fault): {error}"
    except Exception as error:  # NameError, ImportError, RuntimeError ...: the test's own code broke
        passed, verdict = False, "error"
        message = f"the test failed in its own code (not the student's fault): {describe_test_error(test, error)}"
    if not passed and verdict is None:
        diagnoses, message = _with_findings(diagnoses, message, session.program.findings_for(needs))
    return TestOutcome(
        name=test.name,
        task=test.task,
        visibility=test.visibility,
        passed=passed,
        message=message,
        diagnoses=tuple(dict.fromkeys(diagnoses)),
        weight=test.points,
        duration=time.perf_counter() - started,
        records=tuple(recorder.records),
        traceback=tuple(frames),
        verdict=verdict,
        ident=location(test),
        student_seconds=session.student_seconds - student_seconds,
    )


def _fixtures(
    test: InstructorTest,
    context: TestContext,
    session: StudentSession,
    needs: tuple[str, ...],
    recorder: Recorder,
    seed: int,
    shared: SharedResults,
) -> dict[str, Any]:
    wanted = inspect.signature(test.function).parameters
    available: dict[str, Any] = {
        "shared": shared.fixture(test.ident, seed),
        "student": StudentNamespace(session, needs),
        "reference": context.reference,
        "data": context.data,
        "settings": context.assignment.settings,
        "rng": np.random.default_rng(seed),
        "seed": seed,
        "record": recorder,
        "expected": context.expected.fixture(test.ident, record=test.visibility == "public"),  # type: ignore[union-attr]
        **dict(test.parameters),
    }
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise RuntimeError(f"{test.ident} asks for unknown fixture(s): {', '.join(unknown)}")
    if "reference" in wanted and context.reference is None:
        raise ExpectedMissing(f"{test.ident} takes the reference, which is not available here (a student's "
                              "machine has none): public tests ask `expected(key, compute)` instead")
    return {name: available[name] for name in wanted}


def _with_findings(
    diagnoses: tuple[Diagnosis, ...], message: str, findings: tuple[Finding, ...]
) -> tuple[tuple[Diagnosis, ...], str]:
    """Add what extraction found (an undefined global, a syntax error) to a failure it explains."""
    for finding in findings:
        if finding.diagnosis in (Diagnosis.UNDEFINED_NAME, Diagnosis.SYNTAX_ERROR, Diagnosis.NOT_IMPLEMENTED):
            if finding.message not in message and (
                finding.diagnosis in diagnoses or Diagnosis.EXCEPTION in diagnoses or Diagnosis.NUMPY_VERSION in diagnoses
                or not diagnoses
            ):
                diagnoses = (*diagnoses, finding.diagnosis)
                message = f"{message}\n{finding.message}" if message else finding.message
    return diagnoses, message


def _assertion_text(failure: AssertionError) -> str:
    text = str(failure).strip()
    return _short(text) if text else "an assertion of the test failed"


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."
