"""A small class of the demo assignment for tests that run whole batches: a copy of the assignment to break or
extend, and hand-ins written inline."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DEMO, HERE

GOOD = '''
import numpy as np

def mse_grad(X, y, w):
    return X.T @ (X @ w - y) / len(y)

class Ridge:
    def __init__(self, lam):
        self.lam = lam

    def fit(self, X, y):
        self.w = np.linalg.solve(X.T @ X + self.lam * np.eye(X.shape[1]), X.T @ y)
        return self

    def predict(self, X):
        return X @ self.w

def fit(model, X, y):
    model.fit(X, y)
    return model

def scaled_sum(values):
    return SCALE * sum(values)

ANSWERS = {"q1": "(w*x - y)*x"}
'''

def demo_copy(tmp_path: Path, extra_public: str | None = None, name: str = "test_extra.py",
              extra_reference: str = "", extra_needs: tuple[str, ...] = ()) -> Path:
    """The demo assignment copied with its reference, plus one more public test file and, for it, more
    reference code and more names the task `scaled` needs."""
    folder = tmp_path / "assignments" / "demo"
    shutil.copytree(DEMO, folder)
    toml = folder / "assignment.toml"
    reference = HERE / "fixtures" / "reference" / "demo.py"
    if extra_reference:
        copied = tmp_path / "reference" / "demo.py"
        copied.parent.mkdir(parents=True, exist_ok=True)
        copied.write_text(reference.read_text() + extra_reference)
        reference = copied
    text = toml.read_text().replace('total_points = 32', f'total_points = 32\nreference = "{reference}"')
    if extra_needs:
        text = text.replace('needs = ["scaled_sum"]', f'needs = {["scaled_sum", *extra_needs]!r}'.replace("'", '"'))
    toml.write_text(text)
    if extra_public is not None:
        (folder / "tests" / "public" / name).write_text(extra_public)
    return folder


def a_class(tmp_path: Path, students: dict[str, str]) -> Path:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for student, source in students.items():
        (submissions / f"{student}.py").write_text(source)
    return submissions
