"""Tasks 2b-2e: train logistic regression to tell 2s (label 1) from 3s (label 0).

Run `python task2.py` to train and save the plots for the report.
"""

import matplotlib.pyplot as plt
import numpy as np
import utils
from task2a import BinaryModel, cross_entropy_loss, pre_process_images
from trainer import BaseTrainer


def calculate_accuracy(X: np.ndarray, targets: np.ndarray, model: BinaryModel) -> float:
    """Fraction of samples whose prediction (label 1 where the output is >= 0.5) equals the target.

    Args:
        X: inputs [N, 785]; targets: labels 0 or 1, shape [N, 1]; model: a BinaryModel.
    """
    predictions = np.where(model.forward(X) >= 0.5, 1, 0).astype(np.int)
    correct = int(np.sum(predictions == targets, axis=0))  # one output column: one count
    return correct / X.shape[0]


class LogisticTrainer(BaseTrainer):
    """Trains a BinaryModel by plain gradient descent."""

    def train_step(self, X_batch: np.ndarray, Y_batch: np.ndarray) -> float:
        """Forward, backward and one gradient step on `self.model.w`; return the batch's loss.

        Args:
            X_batch: inputs [batch size, 785]; Y_batch: labels [batch size, 1].
        """
        outputs = self.model.forward(X_batch)
        self.model.backward(X_batch, outputs, Y_batch)
        self.model.w = self.model.w - self.learning_rate * self.model.grad
        loss = cross_entropy_loss(Y_batch, outputs)
        return loss

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


if __name__ == "__main__":
    np.random.seed(0)
    num_epochs = 50
    learning_rate = 0.05
    batch_size = 128

    X_train, Y_train, X_val, Y_val = utils.load_binary_dataset(2, 3)
    X_train = pre_process_images(X_train)
    X_val = pre_process_images(X_val)

    # Tasks 2b-2d: without shuffling.
    model = BinaryModel()
    trainer = LogisticTrainer(model, learning_rate, batch_size, False, X_train, Y_train, X_val, Y_val)
    train_history, val_history = trainer.train(num_epochs)
    # Task 2d: with early stopping, training may end before num_epochs.
    num_steps = len(train_history["loss"])
    print(f"Trained for {num_steps} steps, {num_steps / (len(X_train) // batch_size):.1f} epochs")
    print("Final train cross-entropy:", cross_entropy_loss(Y_train, model.forward(X_train)))
    print("Final validation cross-entropy:", cross_entropy_loss(Y_val, model.forward(X_val)))
    print("Final train accuracy:", calculate_accuracy(X_train, Y_train, model))
    print("Final validation accuracy:", calculate_accuracy(X_val, Y_val, model))

    plt.ylim([0, 0.2])
    utils.plot_loss(train_history["loss"], "Training loss", npoints_to_average=10)
    utils.plot_loss(val_history["loss"], "Validation loss")
    plt.xlabel("Training step")
    plt.ylabel("Cross-entropy loss (averaged)")
    plt.legend()
    plt.savefig("task2b_binary_train_loss.png")
    plt.close()

    utils.plot_loss(train_history["accuracy"], "Training accuracy")
    utils.plot_loss(val_history["accuracy"], "Validation accuracy")
    plt.xlabel("Training step")
    plt.ylabel("Accuracy")
    plt.legend()
    plt.savefig("task2c_binary_train_accuracy.png")
    plt.close()

    # Task 2e: the same training with a new order of the samples in every epoch.
    shuffled_trainer = LogisticTrainer(
        BinaryModel(), learning_rate, batch_size, True, X_train, Y_train, X_val, Y_val
    )
    _, shuffled_val_history = shuffled_trainer.train(num_epochs)
    plt.ylim([0, 0.2])
    utils.plot_loss(val_history["loss"], "Validation loss, fixed order")
    utils.plot_loss(shuffled_val_history["loss"], "Validation loss, shuffled")
    plt.xlabel("Training step")
    plt.ylabel("Cross-entropy loss")
    plt.legend()
    plt.savefig("task2e_shuffle_loss.png")
    plt.close()
