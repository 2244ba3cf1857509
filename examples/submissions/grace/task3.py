import numpy as np
import urllib3
import matplotlib.pyplot as plt
import utils
from task2a import pre_process_images
from task3a import cross_entropy_loss, SoftmaxModel, one_hot_encode
from trainer import BaseTrainer


def calculate_accuracy(X: np.ndarray, targets: np.ndarray, model: SoftmaxModel) -> float:
    predicted = np.argmax(model.forward(X), axis=1)
    actual = np.argmax(targets, axis=1)
    return np.mean(predicted == actual)


class SoftmaxTrainer(BaseTrainer):

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
    learning_rate = 0.01
    batch_size = 128
    l2_reg_lambda = 0
    shuffle_dataset = True

    X_train, Y_train, X_val, Y_val = utils.load_full_mnist()
    X_train = pre_process_images(X_train)
    X_val = pre_process_images(X_val)
    Y_train = one_hot_encode(Y_train, 10)
    Y_val = one_hot_encode(Y_val, 10)

    model = SoftmaxModel(l2_reg_lambda)
    trainer = SoftmaxTrainer(model, learning_rate, batch_size, shuffle_dataset,
                             X_train, Y_train, X_val, Y_val)
    train_history, val_history = trainer.train(num_epochs)
    print("val acc:", calculate_accuracy(X_val, Y_val, model))

    # 3b
    plt.ylim([0.2, .6])
    utils.plot_loss(train_history["loss"], "train loss", npoints_to_average=10)
    utils.plot_loss(val_history["loss"], "val loss")
    plt.legend()
    plt.savefig("3b_loss.png")
    plt.show()

    # 4b: bias is row 0, so the pixels are rows 1..784
    model2 = SoftmaxModel(2.0)
    trainer2 = SoftmaxTrainer(model2, learning_rate, batch_size, shuffle_dataset,
                              X_train, Y_train, X_val, Y_val)
    trainer2.train(num_epochs)
    rows = []
    for m in (model, model2):
        rows.append(np.hstack([m.w[1:, k].reshape(28, 28) for k in range(10)]))
    plt.imsave("4b_weights.png", np.vstack(rows), cmap="gray")

    # 4c and 4e
    norms = []
    for lam in [2, .2, .02, .002]:
        m = SoftmaxModel(lam)
        t = SoftmaxTrainer(m, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val)
        _, hist = t.train(num_epochs)
        utils.plot_loss(hist["accuracy"], f"lambda={lam}")
        norms.append(np.sum(m.w ** 2))
    plt.legend()
    plt.savefig("4c_accuracy.png")
    plt.show()
    plt.semilogx([2, .2, .02, .002], norms, "o-")
    plt.savefig("4e_norms.png")
    plt.show()
