"""The hostile class graded once per module, and the suite's summary line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .classroom import ATTACK_TEST, LAYER_ATTACK_TEST, GradedClass, grade_hostile_class


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GradedClass]:
    """Every attack and the honest student, graded by the real `grade` command."""
    root = tmp_path_factory.mktemp("hostile")
    yield grade_hostile_class(root)
    shutil.rmtree(root, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The lines the README quotes: how many attacks were tried and how many were contained."""
    for test, label in ((ATTACK_TEST, "hostile-input suite"),
                        (LAYER_ATTACK_TEST, "hostile-input suite, layers other than bubblewrap")):
        reports = [r for key in ("passed", "failed", "error") for r in terminalreporter.stats.get(key, ())
                   if getattr(r, "when", "") == "call" and test in getattr(r, "nodeid", "")]
        if reports:
            contained = sum(1 for r in reports if r.passed)
            terminalreporter.write_line(f"{label}: attacks tried {len(reports)}, attacks contained {contained}")
