"""Task 3: one-hot encoding, the softmax loss and model, and training on ten digits."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("3a")
@pytest.mark.points(2)
def test_one_hot_encode(student, expected):
    """one_hot_encode puts a single 1 in each label's column"""
    Y = np.array([[3], [0], [9], [3], [7]])
    want = expected("one_hot", lambda reference: reference.task3a.one_hot_encode(Y, 10))
    assert_close(student.task3a.one_hot_encode(Y, 10), want, name="one_hot_encode")


@pytest.mark.task("3a")
@pytest.mark.points(3)
def test_softmax_cross_entropy(student, expected, rng):
    """softmax cross_entropy_loss is the mean over samples of -sum y log y_hat"""
    targets = C["one_hot"](rng.integers(0, 10, size=(30, 1)))
    outputs = C["softmax"](rng.normal(size=(30, 10)))
    want = expected("loss", lambda reference: reference.task3a.cross_entropy_loss(targets, outputs))
    assert_close(student.task3a.cross_entropy_loss(targets, outputs), want, rtol=1e-6, name="the loss")


@pytest.mark.task("3a")
@pytest.mark.points(4)
def test_softmax_forward(student, data, rng):
    """SoftmaxModel.forward is the softmax of X w"""
    X = data["multi"]["pre"]["X_val"][:30]
    w = rng.normal(scale=0.05, size=(785, 10))
    model = student.task3a.SoftmaxModel(0.0)
    assert_close(model.forward(X), np.full((30, 10), 0.1), name="forward with zero weights")
    model.w = w
    out = np.asarray(model.forward(X), dtype=float)
    assert_close(out.sum(axis=1), np.ones(30), name="the sum of each row of forward(X)")
    assert_close(out, C["softmax"](X @ w), rtol=1e-6, name="forward(X)")


@pytest.mark.task("3a")
@pytest.mark.points(0)
def test_softmax_is_numerically_stable(student, rng):
    """advice: softmax stays finite for logits in the hundreds (no points)"""
    X = np.concatenate([rng.uniform(0.5, 1, size=(8, 784)), np.ones((8, 1))], axis=1)
    w = np.zeros((785, 10))
    w[:, 3] = 1.0  # logits of about 600 for class 3
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    with np.errstate(all="ignore"):
        out = np.asarray(model.forward(X), dtype=float)
    if not np.all(np.isfinite(out)):
        fail("advice (no points taken): for logits in the hundreds your softmax overflows to NaN or inf; "
             "subtracting each row's largest logit before exp leaves the result unchanged and avoids it",
             Diagnosis.NUMERICALLY_UNSTABLE)


def multi_run(settings, data):
    pre = data["multi"]["pre"]
    return (float(settings["multi_learning_rate"]), int(settings["multi_batch_size"]), False,
            pre["X_train"], C["one_hot"](pre["Y_train"]), pre["X_val"], C["one_hot"](pre["Y_val"]),
            int(settings["multi_epochs"]))


def multi_accuracy(w, data):
    pre = data["multi"]["pre"]
    return float(np.mean((pre["X_val"] @ w).argmax(axis=1) == pre["Y_val"].ravel()))


@pytest.mark.task("3b")
@pytest.mark.points(6)
def test_softmax_trainer_reaches_reference_accuracy(student, expected, data, settings, seed):
    """SoftmaxTrainer learns ten digits as well as the reference"""

    def reference_accuracy(reference):
        np.random.seed(seed)
        trained = C["host"]["train"](reference.task3.SoftmaxTrainer, C["host"]["SoftmaxModel"](0.0),
                                     *multi_run(settings, data))
        return multi_accuracy(trained["w"], data)

    want = expected("accuracy", reference_accuracy)
    T = C["worker_training"](student)
    result = T.train(student.task3.SoftmaxTrainer, T.SoftmaxModel(0.0), *multi_run(settings, data))
    w = np.asarray(result["w"], dtype=float).reshape(785, 10)
    if not np.all(np.isfinite(w)):
        fail("training made the weights NaN or inf", Diagnosis.NAN_OR_INF)
    got = multi_accuracy(w, data)
    margin = float(settings["accuracy_margin"])
    if got < want - margin:
        fail(f"validation accuracy {got:.3f} after training; the reference reaches {want:.3f} "
             f"(at most {margin:g} less passes)", Diagnosis.BELOW_THRESHOLD)


@pytest.mark.task("3b")
@pytest.mark.points(4)
def test_softmax_calculate_accuracy(student, data, rng):
    """calculate_accuracy compares the argmax of outputs and targets"""
    T = C["worker_training"](student)
    pre = data["multi"]["pre"]
    model = T.SoftmaxModel(0.0)
    w = rng.normal(scale=0.02, size=(785, 10))
    model.w = w
    expected = multi_accuracy(w, data)
    assert_close(student.task3.calculate_accuracy(pre["X_val"], C["one_hot"](pre["Y_val"]), model), expected,
                 atol=1e-9, name="calculate_accuracy")
