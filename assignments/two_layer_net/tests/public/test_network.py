"""Tasks 1, 2, 3 and 5 on the starter's toy network (N=5, D=4, H=10, C=3), as its notebook checks them.

Public tests never take the reference: values of the reference come through `expected(...)`
(stored by `grader assign`), the rest from the handout's maths (tests/common.py).
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import as_result, assert_close, fail, lowest_precision

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))
TOY_LOSS = 1.30378789133  # the starter's correct_loss at reg = 0.05


def reference_net(reference, params):
    net = reference.get(C["NEED"])(4, 10, 3, std=1e-1)
    net.params = {k: np.array(v) for k, v in params.items()}
    return net


@pytest.mark.task("1")
@pytest.mark.points(6)
def test_toy_forward_pass(student, expected, settings):
    """loss(X) without labels on the starter's toy network matches the reference

    Accepted: within 1e-7 summed over the (5, 3) entries, as the starter's notebook checks (float64);
    a float32 result within float32 rounding (relative 5e-5). What loss(X) returns is the edition's
    (`y_none_returns`): the class probabilities in this course's edition, the raw scores in the other.
    Any array-like of that shape counts (a list, a matrix).
    """
    params, X, _ = C["toy_problem"]()
    want = np.asarray(expected("y_none", lambda reference: reference_net(reference, params).loss(X)))
    raw = C["call"](C["new_net"](student, params).loss, "loss(X)", X)
    got = as_result(raw, name="loss(X)")
    if lowest_precision(raw) == np.float64 and got.shape == want.shape and np.sum(np.abs(got - want)) <= 1e-7:
        return
    try:
        assert_close(got, want, rtol=0.0, atol=0.0 if lowest_precision(raw) == np.float64 else None,
                     precision=lowest_precision(raw), name="loss(X) on the toy network")
    except AssertionError as failure:
        diagnoses = getattr(failure, "diagnoses", ())
        fail(str(failure) + C["edition_hint"](got, params, X, settings), *diagnoses)


@pytest.mark.task("2")
@pytest.mark.points(6)
def test_toy_loss(student):
    """loss(X, y=y, reg=0.05) on the toy network is the starter's 1.30378789133

    Accepted: within 1e-10 as the starter asks (float64), or within float32 rounding for a float32
    loss; a Python float, a NumPy scalar or a 0-d/1-element array. The loss is the mean softmax
    cross-entropy plus reg * (sum W1^2 + sum W2^2) (no factor 0.5).
    """
    params, X, y = C["toy_problem"]()
    value, _ = C["loss_with_labels"](C["new_net"](student, params), X, y, 0.05, "loss(X, y=y, reg=0.05)")
    try:
        assert_close(value, TOY_LOSS, rtol=0.0, atol=1e-10, name="the toy loss at reg=0.05")
    except AssertionError:
        data, _, _, _ = C["oracle"](params, X, y, 0.05)
        C["regularization_diagnosis"](value, data, params, 0.05, "the toy loss at reg=0.05")
        raise


@pytest.mark.task("2")
@pytest.mark.points(0)
def test_loss_is_numerically_stable(student):
    """advice: the loss stays finite for scores in the thousands (no points)

    Passes when loss(X, y=y, reg=0) is a finite number for class scores in the thousands (the reference
    subtracts each row's largest score before exp; any other stable softmax passes too).
    """
    params, X, y = C["toy_problem"]()
    params["W2"] = params["W2"] * 4000.0  # scores in the thousands: exp overflows without the shift
    with np.errstate(all="ignore"):
        value, _ = C["loss_with_labels"](C["new_net"](student, params), X, y, 0.0, "loss with large scores")
    if not np.isfinite(value):
        fail("advice (no points taken): for class scores in the thousands your softmax overflows and the loss is "
             f"{value}; subtracting each row's largest score before exp leaves the softmax unchanged and avoids it",
             Diagnosis.NUMERICALLY_UNSTABLE)


def relative_errors(got, numeric):
    """The starter's rel_error, entry by entry: |x - y| / max(1e-8, |x| + |y|)."""
    return np.abs(got - numeric) / np.maximum(1e-8, np.abs(got) + np.abs(numeric))


@pytest.mark.task("3")
@pytest.mark.points(9)
def test_toy_gradients_match_finite_differences(student):
    """the four gradients at reg=0.05 match central finite differences of your own loss on the toy network

    Accepted: the starter's check: relative error |x - y| / max(1e-8, |x| + |y|) below 1e-8 for every
    entry, the finite differences taken with h = 1e-5 (float64). A float32 loss cannot be differenced
    that finely: its gradients are compared with finite differences of the handout's loss (float64)
    instead, the relative error of the whole gradient below 1e-3. Each gradient must have the shape
    of its parameter ((10,) for b1, not (1, 10)).
    """
    params, X, y = C["toy_problem"]()
    net = C["new_net"](student, params)
    value, grads = C["loss_with_labels"](net, X, y, 0.05, "loss(X, y=y, reg=0.05)")
    data, _, data_grads, reg_grads = C["oracle"](params, X, y, 0.05)
    float32 = any(lowest_precision(grads.get(k) if isinstance(grads, dict) else None) != np.float64
                  for k in C["PARAMS"])
    for key in C["PARAMS"]:
        got = C["gradient"](grads, key, params[key], "loss(X, y=y, reg=0.05)")
        if float32:
            numeric = C["handout_differences"](params, X, y, 0.05, key)
        else:
            numeric = C["finite_differences"](student, net, params, X, y, 0.05, key, 1e-5)
        if float32:
            ok = np.linalg.norm(got - numeric) <= 1e-3 * max(1e-12, np.linalg.norm(got) + np.linalg.norm(numeric))
        else:
            ok = float(np.max(relative_errors(got, numeric))) < 1e-8
        if not ok:
            C["gradient_regularization_diagnosis"](got, data_grads[key], reg_grads[key], key, f"grads['{key}']")
            assert_close(got, numeric, rtol=1e-4, atol=1e-6, name=f"grads['{key}']")
            fail(f"grads['{key}'] does not match finite differences of your loss (largest relative error "
                 f"{float(np.max(relative_errors(got, numeric))):.2e}; the starter asks for less than 1e-8)")


@pytest.mark.task("5")
@pytest.mark.points(4)
def test_toy_predict(student, settings):
    """predict(X) on the toy network gives the (5,) integer labels argmax of the scores

    Accepted: an integer array (any integer dtype) of shape (5,) equal to the argmax of each row of
    the scores. Float labels, a (5, 1) column or a single number are `wrong_shape`. When loss(X) is
    wrong (task 1), predict runs on a network whose loss is the right one, so that a predict written
    on top of loss(X) is judged on its own.
    """
    params, X, _ = C["toy_problem"]()
    C["check_predict"](student, params, X, settings, "the toy network")
