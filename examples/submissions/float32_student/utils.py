"""Helpers shared by the tasks: mini-batches, data loading, loss plots and a gradient check.

Only `batch_loader` holds a task (2e). The loaders, `plot_loss` and `check_gradient`
are provided complete; they serve the scripts' `__main__` blocks.
"""

from collections.abc import Callable, Iterator

import matplotlib.pyplot as plt
import numpy as np


def batch_loader(
    X: np.ndarray, Y: np.ndarray, batch_size: int, shuffle: bool = False, drop_last: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield one pass over the dataset as mini-batches `(X_batch, Y_batch)`.

    Args:
        X: inputs, shape [N, ...].
        Y: targets, shape [N, ...], row n belonging to X[n].
        batch_size: samples per batch.
        shuffle: visit the samples in a new random order on every pass. Because
            this is a generator, every call (one per epoch) draws its own order.
        drop_last: leave out a final batch smaller than `batch_size`.
    """
    assert len(X) == len(Y), f"X has {len(X)} samples but Y has {len(Y)}"
    num_samples = len(X)
    indices = np.arange(num_samples)
    if shuffle:
        rng = np.random.default_rng()
        rng.shuffle(indices)
    if drop_last:
        num_batches = num_samples // batch_size
    else:
        num_batches = (num_samples + batch_size - 1) // batch_size
    for i in range(num_batches):
        batch = indices[i * batch_size : (i + 1) * batch_size]
        yield X[batch], Y[batch]


def _digits_28x28() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits as 28x28 uint8 images: an offline stand-in for MNIST.

    Each pixel (0..16) is scaled to 0..255 and grown to a 3x3 block, and the
    24x24 result gets a 2-pixel black border, like MNIST's margin.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = np.round(digits.images * (255 / 16))
    large = np.kron(small, np.ones((1, 3, 3)))
    padded = np.pad(large, ((0, 0), (2, 2), (2, 2)))
    X = padded.reshape(len(padded), 784).astype(np.uint8)
    Y = digits.target.astype(int)
    split = int(0.8 * len(X))
    return X[:split], Y[:split], X[split:], Y[split:]


def _load_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, Y_train, X_test, Y_test): images [N, 784] uint8 and labels [N] int.

    Reads MNIST through the course's `mnist.py` (its `load()` function) when it is
    importable, otherwise falls back to the 28x28 digits above.
    """
    try:
        import mnist
    except ImportError:
        return _digits_28x28()
    X_train, Y_train, X_test, Y_test = mnist.load()
    return X_train, Y_train.astype(int), X_test, Y_test.astype(int)


def load_binary_dataset(class1: int, class2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images of two digits: class1 gets label 1, class2 label 0.

    Returns X_train [N, 784] uint8, Y_train [N, 1], X_val, Y_val. Training uses the
    first 20000 training images, validation the last 2000 test images, each kept
    only where the digit is class1 or class2.
    """
    X_train, Y_train, X_val, Y_val = _load_mnist()
    X_train, Y_train = X_train[:20000], Y_train[:20000]
    X_val, Y_val = X_val[-2000:], Y_val[-2000:]

    def keep_two(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = (Y == class1) | (Y == class2)
        return X[mask], (Y[mask] == class1).astype(int).reshape(-1, 1)

    return (*keep_two(X_train, Y_train), *keep_two(X_val, Y_val))


def load_full_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All ten digits: X_train [N, 784] uint8, Y_train [N, 1] int, X_val, Y_val (sizes as above)."""
    X_train, Y_train, X_val, Y_val = _load_mnist()
    X_train, Y_train = X_train[:20000], Y_train[:20000]
    X_val, Y_val = X_val[-2000:], Y_val[-2000:]
    return X_train, Y_train.reshape(-1, 1), X_val, Y_val.reshape(-1, 1)


def plot_loss(loss_dict: dict[int, float], label: str | None = None, npoints_to_average: int = 1) -> None:
    """Plot `{step: loss}` on the current axes, averaging `npoints_to_average` points into one."""
    steps = np.array(list(loss_dict.keys()))
    losses = np.array([float(np.squeeze(v)) for v in loss_dict.values()])
    if npoints_to_average > 1:
        # The per-step training loss is noisy; the mean of each run of points reads better.
        num_points = len(losses) // npoints_to_average
        steps = steps[: num_points * npoints_to_average : npoints_to_average]
        losses = losses[: num_points * npoints_to_average].reshape(num_points, -1).mean(axis=1)
    plt.plot(steps, losses, label=label)


def check_gradient(
    model,
    X: np.ndarray,
    Y: np.ndarray,
    loss_fn: Callable[[np.ndarray, np.ndarray], float],
    epsilon: float = 1e-3,
    tolerance: float = 1e-5,
) -> None:
    """Compare `model.backward` with a central finite difference of `loss_fn` for every weight.

    Uses random weights (restored afterwards) so that a wrong formula cannot hide
    behind zeros. Raises AssertionError naming the first weight that disagrees.
    """
    saved_w = model.w
    model.w = np.random.normal(scale=0.1, size=saved_w.shape)
    model.backward(X, model.forward(X), Y)
    analytic = model.grad.copy()
    for index in np.ndindex(model.w.shape):
        original = model.w[index]
        model.w[index] = original + epsilon
        loss_up = loss_fn(Y, model.forward(X))
        model.w[index] = original - epsilon
        loss_down = loss_fn(Y, model.forward(X))
        model.w[index] = original
        numeric = (loss_up - loss_down) / (2 * epsilon)
        assert abs(numeric - analytic[index]) <= tolerance, (
            f"gradient of w{list(index)}: backward gives {analytic[index]:.6g}, "
            f"finite differences give {numeric:.6g}"
        )
    model.w = saved_w
    model.zero_grad()
