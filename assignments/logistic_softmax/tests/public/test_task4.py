"""Task 4: the L2 term of the softmax gradient and its effect on the trained weights.

4b-4e train the student's L2 SoftmaxModel (from task4*.py when the hand-in has one) with
a fixed instructor loop (tests/training.py `plain_descent`), so that a trainer's bug is
graded in 2b/2d/3b only.
"""

import functools
import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("4a")
@pytest.mark.points(8)
def test_l2_term_of_the_gradient(student, data, settings, rng):
    """SoftmaxModel(lambda).backward adds the L2 term to the gradient"""
    X = data["multi"]["pre"]["X_train"][:32]
    Y = C["one_hot"](data["multi"]["pre"]["Y_train"][:32])
    w = rng.normal(scale=0.1, size=(785, 10))
    lam = 0.3
    grads = []
    for value in (0.0, lam):
        model = student.task3a.SoftmaxModel(value)
        model.w = w
        model.backward(X, model.forward(X), Y)
        grads.append(np.asarray(model.grad, dtype=float))
    term = C["l2_factor"](settings) * lam * w
    # grad(lambda) - grad(0): only the L2 term, whatever the rest of the gradient (task 1b) does
    assert_close(grads[1] - grads[0], term, rtol=1e-6, atol=1e-9, name="the L2 term of the gradient",
                 regularization=term)


def _settings_key(settings):
    return (float(settings["multi_learning_rate"]), int(settings["multi_batch_size"]), int(settings["multi_epochs"]))


@functools.cache
def _reference_weights(model_cls, lam, key, data_id):
    learning_rate, batch_size, epochs = key
    pre = _DATA[data_id]["multi"]["pre"]
    model = model_cls(lam)
    return C["host"]["plain_descent"](model, learning_rate, batch_size, pre["X_train"],
                                      C["one_hot"](pre["Y_train"]), epochs)


_DATA = {}


def reference_weights(reference, data, settings, lam):
    _DATA[id(data)] = data
    return _reference_weights(reference.task3a.SoftmaxModel, float(lam), _settings_key(settings), id(data))


def student_weights(student, data, settings, lam):
    T = C["worker_training"](student)
    pre = data["multi"]["pre"]
    learning_rate, batch_size, epochs = _settings_key(settings)
    w = T.plain_descent(student.task3a.SoftmaxModel(float(lam)), learning_rate, batch_size, pre["X_train"],
                        C["one_hot"](pre["Y_train"]), epochs)
    w = np.asarray(w, dtype=float)
    if w.shape != (785, 10):
        fail(f"the trained weights have shape {w.shape}; expected (785, 10)", Diagnosis.WRONG_SHAPE)
    if not np.all(np.isfinite(w)):
        fail(f"training with lambda = {lam:g} made the weights NaN or inf", Diagnosis.NAN_OR_INF)
    return w


def images(w):
    return np.asarray(w)[:784].T  # ten rows of 784 pixels


def accuracy(w, data):
    pre = data["multi"]["pre"]
    return float(np.mean((pre["X_val"] @ w).argmax(axis=1) == pre["Y_val"].ravel()))


@pytest.mark.task("4b")
def test_weights_as_images(student, expected, data, settings, record):
    """the weights for lambda 0 and 2 as images"""
    for lam in (0.0, 2.0):
        want = expected(f"weights lambda={lam:g}",
                        lambda reference, lam=lam: reference_weights(reference, data, settings, lam))
        record.images(f"weights for lambda = {lam:g}, one 28x28 image per digit",
                      {"student": images(student_weights(student, data, settings, lam)), "reference": images(want)})


@pytest.mark.task("4c")
def test_accuracy_against_lambda(student, expected, data, settings, record):
    """validation accuracy does not get better with a larger lambda"""
    lambdas = sorted(float(v) for v in settings["lambdas"])
    want = expected("accuracy", lambda reference: [accuracy(reference_weights(reference, data, settings, lam), data)
                                                   for lam in lambdas]).tolist()
    got = [accuracy(student_weights(student, data, settings, lam), data) for lam in lambdas]
    record.series("validation accuracy against lambda", lambdas, {"student": got, "reference": want},
                  xlabel="lambda", ylabel="validation accuracy", log_x=True)
    if got[0] < got[-1]:
        fail(f"with lambda = {lambdas[0]:g} the accuracy is {got[0]:.3f}, below {got[-1]:.3f} with lambda = "
             f"{lambdas[-1]:g}: a strong penalty should not help", Diagnosis.BELOW_THRESHOLD)


@pytest.mark.task("4e")
def test_norm_falls_as_lambda_grows(student, expected, data, settings, record):
    """the norm of the trained weights falls as lambda grows"""
    lambdas = sorted(float(v) for v in settings["lambdas"])
    want = expected("squared norm", lambda reference: [float(np.sum(reference_weights(reference, data, settings, lam) ** 2))
                                                       for lam in lambdas]).tolist()
    got = [float(np.sum(student_weights(student, data, settings, lam) ** 2)) for lam in lambdas]
    record.series("squared L2 norm of the weights against lambda", lambdas, {"student": got, "reference": want},
                  xlabel="lambda", ylabel="sum of w squared", log_x=True)
    for small, large, a, b in zip(got, got[1:], lambdas, lambdas[1:], strict=False):
        if not large < small:
            fail(f"the squared norm of the weights is {large:.4g} with lambda = {b:g} but {small:.4g} with "
                 f"lambda = {a:g}: it should fall as lambda grows", Diagnosis.MISSING_REGULARIZATION)
