"""Helpers for instructors' tests: tolerant comparison and gradient checking with diagnoses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.model import Diagnosis
from grader.testing.diagnose import as_array, explain


class CheckFailed(AssertionError):
    """A failed check, with the diagnoses that explain it."""

    def __init__(self, message: str, diagnoses: tuple[Diagnosis, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.diagnoses = diagnoses


def fail(message: str, *diagnoses: Diagnosis) -> None:
    """Fail the test with a message for the student and the diagnosis codes that fit."""
    raise CheckFailed(message, tuple(diagnoses))


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    name: str = "the result",
    regularization: Any = None,
    batch_size: int | None = None,
) -> None:
    """Pass when `actual` equals `expected` within tolerance; else fail with a diagnosis.

    Lists, 0-d and 1-element arrays and float32 are accepted where a float or
    array is expected. `regularization` (the expected regularization term) and
    `batch_size` let the diagnosis recognise a missing L2 term or a missing 1/N.
    """
    explanation = explain(
        actual, expected, rtol=rtol, atol=atol, name=name, regularization=regularization, batch_size=batch_size
    )
    if explanation is not None:
        raise CheckFailed(explanation.message, explanation.diagnoses)


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
) -> np.ndarray:
    """Compare an analytic gradient with central finite differences of `f` at `x` (relative error).

    Returns the numeric gradient. Fails with a diagnosis (`sign_flipped`, `scaled`,
    `transposed`, `wrong_shape`, `nan_or_inf`) when the relative error exceeds `tolerance`.
    """
    numeric = numeric_gradient(f, x, eps)
    got = as_array(analytic)
    if got is not None and got.shape == numeric.shape:
        scale = float(np.linalg.norm(got) + np.linalg.norm(numeric)) or 1.0
        relative = float(np.linalg.norm(got - numeric)) / scale
        if relative <= tolerance:
            return numeric
    explanation = explain(analytic, numeric, rtol=10 * tolerance, atol=1e-7, name=name, batch_size=batch_size)
    if explanation is None:
        return numeric
    message = explanation.message
    if not explanation.diagnoses:
        message = f"{name} does not match finite differences of the loss ({message.split(': ', 1)[-1]})"
    raise CheckFailed(message, explanation.diagnoses)
