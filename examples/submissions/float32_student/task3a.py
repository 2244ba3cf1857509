"""Task 3a (and 4a): one-hot targets, the multi-class cross-entropy and softmax regression.

Shapes: N samples, 785 inputs (784 pixels and the bias), K = 10 classes.
"""

import numpy as np
import utils


def cross_entropy_loss(targets: np.ndarray, outputs: np.ndarray) -> float:
    """Mean over samples of -sum_k y_k ln(y_hat_k).

    Args:
        targets: one-hot labels, shape [N, K].
        outputs: predicted class probabilities, shape [N, K].
    Returns:
        the loss as a Python float.
    """
    assert targets.shape == outputs.shape, f"targets {targets.shape} and outputs {outputs.shape} differ"
    picked = np.sum(targets * outputs, axis=1, dtype=np.float32)
    return -np.log(np.maximum(picked, np.float32(1e-12))).mean(dtype=np.float32)


class SoftmaxModel:
    """Softmax regression: y_hat = softmax(X w), trained with an optional L2 penalty on w."""

    def __init__(self, l2_reg_lambda: float) -> None:
        self.I = 785  # inputs: 784 pixels and the bias
        self.num_outputs = 10
        self.w = np.zeros((self.I, self.num_outputs))
        self.grad: np.ndarray | None = None
        # The regularized cost is C(w) + lambda * R(w) with R(w) = 1/2 sum w^2 (task 4a).
        self.l2_reg_lambda = l2_reg_lambda

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities: X [N, 785] -> [N, 10], each row summing to 1."""
        z = X.astype(np.float32) @ self.w.astype(np.float32)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, X: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> None:
        """Set `self.grad` to the gradient of the regularized cost with respect to `w`.

        By task 1b, one sample contributes -x_j (y_k - y_hat_k) to entry [j, k];
        the batch averages them, and the L2 penalty adds lambda * w (task 4a).

        Args:
            X: inputs [N, 785]; outputs: `forward(X)` [N, 10]; targets: one-hot [N, 10].
        """
        assert targets.shape == outputs.shape, f"targets {targets.shape} and outputs {outputs.shape} differ"
        n = np.float32(X.shape[0])
        error = (outputs - targets).astype(np.float32)
        w32 = self.w.astype(np.float32)
        self.grad = X.astype(np.float32).T.dot(error) / n + np.float32(self.l2_reg_lambda) * w32
        assert self.grad.shape == self.w.shape, (
            f"grad {self.grad.shape} should have the shape of w {self.w.shape}"
        )

    def zero_grad(self) -> None:
        """Forget the last gradient."""
        self.grad = None


def one_hot_encode(Y: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer labels [N, 1] -> one-hot rows [N, num_classes]: a 1 in column Y[n], 0 elsewhere."""
    codes = np.eye(num_classes, dtype=np.float32)
    return codes[np.ravel(Y).astype(np.int64)]


if __name__ == "__main__":
    # Sanity checks on random data: run `python task3a.py` after each step of task 3a.
    np.random.seed(1)
    Y = one_hot_encode(np.array([[3], [0]]), 10)
    assert Y.shape == (2, 10) and Y[0, 3] == 1 and Y[1, 0] == 1 and Y.sum() == 2, f"one_hot_encode gave {Y}"

    X = np.concatenate([np.random.uniform(-1, 1, size=(100, 784)), np.ones((100, 1))], axis=1)
    Y = one_hot_encode(np.random.randint(0, 10, size=(100, 1)), 10)
    model = SoftmaxModel(l2_reg_lambda=0.0)
    outputs = model.forward(X)
    assert outputs.shape == (100, 10)
    assert np.allclose(outputs, 0.1), "with zero weights, every class gets probability 1/10"
    assert np.isclose(cross_entropy_loss(Y, outputs), np.log(10)), "with uniform outputs the loss is ln 10"

    model.w = np.full((785, 10), 1000.0)
    model.w[:, 0] = 0
    assert np.all(np.isfinite(model.forward(X))), "softmax overflows for large logits"
    model.w = np.zeros((785, 10))

    # Only the first 20 samples: the check takes two forward passes per weight.
    utils.check_gradient(model, X[:20], Y[:20], cross_entropy_loss)
    print("task3a: all checks passed")
