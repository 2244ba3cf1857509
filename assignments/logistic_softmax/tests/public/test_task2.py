"""Task 2: pre-processing, the binary loss, the logistic model, its trainer, early stopping, shuffling."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("2a")
@pytest.mark.points(4)
def test_pre_process_images(student, data):
    """pre_process_images: shape [N, 785], values in [-1, 1], a bias column of ones

    Readings accepted: the bias column last (the reference) or first; X / 127.5 - 1, 2 X / 255 - 1,
    or a min-max scaling onto [-1, 1] (any linear map of the pixels that fills at least [-0.9, 0.9]
    on these images, which hold both 0 and 255); float32 or float64; a list of rows.
    Not accepted: pixels scaled to [0, 1] (the handout asks for [-1, 1]); a standardisation whose
    values leave [-1, 1].
    """
    X = data["binary"]["X_train"][:50]
    out = as_result(student.task2a.pre_process_images(X), shape=(50, 785), name="pre_process_images(X)")
    if not np.all(np.isfinite(out)):
        fail("pre_process_images gave NaN or inf", Diagnosis.NAN_OR_INF)
    if out.min() < -1 - 1e-6 or out.max() > 1 + 1e-6:
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
    if pixels.min() > -0.9 or pixels.max() < 0.9:
        fail(f"the pixels, 0..255 in these images, span [{pixels.min():.3g}, {pixels.max():.3g}] after "
             "pre-processing: the handout asks for [-1, 1] (for example X / 127.5 - 1)")


@pytest.mark.task("2a")
@pytest.mark.points(3)
def test_binary_cross_entropy(student, expected, rng):
    """binary cross_entropy_loss equals the mean cross-entropy

    Readings accepted: a float, a 0-d or 1-element array, float32 (tolerance by precision).
    """
    targets = rng.integers(0, 2, size=(40, 1))
    outputs = rng.uniform(0.05, 0.95, size=(40, 1))
    want = expected("loss", lambda reference: reference.task2a.cross_entropy_loss(targets, outputs))
    assert_close(student.task2a.cross_entropy_loss(targets, outputs), want, name="the loss", batch_size=40)


@pytest.mark.task("2a")
@pytest.mark.points(3)
def test_binary_forward(student, data, rng):
    """BinaryModel.forward is the sigmoid of X w

    Readings accepted: an [N, 1] array or list of rows, any float dtype; the weights read from `self.w`.
    """
    X = data["binary"]["pre"]["X_val"][:30]
    w = rng.normal(scale=0.05, size=(785, 1))
    model = student.task2a.BinaryModel()
    zeros = model.forward(X)
    assert_close(zeros, np.full((30, 1), 0.5), name="forward with zero weights")
    model.w = w
    assert_close(model.forward(X), C["sigmoid"](X @ w), name="forward(X)")


def _binary_run(settings, data):
    pre = data["binary"]["pre"]
    return (float(settings["binary_learning_rate"]), int(settings["binary_batch_size"]),
            pre["X_train"], pre["Y_train"], int(settings["binary_epochs"]))


def _binary_accuracy(w, data):
    pre = data["binary"]["pre"]
    return float(np.mean((C["sigmoid"](pre["X_val"] @ w) >= 0.5) == pre["Y_val"]))


@pytest.mark.task("2b")
@pytest.mark.points(6)
def test_logistic_trainer_reaches_reference_accuracy(student, expected, data, settings, seed):
    """LogisticTrainer learns 2 vs 3 as well as the reference

    The student's `train_step` is driven by a fixed loop with a correct BinaryModel and in-order
    batches, so that a mistake in the model (1a, 2a), early stopping (2d) or shuffling (2e) is
    not charged here. Readings accepted: a step on `self.model.w` in place or by assignment; a
    returned loss as a float, a 0-d or 1-element array; float32 arithmetic.
    """

    def reference_accuracy(reference):
        trained = C["host"]["train_steps"](reference.task2.LogisticTrainer, C["host"]["BinaryModel"](),
                                           *_binary_run(settings, data))
        return _binary_accuracy(trained, data)

    want = expected("accuracy", reference_accuracy)
    T = C["worker_training"](student)
    w = as_result(T.train_steps(student.task2.LogisticTrainer, T.BinaryModel(), *_binary_run(settings, data)),
                  shape=(785, 1), name="the trained weights")
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
    """calculate_accuracy counts outputs >= 0.5 as label 1

    Readings accepted: a fraction as a float, a 0-d or 1-element array. A percentage is not
    (the handout's trainer compares fractions).
    """
    T = C["worker_training"](student)
    pre = data["binary"]["pre"]
    model = T.BinaryModel()
    w = rng.normal(scale=0.02, size=(785, 1))
    model.w = w
    expected = float(np.mean((C["sigmoid"](pre["X_val"] @ w) >= 0.5) == pre["Y_val"]))
    assert_close(student.task2.calculate_accuracy(pre["X_val"], pre["Y_val"], model), expected,
                 atol=1e-9, name="calculate_accuracy", ratio=False)


# Early stopping: "stop once the validation loss has not improved for 10 consecutive validations".
# The handout admits two counts: 10 validations after the best one (the reference: the best and
# 10 more), or 10 validations counting the best one itself (the course's official solution: on
# a flat loss it stops after the 10th validation). Both pass, as `accepted_stops` says.
READINGS = ("10 validations after the best one", "10 validations counting the best one")


def accepted_stops(reference_stop):
    """The validation counts at which a correct rule stops, given the reference's (the first reading)."""
    return (reference_stop - 1, reference_stop)


def describe_run(student, losses, name, accepted):
    """Fail, describing what the student's trainer did, when it did not stop at an accepted count."""
    T = C["worker_training"](student)
    got = T.scripted_stop(student.trainer.BaseTrainer, losses)
    validations = int(got["validations"])
    if validations in accepted:
        return got
    wanted = " or ".join(str(v) for v in accepted)
    if validations >= 300:
        rising = T.scripted_stop(student.trainer.BaseTrainer, [0.5 + 0.01 * i for i in range(400)])
        if int(rising["validations"]) >= 300:
            fail(f"{name}: training ran all {validations} validations and never stopped, not even when every "
                 f"validation loss was higher than the first; it should stop after {wanted}: BaseTrainer.train "
                 "has no early stopping that fires", Diagnosis.NOT_IMPLEMENTED)
        fail(f"{name}: training ran all {validations} validations without stopping, although the validation "
             f"loss stopped improving; it should stop after {wanted} (your rule does stop, after "
             f"{int(rising['validations'])} validations, when every loss is higher than the first)")
    fail(f"{name}: training stopped after {validations} validations; it should stop after {wanted} "
         "(10 in a row without a lower validation loss)")
    return got


def _stops(student, expected, losses, name):
    want = int(expected("validations",
                        lambda reference: C["host"]["scripted_stop"](reference.trainer.BaseTrainer, losses)["validations"]))
    return describe_run(student, losses, name, accepted_stops(want))


@pytest.mark.task("2d")
@pytest.mark.points(3)
def test_early_stopping_after_plateau(student, expected):
    """early stopping: stops after 10 validations without improvement

    Readings accepted: 10 validations after the best one, or counting the best one (stops after
    the 14th or the 15th validation here); a check before or after recording the validation.
    """
    _stops(student, expected, [1.0, 0.9, 0.8, 0.7, 0.6] + [0.65] * 3 + [0.7], "losses falling, then rising")


@pytest.mark.task("2d")
@pytest.mark.points(3)
def test_early_stopping_counter_resets(student, expected):
    """early stopping: a new lowest loss restarts the count

    Readings accepted: as for the plateau (the count restarts at the new best, validation 10).
    """
    losses = [1.0, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.7] + [0.75] * 5 + [0.72]
    _stops(student, expected, losses, "a new best after 8 validations without")


def _batches(student, X, Y, batch_size, shuffle):
    return [(as_result(x, name="a batch of X"), as_result(y, name="a batch of Y"))
            for x, y in student.utils.batch_loader(X, Y, batch_size, shuffle=shuffle)]


def contiguous_blocks(batches):
    """Whether every batch holds a run of consecutive samples of the original order (0-7, 8-15, ...)."""
    return all(np.array_equal(np.sort(x.ravel()), np.arange(x.min(), x.min() + len(x))) and x.min() % len(x) == 0
               for x, _ in batches)


@pytest.mark.task("2e")
@pytest.mark.points(6)
def test_batch_loader_shuffles(student):
    """batch_loader(shuffle=True) yields every sample once per pass, in a new order; shuffle=False keeps it

    Readings accepted: any permutation of the samples each pass (np.random.permutation, shuffle of
    an index array, a generator's permutation), batches as arrays or lists. Not accepted: shuffling
    only the order of the batches, or only the order within each batch (the same samples are then
    batched together every pass).
    """
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
    if contiguous_blocks(first) and contiguous_blocks(second):
        fail("with shuffle=True every batch still holds the same consecutive samples (0-7, 8-15, ...): only "
             "the order of the batches (or within them) changed; shuffle the samples before cutting batches")
    kept = _batches(student, X, Y, 8, False)
    xs = np.concatenate([x for x, _ in kept]).ravel() if kept else np.array([])
    if not np.array_equal(xs, np.arange(48)):
        fail("with shuffle=False the batches should hold samples 0, 1, 2, ... in order")
