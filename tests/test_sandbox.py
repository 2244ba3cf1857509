"""The sandbox's guarantees, shown with real worker processes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.sandbox.client import StudentError
from grader.sandbox.launcher import Limits, available_isolation
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
