"""Every malformed hand-in gets a result.json with a message a student understands; none stops the batch.

The small samples live in `inputs/`; the big ones (a 30 MB output, 5,000 cells,
JSON nested 100,000 deep) are built here. The whole class is graded once by the
real `grade` command. `unreadable` is only for hand-ins of which nothing at all
could be read.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile.classroom import DEMO, SUBMISSIONS, grade_command, grade_environment

from .conftest import MALFORMED_TEST

INPUTS = Path(__file__).resolve().parent / "inputs"
HONEST = (SUBMISSIONS / "honest.py").read_text()

# hand-in -> (status, score, a phrase its errors must hold, or "" for none)
EXPECTED: dict[str, tuple[str, float, str]] = {
    "invalid-json.ipynb": ("unreadable", 0, "is not a valid notebook: its JSON is broken at line 1"),
    "empty-file.ipynb": ("unreadable", 0, "is empty: the notebook was probably not saved"),
    "binary-bytes.ipynb": ("unreadable", 0, "is a binary file, not a notebook"),
    "json-not-a-notebook.ipynb": ("unreadable", 0, "is JSON but not a Jupyter notebook"),
    "unknown-nbformat.ipynb": ("unreadable", 0, "in a format version that cannot be read"),
    "deeply-nested-json.ipynb": ("unreadable", 0, "nested too deeply"),
    "empty-module.py": ("unreadable", 0, "empty-module.py is empty"),
    "nbformat-3.ipynb": ("graded", 32, ""),
    "markdown-only.ipynb": ("graded", 0, ""),
    "not-utf8.py": ("graded", 32, "is not saved as UTF-8; it was read as Latin-1"),
    "huge-output-in-a-cell.ipynb": ("graded", 32, ""),
    "duplicate-cell-ids.ipynb": ("graded", 32, ""),
    "five-thousand-cells.ipynb": ("graded", 32, ""),
    "syntax-error-everywhere.py": ("graded", 0, ""),
}


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def _code(index: int, source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "id": f"c{index}", "metadata": {}, "execution_count": None,
            "outputs": outputs or [], "source": source}


def build_big_inputs(folder: Path) -> None:
    """The hand-ins too big to keep in git."""
    flood = {"output_type": "stream", "name": "stdout", "text": "loss 0.1234\n" * (30 * 2**20 // 12)}
    cells = [_code(0, "for epoch in range(10**6):\n    print('loss', 0.1234)", [flood]), _code(1, HONEST)]
    (folder / "huge-output-in-a-cell.ipynb").write_text(json.dumps(_notebook(cells)))
    many = [_code(i, f"step_{i} = {i}") for i in range(4_999)] + [_code(4_999, HONEST)]
    (folder / "five-thousand-cells.ipynb").write_text(json.dumps(_notebook(many)))
    (folder / "deeply-nested-json.ipynb").write_text("[" * 100_000 + "]" * 100_000)


@pytest.fixture(scope="module")
def malformed_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.CompletedProcess[str], Path]]:
    root = tmp_path_factory.mktemp("malformed")
    subs, out = root / "submissions", root / "grades"
    subs.mkdir()
    for sample in INPUTS.iterdir():
        (subs / sample.name).write_bytes(sample.read_bytes())
    build_big_inputs(subs)
    command = [*grade_command(), str(subs), "-a", str(DEMO), "-o", str(out), "-j", "2", "-q"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=grade_environment())
    yield run, out


def test_every_sample_has_an_expectation() -> None:
    samples = {p.name for p in INPUTS.iterdir()}
    assert samples <= set(EXPECTED), samples - set(EXPECTED)
    assert MALFORMED_TEST == test_malformed_input_is_recorded.__name__


@pytest.mark.parametrize("hand_in", sorted(EXPECTED))
def test_malformed_input_is_recorded(malformed_class: tuple[subprocess.CompletedProcess[str], Path], hand_in: str) -> None:
    """The batch ran to the end and this hand-in has a result, the expected status and score, and a readable message."""
    run, out = malformed_class
    assert run.returncode == 0, run.stderr[-3000:]
    student = Path(hand_in).stem
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert set(rows) == {Path(name).stem for name in EXPECTED}
    result = json.loads((out / student / "result.json").read_text())
    status, score, phrase = EXPECTED[hand_in]
    assert (result["status"], result["score"]) == (status, score)
    assert rows[student]["status"] == status and float(rows[student]["score"]) == score
    if phrase:
        assert any(phrase in error for error in result["errors"]), result["errors"]
        assert any(error.startswith(hand_in) for error in result["errors"])  # names the file the student handed in
    elif status == "graded" and score == 32:
        assert result["errors"] == []
    if status == "unreadable":
        tests = [t for task in result["tasks"] for t in task["tests"]]
        assert all(not t["passed"] and t["message"] for t in tests)
    assert "Traceback" not in json.dumps(result)


def test_markdown_only_and_syntax_errors_say_what_is_missing(malformed_class: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = malformed_class
    markdown = json.loads((out / "markdown-only" / "result.json").read_text())
    assert {d for task in markdown["tasks"] for t in task["tests"] for d in t["diagnoses"]} == {"not_implemented"}
    broken = json.loads((out / "syntax-error-everywhere" / "result.json").read_text())
    grad = broken["tasks"][0]["tests"][0]
    assert grad["diagnoses"] == ["syntax_error"] and "line 1" in grad["message"]
