# Lösung von Jürgen, gespeichert in Latin-1
import numpy as np


def mse_grad(X, y, w):
    return X.T @ (X @ w - y) / len(y)


class Ridge:
    def __init__(self, lam):
        self.lam = lam

    def fit(self, X, y):
        self.w = np.linalg.solve(X.T @ X + self.lam * np.eye(X.shape[1]), X.T @ y)
        return self

    def predict(self, X):
        return X @ self.w


def fit(model, X, y):
    model.fit(X, y)
    return model


def scaled_sum(values):
    return SCALE * sum(values)


ANSWERS = {"q1": "(w*x - y)*x"}
