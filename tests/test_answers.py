"""Written answers: finding them in real notebooks, reading their math, and judging equivalence."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from democlass import GOOD, demo_copy
from nbformat.notebooknode import NotebookNode

from grader.answers import (
    FoundAnswer,
    Question,
    extract_math,
    find_answers,
    grade_answer,
    parse_expression,
    right_hand_side,
    validate_question,
)
from grader.answers.expression import Parsed, Unreadable
from grader.model import Cell, Diagnosis, SourceFile

# ---------------------------------------------------------------- helpers


def markdown(source: str, *tags: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": list(tags)} if tags else {})


def code(source: str) -> NotebookNode:
    return nbformat.v4.new_code_cell(source)


def notebook(tmp_path: Path, *cells: NotebookNode, name: str = "student.ipynb") -> tuple[SourceFile, ...]:
    """Write a real notebook, read it back, and turn it into the SourceFile the loader would give."""
    path = tmp_path / name
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nbformat.write(nb, path)
    read = nbformat.read(path, as_version=4)
    loaded = tuple(
        Cell(i, c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", ())))
        for i, c in enumerate(read.cells)
    )
    return (SourceFile(module=path.stem, path=path.name, cells=loaded, is_notebook=True),)


def answer(text: str, qid: str = "q") -> FoundAnswer:
    """A labelled markdown answer, as `find_answers` would find it."""
    return FoundAnswer(qid, "label", "student.ipynb", 0, text, text, extract_math(text))


MAP_SYMBOLS = {
    "n": ("n",),
    "tau": ("\\tau", "tau"),
    "sigma": ("\\sigma", "sigma"),
    "xbar": ("\\bar{x}", "\\overline{x}", "xbar", "x_bar"),
}
MLP_SYMBOLS = {
    "yhat": ("\\hat{y}", "y_hat", "\\hat y"),
    "y": ("y",),
    "z1h": ("z_1^h", "z_{1}^{h}", "z1^h"),
    "W2h": ("W_2^h", "W_2^{h}", "W2^h"),
    "xm": ("x_m",),
}
MLP_INDICES = ("h", "n", "{h,m}")
MAP = Question("1.2b", "expression", 2, "n*tau**2*xbar/(n*tau**2 + sigma**2)", symbols=MAP_SYMBOLS)
LIMIT = Question("1.2e-limit", "expression", 2, "sigma^2", symbols=MAP_SYMBOLS)


def mlp(qid: str, expected: str) -> Question:
    return Question(qid, "expression", 2, expected, symbols=MLP_SYMBOLS, index_superscripts=MLP_INDICES)


DB2 = mlp("3.4a", "y_hat - y")
DW2 = mlp("3.4b", "(y_hat - y) z1^h")
DB1 = mlp("3.4c", "(y_hat - y) W2^h z1^h (1 - z1^h)")
DW1 = mlp("3.4d", "(y_hat - y) W2^h z1^h (1 - z1^h) x_m")

# ---------------------------------------------------------------- finding answers


def test_an_answers_dict_is_read_as_literals(tmp_path: Path) -> None:
    files = notebook(
        tmp_path, markdown("# HW"), code('import numpy as np\nANSWERS = {"1.4": 1, "1.2c": "equal"}')
    )
    found = find_answers(files, ("1.4", "1.2c", "2.5"))
    assert set(found) == {"1.4", "1.2c"}
    assert found["1.4"].value == 1 and found["1.4"].is_literal
    assert found["1.4"].how == "answers_dict"
    assert (found["1.4"].file, found["1.4"].cell) == ("student.ipynb", 1)
    assert found["1.2c"].text == "equal"


def test_the_last_answers_dict_wins_and_later_subscripts_add_to_it(tmp_path: Path) -> None:
    files = notebook(
        tmp_path,
        code('ANSWERS = {"1.4": 2, "1.2c": "smaller"}'),
        code('%matplotlib inline\nANSWERS = {"1.4": 1}'),
        code('ANSWERS["1.2c"] = "equal"\nANSWERS["3.1"] = {"W1": (H, M)}'),
    )
    found = find_answers(files, ("1.4", "1.2c", "3.1"))
    assert found["1.4"].value == 1 and found["1.4"].cell == 1
    assert found["1.2c"].value == "equal" and found["1.2c"].cell == 2
    assert found["3.1"].value == {"W1": ("H", "M")}  # bare names are read as their strings


def test_an_answers_dict_in_a_cell_that_does_not_parse_is_still_found(tmp_path: Path) -> None:
    files = notebook(tmp_path, code('def broken(:\n    pass\nANSWERS = {\n    "1.4": 1,\n}\nprint(('))
    assert find_answers(files, ("1.4",))["1.4"].value == 1


def test_an_answers_dict_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    files = notebook(tmp_path, code(f"ANSWERS = {{'1.4': __import__('os').system('touch {marker}')}}"))
    found = find_answers(files, ("1.4",))["1.4"]
    assert not found.is_literal and found.value is None
    verdict = grade_answer(Question("1.4", "numeric", 2, 1.0), found)
    assert not verdict.passed and verdict.score == 0
    assert "__import__" in verdict.message
    assert not marker.exists()


def test_a_tagged_markdown_cell_is_an_answer(tmp_path: Path) -> None:
    files = notebook(
        tmp_path, markdown("Some words first"), markdown("It is $\\sigma^2$.", "answer:1.2e-limit")
    )
    found = find_answers(files, ("1.2e-limit",))["1.2e-limit"]
    assert found.how == "tag" and found.cell == 1
    assert found.math == "\\sigma^2"


@pytest.mark.parametrize(
    "source",
    [
        "## Answer 1.2b\n\n$$\\mu_{MAP} = \\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2}$$",
        "**Answer 1.2b:** $\\mu_{MAP} = \\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2}$",
        "**answer 1.2b** $\\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2}$",
        "### ANSWER 1.2b:\n\\begin{aligned} \\mu_{MAP} &= \\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2} \\end{aligned}",
    ],
)
def test_a_labelled_markdown_cell_is_an_answer(tmp_path: Path, source: str) -> None:
    files = notebook(tmp_path, markdown("# Problem 1"), markdown(source))
    found = find_answers(files, ("1.2b", "1.2"))
    assert set(found) == {"1.2b"}  # "Answer 1.2b" does not answer 1.2
    assert found["1.2b"].how == "label"
    assert found["1.2b"].math == "\\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2}"
    assert grade_answer(MAP, found["1.2b"]).passed


def test_a_cell_may_hold_several_labelled_answers(tmp_path: Path) -> None:
    files = notebook(tmp_path, markdown("**Answer 1.3b:** Yes.\n\n**Answer 1.3c:** No, it is smaller."))
    found = find_answers(files, ("1.3b", "1.3c"))
    assert found["1.3b"].text == "Yes."
    assert found["1.3c"].text == "No, it is smaller."


def test_a_label_must_start_the_cell(tmp_path: Path) -> None:
    files = notebook(tmp_path, markdown("The template says: write **Answer 1.4:** below."))
    assert find_answers(files, ("1.4",)) == {}


def test_the_dict_comes_before_a_tag_which_comes_before_a_label(tmp_path: Path) -> None:
    files = notebook(
        tmp_path,
        markdown("**Answer 1.4:** 2"),
        markdown("3", "answer:1.4"),
        markdown("**Answer 1.2c:** smaller"),
        markdown("equal", "answer:1.2c"),
        code('ANSWERS = {"1.4": 1}'),
    )
    found = find_answers(files, ("1.4", "1.2c"))
    assert found["1.4"].how == "answers_dict"
    assert found["1.2c"].how == "tag" and found["1.2c"].text == "equal"


# ---------------------------------------------------------------- reading the math


def test_the_last_box_is_the_answer() -> None:
    text = "First $\\boxed{x}$ then $$\\boxed{\\frac{a}{b} = \\frac{\\hat{y}}{\\{c\\}}}$$ and $z$."
    assert extract_math(text) == "\\frac{\\hat{y}}{\\{c\\}}"


def test_without_a_box_the_last_display_math_is_the_answer() -> None:
    text = "$$a = 1$$ so that $$\\lim_{n \\to \\infty} f = \\sigma^2.$$ where $n$ is the count"
    assert extract_math(text) == "\\sigma^2"


def test_without_display_math_the_last_inline_math_is_the_answer() -> None:
    assert extract_math("The variance of $x|D$ as $n$ grows is $\\sigma^2$.") == "\\sigma^2"
    assert extract_math("no math here") is None


def test_the_right_hand_side_of_an_equation_is_the_answer() -> None:
    assert right_hand_side("\\frac{\\partial L}{\\partial b_2} = \\hat{y} - y") == "\\hat{y} - y"
    assert right_hand_side("\\frac{a}{b} \\stackrel{\\text{def}}{=} c") == "c"
    assert right_hand_side("f_{x=1} \\leq 2") == "f_{x=1} \\leq 2"  # no top-level `=`


def test_an_aligned_environment_loses_its_alignment_marks() -> None:
    text = "$$\\begin{aligned} L &= -y \\log \\hat{y} \\\\ \\frac{\\partial L}{\\partial b_2} &= \\hat{y} - y. \\end{aligned}$$"
    assert extract_math(text) == "\\hat{y} - y"


# ---------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    "written",
    [
        "n*tau**2*xbar/(n*tau**2 + sigma**2)",
        "n tau^2 x_bar / (n tau^2 + sigma^2)",
        "\\frac{\\tau^2 n\\bar{x}}{\\tau^2 n + \\sigma^2}",
        "\\frac{\\bar{x}}{1 + \\frac{\\sigma^2}{\\tau^2 n}}",
        "\\dfrac{n \\tau^{2} \\overline{x}}{\\left( n\\tau^2 + \\sigma^2 \\right)}",
        "\\frac{n\\bar{x}/\\sigma^2}{1/\\tau^2 + n/\\sigma^2}",
        "\\bar x \\cdot \\frac{n \\tau^2}{n \\tau^2+\\sigma^2}",
        "nτ²x̄/(nτ² + σ²)",
    ],
)
def test_every_spelling_of_the_map_estimate_is_credited(written: str) -> None:
    verdict = grade_answer(MAP, answer(f"$\\mu_{{MAP}} = {written}$" if "\\" in written else written))
    assert verdict.passed, verdict.message
    assert verdict.score == 1.0 and verdict.diagnoses == ()


def test_swapping_sigma_and_tau_is_not_credited() -> None:
    verdict = grade_answer(MAP, answer("$\\frac{\\sigma^2 n\\bar{x}}{\\sigma^2 n + \\tau^2}$"))
    assert not verdict.passed and verdict.score == 0
    assert verdict.diagnoses == (Diagnosis.WRONG_ANSWER,)
    assert "\\frac{\\sigma^2 n\\bar{x}}{\\sigma^2 n + \\tau^2}" in verdict.message


def test_a_sign_error_is_named() -> None:
    verdict = grade_answer(DB2, answer("$y - \\hat{y}$"))
    assert not verdict.passed and "sign" in verdict.message


def test_the_limit_of_the_variance_is_credited() -> None:
    text = "The variance of $x|D$ as $n$ tends to infinity is $\\sigma^2$."
    assert grade_answer(LIMIT, answer(text)).passed
    assert not grade_answer(LIMIT, answer("$\\tau^2$")).passed


@pytest.mark.parametrize(
    ("question", "written"),
    [
        (DB2, "\\hat{y} - y"),
        (DB2, "\\left( \\hat y - y \\right)"),
        (DB2, "y_hat - y"),
        (DW2, "(\\hat{y} - y) z_1^h"),
        (DW2, "(\\hat{y} - y) z_{1}^{h}"),
        (DW2, "(y_hat - y) * z1^h"),
        (DW2, "z^h_1 (\\hat{y} - y)"),
        (DB1, "(\\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))"),
        (DB1, "(\\hat{y} - y) W_2^{h} z_1^h (1 - z_1^h)"),
        (DB1, "(\\hat{y} - y)\\, \\mathbf{W}_2^h \\, z_1^h \\left(1 - z_1^h\\right)"),
        (DW1, "(\\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))(x_m)"),
        (DW1, "x_m W_2^h (\\hat{y} - y) (z_1^h - (z_1^h)^2)"),
    ],
)
def test_every_spelling_of_the_backprop_answers_is_credited(question: Question, written: str) -> None:
    verdict = grade_answer(question, answer(f"$${written}$$"))
    assert verdict.passed, verdict.message


def test_a_wrong_backprop_answer_is_not_credited() -> None:
    assert not grade_answer(DB1, answer("$(\\hat{y} - y) W_2^h z_1^h$")).passed
    assert not grade_answer(DW1, answer("$(\\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))$")).passed


SEED_002_PROBLEM_3 = {
    "3.4a": (
        DB2,
        "$$\\begin{aligned} \\frac{\\partial L}{\\partial b_2} &= \\frac{\\partial L}{\\partial \\hat{y}} "
        "\\frac{\\partial \\hat{y}}{\\partial a_2} \\frac{\\partial a_2}{\\partial b_2} = \\frac{\\partial L}"
        "{\\partial \\hat{y}} \\frac{\\partial \\hat{y}}{\\partial a_2} \\\\ &= \\left( -\\frac{y}{\\hat{y}} + "
        "\\frac{1 - y}{1 - \\hat{y}} \\right) (\\hat{y}(1 - \\hat{y})) \\\\ &= -y \\frac{1}{\\hat{y}} \\hat{y}"
        "(1 - \\hat{y}) + (1 - y) \\frac{1}{1 - \\hat{y}} \\hat{y}(1 - \\hat{y}) \\\\ &= -y(1 - \\hat{y}) + "
        "(1 - y)\\hat{y} \\\\ &= -y + y\\hat{y} + \\hat{y} - y\\hat{y} \\\\ &\\quad \\boxed{\\frac{\\partial L}"
        "{\\partial b_2} = \\hat{y} - y} \\end{aligned}$$",
    ),
    "3.4b": (DW2, "$$\\boxed{\\frac{\\partial L}{\\partial W_2^h} = (\\hat{y} - y)(z_1^h)}$$"),
    "3.4c": (
        DB1,
        "$$\\boxed{\\frac{\\partial L}{\\partial b_1^h} = (\\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))}$$",
    ),
    "3.4d": (
        DW1,
        "$$\\boxed{\\frac{\\partial L}{\\partial W_1^{h,m}} = (\\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))(x_m)}$$",
    ),
}


def test_the_seed_002_boxed_backprop_answers_are_credited(tmp_path: Path) -> None:
    cells = [
        markdown(f"**Answer {qid}:** Using the chain rule, we have\n\n{latex}\n")
        for qid, (_, latex) in SEED_002_PROBLEM_3.items()
    ]
    found = find_answers(notebook(tmp_path, *cells), tuple(SEED_002_PROBLEM_3))
    for qid, (question, _) in SEED_002_PROBLEM_3.items():
        verdict = grade_answer(question, found[qid])
        assert verdict.passed, (qid, verdict.message)


def test_an_unparsable_answer_scores_zero_and_is_quoted() -> None:
    verdict = grade_answer(DB2, answer("$\\frac{\\hat{y} - y$"))
    assert not verdict.passed and verdict.score == 0
    assert verdict.diagnoses == (Diagnosis.WRONG_ANSWER,)
    assert "`\\frac{\\hat{y} - y`" in verdict.message and verdict.read == "\\frac{\\hat{y} - y"


def test_an_undeclared_symbol_is_named_in_the_message() -> None:
    verdict = grade_answer(DB2, answer("$\\hat{y} - t_i$"))
    assert not verdict.passed and "`t_i`" in verdict.message


@pytest.mark.parametrize(
    "hostile",
    [
        "__import__('os').system('touch {marker}')",
        "().__class__.__bases__[0].__subclasses__()",
        "exec(\"open('{marker}', 'w')\")",
        "lambda: open('{marker}', 'w')",
    ],
)
def test_a_hostile_python_answer_is_rejected_without_running(tmp_path: Path, hostile: str) -> None:
    marker = tmp_path / "pwned"
    text = hostile.format(marker=marker)
    found = FoundAnswer("3.4a", "answers_dict", "student.ipynb", 0, "", text, None, text, True)
    verdict = grade_answer(DB2, found)
    assert not verdict.passed and verdict.score == 0
    assert isinstance(parse_expression(text, MLP_SYMBOLS), Unreadable)
    assert not marker.exists()


def test_a_huge_power_is_refused_quickly() -> None:
    start = time.monotonic()
    verdict = grade_answer(LIMIT, answer("$10^{10^{10^{10}}}$"))
    assert not verdict.passed and time.monotonic() - start < 2


def test_index_superscripts_are_part_of_the_symbol_not_a_power() -> None:
    parsed = parse_expression("z_1^h", MLP_SYMBOLS, MLP_INDICES)
    assert isinstance(parsed, Parsed) and parsed.symbols == {"z1h"}
    undeclared = parse_expression("a_1^h", MLP_SYMBOLS, MLP_INDICES)
    assert isinstance(undeclared, Unreadable) and "`a_1^h`" in undeclared.reason
    power = parse_expression("\\sigma^2", MAP_SYMBOLS, MLP_INDICES)
    assert isinstance(power, Parsed) and str(power.expr) == "sigma**2"


def test_an_expected_answer_that_cannot_be_read_is_reported_for_the_instructor() -> None:
    broken = Question("x", "expression", 1, "y_hat - (", symbols=MLP_SYMBOLS)
    assert validate_question(broken)
    assert validate_question(DW1) == ()


# ---------------------------------------------------------------- choice

GREATER = Question(
    "1.2e",
    "choice",
    1,
    "greater",
    accepted=("greater", "larger", "bigger"),
    options=("greater", "larger", "bigger", "smaller", "less", "equal"),
)


@pytest.mark.parametrize(
    "text",
    [
        "greater",
        "Greater.",
        "**greater**",
        "It is greater",
        "It is larger!",
        "The variance of $x|D$ is greater than the variance of $x|\\mu_{MLE}$.",
    ],
)
def test_a_choice_is_read_from_folded_text(text: str) -> None:
    verdict = grade_answer(GREATER, answer(text))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("text", ["smaller", "It is not greater", "greater or smaller", "it depends"])
def test_a_wrong_negated_or_ambiguous_choice_fails(text: str) -> None:
    verdict = grade_answer(GREATER, answer(text))
    assert not verdict.passed and verdict.diagnoses == (Diagnosis.WRONG_ANSWER,)


def test_a_yes_no_choice_accepts_a_python_bool(tmp_path: Path) -> None:
    files = notebook(tmp_path, code('ANSWERS = {"1.3b": True, "1.3c": "No."}'))
    found = find_answers(files, ("1.3b", "1.3c"))
    assert grade_answer(Question("1.3b", "choice", 1, "yes", options=("yes", "no")), found["1.3b"]).passed
    assert grade_answer(Question("1.3c", "choice", 1, "no", options=("yes", "no")), found["1.3c"]).passed


def test_the_seed_002_choice_answers(tmp_path: Path) -> None:
    files = notebook(
        tmp_path,
        markdown("**Answer 1.2c:** $\\mu_{MAP}$ is equal to the mean of $x|D$"),
        markdown("**Answer 2.5:** $\\mathbf{w}_{MAP}$ would have a lower expected MSE, given that [TODO]"),
    )
    found = find_answers(files, ("1.2c", "2.5"))
    equal = Question("1.2c", "choice", 1, "equal", options=("equal", "greater", "smaller"))
    w_mean = Question(
        "2.5", "choice", 2, "w_mean", accepted=("w_mean", "w mean", "mean"), options=("w_map", "map")
    )
    assert grade_answer(equal, found["1.2c"]).passed
    assert not grade_answer(w_mean, found["2.5"]).passed


# ---------------------------------------------------------------- numeric

LIMIT_RATIO = Question("1.4", "numeric", 2, 1.0, tolerance=1e-6)


@pytest.mark.parametrize(
    "text",
    ["1", "1.0", "$1$", "$\\boxed{1}$", "1.0000001", "The limit is 1.", "$\\frac{2}{2}$", "$$\\lim = 1$$"],
)
def test_a_number_is_read_within_tolerance(text: str) -> None:
    verdict = grade_answer(LIMIT_RATIO, answer(text))
    assert verdict.passed, verdict.message


def test_a_number_outside_tolerance_fails() -> None:
    assert not grade_answer(LIMIT_RATIO, answer("0.99")).passed
    assert grade_answer(Question("1.4", "numeric", 2, 1.0, tolerance=0.05), answer("0.99")).passed
    assert not grade_answer(LIMIT_RATIO, answer("2")).passed


def test_the_seed_002_limit_is_credited() -> None:
    text = (
        "We have  $\\mu_{MAP} = \\frac{\\tau^2 n \\bar{x}}{\\tau^2 n + \\sigma^2} = "
        "\\frac{\\bar{x}}{1 + \\frac{\\sigma^2}{\\tau^2 n}}$ .\n\n$$\\lim_{n \\rightarrow \\infty} "
        "\\frac{\\mu_{MAP}}{\\mu_{MLE}} = \\lim_{n \\rightarrow \\infty} \\frac{\\frac{\\bar{x}}{1 + "
        "\\frac{\\sigma^2}{\\tau^2 n}}}{\\bar{x}} = \\lim_{n \\rightarrow \\infty} \\frac{1}{1 + "
        "\\frac{\\sigma^2}{\\tau^2 n}} = 1$$"
    )
    assert grade_answer(LIMIT_RATIO, answer(text)).passed


def test_two_numbers_are_read_from_the_seed_002_sentence() -> None:
    both_zero = Question("1.3a", "numeric", 1, (0.0, 0.0))
    text = "If  $n\\bar{x} = 0$ , then  $\\mu_{MLE} = 0$  and  $\\mu_{MAP} = 0$ ."
    assert grade_answer(both_zero, answer(text)).passed
    half = grade_answer(both_zero, answer("$\\mu_{MLE} = 0$ and $\\mu_{MAP} = 1$"))
    assert not half.passed and half.score == 0.5


def test_an_answers_dict_number_is_read_directly(tmp_path: Path) -> None:
    found = find_answers(notebook(tmp_path, code('ANSWERS = {"1.4": 1.0}')), ("1.4",))
    assert grade_answer(LIMIT_RATIO, found["1.4"]).passed


# ---------------------------------------------------------------- shapes

SHAPES = Question(
    "3.1",
    "shape",
    3,
    {
        "W1": ("H", "M"),
        "b1": ("H",),
        "W2": (1, "H"),
        "b2": (1,),
        "a1": ("H",),
        "z1": ("H",),
        "a2": (1,),
        "y_hat": (1,),
    },
)


def test_symbolic_shapes_are_all_right(tmp_path: Path) -> None:
    source = (
        'ANSWERS["3.1"] = {"W1": (H, M), "b1": (H,), "W2": (1, H), "b2": (1,), "a1": "H", "z1": ["H"],'
        ' "a2": 1, "yhat": (1,)}'
    )
    found = find_answers(notebook(tmp_path, code(source)), ("3.1",))
    verdict = grade_answer(SHAPES, found["3.1"])
    assert verdict.passed, verdict.message


def test_shapes_from_a_worked_example_are_right_when_one_h_and_m_explain_them() -> None:
    value = {
        "W1": (4, 3),
        "b1": (4,),
        "W2": (1, 4),
        "b2": (1,),
        "a1": (4,),
        "z1": (4,),
        "a2": (1,),
        "y_hat": (1,),
    }
    found = FoundAnswer("3.1", "answers_dict", "s.ipynb", 0, "", str(value), None, value, True)
    assert grade_answer(SHAPES, found).passed


def test_shapes_earn_partial_credit_per_entry() -> None:
    value = {
        "W1": ("M", "H"),
        "b1": ("H",),
        "W2": (1, "H"),
        "b2": (1,),
        "a1": ("H",),
        "z1": ("H",),
        "a2": (1,),
    }
    found = FoundAnswer("3.1", "answers_dict", "s.ipynb", 0, "", str(value), None, value, True)
    verdict = grade_answer(SHAPES, found)
    assert not verdict.passed and verdict.score == pytest.approx(6 / 8)
    assert "`W1`" in verdict.message and "`y_hat`" in verdict.message


def test_shapes_with_h_equal_to_m_cannot_be_told_apart() -> None:
    value = {
        "W1": (3, 3),
        "b1": (3,),
        "W2": (1, 3),
        "b2": (1,),
        "a1": (3,),
        "z1": (3,),
        "a2": (1,),
        "y_hat": (1,),
    }
    found = FoundAnswer("3.1", "answers_dict", "s.ipynb", 0, "", str(value), None, value, True)
    verdict = grade_answer(SHAPES, found)
    assert verdict.score == pytest.approx(3 / 8) and "same number" in verdict.message


def test_a_shape_answer_that_is_not_a_dict_scores_zero() -> None:
    verdict = grade_answer(SHAPES, answer("The dimension of $\\mathbf{a}_1$ is $H$."))
    assert verdict.score == 0 and verdict.diagnoses == (Diagnosis.WRONG_ANSWER,)


# ---------------------------------------------------------------- manual and missing


def test_a_manual_question_is_never_auto_graded() -> None:
    question = Question("2.2-why", "manual", 2)
    verdict = grade_answer(question, answer("Because the Laplace prior is sparse."))
    assert (verdict.passed, verdict.score, verdict.manual) == (False, 0.0, True)
    assert verdict.message == "graded by hand" and verdict.read == "Because the Laplace prior is sparse."


@pytest.mark.parametrize("text", ["", "TODO", "*Your answer here*", "$$ $$", "$\\boxed{}$"])
def test_an_empty_or_placeholder_answer_is_not_implemented(text: str) -> None:
    verdict = grade_answer(MAP, answer(text))
    assert verdict.score == 0 and verdict.diagnoses == (Diagnosis.NOT_IMPLEMENTED,)


def test_a_missing_answer_is_not_implemented(tmp_path: Path) -> None:
    files = notebook(tmp_path, code('ANSWERS = {"1.4": None}'))
    found = find_answers(files, ("1.4", "1.2b"))
    assert grade_answer(LIMIT_RATIO, found["1.4"]).diagnoses == (Diagnosis.NOT_IMPLEMENTED,)
    missing = grade_answer(MAP, found.get("1.2b"))
    assert missing.diagnoses == (Diagnosis.NOT_IMPLEMENTED,) and "Answer 1.2b" in missing.message


def test_the_advice_for_an_unanswered_question_speaks_of_the_answer() -> None:
    """The advice shown beside `not_implemented` fits a written answer (empty or the template's placeholder) as
    well as code; the reference's filled-in answer gets no such diagnosis, so no such advice."""
    from grader.report.hints import hint

    verdict = grade_answer(MAP, answer("*Your answer here*"))
    advice = hint(verdict.diagnoses[0])
    assert "the answer is missing or still the template's placeholder" in advice
    assert "NotImplementedError" in advice  # the same code serves functions left unwritten
    assert grade_answer(MAP, answer("$\\frac{\\bar{x}}{1 + \\frac{\\sigma^2}{\\tau^2 n}}$")).diagnoses == ()


def test_grading_is_deterministic() -> None:
    text = "$\\frac{\\bar{x}}{1 + \\frac{\\sigma^2}{\\tau^2 n}}$"
    assert grade_answer(MAP, answer(text)) == grade_answer(MAP, answer(text))


# ---------------------------------------------------------------- sympy only when a question reads math

SYMPY_PROBE = """
import sys
from pathlib import Path
from grader.catalog import find_assignment
from grader.executors import Job, LocalExecutor
import grader.batch, grader.cli
assignment = find_assignment(sys.argv[1])
executor = LocalExecutor(assignment)
executor.start(Path(sys.argv[3]))
loaded = "sympy" in sys.modules
[result] = executor.run([Job("ada", Path(sys.argv[2]))])
executor.close()
print(loaded, "sympy" in sys.modules, result.score)
"""


def _sympy_probe(tmp_path: Path, assignment: Path) -> tuple[str, str, str]:
    handin = tmp_path / "ada.py"
    handin.write_text(GOOD)
    run = subprocess.run([sys.executable, "-c", SYMPY_PROBE, str(assignment), str(handin), str(tmp_path / "cache")],
                         capture_output=True, text=True, timeout=300, check=True)
    loaded, after, score = run.stdout.split()
    return loaded, after, score


def test_sympy_is_not_imported_by_an_assignment_without_math_questions(tmp_path: Path) -> None:
    folder = demo_copy(tmp_path)
    toml = folder / "assignment.toml"
    text = toml.read_text()
    toml.write_text(text[:text.index("[[questions]]")].replace("total_points = 32", "total_points = 30"))
    assert _sympy_probe(tmp_path, folder) == ("False", "False", "30.0")


def test_sympy_is_imported_before_grading_when_a_question_reads_math(tmp_path: Path) -> None:
    """Imported with the context, so that the grading processes forked from it inherit it."""
    assert _sympy_probe(tmp_path, demo_copy(tmp_path)) == ("True", "True", "32.0")
