"""A whole class through the real `grade` command: outputs per the contract, resume, lock, parallel."""

from __future__ import annotations

import csv
import fcntl
import json
from pathlib import Path

import pytest
from conftest import DEMO, run_cli
from nbbuild import code, md, notebook, write

GOOD = '''
import numpy as np
import turtle  # a stray import: never run

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

if __name__ == "__main__":
    raise SystemExit("never run")
'''

BUGGY = '''
import numpy as np

def mse_grad(X, y, w):
    return -(X.T @ (X @ w - y)) / len(y)

def scaled_sum(values):
    while True:
        pass
'''


def notebook_student(path: Path) -> Path:
    """The same solution as GOOD, spread over a notebook the way students write them."""
    return write(path, notebook(
        md("# Homework"),
        md("## Answer q1\n\nThe derivative is $$\\frac{\\partial L}{\\partial w} = x (w x - y)$$"),
        code("%matplotlib inline\n!pip install numpy\nimport numpy as np", execution_count=3),
        code("def mse_grad(X, y, w):\n    return 0  # first attempt", execution_count=1),
        code("def scaled_sum(values):\n    return FACTOR * sum(values) / 3 * SCALE", execution_count=2),
        code("for i in range(3):\n    print(i\n", execution_count=4),  # a syntax error in an unrelated cell
        code("def mse_grad(X, y, w):\n    residual = X @ w - y\n    return X.T @ residual / len(y)"),
        code("FACTOR = 3  # a global defined in a later cell"),
        code("class Ridge:\n    def __init__(self, lam):\n        self.lam = lam\n"
             "    def fit(self, X, y):\n        self.w = np.linalg.solve(X.T @ X + self.lam * np.eye(X.shape[1]), X.T @ y)\n"
             "        return self\n    def predict(self, X):\n        return X @ self.w\n\n"
             "def fit(model, X, y):\n    return model.fit(X, y)\n\nmodel = fit(Ridge(0.1), None, None)"),
    ))


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text(GOOD)
    (folder / "bob.py").write_text(BUGGY)
    (folder / "carol.ipynb").write_bytes(b"\x89PNG not a notebook")
    notebook_student(folder / "dave.ipynb")
    (folder / "notes.txt").write_text("not a submission")
    return folder


def grade(submissions: Path, out: Path, *extra: str):
    return run_cli("grade", str(submissions), "-a", str(DEMO), "-o", str(out), "-q", *extra)


def result(out: Path, student: str) -> dict:
    return json.loads((out / student / "result.json").read_text())


def test_a_class_is_graded_with_outputs_per_the_contract(cohort, tmp_path):
    out = tmp_path / "grades"
    run = grade(cohort, out, "-j", "2")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert list(rows[0]) == ["student", "score", "max_score", "grad", "model", "scaled", "status"]
    by_student = {row["student"]: row for row in rows}
    assert sorted(by_student) == ["alice", "bob", "carol", "dave"]
    assert by_student["alice"]["score"] == "32" and by_student["dave"]["score"] == "32"
    assert by_student["carol"]["status"] == "unreadable"

    alice = result(out, "alice")
    assert list(alice) == ["student", "assignment", "status", "score", "max_score", "tasks", "errors"]
    test = alice["tasks"][0]["tests"][0]
    assert list(test) == ["name", "visibility", "passed", "score", "max_score", "message", "diagnoses"]
    assert {t["visibility"] for task in alice["tasks"] for t in task["tests"]} == {"public", "hidden"}

    carol = result(out, "carol")
    assert carol["status"] == "unreadable" and carol["score"] == 0 and carol["errors"]
    assert "notes.txt" in (out / "summary.html").read_text()


def test_mistakes_lose_points_on_their_task_with_the_right_diagnosis(cohort, tmp_path):
    out = tmp_path / "grades"
    assert grade(cohort, out, "-j", "1").returncode == 0
    bob = {task["id"]: task for task in result(out, "bob")["tasks"]}
    grad_tests = bob["grad"]["tests"]
    assert all("sign_flipped" in t["diagnoses"] for t in grad_tests[:-1])
    assert bob["model"]["score"] == 0
    written = grad_tests[-1]
    assert written["name"] == "written answer q1" and "not_implemented" in written["diagnoses"]
    assert all("not_implemented" in t["diagnoses"] for t in bob["model"]["tests"])
    assert all("timeout" in t["diagnoses"] for t in bob["scaled"]["tests"])


def test_hidden_tests_show_name_and_verdict_only(cohort, tmp_path):
    out = tmp_path / "grades"
    assert grade(cohort, out).returncode == 0
    feedback = (out / "bob" / "feedback.html").read_text()
    hidden_result = result(out, "bob")["tasks"][0]["tests"][1]
    assert hidden_result["visibility"] == "hidden"
    assert hidden_result["name"] in feedback
    assert hidden_result["message"].startswith("the gradient on secret data")
    assert "secret data has" not in feedback
    assert "12345" not in feedback and "secret data set" in feedback


def test_a_second_run_resumes_and_regrades_only_what_changed(cohort, tmp_path):
    out = tmp_path / "grades"
    first = grade(cohort, out)
    assert "graded 4, unchanged 0" in first.stdout
    before = (out / "alice" / "result.json").read_bytes()
    (cohort / "bob.py").write_text(GOOD)
    second = grade(cohort, out)
    assert "graded 1, unchanged 3" in second.stdout, second.stdout
    assert (out / "alice" / "result.json").read_bytes() == before
    assert result(out, "bob")["score"] == 32


def test_a_second_run_on_a_locked_output_folder_refuses(cohort, tmp_path):
    out = tmp_path / "grades"
    out.mkdir()
    with open(out / ".grader.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        run = grade(cohort, out)
    assert run.returncode == 4
    assert "another grade run" in run.stderr


def test_usage_and_configuration_errors_exit_non_zero(tmp_path):
    run = run_cli("grade", str(tmp_path / "nowhere"), "-a", str(DEMO))
    assert run.returncode == 2 and "not a folder" in run.stderr
    (tmp_path / "subs").mkdir()
    run = run_cli("grade", str(tmp_path / "subs"), "-a", "no_such_assignment")
    assert run.returncode == 2 and "no assignment" in run.stderr
