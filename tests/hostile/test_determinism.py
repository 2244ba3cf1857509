"""The same submission graded again and again gives byte-identical result.json."""

from __future__ import annotations

import subprocess
from pathlib import Path

from grader.assignment import load_assignment
from grader.pipeline import grade_submission
from grader.report.jsonout import result_json
from grader.session import build_context, new_pool

from .classroom import DEMO, SUBMISSIONS, grade_command, grade_environment

REPEATS = 20
# full marks, and a mix of wrong values and a hidden bare assert
STUDENTS = ("honest", "monkeypatch-math-isclose")


def test_twenty_gradings_give_byte_identical_results(tmp_path: Path) -> None:
    """Once through the CLI (-j 1), then twenty times through the pipeline: every result.json is the same bytes."""
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    subs.mkdir()
    for student in STUDENTS:
        (subs / f"{student}.py").write_text((SUBMISSIONS / f"{student}.py").read_text())
    command = [*grade_command(), str(subs), "-a", str(DEMO), "-o", str(out), "-j", "1", "-q"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=grade_environment())
    assert run.returncode == 0, run.stderr
    context = build_context(load_assignment(DEMO))
    pool = new_pool(context.assignment)
    try:
        for student in STUDENTS:
            from_cli = (out / student / "result.json").read_text(encoding="utf-8")
            again = {result_json(grade_submission(context, pool, student, subs / f"{student}.py")) for _ in range(REPEATS)}
            assert again == {from_cli}
    finally:
        pool.close()
