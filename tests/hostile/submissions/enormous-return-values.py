"""Return values too big or too deep to cross: a 300 MB array, a 50-million-item list, 100,000 nested lists."""
import numpy as np


def mse_grad(X, y, w):
    return np.zeros(300 * 1024**2 // 8)


def scaled_sum(values):
    return [0] * 50_000_000


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


class Ridge:
    def __init__(self, lam):
        self.w = _nested(100_000)

    def fit(self, X, y):
        return self

    def predict(self, X):
        return {i: str(i) * 100 for i in range(3_000_000)}


def fit(model, X, y):
    return _nested(100_000)
