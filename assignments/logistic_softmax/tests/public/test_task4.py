"""Task 4: the L2 term of the softmax gradient and its effect on the trained weights.

4b-4e train the student's L2 term (the SoftmaxModel from task4*.py when the hand-in has one)
on a correct data gradient (tests/training.py `L2Only`) with a fixed instructor loop
(`plain_descent`), so that a trainer's bug is graded in 2b/2d/3b only and a mistake in the
data gradient or forward in 1b/3a only.
"""

import functools
import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail, lowest_precision

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


def l2_term_of(student, X, Y, w, lam):
    """grad(lambda) - grad(0) of the student's SoftmaxModel, both fed the handout's outputs; its precision."""
    grads = []
    outputs = C["softmax"](X @ w)
    for value in (0.0, lam):
        model = student.task3a.SoftmaxModel(value)
        model.w = w
        model.backward(X, outputs, Y)
        grads.append(model.grad)
    precision = max((lowest_precision(g) for g in grads), key=lambda d: np.finfo(d).eps)
    with_l2 = as_result(grads[1], shape=w.shape, name=f"SoftmaxModel({lam:g}).grad")
    without = as_result(grads[0], shape=w.shape, name="SoftmaxModel(0).grad")
    return with_l2 - without, precision


@pytest.mark.task("4a")
@pytest.mark.points(8)
def test_l2_term_of_the_gradient(student, data, settings, rng):
    """SoftmaxModel(lambda).backward adds the L2 term to the gradient

    grad(lambda) - grad(0): only the L2 term, whatever the rest of the gradient (task 1b) does.
    Readings accepted: lambda w (or 2 lambda w where the assignment's l2_convention says so);
    float32 gradients (tolerance by precision, relative to the size of the gradients).
    """
    X = data["multi"]["pre"]["X_train"][:32]
    Y = C["one_hot"](data["multi"]["pre"]["Y_train"][:32])
    w = rng.normal(scale=0.1, size=(785, 10))
    lam = 0.3
    got, precision = l2_term_of(student, X, Y, w, lam)
    term = C["l2_factor"](settings) * lam * w
    assert_close(got, term, precision=precision, name="the L2 term of the gradient", regularization=term)


def _settings_key(settings):
    return (float(settings["multi_learning_rate"]), int(settings["multi_batch_size"]), int(settings["multi_epochs"]))


@functools.cache
def _reference_weights(model_cls, lam, key, data_id):
    learning_rate, batch_size, epochs = key
    pre = _DATA[data_id]["multi"]["pre"]
    model = C["host"]["L2Only"](model_cls, lam)
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
    w = T.plain_descent(T.L2Only(student.task3a.SoftmaxModel, float(lam)), learning_rate, batch_size,
                        pre["X_train"], C["one_hot"](pre["Y_train"]), epochs)
    w = as_result(w, shape=(785, 10), name="the trained weights")
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
    """validation accuracy does not get better with a larger lambda

    Readings accepted: the smallest lambda as good as or better than the largest ("does not do
    worse"), with any L2 convention. Not accepted: a model whose trained weights do not depend on
    lambda at all (its equal accuracies say nothing about lambda).
    """
    lambdas = sorted(float(v) for v in settings["lambdas"])
    want = expected("accuracy", lambda reference: [accuracy(reference_weights(reference, data, settings, lam), data)
                                                   for lam in lambdas]).tolist()
    weights = [student_weights(student, data, settings, lam) for lam in lambdas]
    got = [accuracy(w, data) for w in weights]
    record.series("validation accuracy against lambda", lambdas, {"student": got, "reference": want},
                  xlabel="lambda", ylabel="validation accuracy", log_x=True)
    if np.allclose(weights[0], weights[-1], rtol=1e-6, atol=1e-9):
        fail(f"the weights trained with lambda = {lambdas[0]:g} and lambda = {lambdas[-1]:g} are the same: "
             "lambda has no effect on your model (is l2_reg_lambda used in backward?)",
             Diagnosis.MISSING_REGULARIZATION)
    if got[0] < got[-1]:
        fail(f"with lambda = {lambdas[0]:g} the accuracy is {got[0]:.3f}, below {got[-1]:.3f} with lambda = "
             f"{lambdas[-1]:g}: a strong penalty should not help", Diagnosis.BELOW_THRESHOLD)


@pytest.mark.task("4e")
def test_norm_falls_as_lambda_grows(student, expected, data, settings, record):
    """the norm of the trained weights falls as lambda grows

    Readings accepted: any L2 convention (lambda w or 2 lambda w): both make the norm fall.
    """
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
