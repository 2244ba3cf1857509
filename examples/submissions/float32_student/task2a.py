"""Task 2a: pre-processing, the binary cross-entropy loss and the logistic regression model.

Shapes: N samples, 784 pixels, 785 inputs once the bias column is appended.
"""

import numpy as np
import utils


def pre_process_images(X: np.ndarray) -> np.ndarray:
    """Scale pixels from 0..255 to [-1, 1] and append a bias column of ones.

    Args:
        X: images of shape [N, 784], dtype uint8, values 0..255.
    Returns:
        floats of shape [N, 785]; the last column is all ones, so the last weight
        acts as the bias (the "bias trick").
    """
    assert X.shape[1] == 784, f"X.shape[1]: {X.shape[1]}, should be 784"
    # float32 everywhere: half the memory, and what the GPU in the lab uses
    pixels = X.astype(np.float32) * np.float32(2 / 255) - np.float32(1)
    return np.hstack([pixels, np.ones((len(X), 1), dtype=np.float32)])


def cross_entropy_loss(targets: np.ndarray, outputs: np.ndarray) -> float:
    """Mean binary cross-entropy: C = -1/N sum_n [y ln(y_hat) + (1 - y) ln(1 - y_hat)].

    Args:
        targets: labels 0 or 1, shape [N, 1].
        outputs: predicted probabilities of label 1, shape [N, 1].
    Returns:
        the loss as a Python float.
    """
    assert targets.shape == outputs.shape, f"targets {targets.shape} and outputs {outputs.shape} differ"
    y_hat = np.clip(outputs.astype(np.float32), 1e-7, 1 - 1e-7)
    terms = targets * np.log(y_hat) + (1 - targets) * np.log1p(-y_hat)
    return -terms.mean(dtype=np.float32)


class BinaryModel:
    """Logistic regression: y_hat = sigmoid(X w), the bias being the last weight."""

    def __init__(self) -> None:
        self.I = 785  # inputs: 784 pixels and the bias
        self.w = np.zeros((self.I, 1))
        self.grad: np.ndarray | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Probability of label 1 for each sample: X [N, 785] -> [N, 1]."""
        z = X.astype(np.float32) @ self.w.astype(np.float32)
        return 1 / (1 + np.exp(-z))

    def backward(self, X: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> None:
        """Set `self.grad` to the gradient of the mean cross-entropy with respect to `w`.

        By task 1a, one sample contributes -(y - y_hat) x; the batch averages them.

        Args:
            X: inputs [N, 785]; outputs: `forward(X)` [N, 1]; targets: labels [N, 1].
        """
        assert targets.shape == outputs.shape, f"targets {targets.shape} and outputs {outputs.shape} differ"
        n = np.float32(X.shape[0])
        diff = np.float32(-1) * (targets - outputs).astype(np.float32)
        self.grad = X.astype(np.float32).T.dot(diff) / n
        assert self.grad.shape == self.w.shape, (
            f"grad {self.grad.shape} should have the shape of w {self.w.shape}"
        )

    def zero_grad(self) -> None:
        """Forget the last gradient."""
        self.grad = None


if __name__ == "__main__":
    # Sanity checks on random data: run `python task2a.py` after each step of task 2a.
    np.random.seed(1)
    X = pre_process_images(np.random.randint(0, 256, size=(100, 784), dtype=np.uint8))
    assert X.shape == (100, 785), f"pre_process_images gave shape {X.shape}, expected (100, 785)"
    assert X.min() >= -1 and X.max() <= 1, "pre-processed values should lie in [-1, 1]"
    Y = np.random.randint(0, 2, size=(100, 1))

    model = BinaryModel()
    outputs = model.forward(X)
    assert outputs.shape == (100, 1)
    assert np.allclose(outputs, 0.5), "with zero weights, every output is sigmoid(0) = 0.5"
    assert np.isclose(cross_entropy_loss(Y, outputs), np.log(2)), "with outputs 0.5 the loss is ln 2"

    utils.check_gradient(model, X, Y, cross_entropy_loss)
    print("task2a: all checks passed")
