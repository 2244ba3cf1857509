"""Write 200 MB to stdout and stderr (Python level and file descriptors), then answer correctly."""
import os
import sys

import numpy as np

CHUNK = "x" * (1024 * 1024)


def _flood():
    for _ in range(100):
        print(CHUNK)
        sys.stderr.write(CHUNK)
    for _ in range(100):
        os.write(1, CHUNK.encode())


def mse_grad(X, y, w):
    _flood()
    return X.T @ (X @ w - y) / len(y)


def scaled_sum(values):
    _flood()
    return SCALE * sum(values)
