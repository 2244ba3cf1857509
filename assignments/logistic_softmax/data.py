"""Data for logistic_softmax: the binary 2-vs-3 split and the 10-class split.

By default the grader's offline 28x28 digits (scikit-learn's digits, upscaled); when
[settings] gives `mnist_path` (a folder of IDX files or an .npz), a subset of MNIST.

Every split comes raw (`X_*` uint8 [N, 784], `Y_*` int [N, 1]) and pre-processed the
reference's way (`pre.X_*` float [N, 785] in [-1, 1], bias column last): tests that
isolate a task (training, early stopping, L2) use the pre-processed arrays, so that a
mistake in `pre_process_images` is graded in task 2a only.
"""

import numpy as np

from grader.datasets import digits_28x28, load_mnist, split


def _pre(X):
    return np.concatenate([X.astype(np.float64) / 127.5 - 1.0, np.ones((len(X), 1))], axis=1)


def _pack(X_train, y_train, X_val, y_val):
    raw = {
        "X_train": X_train,
        "Y_train": y_train.reshape(-1, 1).astype(int),
        "X_val": X_val,
        "Y_val": y_val.reshape(-1, 1).astype(int),
    }
    pre = {**raw, "X_train": _pre(X_train), "X_val": _pre(X_val)}
    return {**raw, "pre": pre}


def load(settings):
    seed = int(settings.get("data_seed", 0))
    if settings.get("mnist_path"):
        X_train, y_train, X_val, y_val = load_mnist(settings["mnist_path"])
        n_train, n_val = int(settings.get("mnist_train", 4000)), int(settings.get("mnist_val", 1000))
        X_train, y_train, X_val, y_val = X_train[:n_train], y_train[:n_train], X_val[-n_val:], y_val[-n_val:]
    else:
        X, y = digits_28x28()
        X_train, y_train, X_val, y_val = split(X, y, 0.8, seed)
    positive, negative = settings.get("binary_classes", [2, 3])

    def two(X, y):
        mask = (y == positive) | (y == negative)
        return X[mask], (y[mask] == positive).astype(int)

    binary = _pack(*two(X_train, y_train), *two(X_val, y_val))
    multi = _pack(X_train, y_train, X_val, y_val)
    return {"binary": binary, "multi": multi}
