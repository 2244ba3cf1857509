import numpy as np
import matplotlib.pyplot as plt
import mnist


def batch_loader(X: np.ndarray, Y: np.ndarray, batch_size: int, shuffle=False, drop_last=True):
    assert len(X) == len(Y)
    order = np.arange(len(X))
    if shuffle:
        np.random.shuffle(order)   # new order every time the loader is made, i.e. every epoch
    if drop_last:
        n_batches = len(X) // batch_size
    else:
        n_batches = int(np.ceil(len(X) / batch_size))
    for b in range(n_batches):
        picked = order[b * batch_size:(b + 1) * batch_size]
        yield X[picked], Y[picked]


def _two_digits(X, Y, first, second):
    keep = (Y == first) | (Y == second)
    labels = np.where(Y[keep] == first, 1, 0)
    return X[keep], labels.reshape(-1, 1)


def load_binary_dataset(class1: int, class2: int):
    X_train, Y_train, X_test, Y_test = mnist.load()
    X_train, Y_train = _two_digits(X_train[:20000], Y_train[:20000], class1, class2)
    X_val, Y_val = _two_digits(X_test[-2000:], Y_test[-2000:], class1, class2)
    return X_train, Y_train, X_val, Y_val


def load_full_mnist():
    X_train, Y_train, X_test, Y_test = mnist.load()
    return (X_train[:20000], Y_train[:20000].reshape(-1, 1),
            X_test[-2000:], Y_test[-2000:].reshape(-1, 1))


def plot_loss(loss_dict: dict, label: str = None, npoints_to_average=1):
    steps = list(loss_dict.keys())
    values = [float(np.squeeze(v)) for v in loss_dict.values()]
    if npoints_to_average > 1:
        k = npoints_to_average
        chunks = len(values) // k
        steps = [steps[i * k] for i in range(chunks)]
        values = [np.mean(values[i * k:(i + 1) * k]) for i in range(chunks)]
    plt.plot(steps, values, label=label)
