"""Problem 2: the Laplace-prior MAP, checked against scikit-learn's Lasso (the grader's oracle, on the host).

Readings accepted: results as arrays, lists or tuples, a column (p, 1) or a row (1, p) for a
vector of p, float32 (tolerance by precision); any solver for 2.2 that reaches the handout's
criterion, the objective within `laplace_objective_rtol` (1e-6) relative of the optimum.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_number, as_result, assert_close, fail, tolerances

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("2.1")
@pytest.mark.points(3)
def test_neg_log_posterior_differences(student, rng):
    """neg_log_posterior changes between two w as ||Xw - y||^2/(2 sigma2) + ||w - mu||_1/tau does"""
    X, y, sigma2, tau, mu = C["laplace_problem"](rng)
    w1, w2 = rng.normal(size=8), rng.normal(size=8)
    raw = [student.neg_log_posterior(w, X, y, sigma2, tau, mu) for w in (w1, w2)]
    got = as_number(raw[0], name="neg_log_posterior") - as_number(raw[1], name="neg_log_posterior")
    want = C["laplace_objective"](w1, X, y, sigma2, tau, mu) - C["laplace_objective"](w2, X, y, sigma2, tau, mu)
    # the difference of two values of size S carries their rounding: compare on the scale of S
    scale = max(abs(C["laplace_objective"](w, X, y, sigma2, tau, mu)) for w in (w1, w2))
    rtol, atol = tolerances(raw, scale)
    assert_close(got, want, rtol=rtol, atol=atol, name="the difference of neg_log_posterior between two w")


@pytest.mark.task("2.2")
@pytest.mark.points(6)
@pytest.mark.timeout(30)
def test_w_map_laplace_reaches_the_minimum(student, rng, settings):
    """w_map_laplace reaches the minimum of the MAP objective (scikit-learn's Lasso, rescaled, as oracle)"""
    X, y, sigma2, tau, mu = C["laplace_problem"](rng)
    w = as_result(student.w_map_laplace(X, y, sigma2, tau, mu), shape=(8,), name="w_map_laplace")
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
    raw = student.w_map_gaussian(X, y, sigma2, v, s2)
    w = as_result(raw, shape=(5,), name="w_map_gaussian")
    gradient = X.T @ (X @ w - y) / sigma2 + (w - v) / s2
    # the gradient at w is the Hessian times the error in w: measure it on the scale of the terms it sums
    scale = float(np.abs(X.T @ y).max() / sigma2 + np.abs(v).max() / s2)
    _, atol = tolerances(raw, scale)
    assert_close(gradient, np.zeros(5), atol=max(atol, 1e-7), name="the gradient of the MAP objective at w_map_gaussian")
