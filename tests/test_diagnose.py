"""Diagnoses of a wrong numeric result: each relation built by hand, then recognised (and only that one)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing.diagnose import as_array, explain

SIGN, SCALED, SHAPE = Diagnosis.SIGN_FLIPPED, Diagnosis.SCALED, Diagnosis.WRONG_SHAPE
TRANSPOSED, NAN, REG = Diagnosis.TRANSPOSED, Diagnosis.NAN_OR_INF, Diagnosis.MISSING_REGULARIZATION


def right(shape=(6,), seed=0) -> np.ndarray:
    """A right result with no zero, no repeated value and no symmetry, so that no relation holds by accident."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def why(actual, expected, **options):
    options.setdefault("rtol", 1e-5)
    options.setdefault("atol", 1e-8)
    return explain(actual, expected, **options)


@pytest.mark.parametrize("factor", [-2.0, -3.0, -0.5, -10.0, -1 / 32])
def test_a_negative_factor_is_both_sign_flipped_and_scaled(factor):
    want = right()
    explanation = why(factor * want, want)
    assert explanation is not None
    assert explanation.diagnoses == (SIGN, SCALED)
    assert "wrong sign" in explanation.message and "constant factor" in explanation.message
    assert f"{-factor:.4g}" in explanation.message  # the size of the factor, without its sign


def test_minus_twice_the_result_says_factor_2_and_minus_n_says_n():
    want = right((4, 3))
    assert "it is 2 times the right result (a factor 2 in a derivative?)" in why(-2 * want, want).message
    message = why(-32 * want, want, batch_size=32).message
    assert "N = 32 times" in message and "wrong sign" in message
    message = why(-want / 32, want, batch_size=32).message
    assert "1/N = 1/32 times" in message and "wrong sign" in message


@pytest.mark.parametrize("shape", [(), (1,), (6,), (3, 4), (2, 3, 2)])
def test_the_negative_is_sign_flipped_only(shape):
    want = right(shape)
    explanation = why(-want, want)
    assert explanation is not None and explanation.diagnoses == (SIGN,)
    assert "negative of the right result" in explanation.message


def test_a_negative_within_tolerance_is_still_sign_flipped():
    want = right()
    assert why(-want * (1 + 1e-7), want).diagnoses == (SIGN,)
    assert why(-want * (1 + 1e-3), want, rtol=1e-2).diagnoses == (SIGN,)


def test_zero_for_a_zero_result_is_right_and_the_negative_of_zero_is_not_sign_flipped():
    assert why(np.zeros(4), np.zeros(4)) is None
    assert why(-np.zeros(4), np.zeros(4)) is None
    explanation = why(np.ones(4), np.zeros(4))
    assert explanation is not None and SIGN not in explanation.diagnoses and SCALED not in explanation.diagnoses


@pytest.mark.parametrize("factor", [2.0, 3.0, 0.5, 1.5, 100.0])
def test_a_positive_factor_is_scaled_only(factor):
    want = right()
    explanation = why(factor * want, want)
    assert explanation is not None and explanation.diagnoses == (SCALED,)
    assert "wrong sign" not in explanation.message and "constant factor" in explanation.message


def test_the_batch_size_names_a_missing_or_extra_one_over_n():
    want = right((5, 2))
    missing = why(32 * want, want, batch_size=32)
    assert missing.diagnoses == (SCALED,) and "did you forget to average over the batch, 1/N?" in missing.message
    extra = why(want / 32, want, batch_size=32)
    assert extra.diagnoses == (SCALED,) and "divided by the batch size once too often?" in extra.message
    assert "1/N" not in why(3 * want, want, batch_size=32).message
    assert "it is 3 times the right result (in size)" in why(3 * want, want, batch_size=32).message
    assert "it is 0.5 times the right result (a factor 2" in why(want / 2, want).message


def test_a_factor_with_noise_on_top_is_not_scaled():
    want = right()
    noisy = 2 * want + np.linspace(-0.3, 0.3, want.size)
    explanation = why(noisy, want)
    assert explanation is not None and explanation.diagnoses == ()
    difference = float(np.max(np.abs(noisy - want)))
    assert f"the largest difference from the right result is {difference:.3g}" in explanation.message


def test_a_result_that_matches_within_tolerance_has_no_explanation():
    want = right((3, 3))
    assert why(want, want) is None
    assert why(want * (1 + 1e-7), want) is None
    assert why(want + 0.005, want, rtol=0, atol=0.01) is None
    assert why(want + 0.02, want, rtol=0, atol=0.01) is not None
    assert why(want * 1.005, want, rtol=0.01, atol=0) is None
    assert why(want.tolist(), want) is None
    assert why(want.astype(np.float32), want) is None


def test_a_tolerance_factor_is_not_called_scaled():
    want = right()
    explanation = why(want * (1 + 2e-7), want, rtol=1e-8, atol=0)  # wrong at this tolerance, but no factor to name
    assert explanation is not None and explanation.diagnoses == ()


def test_transposed_results_are_recognised_square_or_not():
    rectangle = right((4, 3))
    assert why(rectangle.T, rectangle).diagnoses == (TRANSPOSED,)
    assert "has shape (3, 4): it is the transpose" in why(rectangle.T, rectangle).message
    square = right((3, 3), seed=4)
    explanation = why(square.T, square)
    assert explanation.diagnoses == (TRANSPOSED,) and "is the transpose of the right result" in explanation.message


def test_a_wrong_shape_is_named_with_both_shapes():
    want = right((4, 3))
    explanation = why(want[:, :2], want)
    assert explanation.diagnoses == (SHAPE,)
    assert "has shape (4, 2), but shape (4, 3) was expected" in explanation.message
    assert why(want.ravel(), want).diagnoses == (SHAPE,)
    assert why(right((3, 4)), want).diagnoses == (SHAPE,)  # the right shape transposed, but not the transpose


@pytest.mark.parametrize("value", [[[1.0]], np.array([2.0]), [3.0], 4, np.float32(5.0), True])
def test_one_number_in_any_wrapping_is_compared_as_a_number(value):
    number = float(np.asarray(value, dtype=float).ravel()[0])
    assert why(value, number) is None
    assert why(value, [number]) is None


def test_what_is_not_a_number_is_a_wrong_shape_and_an_expected_non_number_is_the_instructors_error():
    for value in ("0.5", None, {"a": 1}, object(), [1.0, "x"]):
        explanation = why(value, 0.5)
        assert explanation.diagnoses == (SHAPE,) and "should be a number or an array" in explanation.message
    with pytest.raises(TypeError, match="the expected value for the loss is not numeric"):
        why(0.5, "0.5", name="the loss")


def test_nan_and_inf_are_counted_unless_expected():
    want = right()
    got = want.copy()
    got[[1, 3]] = np.nan, np.inf
    explanation = why(got, want)
    assert explanation.diagnoses == (NAN,) and "holds 2 NaN or infinite value(s)" in explanation.message
    expected_inf = want.copy()
    expected_inf[0] = np.inf
    assert why(expected_inf, expected_inf) is None  # an infinity where one is expected is not a NaN finding
    assert why(-expected_inf, expected_inf).diagnoses == (SIGN,)


def test_a_missing_regularization_term_and_the_other_conventions():
    want, w = right((4, 3)), right((4, 3), seed=7)
    term = 0.1 * w
    assert why(want - term, want, regularization=term).diagnoses == (REG,)
    assert "lacks the regularization term" in why(want - term, want, regularization=term).message
    for factor, convention in ((2.0, "2 lambda w"), (0.5, "lambda w / 2")):
        explanation = why(want - term + factor * term, want, regularization=term)
        assert explanation.diagnoses == (REG,) and f"uses the regularization term {convention}" in explanation.message
    assert REG not in why(want - term, want, regularization=np.zeros_like(term)).diagnoses  # a zero term names nothing
    assert REG not in why(want - term, want, regularization=term[:2]).diagnoses  # a term of another shape
    assert REG not in why(want - term, want).diagnoses
    assert REG not in why(want + 3 * term, want, regularization=term).diagnoses


def test_the_name_and_no_expected_value_appear_in_messages():
    want = np.array([123.456, -789.012, 4.5])
    for got in (-want, 2 * want, -2 * want, want + 1, want[:2], want[::-1]):
        message = why(got, want, name="the gradient").message
        assert message.startswith("the gradient ")
        assert "123.4" not in message and "789" not in message


def test_complex_results_are_compared_as_complex_numbers():
    want = right() + 1j * right(seed=3)
    assert why(want, want) is None
    assert why(-want, want).diagnoses == (SIGN,)
    assert why(want.real, want) is not None


def test_as_array_reads_numbers_and_refuses_the_rest():
    assert as_array(True).dtype == np.float64 and float(as_array(True)) == 1.0
    assert as_array(3).dtype == np.float64 and as_array(np.int8(3)).shape == ()
    assert as_array([[1, 2], [3, 4]]).shape == (2, 2)
    assert as_array((1.5, 2.5)).tolist() == [1.5, 2.5]
    assert as_array(np.array([1 + 2j])).dtype == np.complex128
    assert as_array(np.array([1, 2], dtype=np.int32)).dtype == np.float64
    for value in ("1", None, [1, "a"], np.array(["a"]), np.array([object()], dtype=object), {1: 2}):
        assert as_array(value) is None


# ---------------------------------------------------------------- edges each branch depends on


def test_the_negative_of_all_ones_is_sign_flipped():
    assert why(-np.ones(3), np.ones(3)).diagnoses == (SIGN,)
    assert why(-np.ones((2, 2)), np.ones((2, 2))).diagnoses == (SIGN,)


def test_a_transpose_is_named_for_matrices_only():
    cube = right((2, 3, 2), seed=5)
    explanation = why(cube.transpose(), cube)  # the same shape reversed, but a 3-d array has no "transpose"
    assert explanation is not None and TRANSPOSED not in explanation.diagnoses


def test_a_regularization_term_of_all_ones_is_recognised():
    want = right((3, 2))
    assert why(want - np.ones((3, 2)), want, regularization=np.ones((3, 2))).diagnoses == (REG,)


def test_a_single_number_is_scaled_only_by_the_batch_size():
    want = 1.7
    for got in (want / 32, -want / 32, want * 32):
        explanation = why(got, want, batch_size=32)
        assert explanation is not None and SCALED in explanation.diagnoses, got
    for got in (want * 0.05, want * 3, want * 1.5, want * 2):  # two numbers always differ by some factor
        explanation = why(got, want, batch_size=32)
        assert explanation is not None and explanation.diagnoses == (), got
    assert why(want * 3, want).diagnoses == ()


def test_factors_near_the_batch_size_or_two_are_described_as_plain_factors():
    want = right()
    message = why(0.05 * want, want, batch_size=32).message
    assert "it is 0.05 times the right result (in size)" in message
    assert "it is 1.5 times the right result (in size)" in why(1.5 * want, want).message
    assert "it is 1.5 times the right result (in size)" in why(1.5 * want, want, batch_size=32).message


def test_the_default_name_is_the_result_and_a_non_number_names_its_type():
    assert why(-right(), right()).message.startswith("the result has the wrong sign")
    assert why("3", 3.0).message == "the result should be a number or an array, but it is a str"


def test_one_expected_number_against_several_is_a_wrong_shape():
    assert why([1.0, 2.0, 3.0], [1.0]).diagnoses == (SHAPE,)
    assert why([1.0], [1.0, 2.0]).diagnoses == (SHAPE,)


def test_without_a_ratio_no_sign_or_factor_is_named():
    want = right()
    for got in (-want, 2 * want, want + 1):
        explanation = why(got, want, ratio=False)
        error = float(np.max(np.abs(got - want)))
        assert explanation.diagnoses == ()
        assert explanation.message == f"the result is wrong: it differs from the right result by {error:.3g}"
    assert why(want, want, ratio=False) is None


def test_as_array_keeps_the_shape_of_a_list_of_arrays_and_reads_an_empty_list():
    assert as_array([np.array([1.0]), np.array([2.0])]).shape == (2, 1)
    assert as_array([np.array(1.0), np.array([2.0])]).tolist() == [1.0, 2.0]  # mixed 0-d and 1-element: numbers
    assert as_array([]).shape == (0,)
    assert why([], []) is None


def test_as_array_reads_nesting_30_deep_and_refuses_40():
    def deep(levels):
        value = 1.0
        for _ in range(levels):
            value = [value]
        return value

    assert as_array(deep(30)).shape == (1,) * 30
    assert as_array(deep(40)) is None


def test_lowest_precision_finds_the_least_precise_float_anywhere_in_the_result():
    from grader.testing.diagnose import lowest_precision

    f16, f32, f64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
    assert lowest_precision(np.zeros(2, dtype=np.float32)) == f32
    assert lowest_precision([np.float64(1.0), np.zeros(2, dtype=np.float32)]) == f32
    assert lowest_precision([np.zeros(1), (np.float16(1.0),), np.float32(2.0)]) == f16
    assert lowest_precision(np.zeros(2, dtype=np.complex64)) == f32
    assert lowest_precision(np.complex128(1j)) == f64
    assert lowest_precision([1, 2.0, True, np.int32(3)]) == f64
    assert lowest_precision([]) == f64
    half = np.float16(1.0)
    for _ in range(20):
        half = [half]
    assert lowest_precision(half) == f16  # found 20 levels deep
    for _ in range(20):
        half = [half]
    assert lowest_precision(half) == f64  # 40 levels deep is past the recursion guard: not looked at
