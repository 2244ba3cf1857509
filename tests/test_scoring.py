"""Outcomes to points: shares, partial credit, held and undecided points, exact sums, checked against fractions."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from grader.assignment import Assignment, load_assignment
from grader.errors import ConfigError
from grader.model import Diagnosis, Record, TraceFrame
from grader.model import TestOutcome as Outcome  # not collected as a test class
from grader.scoring import score, share_left, shown
from grader.scoring import test_points as points_of  # not collected as a test

TOML = '''schema_version = 1
id = "thirds"
title = "Shares of points"
total_points = 45

[[tasks]]
id = "a"
title = "A task of 32 points"
points = 32
needs = ["f"]

[[tasks]]
id = "b"
title = "A task of 10 points"
points = 10
needs = ["g"]

[[tasks]]
id = "c"
title = "A task nobody's tests reach"
points = 3
needs = ["h"]
'''


@pytest.fixture
def assignment(tmp_path: Path) -> Assignment:
    folder = tmp_path / "thirds"
    (folder / "tests" / "public").mkdir(parents=True)
    (folder / "assignment.toml").write_text(TOML)
    return load_assignment(folder)


def outcome(name: str, task: str = "a", passed: bool = True, **fields) -> Outcome:
    return Outcome(name=name, task=task, visibility="public", passed=passed, **fields)


def test_tests_without_points_share_what_their_task_has_left(assignment):
    outcomes = (outcome("x"), outcome("y", weight=5.0), outcome("z"), outcome("w", task="b"),
                outcome("q", weight=2.0, is_question=True))
    assert points_of(assignment, outcomes) == (Fraction(27, 2), Fraction(5), Fraction(27, 2), Fraction(10), Fraction(2))
    assert share_left(assignment, "a", outcomes) == 27  # a written question's points are its own, not the task's
    assert share_left(assignment, "b", outcomes) == 10


def test_a_question_without_points_is_not_counted_among_the_sharing_tests(assignment):
    outcomes = (outcome("x"), outcome("y"), outcome("q", is_question=True, weight=None))
    assert points_of(assignment, outcomes)[:2] == (Fraction(16), Fraction(16))


def test_explicit_points_may_use_up_a_task_but_not_exceed_it(assignment):
    assert points_of(assignment, (outcome("x", weight=32.0), outcome("y"))) == (Fraction(32), Fraction(0))
    with pytest.raises(ConfigError, match=r"^task a: its tests' points add up to 33, more than its 32$"):
        points_of(assignment, (outcome("x", weight=20.0), outcome("y", weight=13.0), outcome("z")))


def test_a_task_split_in_three_sums_to_exactly_its_points(assignment):
    outcomes = tuple(outcome(f"t{i}") for i in range(3))
    result = score(assignment, "ada", outcomes)
    assert result.tasks[0].score == 32 and result.score == 32
    assert [t.score for t in result.tasks[0].tests] == [float(Fraction(32, 3))] * 3
    assert [t.max_score for t in result.tasks[0].tests] == [float(Fraction(32, 3))] * 3
    assert result.tasks[0].max_score == 32
    failed_one = score(assignment, "bob", (*outcomes[:2], outcome("t2", passed=False)))
    assert failed_one.score == float(Fraction(64, 3)) and failed_one.tasks[0].score == float(Fraction(64, 3))


def test_tasks_and_the_total_add_up_over_every_task(assignment):
    outcomes = (outcome("x"), outcome("y", passed=False), outcome("w", task="b", weight=4.0),
                outcome("v", task="b", passed=False))
    result = score(assignment, "ada", outcomes)
    assert [(t.id, t.score, t.max_score) for t in result.tasks] == [("a", 16, 32), ("b", 4, 10), ("c", 0, 3)]
    assert result.score == 20 and result.max_score == 45
    assert [t.title for t in result.tasks] == ["A task of 32 points", "A task of 10 points", "A task nobody's tests reach"]
    assert result.tasks[2].tests == ()


@pytest.mark.parametrize(("partial", "fraction"), [(0.25, 0.25), (1.5, 1.0), (-0.5, 0.0), (0.0, 0.0), (1.0, 1.0)])
def test_partial_credit_is_a_fraction_of_the_test_clamped_to_0_and_1(assignment, partial, fraction):
    result = score(assignment, "ada", (outcome("x", passed=False, partial=partial), outcome("y", passed=False)))
    assert result.tasks[0].tests[0].score == 16 * fraction
    assert result.score == 16 * fraction


def test_partial_credit_counts_even_when_the_test_passed(assignment):
    result = score(assignment, "ada", (outcome("x", passed=True, partial=0.5),))
    assert result.score == 16


def test_a_test_held_for_review_earns_nothing_and_loses_nothing_yet(assignment):
    outcomes = (outcome("x"), outcome("y", passed=True, verdict="needs_review"),
                outcome("z", passed=True, partial=1.0, verdict="needs_review", weight=2.0, task="b"))
    result = score(assignment, "ada", outcomes)
    assert result.status == "graded"
    assert result.tasks[0].score == 16 and result.tasks[0].held == 16
    assert result.tasks[1].score == 0 and result.tasks[1].held == 2
    assert result.held == 18 and result.score == 16
    assert result.tasks[0].tests[1].score == 0 and result.tasks[0].tests[1].max_score == 16


def test_a_test_in_error_decides_nothing_and_the_student_is_in_error(assignment):
    result = score(assignment, "ada", (outcome("x"), outcome("y", passed=True, verdict="error")))
    assert result.status == "error"
    assert result.tasks[0].tests[1].score == 0 and result.tasks[0].held == 0
    assert score(assignment, "ada", (outcome("x"),)).status == "graded"


def test_the_status_given_is_kept_unless_a_test_is_in_error(assignment):
    assert score(assignment, "ada", (), ("no notebook",), "unreadable").status == "unreadable"
    assert score(assignment, "ada", (), ("no notebook",), "unreadable").errors == ("no notebook",)
    assert score(assignment, "ada", (outcome("x", verdict="error"),), status="unreadable").status == "error"


def test_every_field_of_an_outcome_reaches_its_result(assignment):
    record = Record("series", "loss", {"x": [1.0, 2.0]})
    frame = TraceFrame("solution.py", 3, "f")
    rich = outcome("the test", passed=False, message="wrong sign", diagnoses=(Diagnosis.SIGN_FLIPPED,),
                   traceback=(frame,), ident="tests/public/test_a.py:12", verdict="needs_review", records=(record,))
    result = score(assignment, "ada", (rich,))
    test = result.tasks[0].tests[0]
    assert (test.name, test.visibility, test.passed, test.message) == ("the test", "public", False, "wrong sign")
    assert test.diagnoses == (Diagnosis.SIGN_FLIPPED,) and test.traceback == (frame,)
    assert test.verdict == "needs_review" and test.ident == "tests/public/test_a.py:12"
    assert test.records == (record,) and test.records[0].payload == {"x": [1.0, 2.0]}
    assert (result.student, result.assignment) == ("ada", "thirds")


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [(32.0, 32, int), (float(Fraction(32, 3)), 10.666667, float), (0.1 + 0.2, 0.3, float), (2.0000004, 2, int),
     (2.0000006, 2.000001, float), (0.0, 0, int), (-1.5, -1.5, float)],
)
def test_points_are_rounded_once_where_shown(value, expected, kind):
    assert shown(value) == expected and type(shown(value)) is kind


def test_a_hand_in_the_grader_failed_on_is_in_error_with_its_reason(assignment):
    from grader.scoring import grader_failure

    result = grader_failure(assignment, "ada", "the grading process died (SIGKILL)")
    assert (result.student, result.status, result.errors) == ("ada", "error", ("the grading process died (SIGKILL)",))
    assert result.score == 0 and result.max_score == 45 and [t.tests for t in result.tasks] == [(), (), ()]


def test_a_task_is_worth_what_its_tests_are_worth(assignment):
    with_question = score(assignment, "ada", (outcome("x"), outcome("y"), outcome("q", weight=2.0, is_question=True)))
    assert with_question.tasks[0].max_score == 34 and with_question.tasks[0].score == 34
    under = score(assignment, "ada", (outcome("x", weight=5.0), outcome("w", task="b", weight=4.0)))
    assert [t.max_score for t in under.tasks] == [5, 4, 3]
