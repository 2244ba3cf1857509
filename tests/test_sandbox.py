"""The sandbox's guarantees, shown with real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.sandbox import launcher
from grader.sandbox.client import ForkedWorker, StudentError, WorkerChannel
from grader.sandbox.launcher import Limits, available_isolation, pids_hierarchy
from grader.testing import CheckFailed, assert_close

REPO = Path(__file__).resolve().parent.parent
HOSTILE = '''
import os, subprocess, sys, time
import numpy as np

def double(x):
    return np.asarray(x) * 2

def hang():
    while True:
        pass

def allocate():
    return np.ones(20 * 1024**3 // 8)

def die():
    os._exit(0)

def leave_behind(marker):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", marker])
        os._exit(0)
    return "started"

def read(path):
    with open(path) as handle:
        return handle.read()

class Liar:
    def __eq__(self, other):
        return True
    __lt__ = __le__ = __gt__ = __ge__ = __eq__

def lying_result():
    return Liar()

class LyingFloat(float):
    def __eq__(self, other):
        return True

def lying_float():
    return LyingFloat(0.0)

class Model:
    def __init__(self, n):
        self.w = np.zeros(n)
    def step(self, g):
        self.w = self.w - g
        return self

def train(model, steps):
    for _ in range(steps):
        model.step(np.ones_like(model.w))
    return model

def count(n):
    for i in range(n):
        yield i
'''
NEEDS = ("double", "hang", "allocate", "die", "leave_behind", "read", "lying_result", "lying_float", "Model", "train", "count")


@pytest.fixture
def student(sandbox):
    return sandbox(HOSTILE, NEEDS, Limits(call_timeout=2.0, test_timeout=30.0, memory_mb=1024))


def failure_of(call) -> StudentError:
    with pytest.raises(StudentError) as caught:
        call()
    return caught.value


def test_calls_return_plain_data_and_handles(student):
    assert student.double([1, 2]).tolist() == [2, 4]
    model = student.Model(3)
    trained = student.train(model, 4)  # a worker object passed back into student code
    assert trained == model
    assert trained.w.tolist() == [-4.0, -4.0, -4.0]
    assert list(student.count(3)) == [0, 1, 2]


def test_a_hang_times_out_and_the_next_call_gets_a_fresh_worker(student):
    started = time.monotonic()
    error = failure_of(student.hang)
    assert error.failure.diagnosis is Diagnosis.TIMEOUT
    assert time.monotonic() - started < 10
    assert student.double(3) == 6


def test_a_20_gb_allocation_is_stopped(student):
    error = failure_of(student.allocate)
    assert error.failure.diagnosis is Diagnosis.MEMORY_LIMIT
    assert student.double(1) == 2


def test_os_exit_fails_only_that_call(student):
    error = failure_of(student.die)
    assert error.failure.diagnosis is Diagnosis.EXCEPTION
    assert "ended during the call" in error.failure.message
    assert student.double(2) == 4


def _processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def test_a_background_process_does_not_outlive_grading(sandbox):
    marker = f"grader-test-marker-{os.getpid()}-{time.time_ns()}"
    student = sandbox(HOSTILE, NEEDS)
    assert student.leave_behind(marker) == "started"
    time.sleep(0.5)
    session = student._session
    session.close()
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []


@pytest.mark.skipif(available_isolation(sys.executable) != "bwrap", reason="file-system hiding needs bubblewrap")
def test_student_code_cannot_read_the_reference_or_the_tests(student):
    for secret in (REPO / "tests" / "fixtures" / "reference" / "demo.py",
                   REPO / "tests" / "fixtures" / "assignments" / "demo" / "tests" / "hidden" / "test_grad_hidden.py"):
        assert secret.is_file()
        error = failure_of(lambda path=secret: student.read(str(path)))
        assert error.failure.exception_type in ("FileNotFoundError", "PermissionError")


@pytest.mark.skipif(available_isolation(sys.executable) != "bwrap", reason="file-system hiding needs bubblewrap")
def test_the_worker_sees_only_its_own_directory_and_the_interpreter(student):
    error = failure_of(lambda: student.read("/etc/passwd"))
    assert error.failure.exception_type == "FileNotFoundError"


def test_a_lying_eq_cannot_pass_a_comparison(student):
    liar = student.lying_result()
    assert (liar == 3.0) is False
    with pytest.raises(CheckFailed) as failed:
        assert_close(liar, 3.0)
    assert failed.value.diagnoses == (Diagnosis.WRONG_SHAPE,)
    lying_float = student.lying_float()
    assert (lying_float == 3.0) is False
    with pytest.raises(CheckFailed):
        assert_close(lying_float, np.array(3.0))


def test_missing_names_are_not_implemented(sandbox):
    student = sandbox("def other():\n    return 1\n", ("wanted",))
    error = failure_of(lambda: student.wanted(1))
    assert error.failure.diagnosis is Diagnosis.NOT_IMPLEMENTED


def test_injected_globals_reach_student_modules(sandbox):
    student = sandbox("def scaled(x):\n    return SCALE * x\n", ("scaled",), inject={"SCALE": 3.0})
    assert student.scaled(2) == 6.0


# ---------------------------------------------------------------- the kill is SIGKILL, in every isolation layer

STUBBORN = '''
import base64, fcntl, json, os, pickle, signal, stat, struct, sys, time

def double(x):
    return x * 2

def stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass

def detach_stubborn(marker):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # kept across exec: only SIGKILL ends it
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", marker])
        os._exit(0)
    stubborn()

class Planted:
    def __init__(self, marker):
        self.marker = marker
    def __reduce__(self):
        return (open, (self.marker, "w"))

def forge(kind, marker):
    """Write a reply frame of the student's own on the worker's response channel, then stay silent."""
    planted = pickle.dumps(Planted(marker), protocol=2)
    text = base64.b64encode(planted).decode()
    values = {
        "pickle under a tag": {"$p": text},
        "pickle as an array": {"$a": ["object", [1], text]},
        "invalid base64": {"$a": ["float64", [1], "AAAAAAAAAAA"]},
    }
    # a reply is the dict {"ok": value}, which crosses as {"$d": [["ok", value]]}
    body = planted if kind == "raw pickle" else json.dumps({"$d": [["ok", values[kind]]]}).encode()
    for fd in range(3, 64):  # the response channel: a pipe open for writing (its number depends on how the worker started)
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                os.write(fd, struct.pack(">Q", len(body)) + body)
        except OSError:
            pass
    time.sleep(30)
'''
STUBBORN_NEEDS = ("double", "stubborn", "detach_stubborn", "forge")
CALL_LIMIT = 1.0


def _layer_works(layer: str) -> bool:
    command = launcher._wrap(layer, sys.executable, Path("/tmp"), [sys.executable, "-c", "pass"])  # type: ignore[arg-type]
    try:
        return subprocess.run(command, capture_output=True, timeout=30, cwd="/tmp").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


LAYERS = [pytest.param(layer, marks=pytest.mark.skipif(not _layer_works(layer), reason=f"no {layer} on this machine"))
          for layer in ("bwrap", "unshare", "none")]


@pytest.fixture(params=LAYERS)
def layer(request, monkeypatch) -> Iterator[str]:
    """Force one isolation layer (GRADER_ISOLATION) for the workers this test starts."""
    monkeypatch.setenv("GRADER_ISOLATION", request.param)
    available_isolation.cache_clear()
    assert available_isolation(sys.executable) == request.param
    yield request.param
    available_isolation.cache_clear()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(root: int) -> list[int]:
    """`root` and every process below it."""
    children, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _worker_tree(worker: WorkerChannel) -> list[int]:
    """The host's PIDs of a worker's processes: a fresh worker's whole tree, a forked worker's own branch.

    A forked worker lives under its fork server (and bubblewrap), which outlive it; it is found by its PID
    inside the sandbox (the last field of `NSpid`).
    """
    tree = _tree(worker.process.pid)
    if not isinstance(worker, ForkedWorker):
        return tree
    own = [pid for pid in tree if _pid_in_sandbox(pid) == worker.pid]
    return _tree(own[0]) if own else []


def _pid_in_sandbox(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            line = next((row for row in handle if row.startswith("NSpid:")), "")
    except OSError:
        return None
    fields = line.split()
    return int(fields[-1]) if len(fields) > 1 else None


def _alive(pid: int) -> bool:
    """Running or sleeping: a process that is gone or a zombie (dead, not yet reaped) is not alive."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _still_alive(pids: list[int], patience: float = 3.0) -> list[int]:
    deadline = time.monotonic() + patience
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def test_a_call_that_ignores_sigterm_times_out_promptly_and_its_worker_is_gone(sandbox, layer):
    """The timeout kill is SIGKILL to the worker's process group: with SIGTERM this worker would live on.

    No pids cgroup here (`max_processes=0`), so nothing but that kill can end the worker.
    """
    student = sandbox(STUBBORN, STUBBORN_NEEDS, Limits(call_timeout=CALL_LIMIT, test_timeout=30.0, memory_mb=1024,
                                                       max_processes=0))
    assert student.double(2) == 4
    worker = student._session.worker
    assert worker.group is None
    processes = _worker_tree(worker)
    assert processes and all(_alive(p) for p in processes)
    started = time.monotonic()
    error = failure_of(student.stubborn)
    elapsed = time.monotonic() - started
    assert error.failure.diagnosis is Diagnosis.TIMEOUT
    assert "ran for more than 1 s" in error.failure.message
    assert elapsed < CALL_LIMIT + 6  # a polite kill would leave kill() waiting its 10 s for the worker to end
    assert _still_alive(processes) == []
    assert student.double(3) == 6  # and the next call gets a fresh worker
    if isinstance(worker, ForkedWorker):  # forked from the same fork server, which the kill left alone
        assert student._session.worker.server is worker.server and worker.server.process.poll() is None


def test_a_detached_process_that_ignores_sigterm_is_killed_with_its_worker(sandbox, layer):
    """What left the process group dies with the PID namespace (bwrap, unshare: no cgroup in this test), or
    is killed by the worker's pids cgroup (none), with SIGKILL: with SIGTERM it would live on."""
    if layer == "none" and pids_hierarchy() is None:
        pytest.skip("without namespaces or a pids cgroup a detached process can outlive grading (see the README)")
    marker = f"grader-stubborn-marker-{os.getpid()}-{time.time_ns()}"
    cap = Limits().max_processes if layer == "none" else 0
    student = sandbox(STUBBORN, STUBBORN_NEEDS, Limits(call_timeout=CALL_LIMIT, test_timeout=30.0, memory_mb=1024,
                                                       max_processes=cap))
    assert (student._session.worker.group is None) == (cap == 0)
    try:
        error = failure_of(lambda: student.detach_stubborn(marker))
        assert error.failure.diagnosis is Diagnosis.TIMEOUT
        left = [int(p) for p in _processes_with(marker)]
        assert _still_alive(left) == [], f"the detached process outlived its worker under {layer}"
        assert _still_alive([int(p) for p in _processes_with(marker)]) == []
    finally:
        for pid in _processes_with(marker):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


@pytest.mark.parametrize("kind", ["raw pickle", "pickle under a tag", "pickle as an array", "invalid base64"])
def test_a_forged_reply_frame_is_refused_and_never_unpickled(sandbox, tmp_path, kind):
    """Student code writes its own frame on the response channel: the host refuses it and kills the worker."""
    marker = tmp_path / "unpickled-on-the-host"
    student = sandbox(STUBBORN, STUBBORN_NEEDS, Limits(call_timeout=5.0, test_timeout=30.0, memory_mb=1024))
    error = failure_of(lambda: student.forge(kind, str(marker)))
    assert error.failure.diagnosis is Diagnosis.EXCEPTION
    assert "not plain data" in error.failure.message
    assert not marker.exists()
    assert student.double(5) == 10
