"""Tasks 3b-3d and 4b-4e: train softmax regression on all ten digits, with and without L2.

Run `python task3.py` to train and save the plots for the report.
"""

import matplotlib.pyplot as plt
import numpy as np
import utils
from task2a import pre_process_images
from task3a import SoftmaxModel, cross_entropy_loss, one_hot_encode
from trainer import BaseTrainer


def calculate_accuracy(X: np.ndarray, targets: np.ndarray, model: SoftmaxModel) -> float:
    """Fraction of samples whose most probable class is the target class.

    Args:
        X: inputs [N, 785]; targets: one-hot labels [N, 10]; model: a SoftmaxModel.
    """
    predicted = np.argmax(model.forward(X), axis=1)
    return np.float32(np.mean(predicted == np.argmax(targets, axis=1)))


class SoftmaxTrainer(BaseTrainer):
    """Trains a SoftmaxModel by plain gradient descent."""

    def train_step(self, X_batch: np.ndarray, Y_batch: np.ndarray) -> float:
        """Forward, backward and one gradient step on `self.model.w`; return the batch's loss.

        Args:
            X_batch: inputs [batch size, 785]; Y_batch: one-hot labels [batch size, 10].
        """
        y_hat = self.model.forward(X_batch)
        self.model.backward(X_batch, y_hat, Y_batch)
        self.model.w -= np.float32(self.learning_rate) * self.model.grad
        return cross_entropy_loss(Y_batch, y_hat)

    def validation_step(self) -> tuple[float, float, float]:
        """Return (validation loss, training accuracy, validation accuracy) of the current model.

        Like the course's starter code, this reads the module globals X_train,
        Y_train, X_val and Y_val (set in the `__main__` block below) rather than
        the trainer's own copies.
        """
        outputs = self.model.forward(X_val)
        loss = cross_entropy_loss(Y_val, outputs)
        accuracy_train = calculate_accuracy(X_train, Y_train, self.model)
        accuracy_val = calculate_accuracy(X_val, Y_val, self.model)
        return loss, accuracy_train, accuracy_val


def weights_as_images(w: np.ndarray) -> np.ndarray:
    """The ten columns of w (without the bias row) as 28x28 images side by side: [28, 280]."""
    return np.concatenate([w[:784, k].reshape(28, 28) for k in range(w.shape[1])], axis=1)


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

    # Tasks 3b-3d: no regularization.
    model = SoftmaxModel(l2_reg_lambda=0.0)
    trainer = SoftmaxTrainer(
        model, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val
    )
    train_history, val_history = trainer.train(num_epochs)
    print("Final train cross-entropy:", cross_entropy_loss(Y_train, model.forward(X_train)))
    print("Final validation cross-entropy:", cross_entropy_loss(Y_val, model.forward(X_val)))
    print("Final train accuracy:", calculate_accuracy(X_train, Y_train, model))
    print("Final validation accuracy:", calculate_accuracy(X_val, Y_val, model))

    plt.ylim([0.2, 0.6])
    utils.plot_loss(train_history["loss"], "Training loss", npoints_to_average=10)
    utils.plot_loss(val_history["loss"], "Validation loss")
    plt.xlabel("Training step")
    plt.ylabel("Cross-entropy loss (averaged)")
    plt.legend()
    plt.savefig("task3b_softmax_train_loss.png")
    plt.close()

    utils.plot_loss(train_history["accuracy"], "Training accuracy")
    utils.plot_loss(val_history["accuracy"], "Validation accuracy")
    plt.xlabel("Training step")
    plt.ylabel("Accuracy")
    plt.legend()
    plt.savefig("task3b_softmax_train_accuracy.png")
    plt.close()

    # Task 4b: the weights without and with a strong penalty, one 28x28 image per class.
    model_l2 = SoftmaxModel(l2_reg_lambda=2.0)
    trainer_l2 = SoftmaxTrainer(
        model_l2, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val
    )
    trainer_l2.train(num_epochs)
    weights = np.concatenate([weights_as_images(model.w), weights_as_images(model_l2.w)], axis=0)
    plt.imsave("task4b_softmax_weight.png", weights, cmap="gray")

    # Tasks 4c and 4e: validation accuracy and weight norm for a range of lambdas.
    lambdas = [2.0, 0.2, 0.02, 0.002]
    norms = []
    for l2_reg_lambda in lambdas:
        model_l2 = SoftmaxModel(l2_reg_lambda)
        trainer_l2 = SoftmaxTrainer(
            model_l2, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val
        )
        _, val_history_l2 = trainer_l2.train(num_epochs)
        utils.plot_loss(val_history_l2["accuracy"], f"lambda = {l2_reg_lambda}")
        norms.append(float(np.sum(model_l2.w**2)))
    plt.xlabel("Training step")
    plt.ylabel("Validation accuracy")
    plt.legend()
    plt.savefig("task4c_l2_reg_accuracy.png")
    plt.close()

    plt.plot(lambdas, norms, "o-")
    plt.xscale("log")
    plt.xlabel("lambda")
    plt.ylabel("Squared L2 norm of w")
    plt.savefig("task4e_l2_reg_norms.png")
    plt.close()
