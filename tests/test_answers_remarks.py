"""Written answers as students write them: a remark after the result, a box, a chain, sized brackets, argmin.

Each answer is written into a real notebook (nbformat), loaded by the grader's own loader and
graded by `grade_written` against the assignments' own questions, as a batch would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbbuild import md, notebook, write

from grader.answers import extract_math, right_hand_side
from grader.assignment import load_assignment
from grader.model import Diagnosis
from grader.model import TestOutcome as Outcome
from grader.submission import load
from grader.written import grade_written, questions_of

REPO = Path(__file__).resolve().parents[1]
LOGISTIC = questions_of(load_assignment(REPO / "assignments" / "logistic_softmax"))
BAYES = questions_of(load_assignment(REPO / "assignments" / "bayes_mlp"))


def graded(tmp_path: Path, questions, qid: str, *cells) -> Outcome:
    path = write(tmp_path / "student.ipynb", notebook(*cells))
    outcomes = grade_written(questions, load("student", path).files)
    return next(o for o in outcomes if o.name == f"written answer {qid}")


def answer_1a(tmp_path: Path, math: str) -> Outcome:
    return graded(tmp_path, LOGISTIC, "1a", md(f"**Answer 1a**\n\nBy the chain rule,\n\n{math}"))


@pytest.mark.parametrize(
    "math",
    [
        # a remark in words after the result, as hand-ins write "(shown)" or "as required"
        r"$$\frac{\partial C}{\partial w_i} = -(y - \hat{y}) x_i \quad (\text{shown})$$",
        r"$$-(y - \hat{y})\, x_i \qquad \text{as required}$$",
        r"$$\frac{\partial C}{\partial w_i} = -(y - \hat{y}) x_i \,\text{.}$$",
        r"$$-(y - \hat{y}) x_i \text{ for every weight } w_i$$",
        # a condition on the index, which has an `=` of its own
        r"$$\frac{\partial C}{\partial w_i} = -(y - \hat{y}) x_i, \quad i = 1, \dots, d$$",
        r"$$\frac{\partial C}{\partial w_i} = (\hat{y} - y) x_i \quad \forall i$$",
        # trailing punctuation and an end-of-proof mark
        r"$$\frac{\partial C}{\partial w_i} = -(y - \hat{y}) x_i \;\; ; \quad \blacksquare$$",
        # a box, with a remark after it
        r"$$\frac{\partial C}{\partial w_i} = \boxed{-(y - \hat{y}) x_i} \quad \text{(shown)}$$",
        # a chain a = b = c whose last side ends in a remark
        r"$$\frac{\partial C}{\partial w_i} = \frac{\partial C}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial w_i}"
        r" = \frac{\hat{y} - y}{\hat{y}(1 - \hat{y})} \hat{y}(1 - \hat{y}) x_i = (\hat{y} - y) x_i"
        r" \quad \text{(using the hint)}$$",
        # sized brackets, and an align whose lines carry remarks
        r"$$-\left[ y - \hat{y} \right] x_i \quad (\text{shown})$$",
        r"$$-\bigl( y - \hat{y} \bigr) x_i \quad (\text{shown})$$",
        r"$$\Big[ \hat{y} - y \Big] x_i \qquad \text{q.e.d.}$$",
        "\\begin{align}\n\\frac{\\partial C}{\\partial w_i} &= \\frac{\\partial C}{\\partial \\hat{y}}"
        " \\frac{\\partial \\hat{y}}{\\partial w_i} && \\text{(chain rule)} \\\\\n"
        "&= -(y - \\hat{y}) x_i \\quad \\text{(shown)}\n\\end{align}",
    ],
)
def test_a_right_answer_with_a_remark_gets_its_points(tmp_path: Path, math: str) -> None:
    outcome = answer_1a(tmp_path, math)
    assert outcome.passed, outcome.message
    assert outcome.partial == 1.0
    assert outcome.verdict is None


@pytest.mark.parametrize(
    "math",
    [
        r"$$\frac{\partial C}{\partial w_i} = (y - \hat{y}) x_i \quad (\text{shown})$$",  # the sign
        r"$$-(y - \hat{y}) \quad \text{for every weight } w_i$$",  # x_i is in the remark, not the result
        r"$$\frac{\partial C}{\partial w_i} = \boxed{(y - \hat{y}) x_i} \quad \text{(shown)}$$",
    ],
)
def test_a_wrong_answer_with_a_remark_is_still_wrong(tmp_path: Path, math: str) -> None:
    outcome = answer_1a(tmp_path, math)
    assert not outcome.passed
    assert outcome.diagnoses == (Diagnosis.WRONG_ANSWER,)
    assert "words" not in outcome.message  # it was read, and judged, not refused as unreadable


def test_upright_math_is_not_taken_for_a_remark() -> None:
    assert right_hand_side(r"\hat{y}_{\text{pred}} - y") == r"\hat{y}_{\text{pred}} - y"
    assert right_hand_side(r"\frac{1}{1 + \mathrm{e}^{-z}}") == r"\frac{1}{1 + \mathrm{e}^{-z}}"
    assert right_hand_side(r"\mathrm{softmax}(z)_k - y_k") == r"\mathrm{softmax}(z)_k - y_k"
    assert right_hand_side(r"(\hat{y} - y)\, x_i") == r"(\hat{y} - y)\, x_i"
    # spacing between two factors is not the start of a remark
    assert right_hand_side(r"(\hat{y} - y) \quad W_2^h") == r"(\hat{y} - y) \quad W_2^h"
    # two equations on one line: the second is the result, not a remark
    assert right_hand_side(r"a = b, \qquad \frac{\partial C}{\partial \hat{y}} = \hat{y} - y") == r"\hat{y} - y"


def test_the_last_line_of_an_align_is_read_with_its_continuation() -> None:
    text = "$$\\begin{aligned} L &= a + b \\\\ &= (\\hat{y} - y) \\\\ &\\quad \\cdot x_i \\end{aligned}$$"
    assert extract_math(text) == "(\\hat{y} - y) \\cdot x_i"


@pytest.mark.parametrize(
    ("math", "operator"),
    [
        (r"$$\mathbf{w}_{MAP} = \operatorname{argmin}_{\mathbf{w}} \|\mathbf{w} - \boldsymbol{\mu}\|_1$$", "argmin"),
        (r"$$\arg\min_w \; \|y - Xw\|^2 + \lambda \|w - \mu\|_1$$", "argmin"),
        (r"$$\underset{w}{\mathrm{arg\,min}} \|w - \mu\|_1$$", "argmin"),
        (r"$$\min_w \|w - \mu\|_1$$", "min"),
    ],
)
def test_an_argmin_objective_is_a_wrong_answer_with_the_reason(tmp_path: Path, math: str, operator: str) -> None:
    outcome = graded(tmp_path, BAYES, "2.4", md(f"**Answer 2.4**\n\n{math}"))
    assert not outcome.passed
    assert outcome.diagnoses == (Diagnosis.WRONG_ANSWER,)
    assert f"optimisation problem ({operator}), the question asks for its solution" in outcome.message
    assert "could not be read" not in outcome.message


def test_an_argmin_that_goes_on_to_its_solution_is_read_at_the_solution(tmp_path: Path) -> None:
    math = r"$$\mathbf{w}_{MAP} \to \operatorname{argmin}_{\mathbf{w}} \|\mathbf{w} - \boldsymbol{\mu}\|_1 = \boldsymbol{\mu}$$"
    outcome = graded(tmp_path, BAYES, "2.4", md(f"**Answer 2.4**\n\n{math}"))
    assert outcome.passed, outcome.message


def test_max_as_a_function_is_not_an_optimisation_problem(tmp_path: Path) -> None:
    outcome = graded(tmp_path, BAYES, "2.4", md(r"**Answer 2.4**" "\n\n" r"$\max(0, \mu)$"))
    assert "optimisation" not in outcome.message


TWO_LAYER = questions_of(load_assignment(REPO / "assignments" / "two_layer_net"))


@pytest.mark.parametrize("math", [r"$$\frac{\partial R}{\partial W_1} = 2 \text{reg} W_1$$",
                                  r"$$2 \cdot \text{reg} \cdot W_1$$", r"$$2\,\mathrm{reg}\, W^{(1)}$$"])
def test_a_name_written_upright_inside_the_math_is_not_a_remark(tmp_path: Path, math: str) -> None:
    """`\\text{reg}` between factors is the variable reg (6b of two_layer_net), not a remark cut off."""
    assert right_hand_side(r"2 \text{reg} W_1") == r"2 \text{reg} W_1"
    outcome = graded(tmp_path, TWO_LAYER, "6b", md(f"**Answer 6b**\n\n{math}"))
    assert outcome.passed, outcome.message
