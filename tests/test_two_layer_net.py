"""The two_layer_net assignment through the real `grade` command: the example class, editions, data, self-check.

The example class (examples/two_layer_net_submissions/, written by
tools/make_two_layer_net_material.py) holds one hand-in per case of the handout's "Cases the
tests must get right", the reference and the untouched template. Each student's per-task
points and diagnoses are pinned below, so that a change of any verdict shows.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli

from grader.assign import public_material, template_path
from grader.assignment import load_assignment
from grader.errors import ConfigError
from grader.model import Diagnosis
from grader.selfcheck import run_check

ASSIGNMENT = "two_layer_net"
FOLDER = REPO / "assignments" / ASSIGNMENT
REFERENCE = REPO / "reference" / ASSIGNMENT
EXAMPLES = REPO / "examples" / "two_layer_net_submissions"
POINTS = {"1": 15, "2": 15, "3": 25, "4": 20, "5": 10, "6a": 6, "6b": 4}
CODE_TASKS = ("1", "2", "3", "4", "5")
ALL_CODE = {task: (0, {"not_implemented"}) for task in CODE_TASKS}
NO_ANSWERS = {"6a": (0, {"not_implemented"}), "6b": (0, {"not_implemented"})}

# student -> {task: (points, diagnoses of its failed tests)}; a task not listed has full points and no failure.
EXPECTED: dict[str, dict[str, tuple[float, set[str]]]] = {
    "reference": {},
    "single_file": {},  # one .py with an ANSWERS dict and a __main__ driver
    "notebook": {},  # the class in a cell; driver, plots, %matplotlib and the starter's helpers not run
    # neural_net.py; xrange from past.builtins; tqdm; unused torch and gradient_check imports;
    # Delta built by a loop; softmax over axis 0 with transposes; ReLU in place on the aliased z2
    "other_edition": {},
    "float32": {},  # loss, gradients and parameters in float32
    "renamed": {"6a": (0, {"wrong_answer"}), "6b": (0, {"wrong_answer"})},  # Two_LayerNet.py
    "template": {**ALL_CODE, "6a": (0, {"not_implemented"}), "6b": (0, {"not_implemented"})},
    "python2": {task: (0, {"syntax_error"}) for task in CODE_TASKS} | NO_ANSWERS,
    "hardcoded_reg": {"2": (6, {"scaled"}), "3": (15, {"scaled"})},
    "reg_w_gradient": {"3": (0, {"scaled"})},
    "half_reg": {"2": (0, {"scaled"}), "3": (15, {"scaled"})},
    "regularized_biases": {"2": (6, set()), "3": (15, set())},
    "no_replacement": {"4": (6, {"exception"})},
    "no_backward": {"3": (0, {"not_implemented"}), "4": (0, {"not_implemented"})},
    "lowercase_keywords": {"2": (0, {"exception"}), "3": (0, {"exception"})},
    "first_rows": {"4": (0, {"below_threshold"})},
    "batch_from_iters": {"4": (6, set())},
    "int_cast": {"4": (0, {"below_threshold"})},
    "bias_row_gradients": {"3": (0, {"wrong_shape"})},
    "float_predict": {"5": (0, {"wrong_shape"})},
    "scalar_predict": {"5": (0, {"wrong_shape"})},
    "toy_shapes": {"2": (6, {"wrong_shape", "exception"}), "3": (9, {"wrong_shape", "exception"})},
    "unstable_softmax": {"2": (15, {"numerically_unstable"})},  # advice only: no points taken
    "uses_torch": {"1": (0, {"forbidden_api"})},
    "copy_a": NO_ANSWERS,
    "copy_b": NO_ANSWERS,
}

# (student, task, words its failure message must hold)
MESSAGES = [
    ("hardcoded_reg", "2", "Is reg hard-coded?"),
    ("hardcoded_reg", "3", "Is reg hard-coded?"),
    ("reg_w_gradient", "3", "its regularization part is reg * W1"),
    ("reg_w_gradient", "3", "missing factor 2"),
    ("half_reg", "2", "0.5 * reg * (sum W1^2 + sum W2^2)"),
    ("half_reg", "3", "its regularization part is reg * W1"),
    ("regularized_biases", "2", "regularizes the biases too"),
    ("regularized_biases", "3", "the biases are not regularized"),
    ("no_replacement", "4", "Cannot take a larger sample than population"),
    ("no_replacement", "4", "must be drawn with replacement"),
    ("no_replacement", "4", "no minibatch ever holds a sample twice"),
    ("no_backward", "4", "loss returns no gradients"),
    ("lowercase_keywords", "2", "unexpected keyword argument 'y'"),
    ("lowercase_keywords", "2", "uses the keyword(s) y=, reg="),
    ("first_rows", "4", "minibatches of 5 rows where batch_size=200"),
    ("first_rows", "4", "every minibatch holds the same rows"),
    ("batch_from_iters", "4", "minibatches of 100 rows where batch_size=200"),
    ("int_cast", "4", "not rows of X (the minibatches had dtype int64"),
    ("bias_row_gradients", "3", "grads['b1'] has shape (1, 10), but b1 has shape (10,)"),
    ("float_predict", "5", "returned labels of dtype float64"),
    ("scalar_predict", "5", "returned a single value"),
    ("toy_shapes", "3", "Are shapes hard-coded to the toy"),
    ("python2", "1", "this is Python 2 code"),
    ("uses_torch", "1", "torch.relu"),
]


def grade(submissions: Path, out: Path, assignment: str | Path = ASSIGNMENT) -> dict[str, dict]:
    done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-j", "2", "-q")
    assert done.returncode == 0, done.stderr + done.stdout
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/result.json")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict[str, dict], Path]:
    out = tmp_path_factory.mktemp("two_layer_net") / "out"
    return grade(EXAMPLES, out), out


def verdicts(result: dict) -> dict[str, tuple[float, set[str]]]:
    """Per task: points, and the diagnoses of its failed tests (0-point advice included)."""
    found = {}
    for task in result["tasks"]:
        diagnoses = {d for test in task["tests"] if not test["passed"] for d in test["diagnoses"]}
        failed = any(not test["passed"] for test in task["tests"])
        if task["score"] != POINTS[task["id"]] or failed:
            found[task["id"]] = (task["score"], diagnoses)
    return found


def test_the_class_is_the_handouts_cases():
    """At least eight students beside the reference and the template, one folder or file each."""
    assert len([p for p in EXAMPLES.iterdir() if p.name not in ("reference", "template")]) >= 8
    assert {p.stem for p in EXAMPLES.iterdir()} == set(EXPECTED)


def test_example_material_is_up_to_date():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_two_layer_net_material.py"), "--check"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_per_task(graded, student):
    if student == "uses_torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("uses_torch's other tasks run its torch code: torch is needed where it is graded")
    results, _ = graded
    result = results[student]
    assert result["status"] == "graded"
    assert result["max_score"] == sum(POINTS.values()) == 95
    assert [t["id"] for t in result["tasks"]] == list(POINTS)
    assert verdicts(result) == EXPECTED[student], json.dumps(
        [[t["id"], [[x["name"], x["passed"], x["diagnoses"], x["message"][:200]] for x in t["tests"]]]
         for t in result["tasks"]], indent=1)


@pytest.mark.parametrize(("student", "task", "words"), MESSAGES)
def test_the_failure_says_what_is_wrong(graded, student, task, words):
    results, _ = graded
    messages = [t["message"] for k in results[student]["tasks"] if k["id"] == task for t in k["tests"]
                if not t["passed"]]
    assert any(words in m for m in messages), messages


def test_reference_scores_full_marks_and_template_zero(graded):
    results, _ = graded
    reference, template = results["reference"], results["template"]
    assert reference["score"] == reference["max_score"] == 95
    assert all(t["passed"] for task in reference["tasks"] for t in task["tests"])
    assert template["score"] == 0
    code = [t for task in template["tasks"] if task["id"] in CODE_TASKS for t in task["tests"]]
    assert code and all(not t["passed"] and "not_implemented" in t["diagnoses"] for t in code)


def test_the_feedback_of_a_reg_w_student_names_the_missing_factor(graded):
    _, out = graded
    html = (out / "reg_w_gradient" / "feedback.html").read_text(encoding="utf-8")
    assert "reg * W1" in html and "missing factor 2" in html


def test_byte_identical_hand_ins_are_flagged(graded):
    _, out = graded
    clusters = json.loads((out / "similarity.json").read_text())["clusters"]
    pairs = [c for c in clusters if c["kind"] == "identical" and sorted(c["students"]) == ["copy_a", "copy_b"]]
    assert {c["task"] for c in pairs} == set(CODE_TASKS)


def test_gradebook_lists_every_task(graded):
    _, out = graded
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["student", "score", "max_score"] and header[3:10] == list(POINTS)


# ---------------------------------------------------------------- the edition setting


def test_the_scores_edition_is_one_toml_line(tmp_path):
    """y_none_returns = "scores": the reference follows it; a hand-in returning probabilities loses task 1 only."""
    assignments = tmp_path / "assignments"
    shutil.copytree(FOLDER, assignments / ASSIGNMENT)
    toml = assignments / ASSIGNMENT / "assignment.toml"
    text = toml.read_text()
    assert text.count('y_none_returns = "probabilities"') == 1
    toml.write_text(text.replace('y_none_returns = "probabilities"', 'y_none_returns = "scores"')
                    .replace('total_points = 95', f'total_points = 95\nreference = "{REFERENCE}"'))
    source = (REFERENCE / "two_layernet.py").read_text()
    fixed = 'return z3 if globals().get("Y_NONE_RETURNS") == "scores" else probabilities'
    assert source.count(fixed) == 1
    students = tmp_path / "students"
    (students / "follows").mkdir(parents=True)
    (students / "follows" / "two_layernet.py").write_text(source)
    (students / "probabilities").mkdir()
    (students / "probabilities" / "two_layernet.py").write_text(source.replace(fixed, "return probabilities"))
    results = grade(students, tmp_path / "out", assignments / ASSIGNMENT)
    code = {k: v for k, v in verdicts(results["follows"]).items() if k in CODE_TASKS}
    assert code == {}
    wrong = verdicts(results["probabilities"])
    assert {k: v[0] for k, v in wrong.items() if k in CODE_TASKS} == {"1": 0}
    messages = [t["message"] for task in results["probabilities"]["tasks"] if task["id"] == "1"
                for t in task["tests"]]
    assert all("this edition's loss(X) returns the raw scores z3" in m for m in messages), messages


# ---------------------------------------------------------------- data


def data_module():
    return runpy.run_path(str(FOLDER / "data.py"))


def test_offline_digits_by_default():
    data = data_module()["load"]({})
    train = data["train"]
    assert train["X_train"].shape[1] == 784 and len(train["X_train"]) + len(train["X_val"]) == 1797
    assert abs(float(train["X_train"].mean())) < 1e-9  # the training mean is subtracted
    assert data["edition"] == {"y_none_returns": "probabilities"}


def test_cifar10_batches_when_the_instructor_points_at_them(tmp_path):
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, size=(30, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, size=30).tolist()}
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    train = data_module()["load"]({"cifar10_path": str(tmp_path), "cifar10_train": 70, "cifar10_val": 20})["train"]
    assert train["X_train"].shape == (70, 3072) and train["X_val"].shape == (20, 3072)
    assert train["y_train"].dtype == np.int64 and float(train["X_train"].max()) <= 1.0
    with pytest.raises(ConfigError, match="data_batch_1"):
        data_module()["load"]({"cifar10_path": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="y_none_returns"):
        data_module()["load"]({"y_none_returns": "logits"})


# ---------------------------------------------------------------- grader check


@pytest.fixture(scope="module")
def student_machine(tmp_path_factory):
    root = tmp_path_factory.mktemp("student_machine") / "assignments"
    public_material(load_assignment(FOLDER), root)
    assignment = load_assignment(root / ASSIGNMENT)
    assert assignment.reference is None and not assignment.hidden_tests.exists()
    return assignment


def test_check_on_the_untouched_template_fails_every_public_test_as_not_implemented(student_machine, tmp_path):
    template = template_path(load_assignment(FOLDER))
    shutil.copytree(template, tmp_path / "handin")
    report = run_check(tmp_path / "handin", assignment=student_machine)
    lines = [(line.name, line.passed, line.diagnoses, line.message[:300]) for line in report.lines]
    assert report.expected_from == "store" and report.lines and report.passed == 0, lines
    assert [line.name for line in report.lines if Diagnosis.NOT_IMPLEMENTED not in line.diagnoses] == [], lines


def test_check_on_the_reference_passes_every_public_test_without_it(student_machine):
    report = run_check(REFERENCE, assignment=student_machine)
    assert report.expected_from == "store"
    assert [(line.name, line.message[:300]) for line in report.lines if not line.passed] == []


# ---------------------------------------------------------------- written answers 6a and 6b


@pytest.mark.parametrize(("qid", "answer", "right"), [
    ("6a", r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)", True),
    ("6a", r"\frac{\psi(z^{(3)}) - \Delta}{N}", True),
    ("6a", r"(\psi(z^{(3)}) - \Delta)/N", True),
    ("6a", r"\frac{1}{N}\psi(z^{(3)}) - \frac{1}{N}\Delta", True),
    ("6a", r"\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}\left(\psi(z^{(3)}) - \Delta\right)", True),
    ("6a", "(psi(z3) - Delta) / N", True),
    ("6a", r"\psi(z^{(3)}) - \Delta", False),  # the mean's 1/N missing
    ("6a", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))", False),
    ("6b", r"2 \lambda W^{(1)}", True),
    ("6b", "2 * reg * W1", True),
    ("6b", r"2\lambda W_1", True),
    ("6b", r"\lambda W^{(1)}", False),
])
def test_written_answers_accept_equivalent_forms(tmp_path, qid, answer, right):
    from grader.submission import load
    from grader.written import grade_written, questions_of

    questions = tuple(q for q in questions_of(load_assignment(FOLDER)) if q[0].id == qid)
    (tmp_path / "hw.py").write_text(f"ANSWERS = {{{qid!r}: {answer!r}}}\n")
    (outcome,) = grade_written(questions, load("s", tmp_path / "hw.py").files)
    assert outcome.passed is right, outcome.message


# ---------------------------------------------------------------- [sandbox] provide


def test_provided_modules_are_files_of_the_assignment_folder(tmp_path):
    """The stand-ins for `past.builtins` and `tqdm` come from the TOML; a path outside the folder is refused."""
    assignment = load_assignment(FOLDER)
    assert list(assignment.provide) == ["past", "past.builtins", "tqdm"]
    assert "xrange = _builtins.range" in assignment.provide["past.builtins"]
    shutil.copytree(FOLDER, tmp_path / ASSIGNMENT)
    toml = tmp_path / ASSIGNMENT / "assignment.toml"
    toml.write_text(toml.read_text().replace('"tqdm" = "shims/tqdm.py"', '"tqdm" = "../tqdm.py"'))
    (tmp_path / "tqdm.py").write_text("")
    with pytest.raises(ConfigError, match=r"sandbox\.provide\.tqdm = '\.\./tqdm\.py'"):
        load_assignment(tmp_path / ASSIGNMENT)
