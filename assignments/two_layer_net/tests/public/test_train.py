"""Task 4 on the starter's toy problem: train brings the loss below 0.02, with minibatches larger than N."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("4")
@pytest.mark.points(8)
@pytest.mark.timeout(60)
def test_toy_training_brings_the_loss_below_002(student, settings):
    """train on the toy problem (learning_rate=1e-1, reg=5e-6, num_iters=100, batch_size=200 > 5 samples)

    Accepted: the last loss of loss_history below 0.02 (the starter's bar) and below half the
    first (the loss falls: a constant loss does not pass), every minibatch batch_size=200 rows of X
    (so drawn with replacement), one loss per iteration at least. The call is the starter's:
    train(X, y, X, y, learning_rate=0.1, reg=5e-06, num_iters=100, batch_size=200, verbose=False).
    train runs on your loss when tasks 1-3 find it right, else on the right loss (a loss bug
    costs tasks 1-3 only); a loss with no gradients at all cannot train (`not_implemented`).
    """
    params, X, y = C["toy_problem"]()
    kwargs = {"learning_rate": 0.1, "reg": 5e-6, "num_iters": 100, "batch_size": 200, "verbose": False}
    run, note = C["train_run"](student, params, X, y, X, y, kwargs, settings)
    history = np.asarray(run["loss_history"], dtype=float)
    if run["returned"] != "dict" or "loss_history" not in run["keys"]:
        fail(f"train should return a dict with loss_history, train_acc_history and val_acc_history; it returned "
             f"a {run['returned']} with keys {run['keys']}{note}", Diagnosis.WRONG_SHAPE)
    problems = C["minibatch_problems"](run, len(X), 200, 100)[:2]
    if problems:
        fail(f"train's minibatches on the toy problem: {'; '.join(problems)}{note}")
    if len(history) == 0 or not np.all(np.isfinite(history)):
        fail(f"loss_history is empty or holds NaN or infinity{note}", Diagnosis.NAN_OR_INF)
    if not history[-1] < 0.02 or not history[-1] < 0.5 * history[0]:
        fail(f"after 100 iterations the loss is {history[-1]:.4g} (it started at {history[0]:.4g}); the starter's "
             f"train brings it below 0.02 and it must fall{note}", Diagnosis.BELOW_THRESHOLD)
