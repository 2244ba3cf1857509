"""Start a detached process (double fork, new session) that writes files after grading has ended."""
import os
import sys
import time

SCRIPT = """
import os, sys, time
time.sleep(3)
for path in sys.argv[1:]:
    try:
        with open(path, "w") as handle:
            handle.write("written after grading")
    except OSError:
        pass
"""
TARGETS = ["__MARKER__-detached", "__OUT__/PWNED-detached", "__SUBMISSIONS__/PWNED-detached.py"]


def _detach():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", SCRIPT, *TARGETS])
        os._exit(0)
    time.sleep(0.1)


def mse_grad(X, y, w):
    _detach()
    return X.T @ (X @ w - y) / len(y)


def scaled_sum(values):
    _detach()
    return SCALE * sum(values)
