"""Hidden checks: the same contracts on other data and edge cases, never a stricter criterion.

Each test accepts the readings its public counterpart accepts (see their docstrings); the
gradients are fed the handout's outputs, as in the public tests.
"""

import importlib.util
import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


def _public(name):
    """A public test module (its helpers, so that hidden and public tests accept the same readings)."""
    path = Path(__file__).resolve().parents[1] / "public" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ls_public_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TASK2 = _public("test_task2")
TASK4 = _public("test_task4")


@pytest.mark.task("1a")
@pytest.mark.points(4)
def test_binary_gradient_equals_reference_on_other_data(student, reference, data):
    """BinaryModel.backward on held-out digits

    Readings accepted: as the public 1a test (any float dtype, tolerance by precision).
    """
    rng = np.random.default_rng(2024)
    X = data["binary"]["pre"]["X_val"][:40]
    Y = data["binary"]["pre"]["Y_val"][:40]
    w = rng.normal(scale=0.05, size=(785, 1))
    outputs = C["sigmoid"](X @ w)
    model = student.task2a.BinaryModel()
    model.w = w
    model.backward(X, outputs, Y)
    expected = reference.task2a.BinaryModel()
    expected.w = w
    expected.backward(X, outputs, Y)
    assert_close(model.grad, expected.grad, name="BinaryModel.grad", batch_size=40)


@pytest.mark.task("1b")
@pytest.mark.points(3)
def test_softmax_gradient_equals_reference_on_other_data(student, reference, data):
    """SoftmaxModel(0).backward on held-out digits

    Readings accepted: as the public 1b tests.
    """
    rng = np.random.default_rng(2025)
    X = data["multi"]["pre"]["X_val"][:64]
    Y = C["one_hot"](data["multi"]["pre"]["Y_val"][:64])
    w = rng.normal(scale=0.05, size=(785, 10))
    outputs = C["softmax"](X @ w)
    model = student.task3a.SoftmaxModel(0.0)
    model.w = w
    model.backward(X, outputs, Y)
    expected = reference.task3a.SoftmaxModel(0.0)
    expected.w = w
    expected.backward(X, outputs, Y)
    assert_close(model.grad, expected.grad, name="SoftmaxModel.grad", batch_size=64)


@pytest.mark.task("2d")
@pytest.mark.points(2)
def test_early_stopping_equal_loss_is_no_improvement(student, reference):
    """early stopping: an equal loss is not an improvement

    Readings accepted: both counts of the public 2d tests (10 validations after the first, or
    counting it: 11 or 10 validations on a constant loss), and the validation that triggers the
    stop recorded in the history or not. Not accepted: a rule that treats an equal loss as an
    improvement (on a constant loss it never stops).
    """
    losses = [0.5]
    want = C["host"]["scripted_stop"](reference.trainer.BaseTrainer, losses)
    got = TASK2.describe_run(student, losses, "with a constant validation loss",
                             TASK2.accepted_stops(int(want["validations"])))
    if int(got["recorded"]) not in (int(got["validations"]), int(got["validations"]) - 1):
        fail(f"the validation history holds {got['recorded']} entries after {got['validations']} validations: "
             "each validation's loss should be recorded")


@pytest.mark.task("2e")
@pytest.mark.points(2)
def test_batch_loader_drops_the_last_partial_batch(student):
    """batch_loader(shuffle=True) with a partial last batch

    Readings accepted: any permutation, as the public 2e test; the last partial batch dropped
    (the handout's default drop_last=True).
    """
    X = np.arange(43, dtype=float).reshape(43, 1)
    batches = [(as_result(x, name="a batch of X"), as_result(y, name="a batch of Y"))
               for x, y in student.utils.batch_loader(X, X + 100, 8, shuffle=True)]
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
    assert_close(student.task3a.one_hot_encode(Y, 4), reference.task3a.one_hot_encode(Y, 4), name="one_hot_encode",
                 ratio=False)


@pytest.mark.task("4a")
@pytest.mark.points(4)
def test_l2_term_other_lambda(student, data, settings):
    """the L2 term with another lambda, on held-out digits

    Readings accepted: as the public 4a test.
    """
    rng = np.random.default_rng(2026)
    X = data["multi"]["pre"]["X_val"][:16]
    Y = C["one_hot"](data["multi"]["pre"]["Y_val"][:16])
    w = rng.normal(scale=0.2, size=(785, 10))
    lam = 0.05
    got, precision = TASK4.l2_term_of(student, X, Y, w, lam)
    term = C["l2_factor"](settings) * lam * w
    assert_close(got, term, precision=precision, name="the L2 term of the gradient", regularization=term)
