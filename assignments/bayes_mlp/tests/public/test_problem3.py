"""Problem 3: the sigmoid MLP's forward pass, and its gradients against finite differences.

Readings accepted: a1, z1, a2, y_hat as a tuple or a list, each an array, a list or (for a2 and
y_hat, of one element) a float, a 0-d or a 1-element array; gradients in a dict whose values
have the shape of their parameter (b2 as a float or a 1-element array); float32 (tolerance by
precision).
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, check_gradient, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("3.2")
@pytest.mark.points(3)
def test_mlp_forward(student, rng):
    """mlp_forward gives a1, z1, a2 and y_hat"""
    x, _, W1, b1, W2, b2 = C["mlp_point"](rng)
    result = student.mlp_forward(x, W1, b1, W2, b2)
    if not isinstance(result, (list, tuple)) or len(result) != 4:
        fail("mlp_forward should return four values: a1, z1, a2, y_hat", Diagnosis.WRONG_SHAPE)
    a1 = W1 @ x + b1
    z1 = C["sigmoid"](a1)
    a2 = W2 @ z1 + b2
    for got, want, name in zip(result, (a1, z1, a2, C["sigmoid"](a2)), ("a1", "z1", "a2", "y_hat"), strict=True):
        assert_close(got, want, name=name)


def _grads(student, point):
    grads = student.mlp_grads(*point)
    if not isinstance(grads, dict) or not {"W1", "b1", "W2", "b2"} <= set(grads):
        fail("mlp_grads should return a dict with the keys W1, b1, W2, b2", Diagnosis.WRONG_SHAPE)
    return grads


def _check(student, rng, key, position):
    point = list(C["mlp_point"](rng))
    grads = _grads(student, tuple(point))

    def loss(value):
        changed = list(point)
        changed[position] = value
        return C["mlp_loss"](*changed)

    got = grads[key]
    if key == "b2":  # one number: a float, a 0-d or a 1-element array all read as the (1,) gradient
        got = as_result(got, shape=(1,), name=f"the gradient for {key}")
    check_gradient(loss, got, np.asarray(point[position], dtype=float), name=f"the gradient for {key}")


@pytest.mark.task("3.3")
@pytest.mark.points(3)
def test_grad_W1(student, rng):
    """mlp_grads['W1'] matches finite differences"""
    _check(student, rng, "W1", 2)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
def test_grad_b1(student, rng):
    """mlp_grads['b1'] matches finite differences"""
    _check(student, rng, "b1", 3)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
def test_grad_W2(student, rng):
    """mlp_grads['W2'] matches finite differences"""
    _check(student, rng, "W2", 4)


@pytest.mark.task("3.3")
@pytest.mark.points(1)
def test_grad_b2(student, rng):
    """mlp_grads['b2'] matches finite differences"""
    _check(student, rng, "b2", 5)
