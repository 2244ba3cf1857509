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


def test_a_function_that_hangs_costs_one_budget_not_one_per_test(tmp_path):
    """demo has two tests of scaled_sum (3 s per call): the second fails at once, with the same diagnosis."""
    session = GradingSession.for_assignment(load_assignment(demo_copy(tmp_path)))
    handin = tmp_path / "hangs.py"
    handin.write_text(HANGS)
    try:
        started = time.monotonic()
        result = session.grade("hangs", handin)
        elapsed = time.monotonic() - started
    finally:
        session.close()
    first, second = _tests_of(result, "scaled")
    assert first.diagnoses == (Diagnosis.TIMEOUT,) and second.diagnoses == (Diagnosis.TIMEOUT,)
    assert "ran past its time limit earlier" in second.message and "scaled_sum" in second.message
    assert "ran past its time limit earlier" not in first.message
    assert elapsed < 2 * 3.0, f"two tests of a hanging function took {elapsed:.1f} s: the hang was waited for twice"
    assert all(t.passed for t in _tests_of(result, "grad") if not t.name.startswith("written"))  # others unharmed


def test_a_test_marked_fresh_tries_the_hung_function_again(tmp_path):
    session = GradingSession.for_assignment(load_assignment(demo_copy(tmp_path, FRESH_TEST)))
    handin = tmp_path / "hangs.py"
    handin.write_text(HANGS)
    try:
        result = session.grade("hangs", handin)
    finally:
        session.close()
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
