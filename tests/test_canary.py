"""The canary's verdict is remembered by its key: in the output folder and in the user's cache folder.

A remembered pass spares a run into a new output folder the canary and gives the same results; a
change of the assignment, its template, the grader or the environment is a new key; a failure is
never remembered; the reference's values of an earlier key are never used again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from democlass import GOOD, a_class, demo_copy

from grader.assignment import load_assignment
from grader.batch import grade_batch
from grader.canary import canary_key, user_cache_dir
from grader.environment import GradingEnvironment
from grader.errors import ConfigError
from grader.executors import LocalExecutor
from grader.model import StudentResult
from grader.outputs import StudentFiles

STRICT_TEST = '''
import pytest


@pytest.mark.task("scaled")
@pytest.mark.points(1)
def test_stricter_than_the_reference(student):
    """scaled_sum of one is four"""
    assert student.scaled_sum([1.0]) == 4.0
'''

TEMPLATE = '''
def mse_grad(X, y, w):
    raise NotImplementedError


def scaled_sum(values):
    raise NotImplementedError
'''


class CountingExecutor(LocalExecutor):
    """Grades in this process, counting the canaries it runs."""

    def __init__(self, assignment, runs: list[str]) -> None:
        super().__init__(assignment)
        self.runs = runs

    def canary(self) -> tuple[StudentResult | None, StudentResult | None]:
        self.runs.append("canary")
        return super().canary()


def canaries_run(folder: Path, submissions: Path, out: Path) -> int:
    """Grade the class into `out`; how many canaries ran."""
    runs: list[str] = []
    assignment = load_assignment(folder)
    grade_batch(assignment, submissions, out, 1, StudentFiles(), progress=False,
                executor=CountingExecutor(assignment, runs))
    return len(runs)


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ("alice/result.json", "alice/feedback.html", "gradebook.csv")}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("MLGRADER_CACHE_DIR", str(folder))
    return folder


def test_a_remembered_pass_spares_a_new_output_folder_the_canary_and_changes_no_result(tmp_path, cache, monkeypatch):
    folder = demo_copy(tmp_path)
    submissions = a_class(tmp_path, {"alice": GOOD})
    assert canaries_run(folder, submissions, tmp_path / "first") == 1
    assert canaries_run(folder, submissions, tmp_path / "second") == 0
    # the reference's values came with the verdict: the new folder starts with them, as a rerun would
    assert [p.name for p in (tmp_path / "second" / ".cache").glob("*/expected.npz")] == ["expected.npz"]
    monkeypatch.setenv("MLGRADER_CACHE_DIR", "")  # no user cache: the canary runs
    assert canaries_run(folder, submissions, tmp_path / "uncached") == 1
    assert outputs(tmp_path / "first") == outputs(tmp_path / "second") == outputs(tmp_path / "uncached")
    assert b'"score": 32' in outputs(tmp_path / "second")["alice/result.json"]


@pytest.mark.parametrize("change", ["reference", "test", "template", "data"])
def test_a_changed_assignment_reference_or_template_runs_the_canary_again(tmp_path, cache, change):
    folder = demo_copy(tmp_path, extra_reference="\n")  # a reference of its own, outside the folder
    template = tmp_path / "student_template" / "demo"
    template.mkdir(parents=True)
    (template / "demo.py").write_text(TEMPLATE)
    submissions = a_class(tmp_path, {"alice": GOOD})
    assert canaries_run(folder, submissions, tmp_path / "first") == 1
    assert canaries_run(folder, submissions, tmp_path / "same") == 0
    edited = {"reference": tmp_path / "reference" / "demo.py", "test": folder / "tests" / "public" / "test_grad.py",
              "template": template / "demo.py", "data": folder / "data.py"}[change]
    edited.write_text(edited.read_text() + "\n# changed\n")
    assert canaries_run(folder, submissions, tmp_path / "changed") == 1
    assert canaries_run(folder, submissions, tmp_path / "changed-again") == 0


def test_the_key_names_the_environment_the_grader_and_the_template(tmp_path):
    bwrap = GradingEnvironment("bwrap", "3.11.7", "2.4.0")
    template = tmp_path / "template.py"
    template.write_text(TEMPLATE)
    key = canary_key("assignment", template, (bwrap,))
    assert key == canary_key("assignment", template, (bwrap,))
    assert key != canary_key("assignment", template, (GradingEnvironment("bwrap", "3.11.7", "1.26.4"),))
    assert key != canary_key("assignment", template, (GradingEnvironment("none", "3.11.7", "2.4.0"),))
    assert key != canary_key("another assignment", template, (bwrap,))
    assert key != canary_key("assignment", None, (bwrap,))
    template.write_text(TEMPLATE + "\n")
    assert key != canary_key("assignment", template, (bwrap,))


def test_a_failed_canary_is_never_remembered_and_grades_nobody(tmp_path, cache):
    folder = demo_copy(tmp_path, STRICT_TEST)
    submissions = a_class(tmp_path, {"alice": GOOD})
    for attempt in ("first", "second"):
        runs: list[str] = []
        assignment = load_assignment(folder)
        with pytest.raises(ConfigError, match="test_stricter_than_the_reference"):
            grade_batch(assignment, submissions, tmp_path / "out", 1, StudentFiles(), progress=False,
                        executor=CountingExecutor(assignment, runs))
        assert runs == ["canary"], attempt
        assert not (tmp_path / "out" / "alice").exists() and not (tmp_path / "out" / ".canary").exists()
    assert not (cache / "canary").exists() or not any((cache / "canary").rglob("passed"))


def test_the_values_of_an_earlier_reference_are_never_used_again(tmp_path, cache):
    """The reference changed: its values are computed anew, even in the same output folder (they were not, once)."""
    folder = demo_copy(tmp_path, extra_reference="\n")
    submissions = a_class(tmp_path, {"alice": GOOD})
    out = tmp_path / "out"
    assert canaries_run(folder, submissions, out) == 1
    old = sorted((out / ".cache").iterdir())
    reference = tmp_path / "reference" / "demo.py"
    doubled = "2 * self.lam * np.eye"
    reference.write_text(reference.read_text().replace("self.lam * np.eye", doubled))
    (submissions / "alice.py").write_text(GOOD.replace("self.lam * np.eye", doubled))
    assert canaries_run(folder, submissions, out) == 1
    assert b'"score": 32' in (out / "alice" / "result.json").read_bytes()
    new = sorted((out / ".cache").iterdir())
    assert len(old) == len(new) == 1 and old != new  # only the current key's values are kept


def test_the_user_cache_folder_is_chosen_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MLGRADER_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("MLGRADER_CACHE_DIR", "")
    assert user_cache_dir() is None
    monkeypatch.delenv("MLGRADER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "mlgrader"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "mlgrader"


def test_without_a_user_cache_nothing_is_written_outside_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MLGRADER_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = demo_copy(tmp_path)
    submissions = a_class(tmp_path, {"alice": GOOD})
    assert canaries_run(folder, submissions, tmp_path / "out") == 1
    assert canaries_run(folder, submissions, tmp_path / "out2") == 1
    assert not (tmp_path / "xdg").exists()
