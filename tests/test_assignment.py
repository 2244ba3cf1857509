"""assignment.toml validation: unknown keys and inconsistent points are refused, naming the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.errors import ConfigError

DEMO = Path(__file__).resolve().parent / "fixtures" / "assignments" / "demo"


def test_the_demo_assignment_loads_with_all_its_parts():
    assignment = load_assignment(DEMO)
    assert assignment.id == "demo"
    assert [t.id for t in assignment.tasks] == ["grad", "model", "scaled"]
    assert assignment.needs == ("mse_grad", "Ridge", "fit", "scaled_sum")
    assert assignment.limits.call_timeout == 3.0
    assert assignment.settings["l2_convention"] == "lambda"
    assert dict(assignment.inject) == {"SCALE": "scale"}
    assert assignment.reference is not None and assignment.reference.name == "demo.py"
    assert assignment.total_points == 32
    assert [q.id for q in assignment.questions] == ["q1"]


def edited(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    toml = folder / "assignment.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("title = \"Demo", "titel = \"x\"\ntitle = \"Demo", "titel"),
        ("call_timeout = 3.0", "call_timeout = 3.0\nwall = 2", "sandbox.wall"),
        ("points = 10\nneeds = [\"mse_grad\"]", "points = 10\nneed = [\"mse_grad\"]", "tasks[0].need"),
        ("total_points = 32", "total_points = 40", "total_points"),
        ("schema_version = 1", "schema_version = 7", "schema_version"),
        ("points = 10\nneeds = [\"mse_grad\"]", "points = \"ten\"\nneeds = [\"mse_grad\"]", "tasks[0].points"),
        ("id = \"demo\"", "id = \"other\"", "id"),
    ],
)
def test_mistakes_are_refused_with_the_key_named(tmp_path, old, new, named):
    folder = edited(tmp_path, old, new)
    with pytest.raises(ConfigError) as error:
        load_assignment(folder)
    assert named in error.value.message
    assert "assignment.toml" in error.value.message


def test_a_missing_file_and_broken_toml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_assignment(tmp_path)
    (tmp_path / "assignment.toml").write_text("id = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_assignment(tmp_path)
