"""Free-form reports: an answer found under a heading or label that names the task, read at its last equation,
credited when right and held for review (`needs_review`) when the grader is not sure it read the right thing.

Every report here is a real notebook (nbformat) in a folder hand-in, loaded by the grader's loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbbuild import code, md, notebook, write

from grader.assignment import load_assignment
from grader.model import Diagnosis
from grader.model import TestOutcome as Outcome
from grader.submission import load
from grader.written import grade_written, questions_of

REPO = Path(__file__).resolve().parents[1]
LOGISTIC = questions_of(load_assignment(REPO / "assignments" / "logistic_softmax"))
BAYES = questions_of(load_assignment(REPO / "assignments" / "bayes_mlp"))

DERIVATION_1A = (
    "We write $\\hat{y} = \\sigma(w^\\top x)$ and use the chain rule:\n\n"
    "$$\\frac{\\partial C}{\\partial w_i} = \\frac{\\partial C}{\\partial \\hat{y}}"
    " \\frac{\\partial \\hat{y}}{\\partial w_i}$$\n\n"
    "$$\\frac{\\partial C}{\\partial \\hat{y}} = -\\frac{y}{\\hat{y}} + \\frac{1 - y}{1 - \\hat{y}}$$\n\n"
    "so that\n\n$$\\frac{\\partial C}{\\partial w_i} = -(y - \\hat{y}) x_i \\quad (\\text{shown})$$"
)
WRONG_1A = DERIVATION_1A.replace("= -(y - \\hat{y}) x_i \\quad", "= (y - \\hat{y}) x_i \\quad")


def report(tmp_path: Path, *cells, questions=LOGISTIC) -> dict[str, Outcome]:
    """Grade the written answers of a folder hand-in holding a module and `report.ipynb`."""
    folder = tmp_path / "group7"
    folder.mkdir(exist_ok=True)
    (folder / "task2a.py").write_text("def pre_process_images(X):\n    return X\n")
    write(folder / "report.ipynb", notebook(*cells))
    outcomes = grade_written(questions, load("group7", folder).files)
    return {o.name.split()[-1]: o for o in outcomes}


def verdict_of(outcome: Outcome) -> str | None:
    return getattr(outcome, "verdict", None)


@pytest.mark.parametrize(
    "label",
    [
        "## Task 1a",
        "## Task 1a: the gradient of logistic regression",
        "# 1a)",
        "## 1 a",
        "### Question 1a",
        "**Task 1 a:**",
        "1 a)",
        "**1a)**",
        "## Oppgave 1a",
        "## Task 1(a)",
    ],
)
def test_an_answer_under_a_heading_that_names_the_task_is_credited(tmp_path: Path, label: str) -> None:
    outcomes = report(
        tmp_path,
        md("# Assignment 1 report\nGroup 7"),
        md(f"{label}\n\n{DERIVATION_1A}"),
        md("## Task 1b\n\n$$\\frac{\\partial C}{\\partial w_{kj}} = 0$$"),
    )
    one_a = outcomes["1a"]
    assert one_a.passed, one_a.message
    assert one_a.partial == 1.0
    assert "found under" in one_a.message  # the feedback says where the answer was read
    assert verdict_of(one_a) is None


def test_a_task_heading_with_parts_under_it(tmp_path: Path) -> None:
    outcomes = report(
        tmp_path,
        md("# Task 1"),
        md("## a)\n\n" + DERIVATION_1A),
        code("import numpy as np"),
        md("## b)\n\n$$\\frac{\\partial C}{\\partial w_{kj}} = -x_j (y_k - \\hat{y}_k)$$"),
    )
    assert outcomes["1a"].passed, outcomes["1a"].message
    assert outcomes["1b"].passed, outcomes["1b"].message


def test_the_section_runs_across_cells_and_stops_at_the_next_task(tmp_path: Path) -> None:
    first, _, last = DERIVATION_1A.rpartition("so that")
    outcomes = report(
        tmp_path,
        md("## Task 1a"),
        md(first),
        code("# a check of the derivation\nprint(1)"),
        md("so that" + last),
        md("## Task 1b\n\n$$\\frac{\\partial C}{\\partial w_{kj}} = x_j (\\hat{y}_k - y_k)$$"),
    )
    assert outcomes["1a"].passed, outcomes["1a"].message
    assert outcomes["1b"].passed, outcomes["1b"].message


def test_a_wrong_answer_under_a_heading_is_held_for_review(tmp_path: Path) -> None:
    outcomes = report(tmp_path, md("## Task 1a\n\n" + WRONG_1A))
    one_a = outcomes["1a"]
    assert verdict_of(one_a) == "needs_review"
    assert one_a.passed is False
    assert one_a.partial == 0.0  # held points score nothing here; scoring holds them
    assert "(y - \\hat{y}) x_i" in one_a.message  # what was read
    assert "## Task 1a" in one_a.message and "report.ipynb" in one_a.message  # and where


def test_an_unreadable_answer_under_a_heading_is_held_for_review(tmp_path: Path) -> None:
    outcomes = report(tmp_path, md("## Task 1a\n\n$$\\nabla_w C = \\mathbb{E}[\\text{grad}]$$"))
    assert verdict_of(outcomes["1a"]) == "needs_review"


def test_the_equation_the_task_asks_to_show_is_not_the_students_answer(tmp_path: Path) -> None:
    statement = (
        "## Task 1a: the gradient of logistic regression\n\nUsing the derivative of the sigmoid, show that\n\n"
        "$$\\frac{\\partial C^n(w)}{\\partial w_i} = -(y^n - \\hat{y}^n)\\, x_i^n.$$"
    )
    copied_only = report(tmp_path, md(statement))["1a"]
    assert verdict_of(copied_only) == "needs_review"  # never full marks for the handout's own equation
    assert not copied_only.passed
    answered = report(tmp_path, md(statement), md(DERIVATION_1A))["1a"]
    assert answered.passed, answered.message


def test_an_answer_given_as_a_picture_is_held(tmp_path: Path) -> None:
    outcome = report(tmp_path, md("## Task 1a\n\nOur derivation:\n\n![derivation](attachment:page1.png)"))["1a"]
    assert verdict_of(outcome) == "needs_review"
    assert "image" in outcome.message


def test_a_heading_with_no_math_under_it_is_not_an_answer(tmp_path: Path) -> None:
    outcome = report(tmp_path, md("## Task 1a\n\nSee task2a.py for the code."))["1a"]
    assert verdict_of(outcome) is None
    assert outcome.diagnoses == (Diagnosis.NOT_IMPLEMENTED,)
    assert "no math" in outcome.message


def test_a_heading_naming_another_task_is_not_read(tmp_path: Path) -> None:
    outcomes = report(
        tmp_path,
        md("## Task 11a\n\n$$(\\hat{y} - y) x_i$$"),
        md("## Task 1ab\n\n$$(\\hat{y} - y) x_i$$"),
        md("1. We first load the data: $$(\\hat{y} - y) x_i$$"),  # a numbered list item, not task 1
    )
    assert outcomes["1a"].diagnoses == (Diagnosis.NOT_IMPLEMENTED,)
    assert "no answer to 1a was found" in outcomes["1a"].message


@pytest.mark.parametrize(
    "explicit",
    [
        md("**Answer 1a**\n\n$$(y - \\hat{y}) x_i$$"),  # a label
        md("$$(y - \\hat{y}) x_i$$", tags=["answer:1a"]),  # a tag
        code('ANSWERS = {"1a": r"(y - \\hat{y}) x_i"}'),  # the dict
    ],
)
def test_the_contracts_forms_win_over_headings_and_wrong_stays_wrong(tmp_path: Path, explicit) -> None:
    outcome = report(tmp_path, md("## Task 1a\n\n" + DERIVATION_1A), explicit)["1a"]
    assert not outcome.passed
    assert verdict_of(outcome) is None  # not held: the student said where the answer is
    assert outcome.diagnoses == (Diagnosis.WRONG_ANSWER,)


def test_an_align_under_a_heading_is_read_at_its_last_line(tmp_path: Path) -> None:
    align = (
        "## 1 a\n\n\\begin{align}\n\\frac{\\partial C}{\\partial w_i}"
        " &= \\frac{\\partial C}{\\partial \\hat{y}} \\frac{\\partial \\hat{y}}{\\partial w_i} \\\\\n"
        " &= \\left( -\\frac{y}{\\hat{y}} + \\frac{1-y}{1-\\hat{y}} \\right) \\hat{y}(1-\\hat{y}) x_i \\\\\n"
        " &= \\boxed{(\\hat{y} - y)\\, x_i}\n\\end{align}"
    )
    assert report(tmp_path, md(align))["1a"].passed


def test_a_free_form_bayes_notebook_answers_by_problem_headings(tmp_path: Path) -> None:
    outcomes = report(
        tmp_path,
        md("### 1.2b\n\nCompleting the square,\n\n$$\\mu_{MAP} = \\frac{n \\tau^2 \\bar{x}}{n \\tau^2 + \\sigma^2}.$$"),
        md("## Problem 3.4\n\n"
           "(a) $$\\frac{\\partial L}{\\partial b_2} = \\hat{y} - y$$\n"
           "(b) $$\\frac{\\partial L}{\\partial W_2^h} = (\\hat{y} - y) z_1^h$$\n"
           "(c) $$\\frac{\\partial L}{\\partial b_1^h} = (\\hat{y} - y) W_2^h z_1^h (1 - z_1^h)$$\n"
           "(d) $$\\frac{\\partial L}{\\partial W_1^{h,m}} = (\\hat{y} - y) W_2^h z_1^h (1 - z_1^h)$$"),  # x_m missing
        questions=BAYES,
    )
    assert outcomes["1.2b"].passed, outcomes["1.2b"].message
    assert [outcomes[q].passed for q in ("3.4a", "3.4b", "3.4c", "3.4d")] == [True, True, True, False]
    assert verdict_of(outcomes["3.4d"]) == "needs_review"


def test_the_free_form_example_hand_in_gets_its_written_points() -> None:
    """examples/submissions/hedy_freeform writes its own report: no labels, tags or ANSWERS dict."""
    hedy = load("hedy_freeform", REPO / "examples" / "submissions" / "hedy_freeform")
    outcomes = {o.name.split()[-1]: o for o in grade_written(LOGISTIC, hedy.files)}
    for qid in ("1a", "1b"):
        assert outcomes[qid].passed, outcomes[qid].message
        assert f"found under `## Task {qid}`" in outcomes[qid].message


def test_hostile_reports_are_read_in_linear_time_and_never_raise(tmp_path: Path) -> None:
    """A 40,000-character run of blanks took the label regexes minutes; an unhashable key raised TypeError."""
    import time

    started = time.monotonic()
    outcomes = report(
        tmp_path,
        md("\t " * 20000 + "x"),
        md("# " + " " * 20000 + "Task 1a" + " " * 20000),
        md("## Task 1a\n\n$$(\\hat{y} - y) x_i" + " \\quad" * 5000 + "$$"),
        code("ANSWERS = {'1b': {[1]: 2}}\n" + "{" * 5000),
    )
    assert time.monotonic() - started < 8.0
    assert outcomes["1a"].passed, outcomes["1a"].message
    assert not outcomes["1b"].passed
