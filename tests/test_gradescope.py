"""The Gradescope bundle, run as Gradescope runs it (setup.sh skipped), and the results.json it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from grader.assignment import Assignment, load_assignment
from grader.gradescope_bundle import build_bundle
from grader.report.gradescope import VISIBILITIES

EXAMPLES = REPO / "examples" / "submissions"


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_assignment(REPO / "assignments" / "logistic_softmax")


@pytest.fixture(scope="module")
def bundle(assignment: Assignment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(assignment, tmp_path_factory.mktemp("bundle") / "autograder.zip")


def run_autograder(bundle: Path, root: Path, hand_in: list[Path]) -> dict[str, Any]:
    """Lay out ROOT as Gradescope does (source/, submission/, results/), run run_autograder, read results.json."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for path in hand_in:
        target = root / "submission" / path.name
        shutil.copytree(path, target) if path.is_dir() else shutil.copy(path, target)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    results = root / "results" / "results.json"
    assert results.is_file(), done.stdout + done.stderr
    loaded = json.loads(results.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def check_format(results: dict[str, Any]) -> None:
    """Gradescope's results.json: types of every field, valid visibilities, score the sum of the tests'."""
    assert isinstance(results["score"], int | float)
    assert isinstance(results["output"], str)
    assert results.get("visibility", "visible") in VISIBILITIES
    assert results.get("stdout_visibility", "visible") in VISIBILITIES
    assert isinstance(results.get("execution_time", 0), int | float)
    tests = results["tests"]
    assert isinstance(tests, list) and tests
    for test in tests:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert 0 <= test["score"] <= test["max_score"] + 1e-9
        assert test["visibility"] in VISIBILITIES
        assert isinstance(test["output"], str)
        assert test.get("status", "passed") in ("passed", "failed")
    assert results["score"] == pytest.approx(sum(t["score"] for t in tests), abs=1e-6)
    hidden = [t for t in tests if t["visibility"] != "visible"]
    assert hidden, "the assignment has hidden tests"
    assert all(t["output"] == "" for t in hidden)


def test_bundle_holds_the_scripts_the_grader_the_hidden_tests_and_the_reference(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        run = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "pyproject.toml", "README.md", "grader/cli.py"} <= names
    assert "assignments/logistic_softmax/assignment.toml" in names
    assert "assignments/logistic_softmax/tests/hidden/test_hidden.py" in names
    assert "reference/logistic_softmax/task2a.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert 'ASSIGNMENT="logistic_softmax"' in run


def test_bundle_is_reproducible(assignment: Assignment, bundle: Path, tmp_path: Path) -> None:
    assert build_bundle(assignment, tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


def test_full_marks_for_a_folder_hand_in(bundle: Path, tmp_path: Path) -> None:
    """Gradescope gives the files of the hand-in directly in submission/."""
    results = run_autograder(bundle, tmp_path, sorted((EXAMPLES / "ada").iterdir()))
    check_format(results)
    assert results["score"] == 100


def test_partial_marks_for_a_hand_in_inside_one_folder(bundle: Path, tmp_path: Path) -> None:
    results = run_autograder(bundle, tmp_path, [EXAMPLES / "linus"])
    check_format(results)
    assert 0 < results["score"] < 100
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert failed and any(t["output"] for t in failed if t["visibility"] == "visible")


def test_an_empty_hand_in_still_gets_results(bundle: Path, tmp_path: Path) -> None:
    results = run_autograder(bundle, tmp_path, [])
    assert results["score"] == 0
    assert "Nothing was submitted" in results["output"]
    assert results["tests"] == []


def test_a_failing_grader_still_gets_results(bundle: Path, tmp_path: Path) -> None:
    """A broken installation: the student gets a score of 0 and a message, not a missing result."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "source")
    shutil.rmtree(tmp_path / "source" / "assignments")
    (tmp_path / "submission").mkdir()
    shutil.copy(EXAMPLES / "ada" / "task2a.py", tmp_path / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(tmp_path), "GRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(tmp_path / "source" / "run_autograder")], env=env, capture_output=True, text=True)
    assert done.returncode == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]
