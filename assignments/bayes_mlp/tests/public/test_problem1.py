"""Problem 1: closed forms of the posterior, the MLE, the MAP and the posterior predictive.

Readings accepted by every test here (the handout: "a function may also return a 0-d array, a
1-element array or a list where a float or vector is asked"): floats, 0-d and 1-element arrays,
float32 (tolerance by precision), and for pairs a tuple, a list or a 2-element array; any
algebraically equivalent closed form (tolerances far above rounding, far below a wrong formula).
"""

import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail, lowest_precision


def _pair(result, name):
    """(mean, variance, precision) from a tuple, list or array of two numbers (each may be a 0-d or 1-element array)."""
    pair = as_result(result, name=name).reshape(-1)
    if pair.size != 2:
        fail(f"{name} should return two numbers, (mean, variance); it returned {pair.size}", Diagnosis.WRONG_SHAPE)
    return pair[0], pair[1], lowest_precision(result)


@pytest.mark.task("1.1")
@pytest.mark.points(3)
def test_posterior_mu(student, rng):
    """posterior_mu gives the closed-form mean and variance"""
    x = rng.normal(1.5, 2.0, size=12)
    sigma2, tau2, n = 4.0, 0.7, 12
    mean, var, precision = _pair(student.posterior_mu(x, sigma2, tau2), "posterior_mu")
    assert_close(var, 1 / (1 / tau2 + n / sigma2), precision=precision, name="the posterior variance")
    assert_close(mean, n * tau2 * x.mean() / (sigma2 + n * tau2), precision=precision, name="the posterior mean")


@pytest.mark.task("1.2a")
@pytest.mark.points(2)
def test_mu_mle(student, rng):
    """mu_mle is the sample mean"""
    x = rng.normal(-0.5, 1.0, size=9)
    assert_close(student.mu_mle(x), x.mean(), name="mu_mle")


@pytest.mark.task("1.2b")
@pytest.mark.points(2)
def test_mu_map(student, rng):
    """mu_map agrees with the closed form on small data"""
    x = rng.normal(2.0, 1.0, size=7)
    sigma2, tau2 = 1.5, 0.3
    assert_close(student.mu_map(x, sigma2, tau2), 7 * tau2 * x.mean() / (7 * tau2 + sigma2),
                 name="mu_map")


@pytest.mark.task("1.2d")
@pytest.mark.points(3)
def test_posterior_predictive(student, rng):
    """posterior_predictive gives the predictive mean and variance"""
    x = rng.normal(0.8, 1.2, size=15)
    sigma2, tau2, n = 1.44, 2.0, 15
    mean, var, precision = _pair(student.posterior_predictive(x, sigma2, tau2), "posterior_predictive")
    assert_close(mean, n * tau2 * x.mean() / (n * tau2 + sigma2), precision=precision, name="the predictive mean")
    assert_close(var, 1 / (n / sigma2 + 1 / tau2) + sigma2, precision=precision, name="the predictive variance")

