"""Tasks 1a and 1b: the gradients of both models against finite differences of the cross-entropy.

The losses are written out here (they are the handout's definitions), so that these tests
need no reference on a student's machine. `backward` is fed the handout's outputs
(sigmoid or softmax of X w, computed here), not the student's own `forward`: a mistake in
`forward` is graded in 2a/3a only, and a forward and a backward whose sign errors cancel
(the starter's own gradient check passes them) show here as `sign_flipped`.

Readings accepted by every test here: any float dtype (float32 included: tolerances follow
the precision of the returned gradient), `grad` as an array, a list or a tuple of rows (of
the shape of w), and a `backward` that ignores `outputs` and calls its own correct `forward`.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.testing import assert_close, check_gradient

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


def binary_cross_entropy(targets, outputs):
    return float(np.mean(-(targets * np.log(outputs) + (1 - targets) * np.log(1 - outputs))))


def softmax_cross_entropy(targets, outputs):
    return float(np.mean(-np.sum(targets * np.log(outputs), axis=1)))


def student_gradient(model, X, outputs, Y):
    """`backward` on the handout's outputs; the gradient it sets, as returned (the checks coerce it).

    Its shape must be the shape of w exactly: a (785,) gradient broadcasts against a
    (785, 1) w into a (785, 785) update, so it is not another reading of the handout.
    """
    model.backward(X, outputs, Y)
    return model.grad


@pytest.mark.task("1a")
@pytest.mark.points(6)
def test_binary_gradient_matches_finite_differences(student, data, rng):
    """BinaryModel.backward matches finite differences of the cross-entropy

    `backward` is given the handout's outputs, sigmoid(X w).
    """
    X = data["binary"]["pre"]["X_train"][:24]
    Y = data["binary"]["pre"]["Y_train"][:24]
    w = rng.normal(scale=0.05, size=(785, 1))
    model = student.task2a.BinaryModel()
    model.w = w
    raw = student_gradient(model, X, C["sigmoid"](X @ w), Y)

    def loss(v):
        return binary_cross_entropy(Y, C["sigmoid"](X @ v))

    check_gradient(loss, raw, w, batch_size=len(X), name="BinaryModel.grad")


@pytest.mark.task("1b")
@pytest.mark.points(4)
def test_softmax_gradient_matches_finite_differences(student, data, rng):
    """SoftmaxModel(0).backward matches finite differences of the cross-entropy

    `backward` is given the handout's outputs, softmax(X w).
    """
    X = data["multi"]["pre"]["X_train"][:20]
    Y = C["one_hot"](data["multi"]["pre"]["Y_train"][:20])
    w = rng.normal(scale=0.05, size=(785, 10))
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    raw = student_gradient(model, X, C["softmax"](X @ w), Y)

    def loss(v):
        return softmax_cross_entropy(Y, C["softmax"](X @ v))

    check_gradient(loss, raw, w, batch_size=len(X), name="SoftmaxModel.grad")


@pytest.mark.task("1b")
@pytest.mark.points(3)
def test_softmax_gradient_equals_reference(student, expected, rng):
    """SoftmaxModel(0).backward equals the reference on random inputs"""
    X = np.concatenate([rng.uniform(-1, 1, size=(32, 784)), np.ones((32, 1))], axis=1)
    Y = C["one_hot"](rng.integers(0, 10, size=(32, 1)))
    w = rng.normal(scale=0.1, size=(785, 10))
    outputs = C["softmax"](X @ w)

    def reference_gradient(reference):
        model = reference.task3a.SoftmaxModel(0.0)
        model.w = w
        model.backward(X, outputs, Y)
        return model.grad

    want = expected("grad", reference_gradient)
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    raw = student_gradient(model, X, outputs, Y)
    assert_close(raw, want, name="SoftmaxModel.grad", batch_size=32)
