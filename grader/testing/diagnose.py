"""Explain a wrong numeric result with the contract's diagnosis codes.

Given what the student returned and what was expected, find the simple relation
between them that a student can act on: the wrong shape, a NaN, the opposite sign,
a constant factor (a missing 1/N), a transpose, a missing regularization term.
Messages describe the student's result and the size of the error, never the
expected value itself, so that hidden tests reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.model import Diagnosis


@dataclass(frozen=True)
class Explanation:
    """Diagnoses and a sentence for a student."""

    diagnoses: tuple[Diagnosis, ...]
    message: str


def as_array(value: Any) -> np.ndarray | None:
    """A float64 (or complex128) array from what the student returned, or None when it is not numeric.

    Accepts Python and NumPy scalars, 0-d and n-d arrays of any numeric or bool dtype, and
    lists or tuples of those, nested. A list whose items have ragged shapes only because
    some items are 0-d and others 1-element arrays (``[np.array(1.0), np.array([2.0])]``)
    is read as the list of those numbers.
    """
    array = _numeric(value)
    if array is None:
        return None
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def lowest_precision(value: Any) -> np.dtype:
    """The least precise floating dtype in what the student returned: float16, float32 or float64.

    Integers, bools and Python floats count as float64: they carry no rounding of their own.
    complex64 counts as float32.
    """
    found: list[np.dtype] = []
    _collect_float_dtypes(value, found, depth=0)
    return max(found, key=lambda dtype: float(np.finfo(dtype).eps), default=np.dtype(np.float64))


def _collect_float_dtypes(value: Any, found: list[np.dtype], depth: int) -> None:
    if depth > 32:
        return
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc":
        bits = value.dtype.itemsize * 8 // (2 if value.dtype.kind == "c" else 1)
        found.append(np.dtype({16: np.float16, 32: np.float32}.get(bits, np.float64)))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_float_dtypes(item, found, depth + 1)


def _numeric(value: Any, depth: int = 0) -> np.ndarray | None:
    if depth > 32:
        return None
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biufc" else None
    if not isinstance(value, (list, tuple)):
        return None
    items = [_numeric(item, depth + 1) for item in value]
    if any(item is None for item in items):
        return None
    arrays = [item for item in items if item is not None]
    shapes = {item.shape for item in arrays}
    if len(shapes) > 1 and all(item.size == 1 for item in arrays):
        arrays = [item.reshape(()) for item in arrays]  # mixed 0-d and 1-element arrays: a list of numbers
    try:
        return np.asarray(np.stack(arrays)) if arrays else np.zeros(0)
    except ValueError:
        return None


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def explain(
    actual: Any,
    expected: Any,
    *,
    rtol: float,
    atol: float,
    name: str = "the result",
    regularization: Any = None,
    batch_size: int | None = None,
    ratio: bool = True,
) -> Explanation | None:
    """None when `actual` matches `expected`; otherwise what is wrong, in the contract's codes.

    `ratio=False` is for quantities whose ratio to the right value means nothing (an
    accuracy, a count): no `sign_flipped` or `scaled` then. For a single number a constant
    factor is always there, so `scaled` is given only when it is the batch size N or 1/N.
    """
    want = as_array(expected)
    if want is None:
        raise TypeError(f"the expected value for {name} is not numeric")
    got = as_array(actual)
    if got is None:
        kind = type(actual).__name__
        return Explanation((Diagnosis.WRONG_SHAPE,), f"{name} should be a number or an array, but it is a {kind}")
    if want.size == 1 and got.size == 1:
        got, want = got.reshape(()), want.reshape(())
    if got.shape != want.shape:
        if got.ndim == 2 and got.T.shape == want.shape and _close(got.T, want, rtol, atol):
            return Explanation((Diagnosis.TRANSPOSED,), f"{name} has shape {got.shape}: it is the transpose of the right result")
        return Explanation((Diagnosis.WRONG_SHAPE,), f"{name} has shape {got.shape}, but shape {want.shape} was expected")
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        bad = int(np.size(got) - np.count_nonzero(np.isfinite(got)))
        return Explanation((Diagnosis.NAN_OR_INF,), f"{name} holds {bad} NaN or infinite value(s)")
    if _close(got, want, rtol, atol):
        return None
    if not ratio:
        error = float(np.max(np.abs(got - want))) if got.size else 0.0
        return Explanation((), f"{name} is wrong: it differs from the right result by {error:.3g}")
    return _relation(got, want, rtol, atol, name, regularization, batch_size)


def _relation(
    got: np.ndarray, want: np.ndarray, rtol: float, atol: float, name: str, regularization: Any, batch_size: int | None
) -> Explanation:
    error = float(np.max(np.abs(got - want))) if got.size else 0.0
    plain = f"{name} is wrong: the largest difference from the right result is {error:.3g}"
    if np.any(want != 0) and _close(-got, want, rtol, atol):
        return Explanation((Diagnosis.SIGN_FLIPPED,), f"{name} has the wrong sign: it is the negative of the right result")
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, want, rtol, atol):
        return Explanation((Diagnosis.TRANSPOSED,), f"{name} is the transpose of the right result")
    if regularization is not None:
        term = as_array(regularization)
        if term is not None and term.shape == want.shape and np.any(term != 0):
            if _close(got, want - term, rtol, atol):
                return Explanation(
                    (Diagnosis.MISSING_REGULARIZATION,), f"{name} lacks the regularization term (the gradient of the L2 penalty)"
                )
            for factor, convention in ((2.0, "2 lambda w"), (0.5, "lambda w / 2")):
                if _close(got, want - term + factor * term, rtol, atol):
                    return Explanation(
                        (Diagnosis.MISSING_REGULARIZATION,),
                        f"{name} uses the regularization term {convention}; this assignment's convention differs",
                    )
    scaled = _scale_factor(got, want, rtol, atol)
    if scaled is not None and got.size == 1 and not _is_batch_factor(abs(scaled), batch_size):
        scaled = None  # two numbers always differ by some factor: only N or 1/N tells the student something
    if scaled is not None and scaled < 0:
        return Explanation(
            (Diagnosis.SIGN_FLIPPED, Diagnosis.SCALED),
            f"{name} has the wrong sign and is off by a constant factor: {_describe_factor(-scaled, batch_size)}",
        )
    if scaled is not None:
        return Explanation((Diagnosis.SCALED,), f"{name} is off by a constant factor: {_describe_factor(scaled, batch_size)}")
    return Explanation((), plain)


def _scale_factor(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> float | None:
    norm = float(np.vdot(want, want).real)
    if norm == 0.0:
        return None
    factor = float(np.vdot(want, got).real) / norm
    if abs(factor) < 1e-12 or abs(factor - 1.0) < 1e-6 or abs(factor + 1.0) < 1e-6:
        return None
    return factor if _close(got, factor * want, rtol, atol) else None


def _is_batch_factor(factor: float, batch_size: int | None) -> bool:
    if not batch_size:
        return False
    return abs(factor * batch_size - 1.0) < 1e-3 or abs(factor / batch_size - 1.0) < 1e-3


def _describe_factor(factor: float, batch_size: int | None) -> str:
    if batch_size:
        if abs(factor * batch_size - 1.0) < 1e-3:
            return f"it is 1/N = 1/{batch_size} times the right result (divided by the batch size once too often?)"
        if abs(factor / batch_size - 1.0) < 1e-3:
            return f"it is N = {batch_size} times the right result (did you forget to average over the batch, 1/N?)"
    if abs(factor - 2.0) < 1e-6 or abs(factor - 0.5) < 1e-6:
        return f"it is {factor:g} times the right result (a factor 2 in a derivative?)"
    return f"it is {factor:.4g} times the right result (in size)"
