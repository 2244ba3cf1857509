"""assert_close and check_gradient, checked against independent oracles (scipy's finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from grader.model import Diagnosis
from grader.testing import CheckFailed, assert_close, check_gradient, numeric_gradient


def loss_and_grad(batch=32, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(batch, d)), rng.normal(size=batch), rng.normal(size=d)

    def loss(v):
        return float(np.mean((X @ v - y) ** 2) / 2)

    return loss, X.T @ (X @ w - y) / batch, w


def test_numeric_gradient_agrees_with_scipy():
    loss, grad, w = loss_and_grad()
    ours = numeric_gradient(loss, w)
    theirs = approx_fprime(w, loss, 1e-7)
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert np.allclose(ours, grad, rtol=1e-6, atol=1e-8)


def test_a_right_gradient_passes():
    loss, grad, w = loss_and_grad()
    check_gradient(loss, grad, w)


@pytest.mark.parametrize(
    ("mangle", "expected", "words"),
    [
        (lambda g: -g, (Diagnosis.SIGN_FLIPPED,), "wrong sign"),
        (lambda g: g * 32, (Diagnosis.SCALED,), "1/N"),
        (lambda g: g / 32, (Diagnosis.SCALED,), "1/32"),
        (lambda g: g[:-1], (Diagnosis.WRONG_SHAPE,), "shape"),
        (lambda g: np.where(np.arange(g.size) == 0, np.nan, g), (Diagnosis.NAN_OR_INF,), "NaN"),
        (lambda g: g.reshape(1, -1), (Diagnosis.WRONG_SHAPE,), "shape"),
        (lambda g: g + 1.0, (), "does not match"),
    ],
)
def test_wrong_gradients_are_diagnosed(mangle, expected, words):
    loss, grad, w = loss_and_grad()
    with pytest.raises(CheckFailed) as failed:
        check_gradient(loss, mangle(grad), w, batch_size=32)
    assert failed.value.diagnoses == expected
    assert words in failed.value.message


def test_assert_close_coerces_scalars_lists_and_float32():
    assert_close(np.array([0.5]), 0.5)
    assert_close(np.float32(0.25), 0.25, rtol=1e-6)
    assert_close([[1, 2], [3, 4]], np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(CheckFailed):
        assert_close("0.5", 0.5)


def test_transposed_and_missing_regularization_are_recognised():
    rng = np.random.default_rng(1)
    right = rng.normal(size=(4, 3))
    with pytest.raises(CheckFailed) as failed:
        assert_close(right.T, right)
    assert failed.value.diagnoses == (Diagnosis.TRANSPOSED,)
    w = rng.normal(size=(4, 3))
    with pytest.raises(CheckFailed) as failed:
        assert_close(right, right + 0.1 * w, regularization=0.1 * w)
    assert failed.value.diagnoses == (Diagnosis.MISSING_REGULARIZATION,)
    with pytest.raises(CheckFailed) as failed:
        assert_close(right + 0.2 * w, right + 0.1 * w, regularization=0.1 * w)
    assert "convention" in failed.value.message


def test_messages_never_print_the_expected_values():
    secret = np.array([123.456, 789.012])
    with pytest.raises(CheckFailed) as failed:
        assert_close(np.array([1.0, 2.0]), secret)
    assert "123.4" not in failed.value.message and "789" not in failed.value.message
