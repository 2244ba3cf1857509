"""`from grader import check; check("1a")` inside a notebook executed by a real Jupyter kernel.

The check reads the notebook's SAVED file, so the notebook is written first, then executed.
The kernel's working folder is a "student machine": the notebook and the public material only.
"""

from __future__ import annotations

import nbformat
import pytest
from conftest import REPO
from nbbuild import code, md, notebook, write

from grader.assign import public_material
from grader.assignment import load_assignment

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

DEFINITIONS = '''
import numpy as np

def pre_process_images(X):
    return np.concatenate([X.astype(float) / 127.5 - 1, np.ones((len(X), 1))], axis=1)

class BinaryModel:
    def __init__(self):
        self.I = 785
        self.w = np.zeros((self.I, 1))
        self.grad = None

    def forward(self, X):
        return 1 / (1 + np.exp(-(X @ self.w)))

    def backward(self, X, outputs, targets):
        self.grad = X.T @ (targets - outputs) / len(X)  # the sign is wrong on purpose

    def zero_grad(self):
        self.grad = None

def batch_loader(X, Y, batch_size, shuffle=False, drop_last=True):
    order = np.random.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        chosen = order[start:start + batch_size]
        yield X[chosen], Y[chosen]
'''


def html_of(cell) -> str:
    return "".join(out.get("data", {}).get("text/html", "") for out in cell.outputs)


def test_check_in_a_running_notebook_shows_an_html_table(tmp_path):
    public_material(load_assignment(REPO / "assignments" / "logistic_softmax"), tmp_path / "assignments")
    path = write(tmp_path / "homework.ipynb", notebook(
        md("# Logistic regression"),
        code(DEFINITIONS),
        code('from grader import check\ncheck("2e")'),
        code('check("1a")'),
    ))
    nb = nbclient.NotebookClient(
        nbformat.read(str(path), as_version=4), timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []

    passed = html_of(nb.cells[2])
    assert "<table" in passed and "batch_loader(shuffle=True) yields every sample once per pass" in passed
    assert "&#10004;" in passed and "public tests: 1/1 passed; hidden tests run when you hand in" in passed
    assert "checked homework.ipynb as saved at" in passed

    failed = html_of(nb.cells[3])
    assert "BinaryModel.backward matches finite differences of the cross-entropy" in failed
    assert "&#10008;" in failed and "wrong sign" in failed
    assert "<i>hint:</i> Your result is the negative of the right one" in failed
    assert "public tests: 0/1 passed" in failed
