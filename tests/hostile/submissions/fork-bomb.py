"""Fork as many processes as it can (bounded at 300 so that it cannot take a machine down unsandboxed)."""
import os
import time

CAP = 300


def _bomb():
    started = 0
    for _ in range(CAP):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(20)
            os._exit(0)
        started += 1
    raise RuntimeError(f"forked {started} of {CAP}")


def mse_grad(X, y, w):
    _bomb()


def scaled_sum(values):
    _bomb()
