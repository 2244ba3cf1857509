"""A small class of the `review` fixture assignment, graded through the real command, and the review server.

Shared by the review tests: `make_class(folder)`, `grade(submissions, out)`, `ReviewServer(out)`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import HERE, REPO, run_cli
from nbbuild import code, md, notebook, write

REVIEW = HERE / "fixtures" / "assignments" / "review"

GOOD = '''import numpy as np

def mse_grad(X, y, w):
    return X.T @ (X @ w - y) / len(y)

def sq_norm(v):
    return float(v @ v)

ANSWERS = {"q1": "(w*x - y)*x"}
'''


def make_class(folder: Path) -> Path:
    """Five students: two equivalent right answers written differently, two alike wrong ones, one in LaTeX."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alice.py").write_text(GOOD)
    (folder / "erin.py").write_text(GOOD.replace('"(w*x - y)*x"', '"x*w*x - x*y"'))
    (folder / "frank.py").write_text(GOOD.replace('"(w*x - y)*x"', '"w*x - y"').replace(" / len(y)", ""))
    (folder / "gina.py").write_text(GOOD.replace('"(w*x - y)*x"', '"(w*x - y)"').replace("v @ v", "v.sum()"))
    source = GOOD.replace('ANSWERS = {"q1": "(w*x - y)*x"}\n', "")
    write(folder / "hal.ipynb", notebook(
        md("## Answer q1\n\n$$\\frac{\\partial L}{\\partial w} = x\\,(w x - y)$$"),
        code(source),
    ))
    return folder


def grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = run_cli("grade", str(submissions), "-a", str(REVIEW), "-o", str(out), "-q", "-j", "2", *extra)
    assert done.returncode == 0, done.stderr
    return done


class ReviewServer:
    """`grader review OUT --port 0` in a subprocess; `url` is the address it printed, token included."""

    def __init__(self, out: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen([sys.executable, "-m", "grader.cli", "review", str(out), "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        assert self.process.stdout is not None
        self.url = ""
        for line in self.process.stdout:
            found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)
            if found:
                self.url = found.group(0)
                self.base = found.group(1)
                self.token = found.group(2)
                break
        if not self.url:
            raise AssertionError(f"grader review printed no address: {self.process.stderr.read() if self.process.stderr else ''}")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
