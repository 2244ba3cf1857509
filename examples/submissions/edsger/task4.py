"""Task 4: softmax regression with L2 regularization (my copy of task 3 with the penalty added)."""

import matplotlib.pyplot as plt
import numpy as np

import utils
from task2a import pre_process_images
from task3 import calculate_accuracy
from task3a import cross_entropy_loss, one_hot_encode
from trainer import BaseTrainer


class SoftmaxModel:
    """Softmax regression whose cost is C(w) + lambda/2 * ||w||^2."""

    def __init__(self, l2_reg_lambda: float) -> None:
        self.I = 785
        self.num_outputs = 10
        self.w = np.zeros((self.I, self.num_outputs))
        self.grad = None
        self.l2_reg_lambda = l2_reg_lambda

    def forward(self, X: np.ndarray) -> np.ndarray:
        logits = X @ self.w
        logits = logits - logits.max(axis=1, keepdims=True)
        exp_logits = np.exp(logits)
        return exp_logits / exp_logits.sum(axis=1, keepdims=True)

    def backward(self, X: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> None:
        assert targets.shape == outputs.shape
        # the penalty is part of the cost (see regularized_loss below)
        self.grad = -(X.T @ (targets - outputs)) / X.shape[0]
        assert self.grad.shape == self.w.shape

    def zero_grad(self) -> None:
        self.grad = None


def regularized_loss(targets: np.ndarray, outputs: np.ndarray, model: SoftmaxModel) -> float:
    """Cross-entropy plus the L2 penalty lambda/2 * sum of w squared."""
    return cross_entropy_loss(targets, outputs) + model.l2_reg_lambda / 2 * float(np.sum(model.w**2))


class SoftmaxTrainer(BaseTrainer):
    def train_step(self, X_batch: np.ndarray, Y_batch: np.ndarray) -> float:
        outputs = self.model.forward(X_batch)
        self.model.backward(X_batch, outputs, Y_batch)
        self.model.w = self.model.w - self.learning_rate * self.model.grad
        return regularized_loss(Y_batch, outputs, self.model)

    def validation_step(self) -> tuple[float, float, float]:
        outputs = self.model.forward(X_val)
        loss = cross_entropy_loss(Y_val, outputs)
        accuracy_train = calculate_accuracy(X_train, Y_train, self.model)
        accuracy_val = calculate_accuracy(X_val, Y_val, self.model)
        return loss, accuracy_train, accuracy_val


if __name__ == "__main__":
    np.random.seed(0)
    num_epochs = 50
    learning_rate = 0.01
    batch_size = 128
    shuffle_dataset = True

    X_train, Y_train, X_val, Y_val = utils.load_full_mnist()
    X_train = pre_process_images(X_train)
    X_val = pre_process_images(X_val)
    Y_train = one_hot_encode(Y_train, 10)
    Y_val = one_hot_encode(Y_val, 10)

    lambdas = [2.0, 0.2, 0.02, 0.002]
    norms = []
    for l2_reg_lambda in lambdas:
        model = SoftmaxModel(l2_reg_lambda)
        trainer = SoftmaxTrainer(model, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val)
        _, val_history = trainer.train(num_epochs)
        utils.plot_loss(val_history["accuracy"], f"lambda = {l2_reg_lambda}")
        norms.append(float(np.sum(model.w**2)))
        if l2_reg_lambda == 2.0:
            images = [model.w[:784, k].reshape(28, 28) for k in range(10)]
            plt.imsave("task4b_softmax_weight.png", np.concatenate(images, axis=1), cmap="gray")
    plt.xlabel("Training step")
    plt.ylabel("Validation accuracy")
    plt.legend()
    plt.savefig("task4c_l2_reg_accuracy.png")
    plt.close()

    plt.plot(lambdas, norms, "o-")
    plt.xscale("log")
    plt.savefig("task4e_l2_reg_norms.png")
    plt.close()
