"""Shared by the test files (not collected: no test_ prefix)."""

from pathlib import Path

import numpy as np

TRAINING_SOURCE = (Path(__file__).resolve().parent / "training.py").read_text(encoding="utf-8")
host = {"__name__": "ls_training_host"}
exec(compile(TRAINING_SOURCE, str(Path(__file__).resolve().parent / "training.py"), "exec"), host)


def worker_training(student):
    """The helper module in the student's worker."""
    return student.helper("ls_training", TRAINING_SOURCE)


def l2_factor(settings):
    convention = settings.get("l2_convention", "lambda")
    if convention not in ("lambda", "2lambda"):
        raise ValueError(f"l2_convention must be 'lambda' or '2lambda', not {convention!r}")
    return 1.0 if convention == "lambda" else 2.0


def one_hot(Y, k=10):
    out = np.zeros((len(Y), k))
    out[np.arange(len(Y)), np.asarray(Y).reshape(-1).astype(int)] = 1
    return out


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
