"""Task 2: pre-processing, the binary loss, the logistic model, its trainer, early stopping, shuffling."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("2a")
@pytest.mark.points(4)
def test_pre_process_images(student, data):
    """pre_process_images: shape [N, 785], values in [-1, 1], a bias column of ones"""
    X = data["binary"]["X_train"][:50]
    out = np.asarray(student.task2a.pre_process_images(X), dtype=float)
    if out.shape != (50, 785):
        fail(f"pre_process_images gave shape {out.shape} for 50 images; expected (50, 785)", Diagnosis.WRONG_SHAPE)
    if not np.all(np.isfinite(out)):
        fail("pre_process_images gave NaN or inf", Diagnosis.NAN_OR_INF)
    if out.min() < -1 - 1e-9 or out.max() > 1 + 1e-9:
        fail(f"pre-processed values should lie in [-1, 1]; they span [{out.min():.3g}, {out.max():.3g}]")
    if np.all(out[:, -1] == 1):
        pixels = out[:, :-1]
    elif np.all(out[:, 0] == 1):
        pixels = out[:, 1:]
    else:
        fail("no bias column of ones: the last (or first) column should be all ones")
    correlation = np.corrcoef(pixels.ravel(), X.astype(float).ravel())[0, 1]
    if not correlation > 0.99:
        fail("the pixel columns should be the pixels, scaled: they do not follow the input pixels in order")


@pytest.mark.task("2a")
@pytest.mark.points(3)
def test_binary_cross_entropy(student, expected, rng):
    """binary cross_entropy_loss equals the mean cross-entropy"""
    targets = rng.integers(0, 2, size=(40, 1))
    outputs = rng.uniform(0.05, 0.95, size=(40, 1))
    want = expected("loss", lambda reference: reference.task2a.cross_entropy_loss(targets, outputs))
    assert_close(student.task2a.cross_entropy_loss(targets, outputs), want, rtol=1e-6, name="the loss")


@pytest.mark.task("2a")
@pytest.mark.points(3)
def test_binary_forward(student, data, rng):
    """BinaryModel.forward is the sigmoid of X w"""
    X = data["binary"]["pre"]["X_val"][:30]
    w = rng.normal(scale=0.05, size=(785, 1))
    model = student.task2a.BinaryModel()
    zeros = model.forward(X)
    assert_close(zeros, np.full((30, 1), 0.5), name="forward with zero weights")
    model.w = w
    assert_close(model.forward(X), C["sigmoid"](X @ w), rtol=1e-6, name="forward(X)")


def _binary_run(settings, data):
    pre = data["binary"]["pre"]
    return (float(settings["binary_learning_rate"]), int(settings["binary_batch_size"]), False,
            pre["X_train"], pre["Y_train"], pre["X_val"], pre["Y_val"], int(settings["binary_epochs"]))


def _binary_accuracy(w, data):
    pre = data["binary"]["pre"]
    return float(np.mean((C["sigmoid"](pre["X_val"] @ w) >= 0.5) == pre["Y_val"]))


@pytest.mark.task("2b")
@pytest.mark.points(6)
def test_logistic_trainer_reaches_reference_accuracy(student, expected, data, settings, seed):
    """LogisticTrainer learns 2 vs 3 as well as the reference"""

    def reference_accuracy(reference):
        np.random.seed(seed)
        trained = C["host"]["train"](reference.task2.LogisticTrainer, C["host"]["BinaryModel"](),
                                     *_binary_run(settings, data))
        return _binary_accuracy(trained["w"], data)

    want = expected("accuracy", reference_accuracy)
    T = C["worker_training"](student)
    result = T.train(student.task2.LogisticTrainer, T.BinaryModel(), *_binary_run(settings, data))
    w = np.asarray(result["w"], dtype=float).reshape(785, 1)
    if not np.all(np.isfinite(w)):
        fail("training made the weights NaN or inf", Diagnosis.NAN_OR_INF)
    got = _binary_accuracy(w, data)
    margin = float(settings["accuracy_margin"])
    if got < want - margin:
        fail(f"validation accuracy {got:.3f} after training; the reference reaches {want:.3f} "
             f"(at most {margin:g} less passes)", Diagnosis.BELOW_THRESHOLD)


@pytest.mark.task("2b")
@pytest.mark.points(4)
def test_binary_calculate_accuracy(student, data, rng):
    """calculate_accuracy counts outputs >= 0.5 as label 1"""
    T = C["worker_training"](student)
    pre = data["binary"]["pre"]
    model = T.BinaryModel()
    w = rng.normal(scale=0.02, size=(785, 1))
    model.w = w
    expected = float(np.mean((C["sigmoid"](pre["X_val"] @ w) >= 0.5) == pre["Y_val"]))
    assert_close(student.task2.calculate_accuracy(pre["X_val"], pre["Y_val"], model), expected,
                 atol=1e-9, name="calculate_accuracy")


def _stops(student, expected, losses, name):
    want = expected("validations",
                    lambda reference: C["host"]["scripted_stop"](reference.trainer.BaseTrainer, losses)["validations"])
    T = C["worker_training"](student)
    got = T.scripted_stop(student.trainer.BaseTrainer, losses)
    if got["validations"] >= 300:
        fail(f"{name}: training never stopped early (ran all {got['validations']} validations); "
             f"it should stop after {want}: is early stopping in BaseTrainer.train still to be written?",
             Diagnosis.NOT_IMPLEMENTED)
    if got["validations"] != want:
        fail(f"{name}: training stopped after {got['validations']} validations; "
             f"it should stop after {want} (10 in a row without a lower validation loss)")


@pytest.mark.task("2d")
@pytest.mark.points(3)
def test_early_stopping_after_plateau(student, expected):
    """early stopping: stops after 10 validations without improvement"""
    _stops(student, expected, [1.0, 0.9, 0.8, 0.7, 0.6] + [0.65] * 3 + [0.7], "losses falling, then rising")


@pytest.mark.task("2d")
@pytest.mark.points(3)
def test_early_stopping_counter_resets(student, expected):
    """early stopping: a new lowest loss restarts the count"""
    losses = [1.0, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.7] + [0.75] * 5 + [0.72]
    _stops(student, expected, losses, "a new best after 8 validations without")


def _batches(student, X, Y, batch_size, shuffle):
    return [(np.asarray(x), np.asarray(y)) for x, y in student.utils.batch_loader(X, Y, batch_size, shuffle=shuffle)]


@pytest.mark.task("2e")
@pytest.mark.points(6)
def test_batch_loader_shuffles(student):
    """batch_loader(shuffle=True) yields every sample once per pass, in a new order; shuffle=False keeps it"""
    X = np.arange(48, dtype=float).reshape(48, 1)
    Y = 10 * X
    first = _batches(student, X, Y, 8, True)
    second = _batches(student, X, Y, 8, True)
    for name, batches in (("first pass", first), ("second pass", second)):
        if len(batches) != 6 or any(len(x) != 8 for x, _ in batches):
            fail(f"{name}: expected 6 batches of 8 from 48 samples, got sizes {[len(x) for x, _ in batches]}",
                 Diagnosis.WRONG_SHAPE)
        xs = np.concatenate([x for x, _ in batches]).ravel()
        ys = np.concatenate([y for _, y in batches]).ravel()
        if sorted(xs.tolist()) != list(range(48)):
            fail(f"{name}: every sample should appear exactly once per pass")
        if not np.array_equal(ys, 10 * xs):
            fail(f"{name}: the labels no longer belong to their samples (X and Y shuffled differently)")
    order1 = np.concatenate([x for x, _ in first]).ravel()
    order2 = np.concatenate([x for x, _ in second]).ravel()
    if np.array_equal(order1, np.arange(48)):
        fail("with shuffle=True the samples came in their original order")
    if np.array_equal(order1, order2):
        fail("two passes came in the same order: each pass should draw a new permutation")
    kept = _batches(student, X, Y, 8, False)
    xs = np.concatenate([x for x, _ in kept]).ravel() if kept else np.array([])
    if not np.array_equal(xs, np.arange(48)):
        fail("with shuffle=False the batches should hold samples 0, 1, 2, ... in order")
