"""Problem 4: relu, softmax, the network, the loss, the update and training, in the student's worker.

Readings accepted: tensors of float32 or float64 (tolerance by precision, as the tensors come
back as arrays of their dtype); `net` over (N, 1, 28, 28) or (N, 28, 28) images; `train`
reading `epochs` and `lr` from the notebook's globals or from defaults; `cross_entropy`
returning the per-example losses as (N,) or (N, 1). Each task is tested with the grader's
versions of the others (net with the grader's relu and softmax, train with the grader's net,
loss and sgd), so that no mistake is charged twice.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_number, as_result, assert_close, fail, lowest_precision

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("4.1")
@pytest.mark.points(3)
def test_relu(student, rng):
    """relu is max(x, 0) elementwise, for vectors and matrices"""
    for shape in ((7,), (4, 6)):
        x = rng.normal(size=shape)
        assert_close(student.relu(student.tensor(x)), np.maximum(x, 0), name=f"relu of a {shape} tensor")


@pytest.mark.task("4.1")
@pytest.mark.points(2)
def test_softmax(student, rng):
    """softmax is row-wise: each row is exp(x) over its sum"""
    X = rng.normal(size=(5, 10))
    raw = student.softmax(student.tensor(X))
    out = as_result(raw, shape=(5, 10), name="softmax(X)")
    precision = lowest_precision(raw)
    assert_close(out.sum(axis=1), np.ones(5), precision=precision, name="the sum of each row of softmax(X)")
    assert_close(out, C["softmax"](X), precision=precision, name="softmax(X)")


@pytest.mark.task("4.1")
@pytest.mark.points(2)
def test_softmax_is_stable(student, rng):
    """softmax stays finite and right for logits in the hundreds"""
    X = rng.normal(size=(4, 10)) + np.array([[300.0], [-400.0], [800.0], [0.0]])
    raw = student.softmax(student.tensor(X))
    out = as_result(raw, shape=(4, 10), name="softmax of large logits")
    if not np.all(np.isfinite(out)):
        fail("for logits in the hundreds softmax overflows to NaN or infinity; subtracting each row's largest "
             "logit before exp leaves the result unchanged and avoids it", Diagnosis.NUMERICALLY_UNSTABLE)
    assert_close(out, C["softmax"](X), precision=lowest_precision(raw), name="softmax of large logits")


def _weights(rng):
    return (rng.normal(scale=0.05, size=(784, 256)).astype(np.float32), rng.normal(scale=0.1, size=256).astype(np.float32),
            rng.normal(scale=0.3, size=(256, 10)).astype(np.float32), rng.normal(scale=0.1, size=10).astype(np.float32))


def _expected_net(X, W1, b1, W2, b2):
    H = np.maximum(X.reshape(len(X), -1).astype(float) @ W1 + b1, 0)
    return C["softmax"](H @ W2 + b2)


@pytest.mark.task("4.2")
@pytest.mark.points(3)
def test_net(student, data, rng):
    """net flattens (N, 1, 28, 28) images and gives softmax(relu(X W1 + b1) W2 + b2) (with the grader's relu and softmax)"""
    X = data["digits"]["X_val"][:16]
    weights = _weights(rng)
    out = C["p4_worker"](student).student_net_with(student.tensor(X), *(student.tensor(w) for w in weights), True)
    # float32 sums of 784 products of pixels: rtol 1e-4 (widened further if the result is less precise)
    assert_close(out, _expected_net(X, *weights), rtol=1e-4, atol=1e-6, name="net(X)")


@pytest.mark.task("4.3")
@pytest.mark.points(3)
def test_cross_entropy(student, rng):
    """cross_entropy gives -log y_hat[i, y_i] for each example"""
    y_hat = C["softmax"](rng.normal(size=(6, 10)))
    y = rng.integers(0, 10, size=6)
    raw = student.cross_entropy(student.tensor(y_hat), student.tensor(y))
    got = as_result(raw, shape=(6,), name="cross_entropy(y_hat, y)")
    assert_close(got, -np.log(y_hat[np.arange(6), y]), precision=lowest_precision(raw), name="cross_entropy(y_hat, y)")


@pytest.mark.task("4.3")
@pytest.mark.points(3)
def test_sgd(student, rng):
    """sgd steps each parameter by -lr times its gradient, in place, then zeroes the gradients"""
    values = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    result = C["p4_worker"](student).student_sgd_step([student.tensor(v) for v in values],
                                                       [student.tensor(g) for g in grads], 0.1)
    for got, value, grad, name in zip(result["values"], values, grads, ("W", "b"), strict=True):
        assert_close(got, value - 0.1 * grad, name=f"parameter {name} after sgd")
    for got, name in zip(result["grads"], ("W", "b"), strict=True):
        if got is not None and np.any(as_result(got, name=f"the gradient of {name}") != 0):
            fail(f"after sgd the gradient of parameter {name} is not zero: the next backward() would add to it")


@pytest.mark.task("4.4")
@pytest.mark.points(6)
@pytest.mark.timeout(60)
def test_train_learns_digits(student, data, settings, seed):
    """train, with the grader's net, loss and sgd, learns the 28x28 digits"""
    d = data["digits"]
    accuracy = C["p4_worker"](student).student_train_isolated(
        student.tensor(d["X_train"]), student.tensor(d["y_train"]), student.tensor(d["X_val"]),
        student.tensor(d["y_val"]), int(settings["epochs"]), float(settings["learning_rate"]),
        int(settings["batch_size"]), seed)
    accuracy = as_number(accuracy, name="the accuracy")
    if accuracy < float(settings["minimum_accuracy"]):
        fail(f"after training, the validation accuracy is {accuracy:.1%}: train should loop over the "
             f"epochs and the batches, compute the mean loss, call backward() and the updater",
             Diagnosis.BELOW_THRESHOLD)
