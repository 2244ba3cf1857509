import numpy as np
import utils


class BaseTrainer:

    def __init__(self, model, learning_rate: float, batch_size: int, shuffle_dataset: bool,
                 X_train: np.ndarray, Y_train: np.ndarray, X_val: np.ndarray, Y_val: np.ndarray) -> None:
        self.model = model
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle_dataset = shuffle_dataset
        self.X_train, self.Y_train = X_train, Y_train
        self.X_val, self.Y_val = X_val, Y_val

    def validation_step(self):
        pass  # done in the subclasses

    def train_step(self):
        pass  # done in the subclasses

    def train(self, num_epochs: int):
        steps_per_epoch = self.X_train.shape[0] // self.batch_size
        validate_every = steps_per_epoch // 5
        train_history = {"loss": {}, "accuracy": {}}
        val_history = {"loss": {}, "accuracy": {}}
        seen_val_losses = []   # for early stopping (2d)

        step = 0
        for epoch in range(num_epochs):
            for X_batch, Y_batch in utils.batch_loader(self.X_train, self.Y_train, self.batch_size,
                                                       shuffle=self.shuffle_dataset):
                train_history["loss"][step] = self.train_step(X_batch, Y_batch)

                if step % validate_every == 0:
                    val_loss, acc_train, acc_val = self.validation_step()
                    train_history["accuracy"][step] = acc_train
                    val_history["loss"][step] = val_loss
                    val_history["accuracy"][step] = acc_val

                    # 2d: give up when the last 10 validations all failed to beat the best one before them
                    seen_val_losses.append(float(np.squeeze(val_loss)))
                    if len(seen_val_losses) > 10 and min(seen_val_losses[-10:]) >= min(seen_val_losses[:-10]):
                        print("early stopping kicked in at epoch", epoch)
                        return train_history, val_history
                step += 1
        return train_history, val_history
