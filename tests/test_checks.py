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


# --- precision-aware tolerances (issue 11: float32 hand-ins lost points) -------------------------------


def _not_representable():
    """Values built from 0.1 steps (not exact in binary) through a computation with rounding."""
    x = (np.arange(1, 301) * 0.1).reshape(-1, 3) / 7
    w = np.array([[0.1, -0.3, 0.7], [0.2, 0.1, -0.1], [-0.6, 0.3, 0.9]])
    return x, w, np.tanh(x @ w) * 0.3 + 0.1


def test_a_correct_float32_computation_passes_with_the_default_tolerances():
    x, w, expected = _not_representable()
    got = np.tanh(x.astype(np.float32) @ w.astype(np.float32)) * np.float32(0.3) + np.float32(0.1)
    assert got.dtype == np.float32 and not np.array_equal(got.astype(float), expected)
    # the old fixed tolerances fail it: this is the bug
    assert not np.allclose(got.astype(float), expected, rtol=1e-6, atol=1e-9)
    assert_close(got, expected)
    assert_close(got, expected, rtol=1e-6, atol=1e-9)  # explicit float64 tolerances widen for float32
    assert_close(list(got), expected)  # a list of float32 rows is float32 too


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_result_off_by_1e3_relative_fails_in_both_precisions(dtype):
    x, w, expected = _not_representable()
    wrong = (expected * (1 + 1e-3)).astype(dtype)
    with pytest.raises(CheckFailed):
        assert_close(wrong, expected)
    bumped = expected.copy()
    bumped[0, 0] += 1e-3 * np.max(np.abs(expected))  # one element off by 1e-3 of the scale
    with pytest.raises(CheckFailed):
        assert_close(bumped.astype(dtype), expected)


def test_float64_stays_tight():
    x, w, expected = _not_representable()
    rounded = expected.astype(np.float32).astype(np.float64)  # float32 rounding, returned as float64
    with pytest.raises(CheckFailed):
        assert_close(rounded * (1 + 1e-5), expected)
    assert_close(rounded, expected, precision=np.float32)  # the test may name the precision explicitly


def test_atol_scales_with_the_magnitude_of_the_expected_values():
    _, _, expected = _not_representable()
    big = expected * 1e6
    got = (big.astype(np.float32)).astype(np.float32)
    assert_close(got, big)
    small = expected * 1e-6
    with pytest.raises(CheckFailed):
        assert_close(small + 1e-3 * 1e-6, small)  # tiny in absolute terms, 1e-3 of the scale


# --- one coercion for results ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        [np.array(0.25), np.array([0.5])],
        (0.25, 0.5),
        [np.float32(0.25), np.float32(0.5)],
        np.array([[0.25], [0.5]], dtype=np.float32),
        [[0.25], [0.5]],
    ],
)
def test_as_result_reads_every_plain_form_of_a_column(value):
    from grader.testing import as_result

    got = as_result(value, shape=(2, 1), name="outputs")
    assert got.dtype == np.float64 and got.shape == (2, 1)
    assert np.allclose(got.ravel(), [0.25, 0.5])


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), np.array(0.5), np.array([0.5]), [0.5], [[np.array([0.5])]]])
def test_as_number_reads_0d_and_1_element_results(value):
    from grader.testing import as_number

    got = as_number(value)
    assert isinstance(got, float) and got == pytest.approx(0.5)


def test_assert_close_takes_a_mixed_list_the_old_asarray_refused():
    mixed = [np.array(0.1), np.array([0.2])]
    with pytest.raises(ValueError):
        np.asarray(mixed, dtype=float)  # what a hidden test used to do
    assert_close(mixed, [0.1, 0.2])


@pytest.mark.parametrize(
    ("value", "words"),
    [(np.zeros(3), "shape (3,)"), (np.zeros((2, 2)), "shape (2, 2)"), ("0.5", "str"), (None, "NoneType"),
     ([[1.0], [2.0, 3.0]], "list")],
)
def test_as_result_fails_really_wrong_shapes_naming_them(value, words):
    from grader.testing import as_result

    with pytest.raises(CheckFailed) as failed:
        as_result(value, shape=(2, 1), name="outputs")
    assert failed.value.diagnoses == (Diagnosis.WRONG_SHAPE,)
    assert words in failed.value.message and "outputs" in failed.value.message


# --- diagnoses that must not mislead ------------------------------------------------------------------


def test_check_gradient_never_passes_above_its_tolerance():
    loss, grad, w = loss_and_grad()
    numeric = numeric_gradient(loss, w)
    noise = np.zeros_like(grad)
    noise[np.argmax(np.abs(numeric))] = 5e-4 * np.max(np.abs(numeric))  # relative error about 3e-4
    relative = np.linalg.norm(noise) / (np.linalg.norm(grad + noise) + np.linalg.norm(numeric))
    assert 1e-4 < relative < 1e-3
    with pytest.raises(CheckFailed) as failed:
        check_gradient(loss, grad + noise, w, tolerance=1e-4)
    assert "relative error" in failed.value.message
    check_gradient(loss, grad + noise, w, tolerance=1e-3)


def test_a_scalar_accuracy_is_never_called_scaled():
    with pytest.raises(CheckFailed) as failed:
        assert_close(0.95, 0.6, name="calculate_accuracy")
    assert Diagnosis.SCALED not in failed.value.diagnoses and "times" not in failed.value.message
    with pytest.raises(CheckFailed) as failed:
        assert_close(-0.6, 0.6, name="calculate_accuracy", ratio=False)
    assert failed.value.diagnoses == ()
    with pytest.raises(CheckFailed) as failed:  # a scalar loss N times too large still says 1/N
        assert_close(0.6 * 32, 0.6, name="the loss", batch_size=32)
    assert failed.value.diagnoses == (Diagnosis.SCALED,) and "1/N" in failed.value.message


def _softmax_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 785))
    Y = np.eye(10)[rng.integers(0, 10, size=20)]
    w = rng.normal(scale=0.05, size=(785, 10))

    def loss(v):
        z = X @ v
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return float(-np.mean(np.sum(Y * np.log(p), axis=1)))

    z = X @ w
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return loss, X.T @ (p - Y) / len(X), w


def test_a_large_gradient_is_checked_along_sampled_directions_not_7850_coordinates():
    loss, grad, w = _softmax_problem()
    calls = []

    def counted(v):
        calls.append(1)
        return loss(v)

    check_gradient(counted, grad, w)
    assert len(calls) <= 2 * 48, len(calls)  # instead of 2 * 7,850


@pytest.mark.parametrize("entry", [0, 1234, 4321, 7849])
def test_a_gradient_wrong_in_one_entry_of_7850_is_still_caught(entry):
    """The sampled check's strength: an error in any single entry fails it, as the full check would."""
    loss, grad, w = _softmax_problem()
    wrong = grad.copy().reshape(-1)
    wrong[entry] += 5e-4 * np.linalg.norm(grad)  # relative error about 2.5e-4 > the tolerance 1e-4
    numeric = numeric_gradient(loss, w)
    full = np.linalg.norm(wrong.reshape(grad.shape) - numeric) / (np.linalg.norm(wrong) + np.linalg.norm(numeric))
    assert full > 1e-4  # the exhaustive check fails it: so must the sampled one
    with pytest.raises(CheckFailed) as failed:
        check_gradient(loss, wrong.reshape(grad.shape), w)
    assert "does not match finite differences" in failed.value.message


def test_a_large_wrong_gradient_keeps_the_full_checks_diagnosis():
    loss, grad, w = _softmax_problem()
    with pytest.raises(CheckFailed) as failed:
        check_gradient(loss, -grad, w, batch_size=20)
    assert failed.value.diagnoses == (Diagnosis.SIGN_FLIPPED,)
