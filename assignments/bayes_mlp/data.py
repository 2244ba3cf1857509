"""Data for bayes_mlp: a small split of the grader's offline 28x28 digits for problem 4.

Pixels are scaled to [0, 1] as float32 (the dtype of the notebook's parameters), images
come as (N, 1, 28, 28) like a torchvision loader's batches, labels as int64.
"""

import numpy as np

from grader.datasets import digits_28x28, split


def load(settings):
    X, y = digits_28x28()
    X_train, y_train, X_val, y_val = split(X, y, 0.8, int(settings.get("data_seed", 0)))
    n_train, n_val = int(settings.get("train_size", 600)), int(settings.get("val_size", 300))

    def images(X):
        return (X.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)

    return {
        "p4": {"epochs": int(settings.get("epochs", 2)), "lr": float(settings.get("learning_rate", 0.1))},
        "digits": {
            "X_train": images(X_train[:n_train]),
            "y_train": y_train[:n_train].astype(np.int64),
            "X_val": images(X_val[:n_val]),
            "y_val": y_val[:n_val].astype(np.int64),
        }
    }
