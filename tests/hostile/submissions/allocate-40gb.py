"""Ask for 40 GB at once, as a numpy array and as raw bytes."""
import numpy as np


def mse_grad(X, y, w):
    return np.ones(40 * 1024**3 // 8)


def scaled_sum(values):
    return bytearray(40 * 1024**3)
