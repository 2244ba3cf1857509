"""Nothing lost: a batch killed with SIGKILL resumes with every student graded once; two runs on one folder never mix."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .classroom import DEMO, SUBMISSIONS, grade_command, grade_environment

SLOW = '''
import time

def mse_grad(X, y, w):
    time.sleep(0.5)
    return X.T @ (X @ w - y) / len(y)

def scaled_sum(values):
    time.sleep(0.5)
    return SCALE * sum(values)
'''
HONEST = (SUBMISSIONS / "honest.py").read_text()
STUDENTS = ("amy", "ben", "cat", "dan", "eve-slow", "fay", "gus-slow", "hal")


def make_class(folder: Path, students: tuple[str, ...]) -> Path:
    folder.mkdir()
    for student in students:
        (folder / f"{student}.py").write_text(SLOW if student.endswith("-slow") else HONEST)
    return folder


def grade(subs: Path, out: Path, jobs: str = "2") -> list[str]:
    return [*grade_command(), str(subs), "-a", str(DEMO), "-o", str(out), "-j", jobs, "-q"]


def finished(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob("*/.fingerprint")}


def test_a_batch_killed_midway_resumes_and_grades_each_student_once(tmp_path: Path) -> None:
    subs, out = make_class(tmp_path / "submissions", STUDENTS), tmp_path / "grades"
    batch = subprocess.Popen(grade(subs, out), env=grade_environment(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(finished(out)) < 2 and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.02)
    os.killpg(batch.pid, signal.SIGKILL)
    batch.wait()
    done_before = finished(out)
    assert 2 <= len(done_before) < len(STUDENTS), "the batch was not killed midway"
    kept = {s: (out / s / "result.json").read_bytes() for s in done_before}
    (out / "amy" / ".result.json.x1y2.part").parent.mkdir(exist_ok=True)
    (out / "amy" / ".result.json.x1y2.part").write_text('{"student": "amy", "sco')  # as if killed mid-write

    rerun = subprocess.run(grade(subs, out), capture_output=True, text=True, timeout=300, env=grade_environment())
    assert rerun.returncode == 0, rerun.stderr
    graded_now = len(STUDENTS) - len(done_before)
    assert f"graded {graded_now}, unchanged {len(done_before)}" in rerun.stdout
    assert list(out.rglob("*.part")) == []
    for student in STUDENTS:
        result = json.loads((out / student / "result.json").read_text())
        assert result["student"] == student and result["status"] == "graded"
    assert {s: (out / s / "result.json").read_bytes() for s in done_before} == kept  # not graded twice
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert sorted(row["student"] for row in rows) == sorted(STUDENTS)
    assert all(row["score"] == "32" for row in rows if not row["student"].endswith("-slow"))


def test_two_runs_on_one_output_folder_never_interleave(tmp_path: Path) -> None:
    """Both complete correctly, or the second refuses with a clear message (exit 4)."""
    subs, out = make_class(tmp_path / "submissions", ("amy", "ben-slow", "cat")), tmp_path / "grades"
    runs = [subprocess.Popen(grade(subs, out, "1"), env=grade_environment(), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [(*run.communicate(timeout=300), run.returncode) for run in runs]
    codes = sorted(code for _, _, code in outcomes)
    assert codes in ([0, 0], [0, 4]), outcomes
    for _, stderr, code in outcomes:
        if code == 4:
            assert "another grade run is writing to" in stderr and "wait for it to finish or use another -o" in stderr
    assert any("graded 3, unchanged 0" in stdout for stdout, _, _ in outcomes)
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert sorted(row["student"] for row in rows) == ["amy", "ben-slow", "cat"]
    assert list(out.rglob("*.part")) == []
