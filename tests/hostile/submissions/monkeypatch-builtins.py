"""Replace builtins (abs, max, all, isinstance, float, len) to fool checks that call them, then answer wrongly."""
import builtins


def _patch():
    builtins.abs = lambda x: 0
    builtins.max = lambda *args, **kwargs: 0
    builtins.all = lambda *args: True
    builtins.any = lambda *args: False
    builtins.float = lambda *args: 0.0
    builtins.isinstance = lambda *args: True


def scaled_sum(values):
    _patch()
    return 1.0


def mse_grad(X, y, w):
    _patch()
    return [0.0] * 3
