"""Problem 2: the Laplace-prior MAP, checked against scikit-learn's Lasso and the optimality conditions."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("2.1")
@pytest.mark.points(3)
def test_neg_log_posterior_differences(student, rng):
    """neg_log_posterior changes between two w as ||Xw - y||^2/(2 sigma2) + ||w - mu||_1/tau does"""
    X, y, sigma2, tau, mu = C["laplace_problem"](rng)
    w1, w2 = rng.normal(size=8), rng.normal(size=8)
    got = float(np.squeeze(student.neg_log_posterior(w1, X, y, sigma2, tau, mu))) - float(
        np.squeeze(student.neg_log_posterior(w2, X, y, sigma2, tau, mu)))
    want = C["laplace_objective"](w1, X, y, sigma2, tau, mu) - C["laplace_objective"](w2, X, y, sigma2, tau, mu)
    assert_close(got, want, rtol=1e-7, name="the difference of neg_log_posterior between two w")


@pytest.mark.task("2.2")
@pytest.mark.points(6)
@pytest.mark.timeout(30)
def test_w_map_laplace_reaches_the_minimum(student, rng, settings):
    """w_map_laplace reaches the minimum of the MAP objective (scikit-learn's Lasso, rescaled, as oracle)"""
    X, y, sigma2, tau, mu = C["laplace_problem"](rng)
    w = np.asarray(student.w_map_laplace(X, y, sigma2, tau, mu), dtype=float).reshape(-1)
    if w.shape != (8,):
        fail(f"w_map_laplace returned {w.size} numbers for 8 features", Diagnosis.WRONG_SHAPE)
    if not np.all(np.isfinite(w)):
        fail("w_map_laplace returned NaN or infinity", Diagnosis.NAN_OR_INF)
    best = C["laplace_objective"](C["laplace_optimum"](X, y, sigma2, tau, mu), X, y, sigma2, tau, mu)
    reached = C["laplace_objective"](w, X, y, sigma2, tau, mu)
    gap = reached - best
    if gap > float(settings["laplace_objective_rtol"]) * abs(best):
        fail(f"w_map_laplace stops short of the minimum: the objective ||Xw - y||^2/(2 sigma2) + ||w - mu||_1/tau "
             f"at its w is {reached:.6g}, {gap:.3g} above the optimum (a relative gap of {gap / abs(best):.2e}; "
             f"at most {float(settings['laplace_objective_rtol']):.0e} passes): run the solver longer or check "
             f"its step")


@pytest.mark.task("2.3")
@pytest.mark.points(3)
def test_w_map_gaussian_is_stationary(student, rng):
    """w_map_gaussian zeroes the gradient of ||Xw - y||^2/(2 sigma2) + ||w - v||^2/(2 s2)"""
    X = rng.normal(size=(30, 5))
    y = rng.normal(size=30)
    v = rng.normal(size=5)
    sigma2, s2 = 0.8, 0.25
    w = np.asarray(student.w_map_gaussian(X, y, sigma2, v, s2), dtype=float).reshape(-1)
    if w.shape != (5,):
        fail(f"w_map_gaussian returned {w.size} numbers for 5 features", Diagnosis.WRONG_SHAPE)
    gradient = X.T @ (X @ w - y) / sigma2 + (w - v) / s2
    assert_close(gradient, np.zeros(5), atol=1e-7, name="the gradient of the MAP objective at w_map_gaussian")
