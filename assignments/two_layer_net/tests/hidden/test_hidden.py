"""Hidden tests: a larger network (N=200, D=50, H=30, C=10, nonzero biases) and training on real data.

Nothing of the toy fits here: shapes hard-coded to N = 5 or C = 3, a hard-coded reg, and
regularized biases (invisible while the biases are zero) all show.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.sandbox.client import StudentError
from grader.testing import as_result, assert_close, fail, lowest_precision

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))
REGS = (0.1, 0.02)


def reference_net(reference, params):
    D, H = params["W1"].shape
    net = reference.get(C["NEED"])(D, H, params["W2"].shape[1])
    net.params = {k: np.array(v) for k, v in params.items()}
    return net


def on_larger(student, what, function):
    """Run `function()` on the larger net; an exception there while the toy works means toy-sized shapes."""
    try:
        return function()
    except StudentError as error:
        params, X, y = C["toy_problem"]()
        try:
            C["new_net"](student, params).loss(X, y=y, reg=0.05)
        except (StudentError, AssertionError):
            raise error from None
        fail(f"{what} works on the toy network (N=5, D=4, H=10, C=3) but raises on a network of N=200, D=50, "
             f"H=30, C=10: {error.failure.message}. Are shapes hard-coded to the "
             "toy (5 samples, 3 classes)? Take them from X, y and the parameters.", Diagnosis.WRONG_SHAPE,
             Diagnosis.EXCEPTION)


@pytest.mark.task("1")
@pytest.mark.points(9)
def test_larger_forward_pass(student, reference, settings):
    """loss(X) without labels on a larger network (N=200, D=50, H=30, C=10, nonzero biases) matches the reference

    Accepted: within relative 1e-6 (float64) or float32 rounding (5e-5), as an array of shape
    (200, 10) (any array-like); the edition's result (`y_none_returns`): probabilities here, raw
    scores in the other edition.
    """
    params, X, _ = C["larger_problem"]()
    want = np.asarray(reference_net(reference, params).loss(X))
    raw = on_larger(student, "loss(X)", lambda: C["call"](C["new_net"](student, params).loss, "loss(X)", X))
    got = as_result(raw, name="loss(X)")
    try:
        assert_close(got, want, precision=lowest_precision(raw), name="loss(X) on the larger network")
    except AssertionError as failure:
        fail(str(failure) + C["edition_hint"](got, params, X, settings), *getattr(failure, "diagnoses", ()))


@pytest.mark.task("2")
@pytest.mark.points(9)
def test_larger_loss(student, reference):
    """loss(X, y=y, reg) on the larger network equals the reference's at reg = 0.1 and reg = 0.02

    Accepted: within relative 1e-6 (float64) or float32 rounding. Diagnosed: a reg that does not
    act (hard-coded), 0.5 * reg or 2 * reg (`scaled`, with the factor), no L2 term
    (`missing_regularization`), biases in the L2 term.
    """
    params, X, y = C["larger_problem"]()
    net = C["new_net"](student, params)
    values = []
    for reg in REGS:
        value, _ = on_larger(student, f"loss(X, y=y, reg={reg:g})",
                             lambda reg=reg: C["loss_with_labels"](net, X, y, reg, f"loss(X, y=y, reg={reg:g})"))
        values.append(value)
    data, _, _, _ = C["oracle"](params, X, y, 0.0)
    weights = float(np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    extras = [v - data for v in values]
    for reg, value in zip(REGS, values, strict=True):
        want = float(reference_net(reference, params).loss(X, y=y, reg=reg)[0])
        try:
            assert_close(value, want, name=f"the loss at reg={reg:g}")
        except AssertionError:
            if abs(extras[0] - extras[1]) <= 1e-6 * abs(extras[0]) and abs(extras[0]) > 1e-9:
                fail(f"the loss does not follow reg: its L2 term is the same at reg={REGS[0]:g} and reg={REGS[1]:g} "
                     f"(that of reg = {extras[0] / weights:.4g}). Is reg hard-coded? Use the reg argument.",
                     Diagnosis.SCALED)
            C["regularization_diagnosis"](value, data, params, reg, f"the loss at reg={reg:g}")
            raise


@pytest.mark.task("3")
@pytest.mark.points(10)
def test_larger_gradients_equal_the_reference(student, reference):
    """the four gradients on the larger network at reg = 0.1 equal the reference's

    Accepted: within relative 1e-6 (float64) or float32 rounding, each the shape of its parameter.
    Diagnosed: the L2 part reg * W instead of 2 * reg * W (`scaled`, naming the factor), a missing
    L2 part, regularized biases, a transpose, a wrong sign, a toy-sized shape (`wrong_shape`).
    """
    params, X, y = C["larger_problem"]()
    net = C["new_net"](student, params)
    _, grads = on_larger(student, "loss(X, y=y, reg=0.1)", lambda: C["loss_with_labels"](net, X, y, 0.1, "loss"))
    _, want = reference_net(reference, params).loss(X, y=y, reg=0.1)
    _, _, data_grads, reg_grads = C["oracle"](params, X, y, 0.1)
    for key in C["PARAMS"]:
        got = C["gradient"](grads, key, params[key], "loss(X, y=y, reg=0.1)")
        try:
            assert_close(got, want[key], precision=lowest_precision(grads[key]), name=f"grads['{key}']",
                         regularization=reg_grads[key] if key in ("W1", "W2") else None)
        except AssertionError:
            if key in ("b1", "b2") and np.allclose(got - data_grads[key], 0.2 * params[key], rtol=1e-5, atol=1e-9):
                fail(f"grads['{key}'] holds 2 * reg * {key}: the biases are not regularized")
            if key in ("W1", "W2"):
                hard_coded_reg(net, params, X, y, key, got, data_grads[key])
            C["gradient_regularization_diagnosis"](got, data_grads[key], reg_grads[key], key, f"grads['{key}']")
            raise


def hard_coded_reg(net, params, X, y, key, got, data_grad):
    """Fail when the L2 part of grads[key] is the same at reg = 0.1 and 0.02 (a reg that does not act)."""
    _, other = C["loss_with_labels"](net, X, y, 0.02, "loss(X, y=y, reg=0.02)")
    at_other = C["gradient"](other, key, params[key], "loss(X, y=y, reg=0.02)")
    part, other_part = got - data_grad, at_other - data_grad
    if np.any(part) and np.allclose(part, other_part, rtol=1e-6, atol=1e-12):
        effective = float(np.vdot(part, params[key]) / (2 * np.vdot(params[key], params[key])))
        fail(f"grads['{key}'] does not follow reg: its L2 part is the same at reg=0.1 and reg=0.02 (that of "
             f"reg = {effective:.4g}). Is reg hard-coded? Use the reg argument.", Diagnosis.SCALED)


@pytest.mark.task("3")
@pytest.mark.points(6)
@pytest.mark.timeout(90)
def test_larger_gradients_match_finite_differences(student, rng):
    """on the larger network at reg = 0.1, the gradients match finite differences of your own loss

    Accepted: 12 random entries of each parameter, central differences of your loss with h = 1e-5;
    the relative error of those entries (norm of the difference over the sum of the norms) below
    1e-4. A float32 loss cannot be differenced that finely: its gradients are compared with finite
    differences of the handout's loss (float64) instead, below 1e-3. A toy-sized shape fails
    (`wrong_shape`).
    """
    params, X, y = C["larger_problem"]()
    net = C["new_net"](student, params)
    _, grads = on_larger(student, "loss(X, y=y, reg=0.1)", lambda: C["loss_with_labels"](net, X, y, 0.1, "loss"))
    _, _, data_grads, reg_grads = C["oracle"](params, X, y, 0.1)
    float32 = any(lowest_precision(grads.get(k) if isinstance(grads, dict) else None) != np.float64
                  for k in C["PARAMS"])
    tolerance = 1e-3 if float32 else 1e-4
    for key in C["PARAMS"]:
        got = C["gradient"](grads, key, params[key], "loss(X, y=y, reg=0.1)")
        flat = rng.choice(params[key].size, size=min(12, params[key].size), replace=False)
        entries = [np.unravel_index(i, params[key].shape) for i in flat]
        if float32:
            numeric = C["handout_differences"](params, X, y, 0.1, key, entries=entries)
        else:
            numeric = C["finite_differences"](student, net, params, X, y, 0.1, key, 1e-5, entries)
        picked = np.array([got[i] for i in entries])
        expect = np.array([numeric[i] for i in entries])
        error = np.linalg.norm(picked - expect) / max(1e-12, np.linalg.norm(picked) + np.linalg.norm(expect))
        if error > tolerance:
            C["gradient_regularization_diagnosis"](got, data_grads[key], reg_grads[key], key, f"grads['{key}']")
            fail(f"grads['{key}'] does not match finite differences of your loss on the larger network (relative "
                 f"error {error:.2e} over 12 entries; below {tolerance:g} passes)")


def reference_accuracy(reference, settings, data):
    """The reference's validation accuracy after the same run (host RNG seeded, then restored)."""
    params, X, y, X_val, y_val, kwargs = digits_run(settings, data)
    state = np.random.get_state()
    np.random.seed(int(settings.get("data_seed", 0)))
    try:
        net = reference_net(reference, params)
        net.train(X, y, X_val, y_val, **kwargs)
    finally:
        np.random.set_state(state)
    return float(np.mean(np.argmax(C["oracle"](net.params, X_val)[0], axis=1) == y_val))


def student_digits_run(student, settings, data, shared):
    """The student's train on the real data, run once per hand-in for both tests that judge it."""
    def compute():
        params, X, y, X_val, y_val, kwargs = digits_run(settings, data)
        run, note = C["train_run"](student, params, X, y, X_val, y_val, kwargs, settings)
        return {"run": run, "note": note}

    got = shared("train on the real data", compute)
    return got["run"], got["note"]


def digits_run(settings, data):
    """The run of task 4 on the real data: the initial network and the call's arguments."""
    train = data["train"]
    X, y, X_val, y_val = train["X_train"], train["y_train"], train["X_val"], train["y_val"]
    rng = np.random.default_rng(int(settings.get("data_seed", 0)) + 4)
    H, n_classes = int(settings["hidden_size"]), int(max(y.max(), y_val.max()) + 1)
    params = {"W1": 1e-4 * rng.normal(size=(X.shape[1], H)), "b1": np.zeros(H),
              "W2": 1e-4 * rng.normal(size=(H, n_classes)), "b2": np.zeros(n_classes)}
    kwargs = {"learning_rate": float(settings["learning_rate"]),
              "learning_rate_decay": float(settings["learning_rate_decay"]), "reg": float(settings["reg"]),
              "num_iters": int(settings["num_iters"]), "batch_size": int(settings["batch_size"]), "verbose": False}
    return params, X, y, X_val, y_val, kwargs


@pytest.mark.task("4")
@pytest.mark.points(6)
@pytest.mark.timeout(90)
def test_minibatches_on_real_data(student, settings, data, shared):
    """on the real data, every minibatch is batch_size random rows of X drawn with replacement

    Accepted (the run of the next test, made once): each call of loss with labels gets batch_size rows
    that are rows of X (unchanged, with their labels), at least one call per iteration; over the run
    the minibatches reach at least half of the samples and are not all the same; drawn with
    replacement (some minibatch holds a sample twice: np.random.choice(num_train, batch_size) does,
    in almost every minibatch here).
    """
    _, X, _, _, _, kwargs = digits_run(settings, data)
    run, note = student_digits_run(student, settings, data, shared)
    problems = C["minibatch_problems"](run, len(X), kwargs["batch_size"], kwargs["num_iters"])
    if problems:
        fail(f"train's minibatches: {'; '.join(problems)}{note}")


@pytest.mark.task("4")
@pytest.mark.points(6)
@pytest.mark.timeout(90)
def test_training_on_real_data_learns_as_well_as_the_reference(student, expected, settings, data, shared):
    """on the real data, the network train returns classifies the validation set about as well as the reference's

    Accepted: the validation accuracy of the trained parameters (computed by the grader from
    net.params) at most `accuracy_margin` (0.03) below the reference's after the same call from the
    same initial network (digits by default; CIFAR-10 when the instructor gives its batches).
    """
    params, X, y, X_val, y_val, kwargs = digits_run(settings, data)
    want = expected("reference accuracy", lambda reference: reference_accuracy(reference, settings, data))
    run, note = student_digits_run(student, settings, data, shared)
    trained = {}
    for key in C["PARAMS"]:
        if key not in run["params"]:
            fail(f"after train, net.params has no {key}{note}", Diagnosis.WRONG_SHAPE)
        trained[key] = as_result(run["params"][key], shape=params[key].shape, name=f"params['{key}'] after train")
    if not all(np.all(np.isfinite(v)) for v in trained.values()):
        fail(f"after train the parameters hold NaN or infinity{note}", Diagnosis.NAN_OR_INF)
    accuracy = float(np.mean(np.argmax(C["oracle"](trained, X_val)[0], axis=1) == y_val))
    margin = float(settings["accuracy_margin"])
    if accuracy < want - margin:
        fail(f"after train(X, y, X_val, y_val, **{kwargs}) the validation accuracy is {accuracy:.3f}, more than "
             f"{margin:g} below the reference's after the same call{note}", Diagnosis.BELOW_THRESHOLD)


@pytest.mark.task("5")
@pytest.mark.points(6)
def test_larger_predict(student, settings):
    """predict(X) on the larger network gives (200,) integer labels, the argmax of the scores

    Accepted: any integer dtype, shape (200,), equal to the argmax of each row of the reference
    scores. Float labels, a column or a single number are `wrong_shape`. Where loss(X) is wrong
    (task 1), predict runs on a network whose loss is the right one.
    """
    params, X, _ = C["larger_problem"]()
    C["check_predict"](student, params, X, settings, "the larger network")
