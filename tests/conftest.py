"""Shared helpers for the grader's own tests: the demo assignment, sandboxed sessions, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.extract import extract
from grader.model import Cell, SourceFile
from grader.sandbox.client import default_python
from grader.sandbox.launcher import Limits
from grader.sandbox.proxy import StudentNamespace, StudentSession, WorkerPool

collect_ignore_glob = ["fixtures/*"]  # instructor tests of the fixture assignments: run by the grader, not by pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEMO = HERE / "fixtures" / "assignments" / "demo"


def program_from_source(source: str, needs: tuple[str, ...], provided: frozenset[str] = frozenset()):
    """Extract a one-file submission written inline in a test."""
    file = SourceFile("submission", "submission.py", (Cell(0, "code", source),), is_notebook=False)
    return extract((file,), needs, provided)


@pytest.fixture(autouse=True, scope="session")
def private_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`grade`'s per-user cache (the canary's verdicts) in a folder of this test run, never the user's own."""
    folder = tmp_path_factory.mktemp("user-cache")
    before = os.environ.get("MLGRADER_CACHE_DIR")
    os.environ["MLGRADER_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        del os.environ["MLGRADER_CACHE_DIR"]
    else:
        os.environ["MLGRADER_CACHE_DIR"] = before


@pytest.fixture
def sandbox() -> Iterator:
    """Open student code in a real sandboxed worker: `student = sandbox(source, needs)`."""
    pools: list[WorkerPool] = []
    sessions: list[StudentSession] = []

    def open_student(source: str, needs: tuple[str, ...], limits: Limits | None = None, inject=None):
        pool = WorkerPool(default_python(), limits or Limits(call_timeout=3.0, test_timeout=20.0, memory_mb=1024), ("numpy",))
        session = StudentSession(program_from_source(source, needs, frozenset(inject or {})), pool, dict(inject or {}))
        session.start_test(seed=1, budget=30.0)
        pools.append(pool)
        sessions.append(session)
        return StudentNamespace(session, needs)

    yield open_student
    for session in sessions:
        session.close()
    for pool in pools:
        pool.close()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=timeout)
