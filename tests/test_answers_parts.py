"""Multi-part questions answered under the question's own id (bayes_mlp 3.4: dL/db2, dL/dW2^h, dL/db1^h,
dL/dW1^{h,m}): a tuple in the handout's order, a dict keyed by the parts' names, or one markdown cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbbuild import code, md, notebook, write

from grader.assignment import QuestionSpec, load_assignment
from grader.errors import ConfigError
from grader.submission import load
from grader.written import grade_written, question_from_spec, questions_of

REPO = Path(__file__).resolve().parents[1]
BAYES = questions_of(load_assignment(REPO / "assignments" / "bayes_mlp"))
PARTS = ("3.4a", "3.4b", "3.4c", "3.4d")

# the four right answers, LaTeX as a notebook's markdown has them, Python-like as an ANSWERS string has them
LATEX = (
    r"\hat{y} - y",
    r"(\hat{y} - y) z_1^h",
    r"(\hat{y} - y) W_2^h z_1^h (1 - z_1^h)",
    r"(\hat{y} - y) W_2^h z_1^h (1 - z_1^h) x_m",
)
PLAIN = ("yhat - y", "(yhat - y)*z1_h", "(yhat - y)*W2_h*z1_h*(1 - z1_h)", "(yhat - y)*W2_h*z1_h*(1 - z1_h)*x_m")


def verdicts(tmp_path: Path, *cells) -> dict[str, tuple[bool, str | None, str]]:
    """Question id -> (passed, verdict, message) for the parts of 3.4."""
    path = write(tmp_path / "student.ipynb", notebook(*cells))
    outcomes = grade_written(BAYES, load("student", path).files)
    return {
        o.name.split()[-1]: (o.passed, getattr(o, "verdict", None), o.message) for o in outcomes if o.name.split()[-1] in PARTS
    }


def all_passed(result: dict[str, tuple[bool, str | None, str]]) -> bool:
    return set(result) == set(PARTS) and all(passed for passed, _, _ in result.values())


def test_a_tuple_of_the_parts_in_the_handouts_order(tmp_path: Path) -> None:
    answers = ", ".join(f'"{p}"' for p in PLAIN)
    result = verdicts(tmp_path, code(f'ANSWERS = {{"3.4": ({answers})}}'))
    assert all_passed(result), result


def test_a_tuple_with_one_part_wrong_loses_only_that_part(tmp_path: Path) -> None:
    wrong = ("y - yhat", *PLAIN[1:])  # the sign of dL/db2
    answers = ", ".join(f'"{p}"' for p in wrong)
    result = verdicts(tmp_path, code(f'ANSWERS = {{"3.4": [{answers}]}}'))
    assert result["3.4a"][0] is False and "sign" in result["3.4a"][2]
    assert all(result[q][0] for q in PARTS[1:])


def test_a_dict_keyed_by_the_parameter_names_in_any_order(tmp_path: Path) -> None:
    keyed = {"dW1": PLAIN[3], "db1": PLAIN[2], "dW2": PLAIN[1], "db2": PLAIN[0]}
    body = ", ".join(f'"{k}": "{v}"' for k, v in keyed.items())
    result = verdicts(tmp_path, code(f'ANSWERS = {{"3.4": {{{body}}}}}'))
    assert all_passed(result), result


def test_a_dict_keyed_by_the_derivatives_names(tmp_path: Path) -> None:
    keys = ("dL/db2", "dL_dW2", "dL/db1", "dL/dW1")
    body = ", ".join(f'"{k}": r"${v}$"' for k, v in zip(keys, LATEX, strict=True))
    result = verdicts(tmp_path, code(f'ANSWERS["3.4"] = {{{body}}}'))
    assert all_passed(result), result


def test_a_dict_with_a_wrong_part_under_its_name(tmp_path: Path) -> None:
    keyed = {"db2": PLAIN[0], "dW2": PLAIN[1], "db1": PLAIN[2], "dW1": PLAIN[2]}  # x_m forgotten in dW1
    body = ", ".join(f'"{k}": "{v}"' for k, v in keyed.items())
    result = verdicts(tmp_path, code(f'ANSWERS = {{"3.4": {{{body}}}}}'))
    assert [result[q][0] for q in PARTS] == [True, True, True, False]
    assert result["3.4d"][1] is None  # a contract form: wrong is wrong, not held


def test_a_markdown_cell_with_one_display_equation_per_part(tmp_path: Path) -> None:
    names = ("b_2", "W_2^h", "b_1^h", "W_1^{h,m}")
    body = "\n\n".join(
        f"$$\\frac{{\\partial L}}{{\\partial {n}}} = {m}$$" for n, m in zip(names, LATEX, strict=True)
    )
    result = verdicts(tmp_path, md(f"**Answer 3.4**\n\n{body}"))
    assert all_passed(result), result


def test_a_markdown_cell_answering_the_parts_as_a_b_c_d(tmp_path: Path) -> None:
    body = "\n".join(
        f"({letter}) Using the chain rule, $\\frac{{\\partial L}}{{\\partial a_2}} = \\hat{{y}} - y$, so "
        f"$$\\frac{{\\partial L}}{{\\partial \\theta}} = {m}$$"
        for letter, m in zip("abcd", LATEX, strict=True)
    )
    result = verdicts(tmp_path, md(f"## Answer 3.4\n\n{body}"))
    assert all_passed(result), result


def test_an_answer_under_the_parts_own_id_wins_over_the_whole(tmp_path: Path) -> None:
    answers = ", ".join(f'"{p}"' for p in PLAIN)
    result = verdicts(
        tmp_path,
        code(f'ANSWERS = {{"3.4": ({answers})}}'),
        md("**Answer 3.4a**\n\n$y - \\hat{y}$"),  # wrong, and it is the one the contract names
    )
    assert result["3.4a"][0] is False
    assert all(result[q][0] for q in PARTS[1:])


def test_fewer_equations_than_parts_are_held_when_they_do_not_fit(tmp_path: Path) -> None:
    body = f"$${LATEX[1]}$$\n\n$${LATEX[2]}$$"  # two equations for four parts: which are they?
    result = verdicts(tmp_path, md(f"**Answer 3.4**\n\n{body}"))
    assert result["3.4a"][1] == "needs_review"
    assert "2 equations for 4 parts" in result["3.4a"][2]
    assert result["3.4b"][1] == "needs_review"
    assert result["3.4c"][:2] == (False, None)  # no third equation: not answered


def test_part_of_must_name_a_whole_not_another_question() -> None:
    spec = QuestionSpec("x1", "1.2e", "expression", 1.0, {"expected": "sigma", "part_of": "1.2e"})
    other = QuestionSpec("1.2e", "1.2e", "choice", 1.0, {"expected": "greater"})
    with pytest.raises(ConfigError, match="part_of"):
        question_from_spec(spec, "assignment.toml", (other, spec))


def test_the_parts_take_their_order_from_the_toml() -> None:
    questions = {spec.id: q for spec, q in BAYES}
    assert [questions[q].part for q in PARTS] == [0, 1, 2, 3]
    assert {questions[q].part_count for q in PARTS} == {4}
    assert questions["3.4b"].part_of == "3.4"
    assert questions["1.2b"].part_of == ""
