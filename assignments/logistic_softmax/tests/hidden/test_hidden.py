"""Hidden checks: the same contracts on other data and edge cases."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("1a")
@pytest.mark.points(4)
def test_binary_gradient_equals_reference_on_other_data(student, reference, data):
    """BinaryModel.backward on held-out digits"""
    rng = np.random.default_rng(2024)
    X = data["binary"]["pre"]["X_val"][:40]
    Y = data["binary"]["pre"]["Y_val"][:40]
    w = rng.normal(scale=0.05, size=(785, 1))
    model = student.task2a.BinaryModel()
    model.w = w
    model.backward(X, model.forward(X), Y)
    expected = reference.task2a.BinaryModel()
    expected.w = w
    expected.backward(X, expected.forward(X), Y)
    assert_close(model.grad, expected.grad, rtol=1e-6, atol=1e-9, name="BinaryModel.grad", batch_size=40)


@pytest.mark.task("1b")
@pytest.mark.points(3)
def test_softmax_gradient_equals_reference_on_other_data(student, reference, data):
    """SoftmaxModel(0).backward on held-out digits"""
    rng = np.random.default_rng(2025)
    X = data["multi"]["pre"]["X_val"][:64]
    Y = C["one_hot"](data["multi"]["pre"]["Y_val"][:64])
    w = rng.normal(scale=0.05, size=(785, 10))
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    model.backward(X, model.forward(X), Y)
    expected = reference.task3a.SoftmaxModel(0.0)
    expected.w = w
    expected.backward(X, expected.forward(X), Y)
    assert_close(model.grad, expected.grad, rtol=1e-6, atol=1e-9, name="SoftmaxModel.grad", batch_size=64)


@pytest.mark.task("2d")
@pytest.mark.points(2)
def test_early_stopping_equal_loss_is_no_improvement(student, reference):
    """early stopping: an equal loss is not an improvement"""
    T = C["worker_training"](student)
    losses = [0.5]
    got = T.scripted_stop(student.trainer.BaseTrainer, losses)
    want = C["host"]["scripted_stop"](reference.trainer.BaseTrainer, losses)
    if got["validations"] != want["validations"]:
        fail(f"with a constant validation loss, training stopped after {got['validations']} validations; "
             f"it should stop after {want['validations']}")
    if got["recorded"] != want["recorded"]:
        fail(f"the validation history holds {got['recorded']} entries; expected {want['recorded']} "
             "(the validation that triggers the stop is still recorded)")


@pytest.mark.task("2e")
@pytest.mark.points(2)
def test_batch_loader_drops_the_last_partial_batch(student):
    """batch_loader(shuffle=True) with a partial last batch"""
    X = np.arange(43, dtype=float).reshape(43, 1)
    batches = [(np.asarray(x), np.asarray(y)) for x, y in student.utils.batch_loader(X, X + 100, 8, shuffle=True)]
    if len(batches) != 5 or any(len(x) != 8 for x, _ in batches):
        fail(f"43 samples in batches of 8 (drop_last) should give 5 batches of 8, got {[len(x) for x, _ in batches]}",
             Diagnosis.WRONG_SHAPE)
    xs = np.concatenate([x for x, _ in batches]).ravel()
    if len(set(xs.tolist())) != 40 or not set(xs.tolist()) <= set(range(43)):
        fail("a pass repeated a sample or invented one")
    if not np.array_equal(np.concatenate([y for _, y in batches]).ravel(), xs + 100):
        fail("the labels no longer belong to their samples")


@pytest.mark.task("3a")
@pytest.mark.points(1)
def test_one_hot_other_number_of_classes(student, reference):
    """one_hot_encode with four classes"""
    Y = np.array([[1], [3], [0], [2], [3]])
    assert_close(student.task3a.one_hot_encode(Y, 4), reference.task3a.one_hot_encode(Y, 4), name="one_hot_encode")


@pytest.mark.task("4a")
@pytest.mark.points(4)
def test_l2_term_other_lambda(student, data, settings):
    """the L2 term with another lambda, on held-out digits"""
    rng = np.random.default_rng(2026)
    X = data["multi"]["pre"]["X_val"][:16]
    Y = C["one_hot"](data["multi"]["pre"]["Y_val"][:16])
    w = rng.normal(scale=0.2, size=(785, 10))
    lam = 0.05
    grads = []
    for value in (0.0, lam):
        model = student.task3a.SoftmaxModel(value)
        model.w = w
        model.backward(X, model.forward(X), Y)
        grads.append(np.asarray(model.grad, dtype=float))
    term = C["l2_factor"](settings) * lam * w
    assert_close(grads[1] - grads[0], term, rtol=1e-6, atol=1e-9, name="the L2 term of the gradient",
                 regularization=term)
