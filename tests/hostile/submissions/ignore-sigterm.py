"""Ignore SIGTERM (and SIGINT, SIGHUP) and spin, so that a polite kill never stops it."""
import signal


def _stubborn():
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGXCPU"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    while True:
        pass


def mse_grad(X, y, w):
    _stubborn()


def scaled_sum(values):
    _stubborn()
