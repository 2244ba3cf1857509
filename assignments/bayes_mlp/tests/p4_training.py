"""Problem 4's training, run the same way in the student's worker (`student.helper`) and on the host.

Functions take the notebook's objects as arguments, so that the host can pass the
reference's and the worker the student's (`import submission` happens only in the
`student_*` entry points, inside the worker). Batches are plain lists of tensors, no
DataLoader. Parameters are re-initialised from the seed before every run, so that the
student and the reference start from the same weights, whatever ran before.
"""

import numpy as np
import torch


def batches(X, y, batch_size):
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    return [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]


def fresh_parameters(params, seed):
    """Small random weights, zero biases, in the shapes given; Parameters stay the same objects."""
    generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for p in params:
            if p.dim() >= 2:
                p.copy_(0.01 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
            else:
                p.zero_()
            p.grad = None


def grader_parameters(seed):
    params = [torch.nn.Parameter(torch.zeros(784, 256)), torch.nn.Parameter(torch.zeros(256)),
              torch.nn.Parameter(torch.zeros(256, 10)), torch.nn.Parameter(torch.zeros(10))]
    fresh_parameters(params, seed)
    return params


def grader_net(params):
    """A correct network over `params`, so that a test of `train` does not depend on the student's net."""
    W1, b1, W2, b2 = params

    def net(X):
        H = torch.clamp(X.reshape(X.shape[0], -1) @ W1 + b1, min=0)
        logits = H @ W2 + b2
        E = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
        return E / E.sum(dim=1, keepdim=True)

    return net


def grader_cross_entropy(y_hat, y):
    return -torch.log(y_hat[torch.arange(len(y_hat)), y])


def grader_sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def set_globals(function, epochs, lr):
    """The notebook's `epochs` and `lr`, which the handout lets `train` read as globals."""
    module_globals = getattr(function, "__globals__", None)
    if module_globals is not None:
        module_globals["epochs"] = int(epochs)
        module_globals["lr"] = float(lr)


def accuracy(net, X, y):
    with torch.no_grad():
        out = net(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    return float((torch.as_tensor(out).argmax(dim=1).numpy() == np.asarray(y)).mean())


def train_isolated(train, X, y, Xv, yv, epochs, lr, batch_size, seed):
    """The student's `train` with the grader's net, loss and update: its accuracy after training."""
    torch.manual_seed(int(seed))
    params = grader_parameters(seed)
    net = grader_net(params)
    set_globals(train, epochs, lr)
    train(net, params, batches(X, y, batch_size), grader_cross_entropy, grader_sgd)
    return accuracy(net, Xv, yv)


def train_whole(S, X, y, Xv, yv, epochs, lr, batch_size, seed):
    """The notebook's own net, parameters, loss, update and train, end to end: accuracy after training."""
    torch.manual_seed(int(seed))
    params = [S.W1, S.b1, S.W2, S.b2]
    fresh_parameters(params, seed)
    set_globals(S.train, epochs, lr)
    S.train(S.net, params, batches(X, y, batch_size), S.cross_entropy, S.sgd)
    return accuracy(S.net, Xv, yv)


def net_with(S, X, W1, b1, W2, b2, isolate):
    """The notebook's `net` on given weights; with `isolate`, over the grader's relu and softmax."""
    names = ("W1", "b1", "W2", "b2", "relu", "softmax")
    module_globals = S.net.__globals__
    saved = {name: module_globals.get(name) for name in names}
    module_globals.update(W1=torch.nn.Parameter(torch.as_tensor(W1)), b1=torch.nn.Parameter(torch.as_tensor(b1)),
                          W2=torch.nn.Parameter(torch.as_tensor(W2)), b2=torch.nn.Parameter(torch.as_tensor(b2)))
    if isolate:
        module_globals.update(relu=lambda x: torch.clamp(x, min=0), softmax=_softmax)
    try:
        with torch.no_grad():
            return S.net(torch.as_tensor(X))
    finally:
        module_globals.update(saved)


def _softmax(X):
    E = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return E / E.sum(dim=1, keepdim=True)


def sgd_step(S, values, grads, lr):
    """One call of the notebook's `sgd` on parameters with given values and gradients."""
    params = [torch.nn.Parameter(torch.as_tensor(v)) for v in values]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.as_tensor(g).clone()
    S.sgd(params, lr)
    return {"values": [p.detach() for p in params],
            "grads": [None if p.grad is None else p.grad.detach() for p in params]}


class _Submission:
    """The student's module, imported only in the worker."""

    def __getattr__(self, name):
        import submission

        return getattr(submission, name)


def student_train_isolated(*args):
    import submission

    return train_isolated(submission.train, *args)


def student_train_whole(*args):
    return train_whole(_Submission(), *args)


def student_net_with(*args):
    return net_with(_Submission(), *args)


def student_sgd_step(*args):
    return sgd_step(_Submission(), *args)
