"""Write reference/bayes_mlp.ipynb, and the student template stripped from it.

Usage:
    python tools/make_bayes_notebooks.py           # (re)write both notebooks
    python tools/make_bayes_notebooks.py --check   # exit 1 if either is out of date

The template is `grader assign`'s stripping (`grader.assign.strip_notebook`) of the reference (solution regions
become `raise NotImplementedError`, cells tagged `answer:QID` are emptied), so the two
never drift. Each written answer is a markdown cell tagged `answer:QID` that starts with
a bold `**Answer QID**` label; the question it answers is in the cell before it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from grader.assign import strip_notebook

REPO = Path(__file__).resolve().parents[1]

REFERENCE = REPO / "reference" / "bayes_mlp.ipynb"
TEMPLATE = REPO / "student_template" / "bayes_mlp.ipynb"

IMPORTS = """\
import numpy as np
import torch"""

P1_CODE = '''\
def posterior_mu(x, sigma2, tau2):
    """The posterior of mu given the data x: (mean, variance)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float).ravel()
    var = 1.0 / (1.0 / tau2 + x.size / sigma2)
    return var * x.sum() / sigma2, var
    ### END SOLUTION


def mu_mle(x):
    """The maximum-likelihood estimate of mu."""
    ### BEGIN SOLUTION
    return float(np.mean(x))
    ### END SOLUTION


def mu_map(x, sigma2, tau2):
    """The MAP estimate of mu under the prior N(0, tau2)."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    return n * tau2 * x.mean() / (sigma2 + n * tau2)
    ### END SOLUTION


def posterior_predictive(x, sigma2, tau2):
    """The distribution of a new x given the data: (mean, variance)."""
    ### BEGIN SOLUTION
    mean, var = posterior_mu(x, sigma2, tau2)
    return mean, var + sigma2
    ### END SOLUTION'''

P2_CODE = '''\
def neg_log_posterior(w, X, y, sigma2, tau, mu):
    """-log p(w | X, y) up to an additive constant."""
    ### BEGIN SOLUTION
    residual = X @ w - y
    return residual @ residual / (2 * sigma2) + np.abs(w - mu).sum() / tau
    ### END SOLUTION


def w_map_laplace(X, y, sigma2, tau, mu):
    """The MAP estimate of w under the Laplace prior (coordinate descent on the L1 problem)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    mu = np.asarray(mu, dtype=float)
    r = np.asarray(y, dtype=float) - X @ mu  # with v = w - mu: 0.5||X v - r||^2 + (sigma2/tau)||v||_1
    penalty = sigma2 / tau
    squares = (X**2).sum(axis=0)
    v = np.zeros(X.shape[1])
    residual = r.copy()
    for _ in range(100000):
        largest = 0.0
        for j in range(X.shape[1]):
            if squares[j] == 0:
                continue
            rho = X[:, j] @ residual + squares[j] * v[j]
            new = np.sign(rho) * max(abs(rho) - penalty, 0.0) / squares[j]
            if new != v[j]:
                residual -= X[:, j] * (new - v[j])
                largest = max(largest, abs(new - v[j]))
                v[j] = new
        if largest < 1e-13:
            break
    return v + mu
    ### END SOLUTION


def w_map_gaussian(X, y, sigma2, v, s2):
    """The MAP estimate of w under the prior N(v, s2 I)."""
    ### BEGIN SOLUTION
    ratio = sigma2 / s2
    A = X.T @ X + ratio * np.eye(X.shape[1])
    return np.linalg.solve(A, X.T @ y + ratio * np.asarray(v, dtype=float))
    ### END SOLUTION'''

P3_CODE = '''\
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def mlp_forward(x, W1, b1, W2, b2):
    """a1, z1, a2, y_hat for one data point x."""
    ### BEGIN SOLUTION
    a1 = W1 @ x + b1
    z1 = sigmoid(a1)
    a2 = W2 @ z1 + b2
    return a1, z1, a2, sigmoid(a2)
    ### END SOLUTION


def mlp_grads(x, y, W1, b1, W2, b2):
    """The gradients of the cross-entropy loss, keyed by parameter name."""
    ### BEGIN SOLUTION
    a1, z1, a2, y_hat = mlp_forward(x, W1, b1, W2, b2)
    delta2 = y_hat - y                  # dL/da2, shape (1,)
    delta1 = (W2.T @ delta2) * z1 * (1 - z1)  # dL/da1, shape (H,)
    return {"W1": np.outer(delta1, x), "b1": delta1, "W2": np.outer(delta2, z1), "b2": delta2}
    ### END SOLUTION'''

P4_PARAMS = """\
n_inputs = 784  # dimension of a flattened image (28 * 28)
n_hiddens = 256
n_outputs = 10

W1 = torch.nn.Parameter(0.01 * torch.randn(size=(n_inputs, n_hiddens)))
b1 = torch.nn.Parameter(torch.zeros(size=(n_hiddens,)))
W2 = torch.nn.Parameter(0.01 * torch.randn(size=(n_hiddens, n_outputs)))
b2 = torch.nn.Parameter(torch.zeros(size=(n_outputs,)))
params = [W1, b1, W2, b2]

epochs = 10
lr = 0.1"""

P4_CODE = '''\
def relu(x):
    ### BEGIN SOLUTION
    return torch.clamp(x, min=0)
    ### END SOLUTION


def softmax(X):
    ### BEGIN SOLUTION
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
    ### END SOLUTION


def net(X):
    ### BEGIN SOLUTION
    X = X.reshape(X.shape[0], -1)
    H = relu(X @ W1 + b1)
    return softmax(H @ W2 + b2)
    ### END SOLUTION


def cross_entropy(y_hat, y):
    ### BEGIN SOLUTION
    return -torch.log(y_hat[range(len(y_hat)), y])
    ### END SOLUTION


def sgd(params, lr):
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
    ### END SOLUTION


def train(net, params, train_iter, loss_func, updater):
    ### BEGIN SOLUTION
    for epoch in range(epochs):
        for X, y in train_iter:
            loss = loss_func(net(X), y).mean()
            loss.backward()
            updater(params, lr)
    ### END SOLUTION'''

SHAPES = '''\
ANSWERS = {}
### BEGIN SOLUTION (pass): ANSWERS["3.1"] = {"W1": ("H", "M"), "b1": ..., "W2": ..., "b2": ..., "a1": ..., "z1": ..., "a2": ..., "y_hat": ...}
ANSWERS["3.1"] = {
    "W1": ("H", "M"), "b1": ("H",), "W2": (1, "H"), "b2": (1,),
    "a1": ("H",), "z1": ("H",), "a2": (1,), "y_hat": (1,),
}
### END SOLUTION'''

# (question id, the question as the handout asks it, the reference's answer)
WRITTEN = {
    "1": [
        ("1.2b", "Derive $\\mu_{MAP}$ in terms of $n$, $\\tau$, $\\sigma$ and $\\bar{x}$.",
         "$$\\mu_{MAP} = \\frac{n\\tau^2\\bar{x}}{n\\tau^2 + \\sigma^2}$$"),
        ("1.2c", "How does $\\mu_{MAP}$ relate to the mean of $x|D$? (equal, greater, smaller)",
         "$\\mu_{MAP}$ is equal to the mean of $x|D$."),
        ("1.2e", "Is the variance of $x|D$ greater or smaller than that of $x|\\mu_{MLE}$?",
         "Greater: it adds the posterior variance of $\\mu$ to $\\sigma^2$."),
        ("1.2e-limit", "What is the limit of the variance of $x|D$ as $n \\to \\infty$?", "$\\sigma^2$"),
        ("1.3a", "If $\\sum_i x_i = 0$, what are $\\mu_{MLE}$ and $\\mu_{MAP}$?",
         "$\\mu_{MLE} = 0$ and $\\mu_{MAP} = 0$"),
        ("1.3b", "If $\\sum_i x_i > 0$, is $\\mu_{MLE}$ greater than $\\mu_{MAP}$? (yes/no)", "Yes"),
        ("1.3c", "If $\\sum_i x_i < 0$, is $\\mu_{MLE}$ greater than $\\mu_{MAP}$? (yes/no)", "No"),
        ("1.4", "Compute $\\lim_{n \\to \\infty} \\mu_{MAP} / \\mu_{MLE}$.",
         "$$\\lim_{n \\to \\infty} \\frac{\\mu_{MAP}}{\\mu_{MLE}} = 1$$"),
    ],
    "2": [
        ("2.2", "For which $\\lambda$ is $\\mathbf{w}_{MAP}$ the minimiser of "
         "$\\|\\mathbf{y} - \\mathbf{X}\\mathbf{w}\\|^2 + \\lambda \\|\\mathbf{w} - \\mu\\|_1$?",
         "$$\\lambda = \\frac{2\\sigma^2}{\\tau}$$"),
        ("2.4", "What is the limit of $\\mathbf{w}_{MAP}$ as $\\tau \\to 0$?", "$$\\mu$$"),
        ("2.5", "Which has the lower expected test MSE, $\\mathbf{w}_{MAP}$ or $\\mathbf{w}_{mean}$?",
         "$\\mathbf{w}_{mean}$: the posterior mean minimises the expected squared error."),
    ],
    "3": [
        ("3.4a", "Find $\\frac{\\partial L}{\\partial b_2}$.",
         "$$\\boxed{\\frac{\\partial L}{\\partial b_2} = \\hat{y} - y}$$"),
        ("3.4b", "Find $\\frac{\\partial L}{\\partial W_2^h}$.",
         "$$\\boxed{\\frac{\\partial L}{\\partial W_2^h} = (\\hat{y} - y) z_1^h}$$"),
        ("3.4c", "Find $\\frac{\\partial L}{\\partial b_1^h}$.",
         "$$\\boxed{\\frac{\\partial L}{\\partial b_1^h} = (\\hat{y} - y) W_2^h z_1^h (1 - z_1^h)}$$"),
        ("3.4d", "Find $\\frac{\\partial L}{\\partial W_1^{h,m}}$.",
         "$$\\boxed{\\frac{\\partial L}{\\partial W_1^{h,m}} = (\\hat{y} - y) W_2^h z_1^h (1 - z_1^h) x_m}$$"),
    ],
}


def _written(problem: str) -> list[nbformat.NotebookNode]:
    cells = []
    for qid, question, answer in WRITTEN[problem]:
        cells.append(nbformat.v4.new_markdown_cell(f"**Question {qid}.** {question}"))
        cell = nbformat.v4.new_markdown_cell(f"**Answer {qid}**\n\n{answer}")
        cell.metadata["tags"] = [f"answer:{qid}"]
        cells.append(cell)
    return cells


def reference_notebook() -> nbformat.NotebookNode:
    """The reference solution: every function and every written answer."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Bayesian methods and neural networks\n\nWrite each answer in the cell tagged for it, "
           "after its `**Answer ...**` label. Math answers go in `$...$`; the last `\\boxed{}` counts."),
        code(IMPORTS),
        md("## Problem 1: Bayesian estimate of a Gaussian mean"),
        code(P1_CODE),
        *_written("1"),
        md("## Problem 2: Laplace prior, MAP and L1 regularization"),
        code(P2_CODE),
        *_written("2"),
        md("## Problem 3: backprop through a sigmoid MLP\n\nGive the shapes of 3.1 as a dict in `ANSWERS`."),
        code(SHAPES),
        code(P3_CODE),
        *_written("3"),
        md("## Problem 4: an MLP from scratch in PyTorch\n\nNo `torch.nn` API other than "
           "`torch.nn.Parameter`, no `torch.nn.functional`, no `torch.optim`, no `torch.softmax`."),
        code(P4_PARAMS),
        code(P4_CODE),
    ]
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:02d}"  # fixed ids, so that regenerating changes nothing
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["grader"] = {"assignment": "bayes_mlp"}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the notebooks are up to date")
    args = parser.parse_args(argv)
    reference = nbformat.writes(reference_notebook())
    wanted = {REFERENCE: reference, TEMPLATE: strip_notebook(reference, str(REFERENCE))}
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text := wanted[path], encoding="utf-8")
        print(f"wrote {path} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
