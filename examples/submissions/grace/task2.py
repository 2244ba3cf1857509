import numpy as np
import matplotlib.pyplot as plt
import utils
from task2a import cross_entropy_loss, BinaryModel, pre_process_images
from trainer import BaseTrainer


def calculate_accuracy(X: np.ndarray, targets: np.ndarray, model: BinaryModel) -> float:
    guesses = np.where(model.forward(X) >= 0.5, 1, 0)
    hits = 0
    for guess, truth in zip(guesses[:, 0], targets[:, 0]):
        if guess == truth:
            hits += 1
    return hits / targets.shape[0]


class LogisticTrainer(BaseTrainer):

    def train_step(self, X_batch: np.ndarray, Y_batch: np.ndarray):
        y_hat = self.model.forward(X_batch)
        self.model.backward(X_batch, y_hat, Y_batch)
        self.model.w -= self.learning_rate * self.model.grad
        return cross_entropy_loss(Y_batch, y_hat)

    def validation_step(self):
        # uses the data set up at the bottom of this file (given code)
        y_hat_val = self.model.forward(X_val)
        loss = cross_entropy_loss(Y_val, y_hat_val)
        accuracy_train = calculate_accuracy(X_train, Y_train, self.model)
        accuracy_val = calculate_accuracy(X_val, Y_val, self.model)
        return loss, accuracy_train, accuracy_val


if __name__ == "__main__":
    num_epochs = 50
    learning_rate = 0.05
    batch_size = 128
    shuffle_dataset = True

    X_train, Y_train, X_val, Y_val = utils.load_binary_dataset(2, 3)
    X_train = pre_process_images(X_train)
    X_val = pre_process_images(X_val)

    model = BinaryModel()
    trainer = LogisticTrainer(model, learning_rate, batch_size, shuffle_dataset,
                              X_train, Y_train, X_val, Y_val)
    train_history, val_history = trainer.train(num_epochs)

    print("train loss:", cross_entropy_loss(Y_train, model.forward(X_train)))
    print("val loss:", cross_entropy_loss(Y_val, model.forward(X_val)))
    print("train acc:", calculate_accuracy(X_train, Y_train, model))
    print("val acc:", calculate_accuracy(X_val, Y_val, model))

    # 2b
    plt.ylim([0, 0.2])
    utils.plot_loss(train_history["loss"], "train loss", npoints_to_average=10)
    utils.plot_loss(val_history["loss"], "val loss")
    plt.xlabel("step")
    plt.ylabel("cross entropy")
    plt.legend()
    plt.savefig("2b_loss.png")
    plt.show()

    # 2c
    utils.plot_loss(train_history["accuracy"], "train acc")
    utils.plot_loss(val_history["accuracy"], "val acc")
    plt.xlabel("step")
    plt.ylabel("accuracy")
    plt.legend()
    plt.savefig("2c_accuracy.png")
    plt.show()
