"""The logistic_softmax assignment through the real `grade` command: reference, template, example class."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli

ASSIGNMENT = "logistic_softmax"
REFERENCE = REPO / "reference" / ASSIGNMENT
TEMPLATE = REPO / "student_template" / ASSIGNMENT
EXAMPLES = REPO / "examples" / "submissions"
CODE_TASKS = ("1a", "1b", "2a", "2b", "2d", "2e", "3a", "3b", "4a", "4b", "4c", "4e")


def grade(submissions: Path, out: Path) -> dict[str, dict]:
    done = run_cli("grade", str(submissions), "-a", ASSIGNMENT, "-o", str(out), "-j", "2", "-q")
    assert done.returncode == 0, done.stderr + done.stdout
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/result.json")}


def is_written(test: dict) -> bool:
    return test["name"].startswith("written answer")


def code_failures(result: dict) -> dict[str, list[dict]]:
    """Failed code tests (not written answers) that cost points, by task."""
    failed: dict[str, list[dict]] = {}
    for task in result["tasks"]:
        for test in task["tests"]:
            if not test["passed"] and not is_written(test) and test["max_score"] > 0:
                failed.setdefault(task["id"], []).append(test)
    return failed


def code_points(result: dict, task_id: str) -> tuple[float, float]:
    task = next(t for t in result["tasks"] if t["id"] == task_id)
    tests = [t for t in task["tests"] if not is_written(t)]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def diagnoses(tests: list[dict]) -> set[str]:
    return {d for t in tests for d in t["diagnoses"]}


def test_reference_and_template(tmp_path):
    students = tmp_path / "students"
    shutil.copytree(REFERENCE, students / "reference_copy")
    shutil.copytree(TEMPLATE, students / "template_copy")
    results = grade(students, tmp_path / "out")
    reference, template = results["reference_copy"], results["template_copy"]
    assert [t["id"] for t in reference["tasks"]] == list(CODE_TASKS)
    assert reference["max_score"] == 100
    for task_id in CODE_TASKS:
        got, full = code_points(reference, task_id)
        assert got == full, (task_id, [t for t in reference["tasks"] if t["id"] == task_id])
    every = [t for task in reference["tasks"] for t in task["tests"] if not is_written(t)]
    assert all(t["passed"] for t in every), [t for t in every if not t["passed"]]
    assert template["score"] == 0, code_failures(template)


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> dict[str, dict]:
    return grade(EXAMPLES, tmp_path_factory.mktemp("ls_examples") / "out")


@pytest.mark.parametrize("student", ["ada", "grace", "float32_student"])
def test_correct_students_get_full_marks_on_code(examples, student):
    assert code_failures(examples[student]) == {}


@pytest.mark.parametrize(
    ("student", "task", "diagnosis"),
    [
        ("linus", "1a", "sign_flipped"),
        ("ken", "1b", "scaled"),
        ("barbara", "2d", None),
        ("edsger", "4a", "missing_regularization"),
    ],
)
def test_a_typical_mistake_costs_its_own_task(examples, student, task, diagnosis):
    failed = code_failures(examples[student])
    # without L2 the weights do not depend on lambda: its norm cannot fall (4e), its accuracy says nothing (4c)
    allowed = {task, "4c", "4e"} if task == "4a" else {task}
    assert task in failed and set(failed) <= allowed, failed
    if diagnosis is not None:
        assert diagnosis in diagnoses(failed[task]), failed[task]
    assert code_points(examples[student], task)[0] < code_points(examples[student], task)[1]


def test_syntax_error_in_task3a(examples):
    dennis = examples["dennis"]
    failed = code_failures(dennis)
    assert "3a" in failed and "syntax_error" in diagnoses(failed["3a"]), failed.get("3a")
    # every task whose code lives in or imports task3a fails; the others keep full marks
    assert set(failed) <= {"1b", "3a", "3b", "4a", "4b", "4c", "4e"}, failed
    for task_id in ("1a", "2a", "2b", "2d", "2e"):
        got, full = code_points(dennis, task_id)
        assert got == full, task_id


def test_untouched_template_scores_zero(examples):
    assert examples["margaret"]["score"] == 0


def test_float32_student_gets_full_marks_on_code_with_its_float32_gradients(examples):
    """Its gradients are float32 (errors of 1e-8 to 4e-7 that rtol=1e-6, atol=1e-9 used to fail)."""
    result = examples["float32_student"]
    assert code_failures(result) == {}
    assert result["score"] == 96  # no report: the two written answers of 1a and 1b


def test_numpy1_student_is_told_numpy_version_where_numpy_2_removed_its_api(examples):
    result = examples["numpy1_student"]
    failed = code_failures(result)
    assert set(failed) == {"2a", "2b", "2d", "3a"}, failed
    for tests in failed.values():
        assert all(t["diagnoses"] == ["numpy_version"] for t in tests), tests
    assert result["score"] == 77
