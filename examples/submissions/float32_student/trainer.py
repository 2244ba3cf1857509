"""The training loop shared by the logistic (task 2) and softmax (task 3) trainers."""

import numpy as np
import utils


class BaseTrainer:
    """Mini-batch gradient descent with periodic validation and early stopping.

    A subclass supplies `train_step` (one gradient step on one batch) and
    `validation_step` (the current model's validation loss and accuracies).
    """

    # Stop after this many validations in a row without a new lowest validation loss.
    early_stopping_patience = 10

    def __init__(
        self,
        model,
        learning_rate: float,
        batch_size: int,
        shuffle_dataset: bool,
        X_train: np.ndarray,
        Y_train: np.ndarray,
        X_val: np.ndarray,
        Y_val: np.ndarray,
    ) -> None:
        self.model = model
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle_dataset = shuffle_dataset
        self.X_train = X_train
        self.Y_train = Y_train
        self.X_val = X_val
        self.Y_val = Y_val

    def validation_step(self) -> tuple[float, float, float]:
        """Return (validation loss, training accuracy, validation accuracy) of the current model."""
        raise NotImplementedError("a subclass implements validation_step")

    def train_step(self, X_batch: np.ndarray, Y_batch: np.ndarray) -> float:
        """Take one gradient step on the batch and return the batch's loss."""
        raise NotImplementedError("a subclass implements train_step")

    def train(self, num_epochs: int) -> tuple[dict, dict]:
        """Train for up to `num_epochs` epochs and return (train_history, val_history).

        Each history is `{"loss": {step: value}, "accuracy": {step: value}}`, keyed by
        the global step (the number of gradient steps taken before this one).
        `train_history["loss"]` has every step; the accuracies and the validation
        loss are recorded at each validation, which happens every
        `(N // batch_size) // 5` steps (about five times an epoch), starting at step 0.

        Early stopping (task 2d): the best validation loss so far is kept, and a
        validation improves on it only if its loss is strictly lower. Training
        stops right after the 10th validation in a row that did not improve; that
        validation is still recorded in the histories.
        """
        num_batches_per_epoch = len(self.X_train) // self.batch_size
        # At least 1, so that a dataset of fewer than five batches still validates.
        num_steps_per_val = max(1, num_batches_per_epoch // 5)
        train_history: dict[str, dict[int, float]] = {"loss": {}, "accuracy": {}}
        val_history: dict[str, dict[int, float]] = {"loss": {}, "accuracy": {}}
        lowest = np.float32(np.inf)
        since_lowest = 0

        global_step = 0
        for _ in range(num_epochs):
            batches = utils.batch_loader(
                self.X_train, self.Y_train, self.batch_size, shuffle=self.shuffle_dataset
            )
            for X_batch, Y_batch in batches:
                train_history["loss"][global_step] = self.train_step(X_batch, Y_batch)

                if global_step % num_steps_per_val == 0:
                    val_loss, accuracy_train, accuracy_val = self.validation_step()
                    train_history["accuracy"][global_step] = accuracy_train
                    val_history["loss"][global_step] = val_loss
                    val_history["accuracy"][global_step] = accuracy_val
                    if val_loss < lowest:
                        lowest, since_lowest = val_loss, 0
                    else:
                        since_lowest += 1
                        if since_lowest == 10:
                            return train_history, val_history

                global_step += 1
        return train_history, val_history
