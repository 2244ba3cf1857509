"""Task 3: one-hot encoding, the softmax loss and model, and training on ten digits."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail, lowest_precision

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("3a")
@pytest.mark.points(2)
def test_one_hot_encode(student, expected):
    """one_hot_encode puts a single 1 in each label's column

    Readings accepted: labels [N, 1] or [N]; a result of ints, bools or floats.
    """
    Y = np.array([[3], [0], [9], [3], [7]])
    want = expected("one_hot", lambda reference: reference.task3a.one_hot_encode(Y, 10))
    assert_close(student.task3a.one_hot_encode(Y, 10), want, name="one_hot_encode", ratio=False)


@pytest.mark.task("3a")
@pytest.mark.points(3)
def test_softmax_cross_entropy(student, expected, rng):
    """softmax cross_entropy_loss is the mean over samples of -sum y log y_hat

    Readings accepted: a float, a 0-d or 1-element array, float32 (tolerance by precision).
    """
    targets = C["one_hot"](rng.integers(0, 10, size=(30, 1)))
    outputs = C["softmax"](rng.normal(size=(30, 10)))
    want = expected("loss", lambda reference: reference.task3a.cross_entropy_loss(targets, outputs))
    assert_close(student.task3a.cross_entropy_loss(targets, outputs), want, name="the loss", batch_size=30)


@pytest.mark.task("3a")
@pytest.mark.points(4)
def test_softmax_forward(student, data, rng):
    """SoftmaxModel.forward is the softmax of X w

    Readings accepted: with or without subtracting the row maximum; float32; a list of rows.
    """
    X = data["multi"]["pre"]["X_val"][:30]
    w = rng.normal(scale=0.05, size=(785, 10))
    model = student.task3a.SoftmaxModel(0.0)
    assert_close(model.forward(X), np.full((30, 10), 0.1), name="forward with zero weights")
    model.w = w
    raw = model.forward(X)
    out = as_result(raw, shape=(30, 10), name="forward(X)")
    precision = lowest_precision(raw)
    assert_close(out.sum(axis=1), np.ones(30), precision=precision, name="the sum of each row of forward(X)")
    assert_close(out, C["softmax"](X @ w), precision=precision, name="forward(X)")


def large_logits(rng):
    """Inputs and weights whose logits reach about +-880: past where exp overflows (about 710 in float64)."""
    X = np.concatenate([rng.uniform(0.5, 1, size=(8, 784)), np.ones((8, 1))], axis=1)
    X[4:, :784] *= -1  # half the rows: class 3 far below the others
    w = np.full((785, 10), -1.5)
    w[:, 3] = 1.5
    return X, w


@pytest.mark.task("3a")
@pytest.mark.points(0)
def test_softmax_is_numerically_stable(student, rng):
    """advice: softmax stays finite for logits in the hundreds (no points)

    Readings accepted: any way to keep exp finite (subtracting the row maximum, scipy-style
    log-sum-exp); float32 results (whose exp overflows sooner: the same advice applies).
    """
    X, w = large_logits(rng)
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    out = as_result(model.forward(X), name="forward(X) for large logits")
    if not np.all(np.isfinite(out)):
        fail("advice (no points taken): for logits in the hundreds your softmax overflows to NaN or inf; "
             "subtracting each row's largest logit before exp leaves the result unchanged and avoids it",
             Diagnosis.NUMERICALLY_UNSTABLE)


def multi_run(settings, data):
    pre = data["multi"]["pre"]
    return (float(settings["multi_learning_rate"]), int(settings["multi_batch_size"]),
            pre["X_train"], C["one_hot"](pre["Y_train"]), int(settings["multi_epochs"]))


def multi_accuracy(w, data):
    pre = data["multi"]["pre"]
    return float(np.mean((pre["X_val"] @ w).argmax(axis=1) == pre["Y_val"].ravel()))


@pytest.mark.task("3b")
@pytest.mark.points(6)
def test_softmax_trainer_reaches_reference_accuracy(student, expected, data, settings, seed):
    """SoftmaxTrainer learns ten digits as well as the reference

    The student's `train_step` is driven by a fixed loop with a correct SoftmaxModel and in-order
    batches (a mistake in 1b, 3a, 2d or 2e is not charged here). Readings accepted: as for 2b.
    """

    def reference_accuracy(reference):
        trained = C["host"]["train_steps"](reference.task3.SoftmaxTrainer, C["host"]["SoftmaxModel"](0.0),
                                           *multi_run(settings, data))
        return multi_accuracy(trained, data)

    want = expected("accuracy", reference_accuracy)
    T = C["worker_training"](student)
    w = as_result(T.train_steps(student.task3.SoftmaxTrainer, T.SoftmaxModel(0.0), *multi_run(settings, data)),
                  shape=(785, 10), name="the trained weights")
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
    """calculate_accuracy compares the argmax of outputs and targets

    Readings accepted: a fraction as a float, a 0-d or 1-element array.
    """
    T = C["worker_training"](student)
    pre = data["multi"]["pre"]
    model = T.SoftmaxModel(0.0)
    w = rng.normal(scale=0.02, size=(785, 10))
    model.w = w
    expected = multi_accuracy(w, data)
    assert_close(student.task3.calculate_accuracy(pre["X_val"], C["one_hot"](pre["Y_val"]), model), expected,
                 atol=1e-9, name="calculate_accuracy", ratio=False)
