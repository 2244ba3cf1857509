"""`grader check`: public tests only, no reference needed, the same verdicts as `grade` on those tests.

Every test runs for each assignment in ASSIGNMENTS whose folder exists. "Student machine"
means a temporary folder holding only the public material (`grader.assign.public_material`)
and the hand-in: no reference, no hidden tests; expected values come from the store.
"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from grader.assign import freeze_expected, public_material, template_path
from grader.assignment import Assignment, load_assignment
from grader.model import Diagnosis
from grader.pipeline import grade_submission
from grader.selfcheck import SelfCheck, run_check
from grader.session import build_context, new_pool
from grader.submission import discover
from grader.testing.collect import collect

ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "assignments").glob("*/assignment.toml"))


def assignment_or_skip(assignment_id: str) -> Assignment:
    folder = REPO / "assignments" / assignment_id
    if not (folder / "assignment.toml").is_file():
        pytest.skip(f"assignments/{assignment_id} does not exist yet")
    assignment = load_assignment(folder)
    for module in assignment.preload:
        pytest.importorskip(module, reason=f"{assignment_id} needs {module} (an optional dependency)")
    return assignment


def examples_of(assignment_id: str) -> Path:
    for folder in (REPO / "examples" / assignment_id, REPO / "examples" / f"submissions_{assignment_id}",
                   REPO / "examples" / f"{assignment_id}_submissions"):
        if folder.is_dir():
            return folder
    if assignment_id == "logistic_softmax":
        return REPO / "examples" / "submissions"
    if assignment_id == "bayes_mlp":
        return REPO / "examples" / "bayes_submissions"
    pytest.skip(f"no example hand-ins for {assignment_id}")


@pytest.fixture(scope="module")
def student_machine(tmp_path_factory):
    """`student_machine(ID)`: the assignment as loaded from a copy of its public material only."""
    root = tmp_path_factory.mktemp("student_machine")
    loaded: dict[str, Assignment] = {}

    def get(assignment_id: str) -> Assignment:
        if assignment_id not in loaded:
            public_material(assignment_or_skip(assignment_id), root / "assignments")
            loaded[assignment_id] = load_assignment(root / "assignments" / assignment_id)
            assert loaded[assignment_id].reference is None
            assert not loaded[assignment_id].hidden_tests.exists()
        return loaded[assignment_id]

    return get


def verdicts(report: SelfCheck) -> dict[tuple[str, str], tuple[bool, tuple[str, ...]]]:
    return {(line.task, line.name): (line.passed, tuple(sorted(line.diagnoses))) for line in report.lines}


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_public_tests_never_take_the_reference(assignment_id):
    suite = collect(assignment_or_skip(assignment_id), include_hidden=False)
    assert suite.tests
    takes = [t.ident for t in suite.tests if "reference" in inspect.signature(t.function).parameters]
    assert takes == [], "public tests must ask expected(key, compute) instead of taking the reference"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_store_holds_what_the_reference_computes(assignment_id):
    store, stale = freeze_expected(assignment_or_skip(assignment_id), write=False)
    assert not stale, f"{store} is out of date: run `grader assign {assignment_id}`"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_untouched_template_fails_every_public_test_as_not_implemented(assignment_id, student_machine, tmp_path):
    template = template_path(assignment_or_skip(assignment_id))
    handin = tmp_path / template.name
    (shutil.copytree if template.is_dir() else shutil.copy)(template, handin)
    report = run_check(handin, assignment=student_machine(assignment_id))
    assert report.expected_from == "store"
    assert report.lines and report.passed == 0
    wrong = [line for line in report.lines if Diagnosis.NOT_IMPLEMENTED not in line.diagnoses]
    assert wrong == []


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_reference_passes_every_public_test_without_itself(assignment_id, student_machine):
    reference = assignment_or_skip(assignment_id).reference
    assert reference is not None
    report = run_check(reference, assignment=student_machine(assignment_id))
    assert report.expected_from == "store"
    assert [line for line in report.lines if not line.passed] == []
    assert report.summary == f"public tests: {len(report.lines)}/{len(report.lines)} passed; " \
                             "hidden tests run when you hand in"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_same_public_verdicts_as_grade_on_the_example_class(assignment_id, student_machine):
    """grade's per-student pipeline (reference live, hidden tests too) against check on a student machine."""
    assignment = assignment_or_skip(assignment_id)
    examples = examples_of(assignment_id)
    context = build_context(assignment)
    pool = new_pool(assignment)
    try:
        graded = [grade_submission(context, pool, student, path) for student, path in discover(examples)[0]]
    finally:
        pool.close()
    assert graded
    for result in graded:
        if result.status != "graded":
            continue
        want = {(task.id, test.name): (test.passed, tuple(sorted(test.diagnoses)))
                for task in result.tasks for test in task.tests
                if test.visibility == "public" and not test.name.startswith("written answer")}
        handin = next(p for p in examples.iterdir() if p.name == result.student or p.stem == result.student)
        report = run_check(handin, assignment=student_machine(assignment_id))
        assert verdicts(report) == want, result.student


def test_check_on_a_student_machine_through_the_command_line(tmp_path):
    """A folder with a hand-in and the public material only: the assignment is found and no reference used."""
    assignment = assignment_or_skip("logistic_softmax")
    public_material(assignment, tmp_path / "assignments")
    shutil.copytree(REPO / "examples" / "submissions" / "linus", tmp_path / "linus")
    done = run_cli("check", "linus", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # a public test failed (linus's flipped sign): pytest's exit 1
    lines = done.stdout.splitlines()
    assert lines[0] == "linus: public tests of logistic_softmax (Logistic and softmax regression from scratch)"
    assert "the reference is here" not in done.stdout
    failed = [line for line in lines if "\u2718" in line]
    assert failed == ["1a  \u2718 BinaryModel.backward matches finite differences of the cross-entropy"]
    index = lines.index(failed[0])
    assert "wrong sign" in lines[index + 1] and lines[index + 2].strip().startswith("hint: Your result is the negative")
    assert lines[-1].startswith("public tests: ") and lines[-1].endswith("passed; hidden tests run when you hand in")

    one_task = run_cli("check", "linus", "-t", "2e", cwd=tmp_path)
    assert one_task.returncode == 0 and one_task.stdout.splitlines()[-1].startswith("public tests: 1/1 passed")


def test_check_usage_errors(tmp_path):
    missing = run_cli("check", str(tmp_path / "nothing.ipynb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad_task = run_cli("check", str(REPO / "examples" / "submissions" / "linus"), "-t", "9z")
    assert bad_task.returncode == 2 and "no task '9z'" in bad_task.stderr


def test_hidden_tests_never_run_and_their_values_are_not_stored(student_machine):
    assignment = student_machine("logistic_softmax")
    assert all(t.visibility == "public" for t in collect(assignment).tests)
    import numpy as np

    with np.load(assignment.public_tests / "expected.npz", allow_pickle=False) as store:
        files = {key.split("::")[0] for key in store.files}
    assert files <= {p.name for p in assignment.public_tests.glob("test_*.py")}
