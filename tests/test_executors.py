"""Executors: the forked grading processes begin when `run` is called, and `close` ends them all."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from democlass import GOOD, a_class, demo_copy

from grader.assignment import load_assignment
from grader.executors import ForkExecutor, Job, LocalExecutor

MARKING_TEST = '''
import os
from pathlib import Path

import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_leaves_a_mark(student):
    """leaves a mark in the folder the test of the executors watches"""
    Path(os.environ["GRADER_TEST_MARKS"], str(os.getpid())).touch()
    assert student.scaled_sum([1.0]) == 3.0
'''


def wait_for(condition, seconds: float = 120.0) -> bool:
    """Poll until `condition()` holds (a wait, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("GRADER_TEST_MARKS", str(marks))
    assignment = load_assignment(demo_copy(tmp_path, MARKING_TEST))
    submissions = a_class(tmp_path, {"alice": GOOD, "bob": GOOD, "carol": GOOD})
    jobs = [Job(path.stem, path) for path in sorted(submissions.iterdir())]
    return assignment, jobs, marks


def test_run_has_begun_grading_when_it_returns_and_close_ends_what_was_never_collected(marked, tmp_path):
    assignment, jobs, marks = marked
    executor = ForkExecutor(assignment, 2)
    executor.start(tmp_path / "cache")
    try:
        executor.run(jobs)  # never iterated
        assert len(multiprocessing.active_children()) == 2
        assert wait_for(lambda: len(list(marks.iterdir())) == 2), "two processes grade before anyone asks for a result"
    finally:
        executor.close()
    assert multiprocessing.active_children() == []


def test_forked_processes_give_what_this_process_gives(marked, tmp_path):
    assignment, jobs, _ = marked
    forked, local = ForkExecutor(assignment, 2), LocalExecutor(assignment)
    try:
        forked.start(tmp_path / "forked")
        local.start(tmp_path / "local")
        by_fork = {r.student: (r.score, r.tasks) for r in forked.run(jobs)}
        here = {r.student: (r.score, r.tasks) for r in local.run(jobs)}
    finally:
        forked.close()
        local.close()
    assert by_fork.keys() == {"alice", "bob", "carol"}
    assert {s: score for s, (score, _) in by_fork.items()} == {s: score for s, (score, _) in here.items()}
