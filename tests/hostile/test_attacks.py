"""Every attack is contained: exact score and diagnoses, nothing leaked, nothing written outside the sandbox.

The whole hostile class (the files in `submissions/` and the few built by
`special_submissions`) is graded once by the real `grade` command, beside an honest
student whose grade must not move. Each test in a row of diagnoses is, in order:
grad public (finite differences), grad hidden, the written answer q1, model public
(Ridge), model public (fit), scaled public, scaled hidden.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox.launcher import available_isolation, pids_hierarchy

from .classroom import ATTACK_TEST, HIDDEN, REFERENCE, SECRET_VARIABLE, SUBMISSIONS, GradedClass, snapshot

# the whole class holds attacks on the file system, which only bubblewrap hides; the attacks on time, memory
# and processes are graded under the other layers too, in test_attacks_every_layer.py
needs_bubblewrap = pytest.mark.skipif(
    available_isolation(sys.executable) != "bwrap",
    reason="the whole hostile class checks bubblewrap's guarantees (file-system hiding); see the README",
)

NI = ("not_implemented",)
OK: tuple[str, ...] = ()
WRONG: tuple[str, ...] = ()  # failed without a named pattern (a wrong value, or a hidden bare assert)
EXC, TIME, MEM, SHAPE = ("exception",), ("timeout",), ("memory_limit",), ("wrong_shape",)
NO_MODEL = (NI, NI)  # Ridge and fit are not defined: both model tests
NO_ANSWER = NI  # no ANSWERS: the written question q1

# attack -> (score, diagnoses of each test in order, a pattern the message of every failed test matches unless not_implemented)
EXPECTED: dict[str, tuple[float, tuple[tuple[str, ...], ...], str]] = {
    "monkeypatch-allclose": (0, (WRONG, WRONG, NO_ANSWER, *NO_MODEL, WRONG, WRONG), r"wrong|does not match|hidden"),
    "monkeypatch-numpy-testing": (0, (WRONG, WRONG, NO_ANSWER, WRONG, WRONG, NI, NI), r"wrong|does not match|not defined"),
    # -1.0 for a single number: no factor named (for one number only N or 1/N tells the student something)
    "monkeypatch-math-isclose": (0, (WRONG, WRONG, NO_ANSWER, *NO_MODEL, WRONG, WRONG), r"."),
    "monkeypatch-builtins": (0, (EXC, EXC, NO_ANSWER, *NO_MODEL, EXC, EXC), r"the worker process ended during the call"),
    "read-reference-by-walking-up": (0, (EXC, EXC, NO_ANSWER, *NO_MODEL, EXC, EXC), r"FileNotFoundError"),
    "read-through-environment": (0, (EXC, EXC, NO_ANSWER, *NO_MODEL, EXC, EXC), r"HOME=/sandbox"),
    "read-other-students": (0, (WRONG, WRONG, NO_ANSWER, *NO_MODEL, EXC, EXC), r"wrong|does not match|FileNotFoundError"),
    "fake-results": (0, (WRONG, WRONG, NO_ANSWER, *NO_MODEL, WRONG, WRONG), r"wrong|does not match|hidden"),
    "exit-inside-graded-function": (0, (EXC, EXC, NO_ANSWER, EXC, EXC, EXC, EXC),
                                    r"ended during the call \(exit status 0\)|called exit \(SystemExit: 0\)"),
    "ignore-sigterm": (0, (TIME, TIME, NO_ANSWER, *NO_MODEL, TIME, TIME), r"ran for more than 3 s"),
    "infinite-loop": (0, (TIME, TIME, NO_ANSWER, *NO_MODEL, TIME, TIME), r"ran for more than 3 s"),
    "allocate-40gb": (0, (MEM, MEM, NO_ANSWER, *NO_MODEL, MEM, MEM), r"MemoryError"),
    "fork-bomb": (0, (EXC, EXC, NO_ANSWER, *NO_MODEL, EXC, EXC), r"RuntimeError: forked \d+ of 300"),
    # deserved points: flooding stdout or leaving a process behind is not wrong, the answers are right
    "flood-stdout": (20, (OK, OK, NO_ANSWER, *NO_MODEL, OK, OK), r"."),
    "detached-background-process": (20, (OK, OK, NO_ANSWER, *NO_MODEL, OK, OK), r"."),
    "lying-eq": (0, (SHAPE, SHAPE, NO_ANSWER, SHAPE, SHAPE, SHAPE, WRONG), r"should be a number or an array|hidden"),
    "numpy-float-subclass": (0, (SHAPE, SHAPE, NO_ANSWER, *NO_MODEL, SHAPE, WRONG), r"should be a number|hidden"),
    "enormous-return-values": (0, (EXC, EXC, NO_ANSWER, EXC, EXC, EXC, EXC),
                               r"larger than the limit of 256 MB|nested deeper than 64|items is more than the limit"),
    "detect-grading": (0, (SHAPE, SHAPE, NO_ANSWER, *NO_MODEL, SHAPE, WRONG), r"should be a number|hidden"),
    "fifo-and-dev-zero": (0, (WRONG, WRONG, NO_ANSWER, *NO_MODEL, NI, NI), r"wrong|does not match|not defined"),
    "symlink-to-reference": (0, (WRONG, WRONG, NO_ANSWER, WRONG, WRONG, WRONG, WRONG), r"could not be read"),
    "symlink-file-to-reference": (0, (WRONG, WRONG, NO_ANSWER, WRONG, WRONG, WRONG, WRONG), r"could not be read"),
}
UNREADABLE = {
    "symlink-to-reference": "solution.py is a symbolic link; links are not followed",
    "symlink-file-to-reference": "symlink-file-to-reference.py is a symbolic link; links are not followed",
}
ERRORS = {"fifo-and-dev-zero": ("blocks.py is not a regular file", "endless.py is a symbolic link")}
# What no student may ever see: the hidden test's code and expected values, the reference, the host's secrets.
SECRETS = ("default_rng(12345)", "== 21.0", "scaled_sum([2.0, 5.0])", "test_scaled_sum_hidden",
           "Ridge regression solved in closed form", "Gradient of mean((X w - y)^2) / 2", "host-secret-")
ATTACKS = sorted([*EXPECTED, "named-like-a-class-file"])


def result(graded: GradedClass, student: str) -> dict[str, Any]:
    return json.loads((graded.out / student / "result.json").read_text())


def test_every_attack_file_has_an_expectation() -> None:
    on_disk = {p.stem for p in SUBMISSIONS.glob("*.py")} - {"honest"}
    assert on_disk <= set(EXPECTED), on_disk - set(EXPECTED)


def test_the_secrets_checked_for_are_really_in_the_secret_files() -> None:
    secret_text = HIDDEN.read_text() + REFERENCE.read_text()
    assert all(s in secret_text for s in SECRETS[:-1])


@needs_bubblewrap
@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_contained(hostile_class: GradedClass, attack: str) -> None:
    """The batch completed, the honest student has full marks, nothing escaped, and the attack earned what it deserves."""
    assert_class_unharmed(hostile_class)
    if attack == "named-like-a-class-file":
        assert_reserved_name_ignored(hostile_class)
        return
    score, diagnoses, pattern = EXPECTED[attack]
    graded = result(hostile_class, attack)
    assert graded["score"] == score
    tests = [t for task in graded["tasks"] for t in task["tests"]]
    assert [tuple(t["diagnoses"]) for t in tests] == list(diagnoses)
    assert [t["passed"] for t in tests] == [d == OK and score > 0 for d in diagnoses]
    for test in tests:
        if not test["passed"] and tuple(test["diagnoses"]) != NI:
            assert re.search(pattern, test["message"]), test["message"]
    assert_expected_status(graded, attack)
    assert_nothing_secret(hostile_class, attack)
    if attack == "fork-bomb" and pids_hierarchy() is not None:
        started = int(re.search(r"forked (\d+) of 300", tests[0]["message"]).group(1))  # type: ignore[union-attr]
        assert started < 128  # the worker's pids cgroup (Limits.max_processes) stopped it


def assert_class_unharmed(graded: GradedClass) -> None:
    """What every attack must leave intact: the batch, the honest grade, the folders, the host's /tmp."""
    assert graded.run.returncode == 0, graded.run.stderr[-3000:]
    honest = result(graded, "honest")
    assert honest["score"] == honest["max_score"] == 32
    assert all(t["passed"] for task in honest["tasks"] for t in task["tests"])
    rows = {row["student"]: row for row in csv.DictReader((graded.out / "gradebook.csv").open())}
    assert rows["honest"]["score"] == "32" and set(rows) == set(EXPECTED) | {"honest"}
    assert all(float(rows[name]["score"]) == EXPECTED[name][0] for name in EXPECTED)
    assert graded.marker_files() == []
    assert graded.processes_left() == []
    assert snapshot(graded.submissions) == graded.files_before
    assert_no_forged_outputs(graded.out)


def assert_no_forged_outputs(out: Path) -> None:
    """No result.json or gradebook.csv where the grader does not write one, no marker, no forged gradebook row."""
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if path.name == "result.json":
            assert len(relative.parts) == 2, relative
        if path.name == "gradebook.csv":
            assert relative == Path("gradebook.csv")
        assert "PWNED" not in path.name
    assert b"fake-results,32" not in (out / "gradebook.csv").read_bytes()


def assert_expected_status(graded: dict[str, Any], attack: str) -> None:
    if attack in UNREADABLE:
        assert graded["status"] == "unreadable"
        assert any(UNREADABLE[attack] in e for e in graded["errors"]), graded["errors"]
    else:
        assert graded["status"] == "graded"
        assert all(any(m in e for e in graded["errors"]) for m in ERRORS.get(attack, ())), graded["errors"]


def assert_nothing_secret(graded: GradedClass, attack: str) -> None:
    """Neither the feedback nor result.json holds hidden-test code, expected values, the reference or host secrets."""
    for name in ("feedback.html", "result.json"):
        text = (graded.out / attack / name).read_text()
        for secret in (*SECRETS, SECRET_VARIABLE):
            assert secret not in text, f"{secret!r} leaked into {attack}/{name}"


def assert_reserved_name_ignored(graded: GradedClass) -> None:
    """A hand-in named `summary.html.py` cannot take the class summary's place: it is ignored and said so."""
    assert (graded.out / "summary.html").is_file()
    assert "summary.html.py" in (graded.out / "summary.html").read_text()
    assert "ignored 1" in graded.run.stdout


def test_the_summary_line_counts_the_attacks() -> None:
    assert ATTACK_TEST == test_attack_is_contained.__name__
    assert len(ATTACKS) >= 20
