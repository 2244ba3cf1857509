"""Shared by the test files (not collected: no test_ prefix): the problems, oracles and calls into the worker.

Oracles here are written from the handout's definitions (numpy), independent of the reference.
Every result of the student's goes through `grader.testing.as_result` / `as_number` once.
"""

from pathlib import Path

import numpy as np

from grader.model import Diagnosis
from grader.sandbox.client import StudentError
from grader.testing import as_number, as_result, assert_close, fail, lowest_precision

HERE = Path(__file__).resolve().parent
HARNESS_SOURCE = (HERE / "harness.py").read_text(encoding="utf-8")

# The need of every code task: the starter's file, the other course's file, else any module
# (a renamed copy such as `Two_LayerNet.py`, a notebook, a single hand-in file).
NEED = "two_layernet|neural_net|*:TwoLayerNet"
PARAMS = ("W1", "b1", "W2", "b2")

# ---------------------------------------------------------------- the student's network


def net_class(student):
    """The student's TwoLayerNet class (the worker holds the stand-ins of `[sandbox] provide` already)."""
    return student.get(NEED)


def harness(student):
    """The task 4 harness in the student's worker (tests/harness.py)."""
    net_class(student)
    return student.helper("tln_harness", HARNESS_SOURCE)


def new_net(student, params):
    """A student network holding exactly `params` (copies): the constructor's random draw does not matter."""
    cls = net_class(student)
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    net = call(cls, f"TwoLayerNet({D}, {H}, {C})", D, H, C)
    net.params = {k: np.array(params[k], dtype=np.float64) for k in PARAMS}
    return net


def call(function, text, *args, **kwargs):
    """Call the student; a TypeError about a keyword says which keyword the grader's call used."""
    try:
        return function(*args, **kwargs)
    except StudentError as error:
        failure = error.failure
        if failure.exception_type == "TypeError" and "argument" in failure.message:
            used = ", ".join(f"{k}=" for k in kwargs) or "only positional arguments"
            fail(f"the grader's call {text} failed: {failure.message}. The call uses the keyword(s) {used} as the "
                 "starter's driver does: keep the starter's parameter names (loss(X, y=None, reg=0.0); "
                 "train(X, y, X_val, y_val, learning_rate=..., reg=..., num_iters=..., batch_size=..., "
                 "verbose=...))", Diagnosis.EXCEPTION)
        raise


def loss_with_labels(net, X, y, reg, name):
    """`net.loss(X, y=y, reg=reg)` split into (loss as a float, the raw grads), each checked once."""
    out = call(net.loss, f"loss(X, y=y, reg={reg:g})", X, y=y, reg=reg)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"{name}: loss(X, y=y, reg=...) should return the pair (loss, grads), but it returned "
             f"{_describe(out)}", Diagnosis.WRONG_SHAPE)
    value, grads = out
    # one coercion; a float32 loss stays a float32 number, so that its comparisons allow float32 rounding
    return lowest_precision(value).type(as_number(value, name=f"{name}: the loss")), grads


def gradient(grads, key, like, name):
    """grads[key] as a float array of the shape of its parameter; (1, H) for (H,) is `wrong_shape`."""
    if not isinstance(grads, dict):
        fail(f"{name}: grads should be a dict with the keys W1, b1, W2, b2, but it is {_describe(grads)} "
             "(the backward pass is not implemented?)", Diagnosis.NOT_IMPLEMENTED)
    missing = [k for k in PARAMS if grads.get(k) is None]
    if missing:
        fail(f"{name}: grads has no {', '.join(missing)} (the backward pass is not implemented?)",
             Diagnosis.NOT_IMPLEMENTED)
    raw = grads[key]
    shape = tuple(np.shape(raw)) if isinstance(raw, np.ndarray) else None
    if shape is not None and shape != like.shape:
        fail(f"{name}: grads['{key}'] has shape {shape}, but {key} has shape {like.shape}: a gradient has the "
             f"shape of its parameter (a step params['{key}'] -= lr * grads['{key}'] would change {key}'s shape)",
             Diagnosis.WRONG_SHAPE)
    return as_result(raw, shape=like.shape, name=f"{name}: grads['{key}']")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- the problems


def toy_problem():
    """The starter's toy network and data: np.random.seed(0) for the net, seed(1) for the data."""
    state = np.random.RandomState(0)
    params = {
        "W1": 1e-1 * state.randn(4, 10),
        "b1": np.zeros(10),
        "W2": 1e-1 * state.randn(10, 3),
        "b2": np.zeros(3),
    }
    X = 10 * np.random.RandomState(1).randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return params, X, y


def larger_problem(seed=2020, N=200, D=50, H=30, C=10):
    """A second network no shape of the toy fits, with NONZERO biases (a regularized bias shows)."""
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(scale=0.2, size=(D, H)),
        "b1": rng.normal(scale=0.5, size=H),
        "W2": rng.normal(scale=0.3, size=(H, C)),
        "b2": rng.normal(scale=0.5, size=C),
    }
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, size=N)
    return params, X, y


def oracle(params, X, y=None, reg=0.0):
    """(scores, probabilities) with y None, else (data loss, reg term, data grads, reg grads): the handout's maths."""
    W1, b1, W2, b2 = (params[k] for k in PARAMS)
    z2 = X @ W1 + b1
    a2 = np.maximum(z2, 0.0)
    z3 = a2 @ W2 + b2
    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
    psi = e / e.sum(axis=1, keepdims=True)
    if y is None:
        return z3, psi
    n = len(y)
    data = float(-np.mean(np.log(psi[np.arange(n), y])))
    delta = np.zeros_like(psi)
    delta[np.arange(n), y] = 1.0
    dz3 = (psi - delta) / n
    dz2 = (dz3 @ W2.T) * (z2 > 0)
    data_grads = {"W1": X.T @ dz2, "b1": dz2.sum(axis=0), "W2": a2.T @ dz3, "b2": dz3.sum(axis=0)}
    reg_term = reg * float(np.sum(W1 ** 2) + np.sum(W2 ** 2))
    reg_grads = {"W1": 2 * reg * W1, "b1": np.zeros_like(b1), "W2": 2 * reg * W2, "b2": np.zeros_like(b2)}
    return data, reg_term, data_grads, reg_grads


def y_none_expected(params, X, settings):
    """What loss(X) returns in this edition: probabilities (the seed's) or raw scores."""
    scores, psi = oracle(params, X)
    return scores if settings.get("y_none_returns", "probabilities") == "scores" else psi


def edition_hint(got, params, X, settings):
    """A sentence when the student returned the other edition's y=None result, else ''."""
    scores, psi = oracle(params, X)
    if settings.get("y_none_returns", "probabilities") == "scores":
        other, said = psi, "the class probabilities; this edition's loss(X) returns the raw scores z3"
    else:
        other, said = scores, "the raw scores z3; this edition's loss(X) returns the class probabilities psi(z3)"
    if got.shape == other.shape and np.allclose(got, other, rtol=1e-4, atol=1e-6):
        return f" (it returned {said})"
    return ""


# ---------------------------------------------------------------- diagnoses of the L2 term


def regularization_diagnosis(value, data, params, reg, name):
    """Fail with what is wrong with the L2 part of a loss whose data part is right; None when nothing is found."""
    W1, b1, W2, b2 = (params[k] for k in PARAMS)
    weights = float(np.sum(W1 ** 2) + np.sum(W2 ** 2))
    biases = float(np.sum(b1 ** 2) + np.sum(b2 ** 2))
    extra = value - data
    if abs(extra) <= 1e-6 * max(1.0, abs(value)):
        fail(f"{name} lacks the regularization term reg * (sum W1^2 + sum W2^2)", Diagnosis.MISSING_REGULARIZATION)
    if biases > 0 and abs(extra - reg * (weights + biases)) <= 1e-6 * max(1.0, abs(value)):
        fail(f"{name} regularizes the biases too: the L2 term is reg * (sum W1^2 + sum W2^2) only, without "
             "b1 and b2 (invisible while the biases are zero, as on the toy network)")
    factor = extra / (reg * weights)
    for known in (0.5, 2.0):
        if abs(factor - known) < 1e-6:
            fail(f"{name}: its regularization term is {known:g} * reg * (sum W1^2 + sum W2^2); the loss is the mean "
                 f"cross-entropy plus reg * (sum W1^2 + sum W2^2), without a factor {known:g}", Diagnosis.SCALED)
    return None


def gradient_regularization_diagnosis(got, data_grad, reg_grad, key, name):
    """Fail naming the factor when got = data part + f * (2 reg W) for a constant f != 1; also regularized biases."""
    term = reg_grad
    if not np.any(term):
        return None
    residual = got - data_grad
    factor = float(np.vdot(residual, term) / np.vdot(term, term))
    scale = max(1e-12, float(np.max(np.abs(got))))
    if float(np.max(np.abs(residual - factor * term))) > 1e-5 * scale or abs(factor - 1.0) < 1e-6:
        return None
    if abs(factor) < 1e-6:
        fail(f"{name} lacks the regularization part 2 * reg * {key} of the gradient", Diagnosis.MISSING_REGULARIZATION)
    written = {0.5: f"reg * {key}", 0.25: f"0.5 * reg * {key}"}.get(round(factor, 6), f"{factor:.4g} * 2 * reg * {key}")
    fail(f"{name}: its regularization part is {written}, {factor:g} times the right one: the gradient of "
         f"reg * sum {key}^2 is 2 * reg * {key} (missing factor {1 / factor:g})", Diagnosis.SCALED)
    return None


# ---------------------------------------------------------------- finite differences and predict


def finite_differences(student, net, params, X, y, reg, key, h, entries=None):
    """Central differences of the student's own loss in the entries of params[key] (all, or those given).

    The moves are made in the worker in one call (tests/harness.py); each loss comes back as the
    student returned it and is coerced here.
    """
    shape = params[key].shape
    indices = list(np.ndindex(shape)) if entries is None else entries
    moves = [[key, int(np.ravel_multi_index(index, shape)), step] for index in indices for step in (h, -h)]
    raw = harness(student).perturbed_losses(net, params, X, y, reg, moves)
    if not isinstance(raw, list) or len(raw) != len(moves):
        fail("loss did not return one loss per call", Diagnosis.WRONG_SHAPE)
    values = [as_number(v, name=f"loss(X, y=y, reg={reg:g})") for v in raw]
    numeric = np.zeros(shape)
    for i, index in enumerate(indices):
        numeric[index] = (values[2 * i] - values[2 * i + 1]) / (2 * h)
    return numeric


def check_predict(student, params, X, settings, where):
    """predict(X): (N,) integers equal to the argmax of the right scores; on the right forward pass when needed."""
    scores, _ = oracle(params, X)
    want = np.argmax(scores, axis=1)
    net = new_net(student, params)
    expected_forward = y_none_expected(params, X, settings)
    try:
        forward = as_result(net.loss(X), name="loss(X)")
        own_forward = forward.shape == expected_forward.shape and np.allclose(forward, expected_forward, rtol=1e-4,
                                                                             atol=1e-6)
    except (AssertionError, StudentError):
        own_forward = False
    if not own_forward:  # task 1's bug is task 1's: predict runs on the right forward pass
        cls = net_class(student)
        net = harness(student).with_reference_loss(cls, params, settings.get("y_none_returns") == "scores")
    raw = call(net.predict, "predict(X)", X)
    array = np.asarray(raw) if isinstance(raw, (np.ndarray, np.generic, int, float, list)) else None
    if array is not None and array.shape == ():
        fail(f"predict(X) on {where} returned a single value; it should return one label per sample, an "
             f"integer array of shape ({len(X)},)", Diagnosis.WRONG_SHAPE)
    if array is not None and array.dtype.kind not in "iu":
        fail(f"predict(X) on {where} returned labels of dtype {array.dtype}; labels are integers, shape "
             f"({len(X)},) (np.argmax returns them)", Diagnosis.WRONG_SHAPE)
    if array is not None and array.shape != (len(X),):
        fail(f"predict(X) on {where} returned shape {array.shape}; it should be ({len(X)},), one integer label "
             "per sample", Diagnosis.WRONG_SHAPE)
    got = as_result(raw, shape=(len(X),), name="predict(X)")
    wrong = int(np.sum(got != want))
    if wrong:
        fail(f"predict(X) on {where} differs from the argmax of the scores for {wrong} of {len(X)} samples")


# ---------------------------------------------------------------- task 4: train on its own


def loss_status(student):
    """("right" | "wrong" | "missing", why): whether train may run on the student's own loss.

    "missing": loss is not implemented (NotImplementedError), or returns no gradients (the backward
    pass left as `pass`): train cannot have run, and task 4 fails with `not_implemented` (the
    handout: tasks 3 and 4 fail). "wrong": loss runs but tasks 1-3 find it wrong (a value, a
    gradient, a shape, a keyword): train runs on the right loss instead, so the bug is not charged
    twice. "right": train runs on the student's own loss.
    """
    for params, X, y, reg in ((*toy_problem(), 0.05), (*larger_problem(), 0.1)):
        net = new_net(student, params)
        try:
            value, grads = loss_with_labels(net, X, y, reg, "loss")
        except StudentError as error:
            if error.failure.diagnosis is Diagnosis.NOT_IMPLEMENTED:
                return "missing", f"loss is not implemented ({error.failure.message})"
            return "wrong", error.failure.message
        except AssertionError as failure:
            return "wrong", str(failure)
        if not isinstance(grads, dict) or any(grads.get(k) is None for k in PARAMS):
            return "missing", "loss returns no gradients (the backward pass, task 3, is not implemented)"
        data, reg_term, data_grads, reg_grads = oracle(params, X, y, reg)
        try:
            assert_close(value, data + reg_term, name="the loss")
            for key in PARAMS:
                got = gradient(grads, key, params[key], "loss")
                assert_close(got, data_grads[key] + reg_grads[key], name=f"grads['{key}']")
        except AssertionError as failure:
            return "wrong", str(failure)
    return "right", ""


def train_run(student, params, X, y, X_val, y_val, kwargs, settings):
    """The student's train, on its own loss when right, else on the right one; what the harness recorded."""
    status, why = loss_status(student)
    if status == "missing":
        fail(f"train cannot run: {why}; train needs the gradients that loss returns", Diagnosis.NOT_IMPLEMENTED)
    cls = net_class(student)
    text = "train(X, y, X_val, y_val, " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    try:
        run = call(harness(student).train_run, text, cls, params, status == "right", X, y, X_val, y_val, kwargs,
                   settings.get("y_none_returns") == "scores")
    except StudentError as error:
        message = error.failure.message
        if "replace=False" in message or "larger sample than population" in message:
            message += (f" (train draws its minibatches without replacement: with batch_size "
                        f"{kwargs.get('batch_size')} > {len(X)} samples they must be drawn with replacement, "
                        "np.random.choice(num_train, batch_size, replace=True))")
        fail(f"{text} failed: {message}", error.failure.diagnosis)
    note = "" if status == "right" else " (train ran with the right loss in place of yours, which tasks 1-3 grade)"
    return run, note


def minibatch_problems(run, n_samples, batch_size, num_iters):
    """What is wrong with the minibatches the harness saw train pass to loss, in words; [] when nothing."""
    sizes = np.asarray(run["sizes"], dtype=np.int64)
    indices = np.asarray(run["indices"], dtype=np.int64)
    problems = []
    if len(sizes) < num_iters:
        problems.append(f"loss was called with labels {len(sizes)} times in {num_iters} iterations")
    wrong = sorted({int(s) for s in sizes if s != batch_size})
    if wrong:
        problems.append(f"minibatches of {', '.join(map(str, wrong[:3]))} rows where batch_size={batch_size}")
    if np.any(indices < 0):
        dtypes = ", ".join(run["dtypes"])
        problems.append(f"minibatch rows that are not rows of X (the minibatches had dtype {dtypes}; "
                        "was X converted, e.g. to an integer type, before sampling?)")
    if run["label_mismatch"]:
        problems.append(f"{run['label_mismatch']} minibatch(es) whose labels are not those of their rows")
    if not problems and len(sizes) and sizes[0] > 0:
        batches = indices.reshape(len(sizes), batch_size)
        seen = len(np.unique(batches))
        if len({tuple(b) for b in batches}) == 1:
            problems.append("every minibatch holds the same rows (minibatches are drawn at random, afresh each "
                            "iteration)")
        elif batch_size * num_iters >= 3 * n_samples and seen < 0.5 * n_samples:
            problems.append(f"the minibatches only ever hold {seen} of the {n_samples} samples (they are drawn at "
                            "random from all of X)")
        elif batch_size < n_samples and not any(len(np.unique(b)) < batch_size for b in batches):
            problems.append("no minibatch ever holds a sample twice: they are drawn without replacement "
                            "(the starter draws with replacement, np.random.choice(num_train, batch_size))")
    return problems


def handout_differences(params, X, y, reg, key, h=1e-5, entries=None):
    """Central differences of the handout's loss (float64), for gradients of a float32 loss.

    A float32 loss cannot be differenced finely (its rounding, about 1e-7, over a step h, swamps
    the difference), so a float32 student's gradients are compared with the handout's loss instead.
    """
    base = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    numeric = np.zeros_like(base[key])
    for index in list(np.ndindex(base[key].shape)) if entries is None else entries:
        values = []
        for step in (h, -h):
            moved = {k: v.copy() for k, v in base.items()}
            moved[key][index] += step
            data, reg_term, _, _ = oracle(moved, X, y, reg)
            values.append(data + reg_term)
        numeric[index] = (values[0] - values[1]) / (2 * h)
    return numeric
