"""Data for two_layer_net: a train/validation split for task 4, pre-processed as the starter does.

By default the grader's offline digits (scikit-learn's 1797 digits grown to 28x28, 784
features); when [settings] gives `cifar10_path`, a folder holding CIFAR-10's python
batches (`data_batch_1` .. `data_batch_5`, `test_batch`), a subset of CIFAR-10 (3072
features). Either way the features are floats scaled to [0, 1] with the training mean
subtracted, as the starter's driver does; nothing is downloaded.

CIFAR-10's batches are pickles: they are read here, on the host, because they are the
instructor's own files; this module never runs in the sandbox and student code never sees
anything but the arrays.

`edition` carries the `y_none_returns` setting to [inject] (the reference reads it).
"""

import pickle
from pathlib import Path

import numpy as np

from grader.datasets import digits_28x28, split
from grader.errors import ConfigError

EDITIONS = ("probabilities", "scores")


def _cifar_batch(path):
    with open(path, "rb") as handle:
        batch = pickle.load(handle, encoding="latin1")  # the instructor's file, on the host
    X = np.asarray(batch["data"], dtype=np.float64).reshape(-1, 3072)
    return X, np.asarray(batch["labels"], dtype=np.int64)


def _cifar(folder, n_train, n_val):
    folder = Path(folder).expanduser()
    names = [folder / f"data_batch_{i}" for i in range(1, 6)]
    missing = [str(p) for p in names if not p.is_file()]
    if missing:
        raise ConfigError(f"assignments/two_layer_net/assignment.toml: settings.cifar10_path = {str(folder)!r} "
                          f"holds no CIFAR-10 python batch {missing[0]} (data_batch_1 .. data_batch_5)")
    parts = []
    for name in names:
        parts.append(_cifar_batch(name))
        if sum(len(p[1]) for p in parts) >= n_train + n_val:
            break
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return X[:n_train], y[:n_train], X[n_train:n_train + n_val], y[n_train:n_train + n_val], 255.0


def load(settings):
    edition = str(settings.get("y_none_returns", "probabilities"))
    if edition not in EDITIONS:
        raise ConfigError(f"assignments/two_layer_net/assignment.toml: settings.y_none_returns must be one of "
                          f"{', '.join(EDITIONS)}, not {edition!r}")
    if settings.get("cifar10_path"):
        X_train, y_train, X_val, y_val, top = _cifar(
            settings["cifar10_path"], int(settings.get("cifar10_train", 5000)), int(settings.get("cifar10_val", 1000))
        )
    else:
        X, y = digits_28x28()
        X_train, y_train, X_val, y_val = split(X, y, 0.8, int(settings.get("data_seed", 0)))
        top = 255.0
    X_train = X_train.astype(np.float64) / top
    X_val = X_val.astype(np.float64) / top
    mean = X_train.mean(axis=0)
    train = {
        "X_train": X_train - mean,
        "y_train": y_train.astype(np.int64),
        "X_val": X_val - mean,
        "y_val": y_val.astype(np.int64),
    }
    return {"train": train, "edition": {"y_none_returns": edition}}
