"""Workers forked from one fork server (under bubblewrap): each student starts from the same clean state.

One pool grades students one after the other, as a grading process does. What the first student's
code leaves (files in every writable folder, a detached process, a folder it made unremovable, changes
to numpy in its memory, a killed or stopped fork server) must not reach the second student, who must
also draw the same module-level random numbers as on any other run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import program_from_source

from grader.model import Diagnosis
from grader.sandbox import forking
from grader.sandbox.client import ForkedWorker, StudentError
from grader.sandbox.launcher import Limits, forks_workers
from grader.sandbox.proxy import StudentNamespace, StudentSession, WorkerPool

pytestmark = pytest.mark.skipif(not forks_workers(sys.executable), reason="workers are forked under bubblewrap only")

LEAVER = '''
import ctypes, os, subprocess, sys, time
import numpy as np

DRAWN = np.random.rand(3).tolist()

def leave_everything(marker):
    for folder in (".", os.environ["HOME"], "/tmp", "/dev/shm"):
        with open(os.path.join(folder, "left-" + marker), "w") as handle:
            handle.write("from the previous student")
    os.makedirs("locked/inner", exist_ok=True)
    with open("locked/inner/file", "w") as handle:
        handle.write("x")
    os.chmod("locked/inner", 0)
    os.chmod("locked", 0)
    np.sum = lambda *args, **kwargs: 42  # a change to numpy in this worker's memory
    if os.fork() == 0:  # a detached process, which ignores SIGTERM
        os.setsid()
        if os.fork() == 0:
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", marker])
        os._exit(0)
    deadline = time.monotonic() + 10
    while not any(entry.startswith("process") for entry in what_is_left(marker)[0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "left"

def what_is_left(marker):
    """Files and processes in the sandbox; not the folders bubblewrap made for its mounts (a venv under /tmp)."""
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split()[4] for line in handle]
    found = []
    for folder in (".", os.environ["HOME"], "/tmp", "/dev/shm"):
        found += [os.path.join(folder, name) for name in os.listdir(folder)
                  if not any(m == os.path.join(folder, name) or m.startswith(os.path.join(folder, name) + "/")
                             for m in mounts)]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append("process " + pid)
            except OSError:
                pass
    return sorted(found), int(np.sum(np.ones(3)))

def drawn():
    return DRAWN

def pid():
    return os.getpid()

def kill_the_server():
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(5)

def stop_the_server():
    import signal
    os.kill(os.getppid(), signal.SIGSTOP)
    return "stopped"

def read_the_server(what):
    if what == "fd":  # the numbers may be listed; opening one (the control socket among them) is what matters
        for name in os.listdir(f"/proc/{os.getppid()}/fd"):
            os.close(os.open(f"/proc/{os.getppid()}/fd/{name}", os.O_RDONLY))
        return "opened"
    with open(f"/proc/{os.getppid()}/{what}", "rb") as handle:
        return len(handle.read())
'''
NEEDS = ("leave_everything", "what_is_left", "drawn", "pid", "kill_the_server", "stop_the_server", "read_the_server")


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(sys.executable, Limits(call_timeout=5.0, test_timeout=30.0, memory_mb=1024), ("numpy",))
    assert pool.forks
    yield pool
    pool.close()


@pytest.fixture
def student(pool: WorkerPool) -> Iterator:
    """`student()` opens the next student's session on the same pool (the previous one is closed first)."""
    sessions: list[StudentSession] = []

    def next_student() -> StudentNamespace:
        if sessions:
            sessions[-1].close()
        session = StudentSession(program_from_source(LEAVER, NEEDS), pool, {})
        session.start_test(seed=1, budget=30.0)
        sessions.append(session)
        return StudentNamespace(session, NEEDS)

    yield next_student
    for session in sessions:
        session.close()


def test_nothing_of_the_previous_student_reaches_the_next(student):
    marker = f"grader-forkserver-marker-{os.getpid()}-{time.time_ns()}"
    first = student()
    assert first.what_is_left(marker) == ([], 3)
    assert first.leave_everything(marker) == "left"
    found, total = first.what_is_left(marker)
    assert sum(1 for entry in found if "left-" in entry) == 4 and any(e.startswith("process") for e in found)
    assert total == 42
    second = student()
    assert second.what_is_left(marker) == ([], 3)


def test_every_student_is_a_fork_of_the_same_server_and_draws_the_same_numbers(student):
    first = student()
    server, drawn, pid = first._session.worker.server, first.drawn(), first.pid()
    second = student()
    worker = second._session.worker
    assert isinstance(worker, ForkedWorker) and worker.server is server
    assert second.pid() != pid
    assert second.drawn() == drawn  # module-level randomness is seeded: the same on every run


@pytest.mark.parametrize("what", ["mem", "environ", "fd"])
def test_a_student_cannot_read_the_servers_memory_or_descriptors(student, what):
    error = _failure(lambda: student().read_the_server(what))
    assert error.failure.exception_type == "PermissionError"


def test_a_student_who_kills_the_server_fails_alone_and_the_next_student_gets_a_new_server(student):
    first = student()
    server = first._session.worker.server
    error = _failure(first.kill_the_server)
    assert error.failure.diagnosis is Diagnosis.EXCEPTION
    second = student()
    assert second.what_is_left("nothing")[1] == 3
    assert second._session.worker.server is not server


def test_a_stopped_server_is_replaced(student, monkeypatch):
    monkeypatch.setattr(forking, "ANSWER_TIMEOUT", 1.0)
    first = student()
    server = first._session.worker.server
    assert first.stop_the_server() == "stopped"
    second = student()
    assert second.what_is_left("nothing")[1] == 3
    assert second._session.worker.server is not server
    assert not server.alive


def _failure(call) -> StudentError:
    with pytest.raises(StudentError) as caught:
        call()
    return caught.value


def test_between_students_the_folders_that_lead_to_a_mount_stay_and_what_a_student_put_in_them_goes(tmp_path):
    """An interpreter under /tmp (a CI checkout in /tmp/ci) is bound into the sandbox's /tmp: bubblewrap makes
    /tmp/ci for it. Emptying /tmp between students keeps that folder and the mount, and removes what a student
    wrote beside them, also in a folder they locked."""
    from grader.sandbox.forkserver import empty_folder

    mount = tmp_path / "ci" / ".venv"
    (mount / "lib").mkdir(parents=True)
    (mount / "lib" / "numpy.py").write_text("the interpreter's own files")
    (tmp_path / "ci" / "planted.py").write_text("from the previous student")
    (tmp_path / "left").mkdir()
    (tmp_path / "left" / "inner").mkdir()
    (tmp_path / "left" / "inner" / "file").write_text("x")
    (tmp_path / "left" / "inner").chmod(0)
    (tmp_path / "note.txt").write_text("x")
    (tmp_path / "ci").chmod(0o500)
    assert empty_folder(str(tmp_path), frozenset({str(mount)}))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "ci", "ci/.venv", "ci/.venv/lib", "ci/.venv/lib/numpy.py"]
