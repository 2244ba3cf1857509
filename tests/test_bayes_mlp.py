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
    "train_no_update": ("            updater(params, lr)\n", "            pass  # updater(params, lr)\n"),
    "w1_grad_flat": ('"W1": np.outer(delta1, x)', '"W1": np.outer(delta1, x).ravel()'),
    "torch_softmax": ("    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)\n"
                      "    return X_exp / X_exp.sum(dim=1, keepdim=True)",
                      "    return torch.softmax(X, dim=1)"),
}


ISTA = '''def w_map_laplace(X, y, sigma2, tau, mu):
    """Proximal gradient (ISTA): a gradient step on the squared error, then soft-thresholding around mu."""
    X, y, mu = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    step = sigma2 / np.linalg.norm(X, 2) ** 2
    w = mu.copy()

    def objective(w):
        r = X @ w - y
        return r @ r / (2 * sigma2) + np.abs(w - mu).sum() / tau

    previous = objective(w)
    for _ in range(100000):
        z = w - step * X.T @ (X @ w - y) / sigma2
        w = mu + np.sign(z - mu) * np.maximum(np.abs(z - mu) - step / tau, 0.0)
        current = objective(w)
        if previous - current <= 1e-8 * abs(current):  # the handout: within 1e-6 of the optimum is enough
            break
        previous = current
    return w
'''

SKLEARN_LASSO = '''def w_map_laplace(X, y, sigma2, tau, mu):
    """The Laplace MAP is a Lasso around mu."""
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=sigma2 / (len(y) * tau), fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    model.fit(X, y - X @ mu)
    return model.coef_ + mu
'''

# Correct work in unusual forms: mixed 0-d / 1-element lists, float32, a column vector, a float b2 gradient.
UNUSUAL = {
    "posterior_mu": '''def posterior_mu(x, sigma2, tau2):
    """(mean, variance), as a list of a 0-d and a 1-element array."""
    x = np.asarray(x, dtype=float).ravel()
    var = 1.0 / (1.0 / tau2 + x.size / sigma2)
    return [np.array(var * x.sum() / sigma2), np.array([var])]
''',
    "mu_map": '''def mu_map(x, sigma2, tau2):
    """In float32, as a 1-element array."""
    x = np.asarray(x, dtype=np.float32).ravel()
    n = np.float32(x.size)
    return np.array([n * np.float32(tau2) * x.mean() / (np.float32(sigma2) + n * np.float32(tau2))])
''',
    "w_map_gaussian": '''def w_map_gaussian(X, y, sigma2, v, s2):
    """A column vector, by a loop of Gauss-Seidel sweeps on the normal equations."""
    ratio = sigma2 / s2
    A = X.T @ X + ratio * np.eye(X.shape[1])
    b = X.T @ y + ratio * np.asarray(v, dtype=float)
    w = np.zeros(len(b))
    for _ in range(500):
        for j in range(len(b)):
            w[j] = (b[j] - A[j] @ w + A[j, j] * w[j]) / A[j, j]
    return w.reshape(-1, 1)
''',
}

UNSTABLE_SOFTMAX = ("    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)\n", "    X_exp = torch.exp(X)\n")


def replace_function(nb: nbformat.NotebookNode, name: str, source: str) -> nbformat.NotebookNode:
    """The notebook with the function `name` replaced by `source` (up to the next top-level def)."""
    hits = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            start = cell.source.index(f"def {name}(")
            end = cell.source.find("\n\n\ndef ", start)
            cell.source = cell.source[:start] + source.rstrip("\n") + ("" if end < 0 else cell.source[end:])
            hits += 1
    assert hits == 1, name
    return nb


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
    write(students / "ista.ipynb", replace_function(nbformat.read(str(REFERENCE), as_version=4), "w_map_laplace", ISTA))
    write(students / "sklearn_lasso.ipynb",
          replace_function(nbformat.read(str(REFERENCE), as_version=4), "w_map_laplace", SKLEARN_LASSO))
    unusual = nbformat.read(str(REFERENCE), as_version=4)
    for function, source in UNUSUAL.items():
        unusual = replace_function(unusual, function, source)
    write(students / "unusual_forms.ipynb", unusual)
    write(students / "unstable_softmax.ipynb", mutated(*UNSTABLE_SOFTMAX))
    done = run_cli("grade", str(students), "-a", ASSIGNMENT, "-o", str(root / "out"), "-j", "4", "-q",
                   timeout=1800)
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
    # train is right: 4.4 tests it with the grader's net, loss and sgd, so the broken softmax (4.1) is
    # charged once, in 4.1, not again in 4.4
    isolated, other_batches = task(seed, "4.4")["tests"]
    assert isolated["passed"] and other_batches["passed"], (isolated, other_batches)
    # no code for problems 1-3: nothing there is credited but the written answers
    for task_id in ("1.1", "1.2a", "1.2d", "2.1", "2.2", "2.3", "3.2", "3.3"):
        assert task(seed, task_id)["score"] == 0
    assert seed["score"] == 40


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


def test_an_ista_solver_stopped_at_the_handout_criterion_gets_full_marks(results):
    """The handout asks for the objective within 1e-6 of the optimum; the hidden test asked for a subgradient
    residual of 1e-5, which this solver (gap about 1e-8, residual about 2e-5) missed."""
    result = results["ista"]
    laplace = task(result, "2.2")
    assert laplace["score"] == laplace["max_score"], [(x["name"], x["message"]) for x in laplace["tests"]]
    assert result["score"] == 100


def test_scikit_learn_is_forbidden_in_2_2(results):
    result = results["sklearn_lasso"]
    laplace = task(result, "2.2")
    code = [x for x in laplace["tests"] if not x["name"].startswith("written answer")]
    assert code and all(x["diagnoses"] == ["forbidden_api"] and "sklearn" in x["message"] for x in code), code
    assert sum(x["score"] for x in code) == 0
    assert laplace["score"] == 0 and result["score"] == 87  # a forbidden API costs the whole task (13 points)


def test_correct_work_in_unusual_forms_gets_full_marks(results):
    """Mixed 0-d / 1-element lists, float32, a column vector: the handout allows them all."""
    result = results["unusual_forms"]
    failed = [(t["id"], x["name"], x["message"]) for t in result["tasks"] for x in t["tests"] if not x["passed"]]
    assert result["score"] == 100, failed


def test_an_unstable_softmax_is_told_so(results):
    result = results["unstable_softmax"]
    tests = {x["name"]: x for x in task(result, "4.1")["tests"]}
    stable = next(x for name, x in tests.items() if "logits in the hundreds" in name)
    assert not stable["passed"] and stable["diagnoses"] == ["numerically_unstable"], stable
    others = [x for name, x in tests.items() if x is not stable]
    assert all(x["passed"] for x in others), others
    reference = {x["name"]: x for x in task(results["reference_copy"], "4.1")["tests"]}
    assert all(not x["diagnoses"] for x in reference.values())


def test_a_train_that_never_updates_is_below_threshold_in_4_4_only(results):
    result = results["train_no_update"]
    failed = [x for x in task(result, "4.4")["tests"] if not x["passed"]]
    assert failed and all(x["diagnoses"] == ["below_threshold"] for x in failed), failed
    assert result["score"] == 100 - task(result, "4.4")["max_score"]


def test_a_flattened_gradient_is_the_wrong_shape(results):
    result = results["w1_grad_flat"]
    failed = [x for x in task(result, "3.3")["tests"] if not x["passed"]]
    assert failed and all("W1" in x["message"] and x["diagnoses"] == ["wrong_shape"] for x in failed), failed
    assert "shape (15,)" in failed[0]["message"], failed[0]["message"]
    others = [x for x in task(result, "3.3")["tests"] if x not in failed and not x["name"].startswith("written")]
    assert others and all(x["passed"] for x in others), others  # b1, W2, b2 keep their points
