"""Instructor helpers run in the student's worker (`student.helper`) and, the same code, on the host.

Only numpy: the student's classes come in as arguments. `train` sets the module globals
X_train, Y_train, X_val, Y_val that the starter's `validation_step` reads, in the module
that defines the trainer's `validation_step`, to the arrays it passes to the trainer.

Each helper isolates one task, so that no bug is charged twice: `train_steps` drives the
student's `train_step` (2b, 3b) with a fixed loop and a correct model, never through the
student's `BaseTrainer.train` (2d) or `batch_loader` (2e); `scripted_stop` runs the
student's `BaseTrainer.train` (2d) with a correct `batch_loader`; `plain_descent` trains
`L2Only` (4b-4e), the student's L2 term on a correct data gradient.
"""

import numpy as np


def set_validation_globals(trainer_cls, X_train, Y_train, X_val, Y_val):
    step = getattr(trainer_cls, "validation_step", None)
    module_globals = getattr(step, "__globals__", None)
    if module_globals is not None:
        module_globals.update(X_train=X_train, Y_train=Y_train, X_val=X_val, Y_val=Y_val)


def train(trainer_cls, model, learning_rate, batch_size, shuffle, X_train, Y_train, X_val, Y_val, num_epochs):
    """Train `model` with `trainer_cls`; return its weights and the histories as plain data."""
    set_validation_globals(trainer_cls, X_train, Y_train, X_val, Y_val)
    trainer = trainer_cls(model, learning_rate, batch_size, shuffle, X_train, Y_train, X_val, Y_val)
    train_history, val_history = trainer.train(num_epochs)
    return {
        "w": np.array(model.w, dtype=float),
        "steps": len(train_history["loss"]),
        "val_loss": [float(np.squeeze(v)) for v in val_history["loss"].values()],
    }


class _Model:
    """A stand-in model for the scripted trainer: weights that never change."""

    def __init__(self):
        self.w = np.zeros((785, 1))
        self.grad = None

    def forward(self, X):
        return np.full((len(X), 1), 0.5)

    def backward(self, X, outputs, targets):
        self.grad = np.zeros_like(self.w)

    def zero_grad(self):
        self.grad = None


def scripted_stop(base_cls, losses, num_epochs=60):
    """Train a subclass of `base_cls` whose validation losses follow `losses` (the last repeats).

    50 samples in batches of 10: 5 steps an epoch, a validation every step. Returns how many
    validations ran and how many the history recorded.
    """
    seen = []

    class Scripted(base_cls):
        def train_step(self, X_batch, Y_batch):
            return 0.0

        def validation_step(self):
            loss = float(losses[min(len(seen), len(losses) - 1)])
            seen.append(loss)
            return loss, 0.5, 0.5

    X, Y = np.zeros((50, 785)), np.zeros((50, 1))
    trainer = Scripted(_Model(), 0.1, 10, False, X, Y, X[:10], Y[:10])
    with _correct_batch_loader(base_cls):
        _, val_history = trainer.train(num_epochs)
    return {"validations": len(seen), "recorded": len(val_history["loss"])}


def batch_loader(X, Y, batch_size, shuffle=False, drop_last=True):
    """The handout's batch_loader, in order (early stopping's tests must not depend on task 2e)."""
    count = len(X) // batch_size if drop_last else -(-len(X) // batch_size)
    for i in range(count):
        yield X[i * batch_size : (i + 1) * batch_size], Y[i * batch_size : (i + 1) * batch_size]


class _Utils:
    """Stands for the student's `utils` module inside `BaseTrainer.train` while a scripted run lasts."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return batch_loader if name == "batch_loader" else getattr(self._module, name)


class _correct_batch_loader:
    """Within the block, `BaseTrainer.train` reaches this module's batch_loader, however it imported it."""

    def __init__(self, base_cls):
        train = getattr(base_cls, "train", None)
        self.globals = getattr(train, "__globals__", None)
        self.saved = {}

    def __enter__(self):
        g = self.globals
        if g is None:
            return self
        if "batch_loader" in g:
            self.saved["batch_loader"] = g["batch_loader"]
            g["batch_loader"] = batch_loader
        if "utils" in g and hasattr(g["utils"], "batch_loader"):
            self.saved["utils"] = g["utils"]
            g["utils"] = _Utils(g["utils"])
        return self

    def __exit__(self, *exc):
        if self.globals is not None:
            self.globals.update(self.saved)
        return False


def train_steps(trainer_cls, model, learning_rate, batch_size, X_train, Y_train, num_epochs):
    """The student's `train_step` driven by a fixed loop over in-order batches; the trained weights."""
    X_val, Y_val = X_train[:batch_size], Y_train[:batch_size]
    set_validation_globals(trainer_cls, X_train, Y_train, X_val, Y_val)
    trainer = trainer_cls(model, learning_rate, batch_size, False, X_train, Y_train, X_val, Y_val)
    for _ in range(num_epochs):
        for X_batch, Y_batch in batch_loader(X_train, Y_train, batch_size):
            trainer.train_step(X_batch, Y_batch)
    return np.array(model.w, dtype=float)


class BinaryModel:
    """A correct logistic model, so that trainer tests do not depend on the student's gradient."""

    def __init__(self):
        self.I = 785
        self.w = np.zeros((785, 1))
        self.grad = None

    def forward(self, X):
        return 1.0 / (1.0 + np.exp(-(X @ self.w)))

    def backward(self, X, outputs, targets):
        self.grad = -(X.T @ (targets - outputs)) / X.shape[0]

    def zero_grad(self):
        self.grad = None


class SoftmaxModel:
    """A correct softmax model (gradient lambda * w for the L2 term), for the same reason."""

    def __init__(self, l2_reg_lambda=0.0):
        self.I = 785
        self.num_outputs = 10
        self.w = np.zeros((785, 10))
        self.grad = None
        self.l2_reg_lambda = l2_reg_lambda

    def forward(self, X):
        z = X @ self.w
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, X, outputs, targets):
        self.grad = -(X.T @ (targets - outputs)) / X.shape[0] + self.l2_reg_lambda * self.w

    def zero_grad(self):
        self.grad = None


class L2Only:
    """A correct softmax model whose gradient carries the student's L2 term and nothing else of theirs.

    grad = the handout's data gradient + (student(lambda).grad - student(0).grad), both
    student models fed the handout's outputs: 4b-4e see the L2 term (task 4a) only, not a
    mistake in the data gradient (1b) or in forward (3a).
    """

    def __init__(self, model_cls, l2_reg_lambda):
        self.with_l2 = model_cls(l2_reg_lambda)
        self.without = model_cls(0.0)
        self.correct = SoftmaxModel(0.0)
        self.w = np.zeros((785, 10))
        self.grad = None

    def forward(self, X):
        self.correct.w = self.w
        return self.correct.forward(X)

    def backward(self, X, outputs, targets):
        grads = []
        for model in (self.correct, self.with_l2, self.without):
            model.w = self.w.copy()
            model.backward(X, outputs, targets)
            grads.append(np.asarray(model.grad, dtype=float).reshape(self.w.shape))
        self.grad = grads[0] + grads[1] - grads[2]

    def zero_grad(self):
        self.grad = None


def plain_descent(model, learning_rate, batch_size, X_train, Y_train, num_epochs):
    """The student's model trained by a fixed loop (no trainer, no early stopping): its weights."""
    for _ in range(num_epochs):
        for start in range(0, len(X_train) - batch_size + 1, batch_size):
            X_batch, Y_batch = X_train[start : start + batch_size], Y_train[start : start + batch_size]
            outputs = model.forward(X_batch)
            model.backward(X_batch, outputs, Y_batch)
            model.w = model.w - learning_rate * np.asarray(model.grad)
    return np.array(model.w, dtype=float)
