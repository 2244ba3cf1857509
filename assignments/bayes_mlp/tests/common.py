"""Shared by the test files (not collected: no test_ prefix): oracles that do not use the reference."""

from pathlib import Path

import numpy as np

P4_SOURCE = (Path(__file__).resolve().parent / "p4_training.py").read_text(encoding="utf-8")


def p4_worker(student):
    """Problem 4's helper module in the student's worker."""
    return student.helper("bayes_p4", P4_SOURCE)


def p4_host():
    """The same helper module on the host (for the reference); imports torch.

    The host's torch runs on one thread: grading processes are forked from the batch, and a
    forked child that meets an OpenMP pool its parent started waits on it for ever.
    """
    import torch

    torch.set_num_threads(1)
    namespace = {"__name__": "bayes_p4_host"}
    exec(compile(P4_SOURCE, str(Path(__file__).resolve().parent / "p4_training.py"), "exec"), namespace)
    return namespace


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def laplace_problem(rng, n=50, p=8, sigma2=0.5, tau=0.02):
    """A regression whose Laplace MAP keeps some coordinates exactly at mu."""
    X = rng.normal(size=(n, p))
    mu = rng.normal(scale=0.5, size=p)
    w_true = mu + np.array([2.0, -1.5, 0, 0, 0.8, 0, 0, 0] + [0] * (p - 8))[:p]
    y = X @ w_true + rng.normal(scale=np.sqrt(sigma2), size=n)
    return X, y, sigma2, tau, mu


def laplace_objective(w, X, y, sigma2, tau, mu):
    r = X @ w - y
    return float(r @ r / (2 * sigma2) + np.abs(w - mu).sum() / tau)


def laplace_optimum(X, y, sigma2, tau, mu):
    """scikit-learn's Lasso on the rescaled problem.

    Lasso minimises (1/(2n))||y' - X w'||^2 + alpha ||w'||_1. With w' = w - mu and
    y' = y - X mu, the MAP objective ||X w - y||^2/(2 sigma2) + ||w - mu||_1/tau is
    n/sigma2 times that, for alpha = sigma2 / (n tau).
    """
    from sklearn.linear_model import Lasso

    n = len(y)
    model = Lasso(alpha=sigma2 / (n * tau), fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    model.fit(X, y - X @ mu)
    return model.coef_ + mu


def subgradient_residual(w, X, y, sigma2, tau, mu, zero=1e-7):
    """How far 0 is from the subdifferential of the MAP objective at w (0 at the optimum), per coordinate."""
    g = X.T @ (X @ w - y) / sigma2
    d = w - mu
    away = np.abs(d) > zero
    residual = np.where(away, np.abs(g + np.sign(d) / tau), np.maximum(0.0, np.abs(g) - 1.0 / tau))
    return residual / (1.0 / tau + np.abs(X.T @ y).max() / sigma2)


def mlp_loss(x, y, W1, b1, W2, b2):
    y_hat = sigmoid(W2 @ sigmoid(W1 @ x + b1) + b2)[0]
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def mlp_point(rng, M=5, H=3):
    """One data point and parameters with H != M, so that a transposed gradient has another shape."""
    return (rng.normal(size=M), 1.0, rng.normal(size=(H, M)), rng.normal(size=H),
            rng.normal(size=(1, H)), rng.normal(size=1))
