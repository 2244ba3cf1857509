"""The grader's own failures are never charged to a student (issue: grades an instructor can trust).

A grading process that dies, a test that breaks in its own code, a test the reference fails:
none of these may reach the gradebook as a student's points. Each scenario runs through the
real `grade` command, with `-j 1` and `-j 2` alike.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEMO, REPO, run_cli
from democlass import GOOD, a_class, demo_copy

from grader.assignment import load_assignment
from grader.model import Diagnosis
from grader.model import TestOutcome as Outcome
from grader.report.jsonout import result_json
from grader.sandbox.client import StudentError
from grader.scoring import score

TYPO_TEST = '''
import pytest


@pytest.mark.task("grad")
@pytest.mark.points(1)
def test_with_a_typo(student, rng):
    """a test whose own code has a typo"""
    x = rgn.normal(size=3)  # noqa: F821 - the instructor meant rng
    assert student.mse_grad is not None
'''

UNKNOWN_FIXTURE_TEST = '''
import pytest


@pytest.mark.task("grad")
def test_with_an_unknown_fixture(student, dataset):
    """a test that asks for a fixture nobody provides"""
    assert dataset is not None
'''

POINTS_OVER_TEST = '''
import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(25)
def test_worth_more_than_its_task(student):
    """a test worth more than its task"""
    assert student.scaled_sum([1.0]) == 3.0
'''

PUBLIC_TAKES_REFERENCE = '''
import pytest


@pytest.mark.task("scaled")
def test_compares_with_the_reference(student, reference):
    """a public test that needs the reference"""
    assert student.scaled_sum([1.0]) == reference.scaled_sum([1.0])
'''


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    "broken, words",
    [
        (TYPO_TEST, ["test_with_a_typo", "NameError", "rgn", "test_extra.py, line 9"]),
        (UNKNOWN_FIXTURE_TEST, ["test_with_an_unknown_fixture", "unknown fixture", "dataset", "test_extra.py"]),
        (POINTS_OVER_TEST, ["task scaled", "25", "more than its 10"]),
        (PUBLIC_TAKES_REFERENCE, ["test_compares_with_the_reference", "cannot take `reference`"]),
    ],
    ids=["typo", "unknown-fixture", "points-over-task", "public-takes-reference"],
)
def test_a_broken_instructor_test_stops_grade_before_any_student(tmp_path, broken, words, jobs):
    """Exit 3 with the test's name, file and error; no student graded, with -j 1 and -j 2 alike."""
    assignment = demo_copy(tmp_path, broken)
    submissions = a_class(tmp_path, {"alice": GOOD, "bob": GOOD})
    out = tmp_path / "out"
    done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-j", jobs, "-q")
    assert done.returncode == 3, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
    assert not (out / "alice").exists() and not (out / "bob").exists()
    assert not (out / "gradebook.csv").exists()


def test_assign_public_refuses_a_public_test_a_students_machine_could_not_run(tmp_path):
    assignment = demo_copy(tmp_path, PUBLIC_TAKES_REFERENCE)
    done = run_cli("assign", str(assignment), "--no-freeze", "-o", str(tmp_path / "template"),
                   "--public", str(tmp_path / "public"))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot take `reference`" in done.stderr
    assert not (tmp_path / "public" / "demo").exists()


def test_the_canary_names_a_test_the_reference_fails(tmp_path):
    strict = '''
import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_stricter_than_the_reference(student):
    """scaled_sum of one is four"""
    assert student.scaled_sum([1.0]) == 4.0
'''
    assignment = demo_copy(tmp_path, strict)
    submissions = a_class(tmp_path, {"alice": GOOD})
    done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(tmp_path / "out"), "-q")
    assert done.returncode == 3, done.stderr
    assert "on the reference" in done.stderr and "test_stricter_than_the_reference" in done.stderr
    assert "test_extra.py, line" in done.stderr


def _grading_processes(parent: int) -> list[int]:
    """The processes forked from `grade` (same command line), not its sandbox workers."""
    try:
        parent_cmd = Path(f"/proc/{parent}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and (entry / "cmdline").read_bytes() == parent_cmd:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_grading_process_leaves_its_students_in_error_and_a_rerun_grades_them(tmp_path, jobs):
    """SIGKILL every grading process: the students end in `error` (no points, no fingerprint, exit 5); a rerun grades them."""
    assignment = demo_copy(tmp_path)
    slow = GOOD.replace("def scaled_sum(values):", "def scaled_sum(values):\n    import time; time.sleep(0.5)")
    submissions = a_class(tmp_path, {"alice": slow, "bob": slow, "carol": slow})
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "grader.cli", "grade", str(submissions), "-a", str(assignment), "-o", str(out),
               "-j", jobs, "-q"]
    batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killed = 0
    deadline = time.monotonic() + 300
    while batch.poll() is None and time.monotonic() < deadline:
        if (out / ".canary").exists():  # the reference passed: students are being graded now
            for pid in _grading_processes(batch.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
    stdout, stderr = batch.communicate(timeout=60)
    assert killed >= 2, "the test never caught a grading process"
    assert batch.returncode == 5, stderr
    assert "the grader failed on 3 student(s)" in stderr
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    for student in ("alice", "bob", "carol"):
        assert rows[student]["status"] == "error" and rows[student]["score"] == ""
        result = json.loads((out / student / "result.json").read_text())
        assert result["status"] == "error" and result["score"] is None
        assert "grading process died" in result["errors"][0] and "SIGKILL" in result["errors"][0]
        assert not (out / student / ".fingerprint").exists()
    summary = (out / "summary.html").read_text()
    assert summary.index("The grader failed on 3 students") < summary.index("<h2>Students</h2>")

    again = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-j", jobs, "-q")
    assert again.returncode == 0, again.stderr
    assert "graded 3, unchanged 0" in again.stdout
    for student in ("alice", "bob", "carol"):
        result = json.loads((out / student / "result.json").read_text())
        assert result["status"] == "graded" and result["score"] == result["max_score"]
        assert (out / student / ".fingerprint").exists()


def test_minus_j1_and_minus_j2_give_the_same_results(tmp_path):
    assignment = demo_copy(tmp_path)
    buggy = GOOD.replace("/ len(y)", "/ len(y) * 2").replace("return SCALE * sum(values)", "while True:\n        pass")
    submissions = a_class(tmp_path, {"alice": GOOD, "bob": buggy, "carol": "def mse_grad(:\n"})
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-j", jobs, "-q")
        assert done.returncode == 0, done.stderr
        outputs[jobs] = {s: (out / s / "result.json").read_bytes() for s in ("alice", "bob", "carol")}
    assert outputs["1"] == outputs["2"]
    assert json.loads(outputs["1"]["bob"])["score"] < json.loads(outputs["1"]["alice"])["score"]


def test_an_endless_generator_iterated_by_a_test_ends_at_the_budget(sandbox):
    """Each call is fast, but the test's budget covers them all: the test ends as `timeout`."""
    student = sandbox("def batches():\n    while True:\n        yield 1\n", ("batches",))
    student._session.start_test(seed=1, budget=1.0)
    started = time.monotonic()
    steps = 0
    with pytest.raises(StudentError) as stopped:
        for _ in student.batches():
            steps += 1
            if time.monotonic() - started > 15:
                pytest.fail(f"the budget of 1 s did not stop the test after {steps} fast calls")
    assert stopped.value.failure.diagnosis is Diagnosis.TIMEOUT
    assert "time budget ran out" in stopped.value.failure.message
    assert steps > 10  # the calls themselves were fast: it was the budget that ended the test


def test_a_task_split_in_three_scores_exactly_its_points(tmp_path):
    folder = tmp_path / "thirds"
    (folder / "tests" / "public").mkdir(parents=True)
    (folder / "assignment.toml").write_text(
        'schema_version = 1\nid = "thirds"\ntitle = "Thirds"\ntotal_points = 32\n\n'
        '[[tasks]]\nid = "t"\ntitle = "A task of 32 points and three tests"\npoints = 32\nneeds = ["f"]\n'
    )
    assignment = load_assignment(folder)
    outcomes = tuple(Outcome(name=f"test {i}", task="t", visibility="public", passed=True) for i in range(3))
    result = score(assignment, "ada", outcomes)
    assert result.score == 32 and result.tasks[0].score == 32
    stored = json.loads(result_json(result))
    assert stored["score"] == 32 and stored["tasks"][0]["score"] == 32
    assert [t["score"] for t in stored["tasks"][0]["tests"]] == [10.666667] * 3  # rounded once, where shown
    one_failed = score(assignment, "bob", (outcomes[0], outcomes[1], Outcome("x", "t", "public", False)))
    assert json.loads(result_json(one_failed))["score"] == 21.333333


def test_a_test_in_error_decides_no_points_for_the_student(tmp_path):
    assignment = load_assignment(DEMO)
    outcomes = (
        Outcome(name="fine", task="grad", visibility="public", passed=True),
        Outcome(name="broken", task="grad", visibility="public", passed=False, verdict="error",
                    message="the test failed in its own code"),
    )
    result = score(assignment, "ada", outcomes)
    assert result.status == "error"
    stored = json.loads(result_json(result))
    assert stored["score"] is None
    assert stored["tasks"][0]["tests"][1]["verdict"] == "error"
    assert "verdict" not in stored["tasks"][0]["tests"][0]
