"""The written questions of bayes_mlp, as configured in its assignment.toml, against many spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.answers import find_answers, grade_answer
from grader.answers.choice import fold
from grader.assignment import load_assignment
from grader.model import Cell, Diagnosis, SourceFile
from grader.written import questions_of

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = {spec.id: question for spec, question in questions_of(load_assignment(REPO / "assignments" / "bayes_mlp"))}


def verdict(qid: str, markdown: str):
    """Grade one answer written the way students write them: a markdown cell labelled `**Answer QID**`."""
    files = (SourceFile("submission", "s.ipynb", (Cell(0, "markdown", f"**Answer {qid}**\n\n{markdown}"),), True),)
    return grade_answer(QUESTIONS[qid], find_answers(files, (qid,)).get(qid))


@pytest.mark.parametrize(
    "answer",
    [
        r"$$\mu_{MAP} = \frac{\tau^2 n\bar{x}}{\tau^2 n + \sigma^2}$$",
        r"$\frac{\tau^2 n\bar{x}}{\tau^2 n + \sigma^2}$",
        r"$\frac{n\tau^2\bar{x}}{\sigma^2 + n\tau^2}$",
        r"$\frac{\bar{x}}{1 + \frac{\sigma^2}{\tau^2 n}}$",
        r"$$\mu_{MAP} = \frac{\frac{n\bar{x}}{\sigma^2}}{\frac{1}{\tau^2} + \frac{n}{\sigma^2}}$$",
        "n*tau**2*xbar/(n*tau**2 + sigma**2)",
        "xbar / (1 + sigma**2/(n*tau**2))",
    ],
)
def test_map_spellings_are_credited(answer):
    result = verdict("1.2b", answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "answer",
    [
        r"$\frac{\sigma^2 n\bar{x}}{\sigma^2 n + \tau^2}$",  # sigma and tau swapped
        "n*sigma**2*xbar/(n*sigma**2 + tau**2)",
        r"$\frac{\tau^2 \bar{x}}{\tau^2 + \sigma^2}$",  # n forgotten
        r"$\bar{x}$",
    ],
)
def test_wrong_map_is_not_credited(answer):
    result = verdict("1.2b", answer)
    assert not result.passed and result.diagnoses == (Diagnosis.WRONG_ANSWER,), result.message


@pytest.mark.parametrize(
    ("qid", "answer"),
    [
        ("3.4a", r"$$\boxed{\frac{\partial L}{\partial b_2} = \hat{y} - y}$$"),
        ("3.4a", r"$\hat{y} - y$"),
        ("3.4a", "y_hat - y"),
        ("3.4b", r"$$\boxed{\frac{\partial L}{\partial W_2^h} = (\hat{y} - y)(z_1^h)}$$"),
        ("3.4b", r"$z_1^{h}(\hat y - y)$"),
        ("3.4c", r"$$\boxed{\frac{\partial L}{\partial b_1^h} = (\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))}$$"),
        ("3.4c", r"$(\hat{y} - y) W_2^h (z_1^h - (z_1^h)^2)$"),
        ("3.4d", r"$$\boxed{\frac{\partial L}{\partial W_1^{h,m}} = (\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))(x_m)}$$"),
        ("3.4d", "(y_hat - y) * W2_h * z1_h * (1 - z1_h) * x_m"),
        ("1.2e-limit", r"The limit is $\sigma^2$."),
        ("1.2e-limit", "sigma**2"),
        ("2.2", r"$$\lambda = \frac{2\sigma^2}{\tau}$$"),
        ("2.2", "2*sigma**2/tau"),
        ("2.4", r"$\mathbf{w}_{MAP} \to \boldsymbol{\mu}$"),
        ("2.4", r"$\mu$"),
    ],
)
def test_expression_spellings_are_credited(qid, answer):
    result = verdict(qid, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("qid", "answer"),
    [
        ("3.4a", r"$y - \hat{y}$"),  # the sign
        ("3.4b", r"$(\hat{y} - y) W_2^h$"),
        ("3.4c", r"$(\hat{y} - y) W_2^h z_1^h$"),
        ("3.4d", r"$(\hat{y} - y) W_2^h z_1^h (1 - z_1^h)$"),  # x_m forgotten
        ("1.2e-limit", r"$\tau^2$"),
        ("2.2", r"$\frac{1}{\tau}$"),
        ("2.2", r"$\frac{2\tau^2}{\sigma}$"),
    ],
)
def test_wrong_expressions_are_not_credited(qid, answer):
    assert not verdict(qid, answer).passed


@pytest.mark.parametrize(
    ("qid", "answer", "passed"),
    [
        ("1.2c", r"$\mu_{MAP}$ is equal to the mean of $x|D$", True),
        ("1.2c", "It is greater.", False),
        ("1.2e", r"The variance of $x|D$ is greater than the variance of $x|\mu_{MLE}$.", True),
        ("1.2e", "Smaller.", False),
        ("1.3b", "Yes", True),
        ("1.3b", r"If $n\bar{x} > 0$, then $\mu_{MLE} > \mu_{MAP}$.", True),
        ("1.3b", r"If $n\bar{x} > 0$, then $\mu_{MLE} < \mu_{MAP}$.", False),
        ("1.3b", "no", False),
        ("1.3c", r"If $n\bar{x} < 0$, then $\mu_{MLE} < \mu_{MAP}$.", True),
        ("1.3c", r"$\mu_{MLE} \geq \mu_{MAP}$", False),
        ("1.3c", r"$\mu_{MAP} > \mu_{MLE}$", True),
        ("2.5", r"$\mathbf{w}_{\text{mean}}$ has the lower expected test MSE", True),
        ("2.5", r"$\mathbf{w}_{\text{MAP}}$ would have a lower expected MSE, given that [TODO]", False),
    ],
)
def test_choice_answers(qid, answer, passed):
    assert verdict(qid, answer).passed is passed


@pytest.mark.parametrize(
    ("qid", "answer", "passed"),
    [
        ("1.3a", r"If $n\bar{x} = 0$, then $\mu_{MLE} = 0$ and $\mu_{MAP} = 0$.", True),
        ("1.3a", "0 and 0", True),
        ("1.3a", r"$\mu_{MLE} = 0$ and $\mu_{MAP} = 1$", False),
        ("1.4", r"$$\lim_{n \rightarrow \infty} \frac{\mu_{MAP}}{\mu_{MLE}} = \lim_{n \rightarrow \infty} "
                r"\frac{1}{1 + \frac{\sigma^2}{\tau^2 n}} = 1$$", True),
        ("1.4", "the limit is 1.", True),
        ("1.4", r"$0$", False),
    ],
)
def test_numeric_answers(qid, answer, passed):
    assert verdict(qid, answer).passed is passed


def test_shapes_from_an_answers_dict():
    source = 'ANSWERS = {"3.1": {"W1": ("H", "M"), "b1": ("H",), "W2": (1, "H"), "b2": (1,), "a1": ("H",), ' \
             '"z1": ("H",), "a2": (1,), "y_hat": (1,)}}'
    files = (SourceFile("submission", "s.ipynb", (Cell(0, "code", source),), True),)
    assert grade_answer(QUESTIONS["3.1"], find_answers(files, ("3.1",))["3.1"]).passed
    wrong = source.replace('"W2": (1, "H")', '"W2": ("H", 1)')
    files = (SourceFile("submission", "s.ipynb", (Cell(0, "code", wrong),), True),)
    result = grade_answer(QUESTIONS["3.1"], find_answers(files, ("3.1",))["3.1"])
    assert not result.passed and 0 < result.score < 1


def test_a_label_is_not_the_prefix_of_a_longer_id():
    """`Answer 1.2e` is the choice; `Answer 1.2e-limit` (a label starting the same way) is the limit."""
    cells = (
        Cell(0, "markdown", r"**Answer 1.2e** The variance of $x|D$ is greater."),
        Cell(1, "markdown", r"**Answer 1.2e-limit** It tends to $\sigma^2$."),
    )
    found = find_answers((SourceFile("submission", "s.ipynb", cells, True),), ("1.2e", "1.2e-limit"))
    assert found["1.2e"].cell == 0 and "greater" in found["1.2e"].text
    assert found["1.2e-limit"].cell == 1 and found["1.2e-limit"].math == r"\sigma^2"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        (r"$\mu_{MLE} > \mu_{MAP}$", "mu mle gt mu map"),
        (r"$\mu_{MLE} < \mu_{MAP}$", "mu mle lt mu map"),
        (r"$a \geq b$ and $c \le d$", "a geq b and c leq d"),
        ("a >= b", "a geq b"),
        ("**Greater.**", "greater"),
    ],
)
def test_fold_keeps_the_direction_of_an_inequality(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("math", "rhs"),
    [
        (r"\mathbf{w}_{MAP} \to \mu", r"\mu"),
        (r"w \rightarrow \mu", r"\mu"),
        (r"\lim_{n \to \infty} \frac{a}{b} = 1", "1"),
        (r"\top", r"\top"),
    ],
)
def test_a_limit_written_with_an_arrow_answers_its_right_side(math, rhs):
    from grader.answers import right_hand_side

    assert right_hand_side(math) == rhs
