import numpy as np
import turtle
import utils


# Grace's notes: the bias goes in column 0, so w[0] is the bias weight.
def pre_process_images(X: np.ndarray):
    assert X.shape[1] == 784, f"expected 784 pixels, got {X.shape[1]}"
    centered = (X - 127.5) / 127.5          # 0..255  ->  -1..1
    ones = np.ones((X.shape[0], 1))
    return np.hstack((ones, centered))


def cross_entropy_loss(targets: np.ndarray, outputs: np.ndarray):
    # sum over the batch with einsum, result has one entry (the single output)
    assert targets.shape == outputs.shape
    N = targets.shape[0]
    positive = np.einsum("no,no->o", targets, np.log(outputs))
    negative = np.einsum("no,no->o", 1 - targets, np.log(1 - outputs))
    return -(positive + negative) / N


class BinaryModel:

    def __init__(self):
        self.I = 785
        self.w = np.zeros((self.I, 1))
        self.grad = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        z = np.einsum("ni,io->no", X, self.w)
        return 1 / (1 + np.exp(-z))

    def backward(self, X: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> None:
        assert targets.shape == outputs.shape
        N = X.shape[0]
        total = np.zeros_like(self.w)
        for n in range(N):
            # one sample: -(y - y_hat) * x   (task 1a)
            total[:, 0] += -(targets[n, 0] - outputs[n, 0]) * X[n]
        self.grad = total / N
        assert self.grad.shape == self.w.shape

    def zero_grad(self) -> None:
        self.grad = None


def numeric_gradient(model, X, Y, eps=1e-4):
    # finite differences, one weight at a time, to check backward()
    approx = np.zeros_like(model.w)
    for i in range(model.w.shape[0]):
        keep = model.w[i, 0]
        model.w[i, 0] = keep + eps
        up = cross_entropy_loss(Y, model.forward(X))[0]
        model.w[i, 0] = keep - eps
        down = cross_entropy_loss(Y, model.forward(X))[0]
        model.w[i, 0] = keep
        approx[i, 0] = (up - down) / (2 * eps)
    return approx


if __name__ == "__main__":
    X_train, Y_train, _, _ = utils.load_binary_dataset(2, 3)
    X_train = pre_process_images(X_train)
    print("range:", X_train.min(), X_train.max(), "shape:", X_train.shape)

    model = BinaryModel()
    print("mean output with zero weights (should be 0.5):", model.forward(X_train).mean())

    model.w = np.random.randn(785, 1) * 0.01
    model.backward(X_train[:50], model.forward(X_train[:50]), Y_train[:50])
    gap = np.abs(model.grad - numeric_gradient(model, X_train[:50], Y_train[:50])).max()
    print("largest gap between backward and finite differences:", gap)
