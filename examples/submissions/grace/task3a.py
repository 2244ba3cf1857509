import numpy as np
import utils
from task2a import pre_process_images


def cross_entropy_loss(targets: np.ndarray, outputs: np.ndarray):
    assert targets.shape == outputs.shape
    N = targets.shape[0]
    return -np.einsum("nk,nk->", targets, np.log(outputs)) / N


class SoftmaxModel:

    def __init__(self, l2_reg_lambda: float):
        self.I = 785
        self.num_outputs = 10
        self.w = np.zeros((self.I, self.num_outputs))
        self.grad = None
        self.l2_reg_lambda = l2_reg_lambda

    def forward(self, X: np.ndarray) -> np.ndarray:
        scores = np.exp(np.einsum("ni,ik->nk", X, self.w))
        return scores / np.sum(scores, axis=1, keepdims=True)

    def backward(self, X: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> None:
        assert targets.shape == outputs.shape
        N = X.shape[0]
        # dC/dw_kj = -x_j (y_k - y_hat_k), averaged; plus lambda*w from the penalty (4a)
        self.grad = -np.einsum("nj,nk->jk", X, targets - outputs) / N + self.l2_reg_lambda * self.w
        assert self.grad.shape == self.w.shape

    def zero_grad(self) -> None:
        self.grad = None


def one_hot_encode(Y: np.ndarray, num_classes: int):
    encoded = np.zeros((Y.shape[0], num_classes))
    for row, label in enumerate(Y[:, 0]):
        encoded[row, int(label)] = 1
    return encoded


if __name__ == "__main__":
    Y = one_hot_encode(np.array([[3]]), 10)
    print(Y)

    X_train, Y_train, *_ = utils.load_full_mnist()
    X_train = pre_process_images(X_train)
    Y_train = one_hot_encode(Y_train, 10)
    model = SoftmaxModel(0.0)
    print("loss with zero weights (should be ln 10 = 2.30):", cross_entropy_loss(Y_train, model.forward(X_train)))
