"""The attacks on time, memory and processes are stopped by every isolation layer, not only bubblewrap.

Timeouts, the SIGKILL that ends a worker ignoring SIGTERM, the address-space limit, the process cap and
the kill of detached processes do not depend on bubblewrap. This module grades those attacks beside the
honest student through the real `grade` command under each layer other than bubblewrap that works on this
machine (`GRADER_ISOLATION` forces it); `test_attacks.py` grades the whole class, with the attacks on the
file system, under bubblewrap.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from grader.sandbox.launcher import pids_hierarchy

from .classroom import LAYER_ATTACK_TEST, SUBMISSIONS, GradedClass, grade_hostile_class, layer_works
from .test_attacks import EXPECTED, assert_nothing_secret

ANY_LAYER = ("ignore-sigterm", "infinite-loop", "allocate-40gb", "fork-bomb", "detached-background-process")
LAYERS = [pytest.param(layer, marks=pytest.mark.skipif(not layer_works(layer), reason=f"no {layer} on this machine"))
          for layer in ("unshare", "none")]


def attacks_under(layer: str) -> tuple[str, ...]:
    """Every attack above, but a detached process under `none` without a pids cgroup (it escapes: see the README)."""
    if layer == "none" and pids_hierarchy() is None:
        return tuple(a for a in ANY_LAYER if a != "detached-background-process")
    return ANY_LAYER


@pytest.fixture(scope="module", params=LAYERS)
def layer_class(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, GradedClass]]:
    """The attacks and the honest student graded once per layer."""
    layer = request.param
    root = tmp_path_factory.mktemp(f"hostile-{layer}")
    yield layer, grade_hostile_class(root, attacks_under(layer), isolation=layer)
    shutil.rmtree(root, ignore_errors=True)


def result(graded: GradedClass, student: str) -> dict[str, Any]:
    return json.loads((graded.out / student / "result.json").read_text())


def test_the_layer_attacks_are_real_submissions() -> None:
    assert all(attack in EXPECTED and (SUBMISSIONS / f"{attack}.py").is_file() for attack in ANY_LAYER)
    assert "signal.SIG_IGN" in (SUBMISSIONS / "ignore-sigterm.py").read_text()


@pytest.mark.parametrize("attack", ANY_LAYER)
def test_attack_is_stopped_under_every_layer(layer_class: tuple[str, GradedClass], attack: str) -> None:
    """The batch completes, the honest student keeps full marks, and the attack ends as it does under bubblewrap."""
    layer, graded = layer_class
    if attack not in attacks_under(layer):
        pytest.skip(f"a detached process outlives grading under {layer} without a pids cgroup (see the README)")
    assert graded.run.returncode == 0, graded.run.stderr[-3000:]
    assert f"sandbox isolation is '{layer}'" in graded.run.stdout + graded.run.stderr
    honest = result(graded, "honest")
    assert honest["score"] == honest["max_score"] == 32
    score, diagnoses, pattern = EXPECTED[attack]
    attacked = result(graded, attack)
    assert attacked["status"] == "graded"
    assert attacked["score"] == score
    tests = [t for task in attacked["tasks"] for t in task["tests"]]
    assert [tuple(t["diagnoses"]) for t in tests] == list(diagnoses)
    for test in tests:
        if not test["passed"] and tuple(test["diagnoses"]) != ("not_implemented",):
            assert re.search(pattern, test["message"]), test["message"]
    assert graded.marker_files() == []
    assert graded.processes_left() == []
    assert_nothing_secret(graded, attack)
    if attack == "fork-bomb" and pids_hierarchy() is not None:
        started = int(re.search(r"forked (\d+) of 300", tests[0]["message"]).group(1))  # type: ignore[union-attr]
        assert started < 128  # the worker's pids cgroup (Limits.max_processes) stopped it


def test_the_layer_suite_is_named_for_the_summary_line() -> None:
    assert LAYER_ATTACK_TEST == test_attack_is_stopped_under_every_layer.__name__
