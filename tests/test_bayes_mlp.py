"""The bayes_mlp assignment through the real `grade` command: reference, template, seed 002's hand-in, mistakes.

The seed notebook is built from the student work in shared/seeds/002_1999c2dbf9ad4083.txt:
its final LaTeX for problems 1 and 3 verbatim, its unfinished 2.5, its problem 4 code.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from conftest import REPO, run_cli
from nbbuild import code, md, notebook, write

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ASSIGNMENT = "bayes_mlp"
REFERENCE = REPO / "reference" / f"{ASSIGNMENT}.ipynb"
TEMPLATE = REPO / "student_template" / f"{ASSIGNMENT}.ipynb"
TASKS = ("1.1", "1.2a", "1.2b", "1.2c", "1.2d", "1.2e", "1.3a", "1.3b", "1.3c", "1.4", "2.1", "2.2", "2.3",
         "2.4", "2.5", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4")

SEED_ANSWERS = {
    "1.2b": r"$$\Rightarrow \mu_{MAP} = \frac{\tau^2 n\bar{x}}{\tau^2 n + \sigma^2}$$",
    "1.2c": r"$\mu_{MAP}$  is equal to the mean of  $x|D$",
    "1.2e": r"The variance of  $x|D$  is greater than the variance of  $x|\mu_{MLE}$ .",
    "1.2e-limit": r"The variance of  $x|D$  as  $n$  tends to infinity is  $\sigma^2$ .",
    "1.3a": r"If  $n\bar{x} = 0$ , then  $\mu_{MLE} = 0$  and  $\mu_{MAP} = 0$ .",
    "1.3b": r"If  $n\bar{x} > 0$ , then  $\mu_{MLE} > \mu_{MAP}$ .",
    "1.3c": r"If  $n\bar{x} < 0$ , then  $\mu_{MLE} < \mu_{MAP}$ .",
    "1.4": r"$$\lim_{n \rightarrow \infty} \frac{\mu_{MAP}}{\mu_{MLE}} = \lim_{n \rightarrow \infty} "
           r"\frac{\frac{\bar{x}}{1 + \frac{\sigma^2}{\tau^2 n}}}{\bar{x}} = \lim_{n \rightarrow \infty} "
           r"\frac{1}{1 + \frac{\sigma^2}{\tau^2 n}} = 1$$",
    "2.5": r"$\mathbf{w}_{\text{MAP}}$  would have a lower expected MSE, given that [TODO]",
    "3.4a": r"$$\begin{aligned} \frac{\partial L}{\partial b_2} &= \frac{\partial L}{\partial \hat{y}} "
            r"\frac{\partial \hat{y}}{\partial a_2} \frac{\partial a_2}{\partial b_2} \\ "
            r"&= -y + y\hat{y} + \hat{y} - y\hat{y} \\ &\quad \boxed{\frac{\partial L}{\partial b_2} = \hat{y} - y} "
            r"\end{aligned}$$",
    "3.4b": r"$$\boxed{\frac{\partial L}{\partial W_2^h} = (\hat{y} - y)(z_1^h)}$$",
    "3.4c": r"$$\boxed{\frac{\partial L}{\partial b_1^h} = (\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))}$$",
    "3.4d": r"$$\boxed{\frac{\partial L}{\partial W_1^{h,m}} = (\hat{y} - y)(W_2^h)(z_1^h(1 - z_1^h))(x_m)}$$",
}

SEED_CODE = '''\
n_inputs = 784 # dimension of flattened image (28 * 28)
n_hiddens = 256 # dimension of hidden layer
n_outputs = 10 # number of label possibilities

W1 = torch.nn.Parameter(0.01 * torch.randn(size=(n_inputs, n_hiddens)))
b1 = torch.nn.Parameter(torch.zeros(size=(n_hiddens, )))
W2 = torch.nn.Parameter(0.01 * torch.randn(size=(n_hiddens, n_outputs)))
b2 = torch.nn.Parameter(torch.zeros(size=(n_outputs, )))

def relu(x):
    return torch.max(torch.stack([x, torch.zeros_like(x)], dim=1), dim=1)[0]

def softmax(x):
    return torch.div(torch.exp(X), torch.sum(torch.exp(X), 1).view(-1, 1))

def net(X):
    X = torch.flatten(X, start_dim=1)
    H = relu(X @ W1 + b1)
    O = softmax(H @ W2 + b2)
    return O

def cross_entropy(y_hat, y):
    return -torch.log(y_hat)[range(len(y_hat)), y]

def sgd(params, lr=0.1):
    with torch.no_grad():
        for w in params:
            w -= lr * w.grad
            w.grad.zero_()

def train(net, params, train_iter, loss_func=cross_entropy, updater=sgd):
    for _ in range(epochs):
        for X, y in train_iter:
            y_hat = net(X)
            l = loss_func(y_hat, y).mean()
            l.backward()
            updater(params, lr)
'''

# (student, text in the reference, its replacement)
MUTATIONS = {
    "stops_early": ("    for _ in range(100000):", "    for _ in range(1):"),
    "w1_sign": ('"W1": np.outer(delta1, x)', '"W1": -np.outer(delta1, x)'),
    "w2_transposed": ('"W2": np.outer(delta2, z1)', '"W2": np.outer(z1, delta2)'),
    "torch_softmax": ("    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)\n"
                      "    return X_exp / X_exp.sum(dim=1, keepdim=True)",
                      "    return torch.softmax(X, dim=1)"),
}


def seed_notebook() -> nbformat.NotebookNode:
    cells = [md("# Homework 3: Bayesian Methods and Neural Networks")]
    for qid, answer in SEED_ANSWERS.items():
        cells.append(md(f"**Answer {qid}**\n\n{answer}"))
    cells += [code("import torch"), code(SEED_CODE)]
    return notebook(*cells)


def mutated(old: str, new: str) -> nbformat.NotebookNode:
    nb = nbformat.read(str(REFERENCE), as_version=4)
    hits = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and old in cell.source:
            cell.source = cell.source.replace(old, new)
            hits += 1
    assert hits == 1, old
    return nb


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("bayes_mlp")
    students = root / "students"
    students.mkdir()
    shutil.copy(REFERENCE, students / "reference_copy.ipynb")
    shutil.copy(TEMPLATE, students / "template_copy.ipynb")
    write(students / "seed002.ipynb", seed_notebook())
    for name, (old, new) in MUTATIONS.items():
        write(students / f"{name}.ipynb", mutated(old, new))
    done = run_cli("grade", str(students), "-a", ASSIGNMENT, "-o", str(root / "out"), "-j", "4", "-q")
    assert done.returncode == 0, done.stderr + done.stdout
    return {p.parent.name: json.loads(p.read_text()) for p in (root / "out").glob("*/result.json")}


def task(result: dict, task_id: str) -> dict:
    return next(t for t in result["tasks"] if t["id"] == task_id)


def test_reference_scores_100(results):
    reference = results["reference_copy"]
    assert [t["id"] for t in reference["tasks"]] == list(TASKS)
    failed = [(t["id"], x["name"], x["message"]) for t in reference["tasks"] for x in t["tests"] if not x["passed"]]
    assert reference["score"] == reference["max_score"] == 100, failed


def test_template_scores_0(results):
    template = results["template_copy"]
    assert template["score"] == 0, [(t["id"], t["score"]) for t in template["tasks"] if t["score"]]
    for t in template["tasks"]:
        for x in t["tests"]:
            assert "not_implemented" in x["diagnoses"], (t["id"], x)


def test_every_task_has_public_tests_or_questions(results):
    reference = results["reference_copy"]
    for t in reference["tasks"]:
        assert t["max_score"] > 0 and t["tests"], t["id"]
        assert any(x["visibility"] == "public" for x in t["tests"]), t["id"]


def test_seed_002_is_graded_as_an_instructor_would(results):
    seed = results["seed002"]
    written = {x["name"].removeprefix("written answer "): x for t in seed["tasks"] for x in t["tests"]
               if x["name"].startswith("written answer")}
    for qid in ("1.2b", "1.2c", "1.2e", "1.2e-limit", "1.3a", "1.3b", "1.3c", "1.4", "3.4a", "3.4b", "3.4c", "3.4d"):
        assert written[qid]["passed"] and written[qid]["score"] == written[qid]["max_score"], written[qid]
    assert written["2.5"]["score"] == 0 and not written["2.5"]["passed"]
    # problem 4: relu right, softmax reads the global X that nothing defines
    relu, softmax, stable = task(seed, "4.1")["tests"]
    assert relu["passed"]
    for test in (softmax, stable):
        assert not test["passed"] and "undefined_name" in test["diagnoses"], test
        assert "X" in test["message"]
    assert task(seed, "4.1")["score"] == 3
    # net, the loss, sgd and train are right (net graded with the grader's softmax, train with its net)
    for task_id in ("4.2", "4.3"):
        assert task(seed, task_id)["score"] == task(seed, task_id)["max_score"], task(seed, task_id)
    isolated, whole = task(seed, "4.4")["tests"]
    assert isolated["passed"], isolated
    assert not whole["passed"] and "undefined_name" in whole["diagnoses"], whole
    # no code for problems 1-3: nothing there is credited but the written answers
    for task_id in ("1.1", "1.2a", "1.2d", "2.1", "2.2", "2.3", "3.2", "3.3"):
        assert task(seed, task_id)["score"] == 0
    assert seed["score"] == 38


def test_laplace_solver_that_stops_early_is_told_the_objective_gap(results):
    result = results["stops_early"]
    tests = {x["name"]: x for x in task(result, "2.2")["tests"]}
    reach = next(x for name, x in tests.items() if "reaches the minimum" in name)
    assert not reach["passed"]
    assert "above the optimum" in reach["message"] and "relative gap" in reach["message"], reach["message"]
    assert task(result, "2.2")["score"] == 3  # the written lambda only
    assert result["score"] == 90


def test_sign_flipped_W1_gradient(results):
    result = results["w1_sign"]
    failed = [x for x in task(result, "3.3")["tests"] if not x["passed"]]
    assert failed and "sign_flipped" in failed[0]["diagnoses"], failed
    assert any("W1" in x["name"] for x in failed)
    assert task(result, "3.3")["score"] < 10


def test_transposed_W2_gradient(results):
    result = results["w2_transposed"]
    failed = [x for x in task(result, "3.3")["tests"] if not x["passed"]]
    assert any("W2" in x["name"] and "transposed" in x["diagnoses"] for x in failed), failed


def test_torch_softmax_is_forbidden(results):
    result = results["torch_softmax"]
    softmax_task = task(result, "4.1")
    assert softmax_task["score"] == 0
    for x in softmax_task["tests"]:
        assert x["diagnoses"] == ["forbidden_api"], x
        assert "torch.softmax" in x["message"] and "line" in x["message"], x["message"]
    assert task(result, "4.2")["score"] == task(result, "4.2")["max_score"]
    assert result["score"] == 93


def test_notebooks_are_generated_by_the_tool():
    done = run_cli_tool("--check")
    assert done.returncode == 0, done.stdout + done.stderr


def run_cli_tool(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(REPO / "tools" / "make_bayes_notebooks.py"), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
