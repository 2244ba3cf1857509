"""Write a full-marks result.json and gradebook.csv everywhere it can think of."""
import json
import os

FAKE = {"student": "fake-results", "status": "graded", "score": 32, "max_score": 32, "tasks": [], "errors": []}
GRADEBOOK = "student,score,max_score,grad,model,scaled,status\nfake-results,32,32,12,10,10,graded\n"


def _forge():
    folders = ["__OUT__", "__OUT__/fake-results", "__OUT__/honest", os.getcwd(), os.path.join(os.getcwd(), ".."),
               os.path.expanduser("~"), "/tmp", "__SUBMISSIONS__", "__MARKER__-fake-results-dir"]
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "result.json"), "w") as handle:
                json.dump(FAKE, handle)
            with open(os.path.join(folder, "gradebook.csv"), "w") as handle:
                handle.write(GRADEBOOK)
        except OSError:
            pass
    for path in ("__MARKER__-fake-results", "/dev/shm/PWNED-fake-results"):
        try:
            with open(path, "w") as handle:
                handle.write("pwned")
        except OSError:
            pass


def mse_grad(X, y, w):
    _forge()
    return w


def scaled_sum(values):
    _forge()
    return 0.0
