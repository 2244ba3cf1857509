"""What makes grading cost little beyond the student's own code, without changing a verdict.

A function that hangs costs one budget per hand-in, not one per test; the time inside the
student's calls is measured and shown beside the grader's overhead.
"""

from __future__ import annotations

import json
import time

from conftest import run_cli
from democlass import GOOD, a_class, demo_copy

from grader.assignment import load_assignment
from grader.model import Diagnosis
from grader.session import GradingSession

HANGS = GOOD.replace("return SCALE * sum(values)", "while True:\n        pass")

FRESH_TEST = '''
import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
@pytest.mark.fresh
def test_scaled_sum_once_more(student):
    """scaled_sum gets a fresh try"""
    assert student.scaled_sum([1.0]) == 3.0
'''


def _tests_of(result, task):
    return next(t for t in result.tasks if t.id == task).tests


def graded_timed(assignment, tmp_path, source: str, cache: bool = True):
    """One hand-in (a single .py file) graded through a grading session, and the seconds it took."""
    session = GradingSession.for_assignment(assignment, cache=cache)
    handin = tmp_path / "student.py"
    handin.write_text(source)
    try:
        started = time.monotonic()
        result = session.grade("student", handin)
        return result, time.monotonic() - started
    finally:
        session.close()


def test_a_function_that_hangs_costs_one_budget_not_one_per_test(tmp_path):
    """demo has two tests of scaled_sum (3 s per call): the second fails at once, with the same diagnosis."""
    result, elapsed = graded_timed(load_assignment(demo_copy(tmp_path)), tmp_path, HANGS)
    first, second = _tests_of(result, "scaled")
    assert first.diagnoses == (Diagnosis.TIMEOUT,) and second.diagnoses == (Diagnosis.TIMEOUT,)
    assert "ran past its time limit earlier" in second.message and "scaled_sum" in second.message
    assert "ran past its time limit earlier" not in first.message
    assert elapsed < 2 * 3.0, f"two tests of a hanging function took {elapsed:.1f} s: the hang was waited for twice"
    assert all(t.passed for t in _tests_of(result, "grad") if not t.name.startswith("written"))  # others unharmed


def test_a_test_marked_fresh_tries_the_hung_function_again(tmp_path):
    result, _ = graded_timed(load_assignment(demo_copy(tmp_path, FRESH_TEST)), tmp_path, HANGS)
    fresh = next(t for t in _tests_of(result, "scaled") if t.name == "scaled_sum gets a fresh try")
    assert fresh.diagnoses == (Diagnosis.TIMEOUT,) and "earlier" not in fresh.message


def test_the_summary_shows_time_in_student_code_beside_the_total(tmp_path):
    slow = GOOD.replace("def scaled_sum(values):", "def scaled_sum(values):\n    import time; time.sleep(0.3)")
    submissions = a_class(tmp_path, {"slow": slow, "quick": GOOD})
    out = tmp_path / "out"
    done = run_cli("grade", str(submissions), "-a", str(demo_copy(tmp_path)), "-o", str(out), "-q", "-j", "1")
    assert done.returncode == 0, done.stderr
    slow_record = json.loads((out / "slow" / ".grading.json").read_text())
    quick_record = json.loads((out / "quick" / ".grading.json").read_text())
    assert slow_record["student_seconds"] >= 0.6  # two calls of 0.3 s, measured by the grader
    assert slow_record["student_seconds"] <= slow_record["seconds"]
    assert quick_record["student_seconds"] < slow_record["student_seconds"] - 0.4
    assert "bwrap" in slow_record["environment"] or "unshare" in slow_record["environment"] or \
        "none" in slow_record["environment"]
    summary = (out / "summary.html").read_text()
    assert "in student code" in summary and slow_record["environment"].split(" · ")[0] in summary


SHARED_TESTS = '''
import numpy as np
import pytest


def trained(student):
    return student.expensive(3)


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_first_asks(student, shared):
    """the first test computes the shared result"""
    value = shared("trained weights", lambda: trained(student))
    assert value["calls"] == 1
    value["weights"][:] = 0.0  # a test that changes what it got changes nothing for the next


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_second_gets_a_copy(student, shared):
    """the second test gets the same result, untouched"""
    value = shared("trained weights", lambda: trained(student))
    assert value["calls"] == 1
    assert np.all(value["weights"] != 0.0)


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_a_failure_is_shared_too(student, shared):
    """a failing computation fails every test that asks, with one message"""
    shared("broken", lambda: student.expensive(-1))
'''

EXPENSIVE = '''
import numpy as np

CALLS = [0]

def expensive(n):
    CALLS[0] += 1
    if n < 0:
        raise ValueError("n must not be negative")
    return {"calls": CALLS[0], "weights": np.random.normal(size=n)}
'''
SHARED_STUDENT = GOOD + EXPENSIVE


def _shared_demo(tmp_path):
    return load_assignment(demo_copy(tmp_path, SHARED_TESTS, extra_reference=EXPENSIVE, extra_needs=("expensive",)))


def test_the_shared_fixture_computes_once_per_handin_and_hands_out_copies(tmp_path):
    result, _ = graded_timed(_shared_demo(tmp_path), tmp_path, SHARED_STUDENT)
    tests = {t.name: t for t in _tests_of(result, "scaled")}
    assert tests["the first test computes the shared result"].passed, tests
    assert tests["the second test gets the same result, untouched"].passed, tests
    failed = tests["a failing computation fails every test that asks, with one message"]
    assert not failed.passed and "n must not be negative" in failed.message


def test_without_the_caches_the_shared_result_is_computed_in_every_test(tmp_path):
    result, _ = graded_timed(_shared_demo(tmp_path), tmp_path, SHARED_STUDENT, cache=False)
    second = next(t for t in _tests_of(result, "scaled") if t.name == "the second test gets the same result, untouched")
    assert not second.passed  # computed again: the student's counter says 2 (the check above proves the cache)


def test_caches_change_no_verdict_on_the_example_class(tmp_path):
    """The bundled logistic_softmax class with and without the caches: byte-identical result.json."""
    from conftest import REPO

    runs = {}
    for name, extra in {"cached": [], "uncached": ["--no-cache"]}.items():
        out = tmp_path / name
        done = run_cli("grade", str(REPO / "examples" / "submissions"), "-a", "logistic_softmax", "-o", str(out),
                       "-q", "-j", "2", *extra, timeout=1800)
        assert done.returncode == 0, done.stderr
        runs[name] = {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")}
    assert len(runs["cached"]) >= 8 and runs["cached"] == runs["uncached"]


REACHES_TEST = '''
import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_twice_scaled(student):
    """twice_scaled doubles scaled_sum"""
    assert student.twice_scaled([1.0]) == 6.0
'''

TWICE = '''

def twice_scaled(values):
    return 2 * scaled_sum(values)
'''


def test_a_function_that_reaches_a_hung_one_fails_at_once_even_with_equal_budgets(tmp_path):
    """test_timeout equal to call_timeout (the first call of a test gets a hair less than the call limit),
    and a function whose code calls the hung one: one budget for the whole hand-in."""
    folder = demo_copy(tmp_path, REACHES_TEST, name="test_twice.py", extra_reference=TWICE,
                       extra_needs=("twice_scaled",))  # runs after test_grad.py's scaled_sum test
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace("test_timeout = 8.0", "test_timeout = 3.0"))
    result, elapsed = graded_timed(load_assignment(folder), tmp_path, HANGS + TWICE)
    tests = {t.name: t for t in _tests_of(result, "scaled")}
    twice = tests["twice_scaled doubles scaled_sum"]
    assert twice.diagnoses == (Diagnosis.TIMEOUT,)
    assert "twice_scaled calls scaled_sum, which ran past its time limit earlier" in twice.message
    assert sum("earlier" in t.message for t in tests.values()) == 2  # of three tests, one waited
    assert elapsed < 2 * 3.0, f"{elapsed:.1f} s: a hang was waited for more than once"
