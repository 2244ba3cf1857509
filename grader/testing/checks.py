"""Helpers for instructors' tests: tolerant comparison and gradient checking with diagnoses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.model import Diagnosis
from grader.testing.diagnose import as_array, explain, lowest_precision


class CheckFailed(AssertionError):
    """A failed check, with the diagnoses that explain it."""

    def __init__(self, message: str, diagnoses: tuple[Diagnosis, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.diagnoses = diagnoses


def fail(message: str, *diagnoses: Diagnosis) -> None:
    """Fail the test with a message for the student and the diagnosis codes that fit."""
    raise CheckFailed(message, tuple(diagnoses))


# Tolerances by the precision of what the student returned: (rtol, atol as a fraction of the
# largest expected magnitude). float64 stays tight; float32 allows the rounding of a correct
# float32 computation (about 1e-7 per operation, summed over hundreds of terms) and still fails
# a result off by 1e-3 relative.
PRECISION_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-6, 1e-9),
    "float32": (5e-5, 5e-5),
    "float16": (5e-3, 5e-3),
}


def tolerances(
    actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None, precision: Any = "auto"
) -> tuple[float, float]:
    """The (rtol, atol) `assert_close` uses: see its docstring."""
    dtype = lowest_precision(actual) if precision == "auto" else np.dtype(precision)
    key = dtype.name if dtype.name in PRECISION_TOLERANCES else "float64"
    auto_rtol, atol_fraction = PRECISION_TOLERANCES[key]
    want = as_array(expected)
    magnitudes = np.abs(want[np.isfinite(want)]) if want is not None else np.zeros(0)
    scale = float(magnitudes.max()) if magnitudes.size and magnitudes.max() > 0 else 1.0
    auto_atol = atol_fraction * scale
    if key == "float64":
        return (auto_rtol if rtol is None else rtol, auto_atol if atol is None else atol)
    return (max(auto_rtol, rtol or 0.0), max(auto_atol, atol or 0.0))


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    precision: Any = "auto",
    name: str = "the result",
    regularization: Any = None,
    batch_size: int | None = None,
    ratio: bool = True,
) -> None:
    """Pass when `actual` equals `expected` within a tolerance fit for its precision; else fail with a diagnosis.

    `actual` is coerced as `as_result` does (lists, tuples, 0-d and 1-element arrays, mixed,
    any float dtype). Tolerances:

    - `precision="auto"` (the default) reads the least precise float dtype in `actual`
      (`lowest_precision`); pass a dtype (`np.float32`, or `lowest_precision(raw)` when the
      test has already converted the student's result) to say it explicitly.
    - `rtol=None` / `atol=None` (the default) choose them from that precision: float64
      rtol 1e-6 and atol 1e-9 times the largest magnitude in `expected` (1 when it is all
      zeros); float32 rtol 5e-5 and atol 5e-5 times that magnitude; float16 5e-3 and 5e-3.
      An explicit `rtol` or `atol` is used as given for float64 results and widened to at
      least the automatic value for less precise ones, so no test can forget float32.

    `regularization` (the expected regularization term) and `batch_size` let the diagnosis
    recognise a missing L2 term or a missing 1/N. `ratio=False` says that a ratio of the
    result to the right one means nothing (an accuracy, a count): no `scaled` or
    `sign_flipped` diagnosis is given then.
    """
    rtol, atol = tolerances(actual, expected, rtol=rtol, atol=atol, precision=precision)
    explanation = explain(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        name=name,
        regularization=regularization,
        batch_size=batch_size,
        ratio=ratio,
    )
    if explanation is not None:
        raise CheckFailed(explanation.message, explanation.diagnoses)


def as_result(value: Any, *, shape: tuple[int | None, ...] | None = None, name: str = "the result") -> np.ndarray:
    """What the student returned as a float64 array; the one coercion every test applies to results.

    Accepts Python and NumPy scalars, lists and tuples (nested, and mixing 0-d with
    1-element arrays), arrays of any numeric or bool dtype (float32 included). With `shape`
    (ints, or None for any length) the result is reshaped to it when only singleton axes
    differ (`(N,)`, `(N, 1)` and `(1, N)` for `(N, 1)`; `[x]`, `[[x]]` for `()`); a result
    of another size fails with `wrong_shape`, naming its shape. Not numeric (None, a string,
    a dict, a ragged list) fails with `wrong_shape` naming its type.
    """
    array = as_array(value)
    if array is None:
        fail(f"{name} should be a number or an array, but it is a {type(value).__name__}", Diagnosis.WRONG_SHAPE)
        raise AssertionError("unreachable")
    if array.dtype.kind == "c":
        if np.any(array.imag != 0):
            fail(f"{name} holds complex numbers", Diagnosis.WRONG_SHAPE)
        array = array.real.astype(np.float64)
    if shape is None:
        return array
    if _fits(array.shape, shape):
        return array
    squeezed = tuple(n for n in array.shape if n != 1)
    wanted = tuple(n for n in shape if n != 1)
    if len(squeezed) == len(wanted) and all(w is None or w == n for n, w in zip(squeezed, wanted, strict=True)):
        full = iter(squeezed)
        return array.reshape(tuple(1 if n == 1 else next(full) for n in shape))
    described = "(" + ", ".join("any" if n is None else str(n) for n in shape) + (",)" if len(shape) == 1 else ")")
    fail(f"{name} has shape {array.shape}, but shape {described} was expected", Diagnosis.WRONG_SHAPE)
    raise AssertionError("unreachable")


def as_number(value: Any, *, name: str = "the result") -> float:
    """What the student returned as one float: a number, a 0-d or a 1-element array or list."""
    return float(as_result(value, shape=(), name=name))


def _fits(actual: tuple[int, ...], wanted: tuple[int | None, ...]) -> bool:
    return len(actual) == len(wanted) and all(w is None or w == n for n, w in zip(actual, wanted, strict=True))


def numeric_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function at `x` (host-side, on a copy)."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        up = _scalar(f(x.copy()))
        x[index] = saved - eps
        down = _scalar(f(x.copy()))
        x[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


SAMPLED_ABOVE = 96  # entries above which the gradient is checked along sampled directions first
DIRECTIONS = 24
COORDINATES = 24


def _sampled_check_passes(f: Callable[[np.ndarray], Any], analytic: Any, x: np.ndarray, eps: float,
                          tolerance: float) -> bool:
    """The relative error along random sign directions and sampled coordinates is within `tolerance`."""
    point = np.array(x, dtype=float)
    got = as_array(analytic)
    if point.size <= SAMPLED_ABOVE or got is None or got.shape != point.shape or not np.all(np.isfinite(got)):
        return False
    rng = np.random.default_rng(0)  # fixed: the same directions every run, for every student
    signs = rng.choice((-1.0, 1.0), size=(DIRECTIONS, point.size)) / np.sqrt(point.size)
    units = np.zeros((COORDINATES, point.size))
    units[np.arange(COORDINATES), rng.choice(point.size, size=COORDINATES, replace=False)] = 1.0
    directions = np.vstack([signs, units])
    flat = point.reshape(-1)
    numeric = np.array([
        (_scalar(f((flat + eps * d).reshape(point.shape))) - _scalar(f((flat - eps * d).reshape(point.shape)))) / (2 * eps)
        for d in directions
    ])
    projected = directions @ got.reshape(-1).real
    scale = float(np.linalg.norm(projected) + np.linalg.norm(numeric)) or 1.0
    return float(np.linalg.norm(projected - numeric)) / scale <= tolerance


def _scalar(value: Any) -> float:
    array = as_array(value)
    if array is None or array.size != 1:
        raise CheckFailed("the loss should be a single number", (Diagnosis.WRONG_SHAPE,))
    return float(array.reshape(()).real)


def check_gradient(
    f: Callable[[np.ndarray], Any],
    analytic: Any,
    x: np.ndarray,
    *,
    eps: float = 1e-6,
    tolerance: float = 1e-4,
    name: str = "the gradient",
    batch_size: int | None = None,
) -> np.ndarray | None:
    """Compare an analytic gradient with central finite differences of `f` at `x` (relative error).

    Fails with a diagnosis (`sign_flipped`, `scaled`, `transposed`, `wrong_shape`, `nan_or_inf`)
    when the relative error exceeds `tolerance`.

    For more than `SAMPLED_ABOVE` entries the check first looks along `DIRECTIONS` random sign
    vectors (each entry +-1/sqrt(n)) and `COORDINATES` sampled coordinates: 2 x 48 evaluations of `f`
    instead of 2 n (15,700 for a 785 x 10 weight matrix). Its strength: an error e in any single
    entry moves every random-sign projection by exactly e/sqrt(n), and a correct gradient's projection
    is of size |g|/sqrt(n), so the relative error it measures is about e/|g|, as the full check's is;
    a wrong gradient is caught there as surely as by the full check (a test plants an error in one
    entry of 7,850). Only when that check fails is the full gradient computed, so that every failure
    gets the same verdict and diagnosis as the exhaustive check. Returns the numeric gradient (the
    full one, or None when the sampled check passed).
    """
    if _sampled_check_passes(f, analytic, x, eps, tolerance):
        return None
    numeric = numeric_gradient(f, x, eps)
    got = as_array(analytic)
    relative = None
    if got is not None and got.shape == numeric.shape and np.all(np.isfinite(got)):
        scale = float(np.linalg.norm(got) + np.linalg.norm(numeric)) or 1.0
        relative = float(np.linalg.norm(got - numeric)) / scale
        if relative <= tolerance:
            return numeric
    # Only the diagnosis uses an element-wise comparison, with the same tolerance: the verdict
    # is the relative error above, never a looser fallback.
    magnitude = float(np.max(np.abs(numeric))) if numeric.size else 0.0
    explanation = explain(
        analytic, numeric, rtol=tolerance, atol=tolerance * (magnitude or 1.0), name=name, batch_size=batch_size
    )
    if explanation is not None and explanation.diagnoses:
        raise CheckFailed(explanation.message, explanation.diagnoses)
    detail = f"relative error {relative:.3g} > {tolerance:g}" if relative is not None else "it is not comparable"
    raise CheckFailed(f"{name} does not match finite differences of the loss ({detail})")
