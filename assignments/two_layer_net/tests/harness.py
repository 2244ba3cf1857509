"""Instructor code placed in the student's worker (`student.helper`): numpy and the standard library only.

Task 4 grades the student's `train` on its own. `train_run` builds the student's network
class with two methods replaced in a subclass, never in the student's class itself:

- `loss`: the student's own `loss` when tasks 1-3 found it right (`own_loss=True`), else
  `reference_loss` below, so that a bug in `loss` costs tasks 1-3 only. Either way each call
  with labels is recorded: which rows of X the minibatch holds, its size and dtype, so that
  the host can check what a minibatch is (random, with replacement, `batch_size` rows).
- `predict`: always `reference_predict` (the accuracies `train` records are not graded; a
  broken `predict` costs task 5 only).

The recorded rows and the trained parameters go back to the host as plain arrays; the host
computes every verdict (accuracies included) from them.
"""

import numpy as np

_KEYWORDS = {"x": "X", "y": "y", "reg": "reg"}


def _loss_arguments(args, kwargs):
    """(X, y, reg) from a call written any way: positional, or keywords in any case (`X=`, `Y=`, `Reg=`)."""
    values = dict(zip(("X", "y", "reg"), args, strict=False))
    for key, value in kwargs.items():
        values[_KEYWORDS.get(key.lower(), key)] = value
    return values.get("X"), values.get("y"), values.get("reg", 0.0)


def reference_loss(params, X, y=None, reg=0.0, scores_only=False):
    """The right loss (the handout's definitions); with y None the scores or probabilities."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    X = np.asarray(X, dtype=np.float64)
    z2 = X @ W1 + b1
    a2 = np.maximum(z2, 0.0)
    z3 = a2 @ W2 + b2
    shifted = z3 - z3.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probabilities = e / e.sum(axis=1, keepdims=True)
    if y is None:
        return z3 if scores_only else probabilities
    y = np.asarray(y).astype(np.int64).reshape(-1)
    n = X.shape[0]
    loss = -np.mean(shifted[np.arange(n), y] - np.log(e.sum(axis=1))) + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dz3 = probabilities.copy()
    dz3[np.arange(n), y] -= 1.0
    dz3 /= n
    dz2 = (dz3 @ W2.T) * (z2 > 0)
    grads = {"W1": X.T @ dz2 + 2 * reg * W1, "b1": dz2.sum(axis=0), "W2": a2.T @ dz3 + 2 * reg * W2, "b2": dz3.sum(axis=0)}
    return float(loss), grads


def reference_predict(params, X):
    return np.argmax(reference_loss(params, X, scores_only=True), axis=1)


class _Rows:
    """Maps a row of the training set (its bytes) to its index: which rows a minibatch holds."""

    def __init__(self, X):
        self.index = {}
        for i, row in enumerate(np.ascontiguousarray(X, dtype=np.float64)):
            self.index.setdefault(row.tobytes(), i)

    def of(self, batch):
        try:
            batch = np.ascontiguousarray(batch, dtype=np.float64)
        except (TypeError, ValueError):
            return [-1]
        if batch.ndim != 2:
            return [-1] * max(1, batch.size)
        return [self.index.get(row.tobytes(), -1) for row in batch]


def train_run(cls, params, own_loss, X, y, X_val, y_val, kwargs, scores_edition=False):
    """Run the student's `train` on a fresh network holding `params`; what the host needs to judge it."""
    rows = _Rows(X)
    record = {"indices": [], "sizes": [], "dtypes": [], "label_mismatch": 0}
    student_loss = cls.loss

    class Graded(cls):
        def loss(self, *args, **kw):
            Xb, yb, reg = _loss_arguments(args, kw)
            if yb is None:
                return reference_loss(self.params, Xb, None, reg, scores_only=scores_edition)
            found = rows.of(Xb)
            record["indices"].extend(found)
            record["sizes"].append(len(found) if np.ndim(Xb) == 2 else -1)
            record["dtypes"].append(str(getattr(Xb, "dtype", type(Xb).__name__)))
            labels = np.asarray(yb).reshape(-1)
            if len(labels) != len(found) or any(i >= 0 and y[i] != v for i, v in zip(found, labels, strict=True)):
                record["label_mismatch"] += 1
            if own_loss:
                return student_loss(self, *args, **kw)
            return reference_loss(self.params, Xb, yb, reg)

        def predict(self, Xp):
            return reference_predict(self.params, Xp)

    D, H = np.shape(params["W1"])
    C = np.shape(params["W2"])[1]
    net = Graded(D, H, C)
    net.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    stats = net.train(X, y, X_val, y_val, **kwargs)
    history = stats.get("loss_history") if isinstance(stats, dict) else None
    out_params = {k: np.asarray(net.params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2") if k in net.params}
    return {
        "returned": type(stats).__name__,
        "keys": sorted(str(k) for k in stats) if isinstance(stats, dict) else [],
        "loss_history": [float(np.asarray(v, dtype=np.float64).reshape(-1)[0]) for v in history] if history is not None else [],
        "params": out_params,
        "indices": np.asarray(record["indices"], dtype=np.int64),
        "sizes": np.asarray(record["sizes"], dtype=np.int64),
        "dtypes": sorted(set(record["dtypes"])),
        "label_mismatch": record["label_mismatch"],
    }


def with_reference_loss(cls, params, scores_edition=False):
    """A network of the student's class whose `loss` is the right one (predict judged on its own)."""

    class Fixed(cls):
        def loss(self, *args, **kw):
            Xb, yb, reg = _loss_arguments(args, kw)
            return reference_loss(self.params, Xb, yb, reg, scores_only=scores_edition)

    D, H = np.shape(params["W1"])
    net = Fixed(D, H, np.shape(params["W2"])[1])
    net.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    return net


def perturbed_losses(net, params, X, y, reg, moves):
    """The network's own loss after each move (key, flat index, step) of `params`: finite differences in one call.

    Returns what loss returned first (the loss) for each move, as it came, for the host to coerce.
    """
    base = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    values = []
    for key, flat, step in moves:
        moved = {k: v.copy() for k, v in base.items()}
        moved[key].flat[int(flat)] += float(step)
        net.params = moved
        values.append(net.loss(X, y=y, reg=reg)[0])
    net.params = base
    return values
