"""Grading on a Dask cluster keeps every promise of one machine (grader/cluster.py).

A `LocalCluster` and a real `dask scheduler` with two `dask worker` processes, each in its own
working directory and TMPDIR (nothing shared but Dask), grade the same class; workers are
killed with SIGKILL mid-batch; a hand-in that kills its worker ends in `error` after one retry.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from democlass import GOOD, a_class, demo_copy

distributed = pytest.importorskip("distributed")

from grader.cluster import AssignmentBundle  # noqa: E402
from grader.transport import pack, unpack  # noqa: E402

STUDENTS = ("alice", "bob", "carol", "dave", "erin")


def _class(tmp_path: Path, slow: float = 0.0) -> Path:
    delay = f"\n    import time; time.sleep({slow})" if slow else ""
    good = GOOD.replace("def scaled_sum(values):", "def scaled_sum(values):" + delay)
    buggy = good.replace("/ len(y)", "/ len(y) * 2")
    broken = "def mse_grad(X, y, w:\n    pass\n"
    return a_class(tmp_path, {"alice": good, "bob": buggy, "carol": broken, "dave": good, "erin": buggy})


def _results(out: Path) -> dict[str, bytes]:
    return {student: (out / student / "result.json").read_bytes() for student in STUDENTS}


def test_local_cluster_fork_and_local_give_byte_identical_results(tmp_path):
    assignment = demo_copy(tmp_path)
    submissions = _class(tmp_path)
    outputs = {}
    for name, options in {"j1": ["-j", "1"], "j2": ["-j", "2"], "dask": ["--cluster", "local:2"]}.items():
        out = tmp_path / name
        done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-q", *options)
        assert done.returncode == 0, done.stderr
        outputs[name] = _results(out)
    assert outputs["j1"] == outputs["j2"] == outputs["dask"]
    assert json.loads(outputs["dask"]["carol"])["score"] < json.loads(outputs["dask"]["alice"])["score"]
    again = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(tmp_path / "dask"), "-q",
                    "--cluster", "local:1")
    assert again.returncode == 0 and "graded 0, unchanged 5" in again.stdout, again.stdout + again.stderr


def test_the_in_process_executor_agrees_too(tmp_path):
    from grader.assignment import load_assignment
    from grader.batch import grade_batch
    from grader.executors import LocalExecutor
    from grader.outputs import StudentFiles

    assignment_folder = demo_copy(tmp_path)
    submissions = _class(tmp_path)
    assignment = load_assignment(assignment_folder)
    grade_batch(assignment, submissions, tmp_path / "here", 1, StudentFiles(), progress=False,
                executor=LocalExecutor(assignment))
    done = run_cli("grade", str(submissions), "-a", str(assignment_folder), "-o", str(tmp_path / "j2"), "-q", "-j", "2")
    assert done.returncode == 0, done.stderr
    assert _results(tmp_path / "here") == _results(tmp_path / "j2")


def test_the_bundle_carries_the_assignment_without_the_instructors_paths(tmp_path):
    assignment = demo_copy(tmp_path)
    from grader.assignment import load_assignment

    loaded = load_assignment(assignment)
    bundle = AssignmentBundle.build(loaded)
    assert bundle.digest == AssignmentBundle.build(loaded).digest  # content-addressed, deterministic
    installed = bundle.install(tmp_path / "worker")
    assert installed.reference is not None and installed.reference.is_relative_to(tmp_path / "worker")
    assert installed.folder.is_relative_to(tmp_path / "worker")
    assert [t.id for t in installed.tasks] == [t.id for t in loaded.tasks]
    assert str(tmp_path / "assignments") not in (installed.folder / "assignment.toml").read_text()


def test_a_handin_travels_as_it_is_links_included(tmp_path):
    handin = tmp_path / "alice"
    (handin / "pkg").mkdir(parents=True)
    (handin / "task2a.py").write_text("x = 1\n")
    (handin / "pkg" / "util.py").write_text("y = 2\n")
    (handin / "secret.py").symlink_to("/etc/passwd")
    arrived = unpack(pack(handin), tmp_path / "elsewhere")
    assert (arrived / "task2a.py").read_text() == "x = 1\n" and (arrived / "pkg" / "util.py").read_text() == "y = 2\n"
    assert (arrived / "secret.py").is_symlink() and os.readlink(arrived / "secret.py") == "/etc/passwd"
    assert pack(handin) == pack(handin)


def test_require_isolation_refuses_a_weaker_machine(tmp_path):
    assignment = demo_copy(tmp_path)
    submissions = _class(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRADER_ISOLATION": "none"}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(submissions), "-a", str(assignment),
                           "-o", str(tmp_path / "out"), "-q", "--require-isolation", "bwrap"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "--require-isolation bwrap" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "alice").exists()


class _Cluster:
    """A real scheduler and two workers, as separate processes with their own folders."""

    def __init__(self, tmp_path: Path) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        scheduler_dir = tmp_path / "scheduler"
        scheduler_dir.mkdir()
        self.scheduler = self._start([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                      "--no-dashboard"], scheduler_dir, env)
        self.address = self._address(self.scheduler)
        self.workers = []
        for index in range(2):
            folder = tmp_path / f"worker{index}"
            (folder / "tmp").mkdir(parents=True)
            worker_env = {**env, "TMPDIR": str(folder / "tmp")}
            self.workers.append(self._start(
                [str(bin_dir / "dask"), "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--resources", "sandbox=1", "--local-directory", str(folder / "dask")],
                folder, worker_env))
        deadline = time.monotonic() + 120
        with distributed.Client(self.address, timeout=60) as client:
            while len(client.scheduler_info()["workers"]) < 2:
                assert time.monotonic() < deadline, "the workers did not join"
                time.sleep(0.5)

    def _start(self, command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True)
        self.processes.append(process)
        return process

    @staticmethod
    def _address(scheduler: subprocess.Popen[str]) -> str:
        assert scheduler.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = scheduler.stderr.readline()
            found = re.search(r"Scheduler at:\s+(tcp://\S+)", line)
            if found:
                return found.group(1)
        raise AssertionError("the scheduler did not say its address")

    def kill_worker(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGKILL)

    def close(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path):
    running = _Cluster(tmp_path)
    yield running
    running.close()


def test_a_real_cluster_grades_the_class_and_survives_a_killed_worker(tmp_path, cluster):
    """One of two workers is killed with SIGKILL mid-batch: every student is graded exactly once, none lost."""
    assignment = demo_copy(tmp_path)
    submissions = _class(tmp_path, slow=0.4)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    batch = subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(submissions), "-a", str(assignment),
                              "-o", str(out), "-q", "--cluster", cluster.address],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not any((out / s / "result.json").exists() for s in STUDENTS):
        assert batch.poll() is None and time.monotonic() < deadline, batch.communicate()
        time.sleep(0.05)
    cluster.kill_worker(0)
    stdout, stderr = batch.communicate(timeout=600)
    assert batch.returncode == 0, stderr
    assert "graded 5, unchanged 0" in stdout
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS)
    assert all(r["status"] == "graded" for r in rows)
    reference = tmp_path / "reference-run"
    done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(reference), "-q", "-j", "1")
    assert done.returncode == 0, done.stderr
    assert _results(out) == _results(reference)


def test_a_handin_that_kills_its_worker_ends_in_error_after_one_retry(tmp_path, cluster):
    killer_test = '''
import os
import signal

import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_a_grader_bug_that_this_handin_triggers(student):
    """a test that brings down its grading process on one hand-in (as an out-of-memory kill would)"""
    if student.scaled_sum([0.0, 1.0]) == -999.0:
        os.kill(os.getpid(), signal.SIGKILL)
'''
    assignment = demo_copy(tmp_path, killer_test)
    deadly = GOOD.replace("return SCALE * sum(values)", "return -999.0 if values == [0.0, 1.0] else SCALE * sum(values)")
    submissions = a_class(tmp_path, {"alice": GOOD, "mallory": deadly, "bob": GOOD})
    out = tmp_path / "out"
    done = run_cli("grade", str(submissions), "-a", str(assignment), "-o", str(out), "-q", "--cluster", cluster.address)
    assert done.returncode == 5, done.stderr
    result = json.loads((out / "mallory" / "result.json").read_text())
    assert result["status"] == "error" and result["score"] is None
    assert "died twice" in result["errors"][0]
    assert not (out / "mallory" / ".fingerprint").exists()
    for student in ("alice", "bob"):
        assert json.loads((out / student / "result.json").read_text())["status"] == "graded"


@pytest.mark.slow
def test_the_example_class_on_local_2_equals_minus_j_1(tmp_path):
    """The bundled logistic_softmax class: `--cluster local:2` and `-j 1` give byte-identical result.json."""
    examples = REPO / "examples" / "submissions"
    runs = {}
    for name, options in {"j1": ["-j", "1"], "dask": ["--cluster", "local:2"]}.items():
        out = tmp_path / name
        done = run_cli("grade", str(examples), "-a", "logistic_softmax", "-o", str(out), "-q", *options, timeout=1800)
        assert done.returncode == 0, done.stderr
        runs[name] = {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")}
    assert len(runs["j1"]) >= 8
    assert runs["j1"] == runs["dask"]
