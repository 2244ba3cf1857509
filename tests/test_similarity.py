"""Similar code across students: copies found (byte for byte and renamed), independent work not flagged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO

from grader.assignment import Assignment, load_assignment
from grader.similarity import MIN_NODES, SimilarPair, find_similar, pairs_for_summary
from grader.submission import discover, load

EXAMPLES = REPO / "examples" / "submissions"

# Ada's task2a.py and utils.py with every local name changed, comments, docstrings and layout
# changed, and two functions swapped: what a student who copies and "disguises" hands in.
RENAMES_TASK2A = [
    ("scaled = X.astype(np.float64) / 127.5 - 1.0", "pixels   =   X.astype( np.float64 )/127.5 - 1.0  # rescale"),
    ("bias = np.ones((X.shape[0], 1))", "ones_column = np.ones((X.shape[0], 1))"),
    ("np.concatenate([scaled, bias], axis=1)", "np.concatenate([pixels, ones_column], axis=1)"),
    ("per_sample = -(targets", "per_example = -(targets"),
    ("float(np.mean(per_sample))", "float(np.mean(per_example))"),
    ('"""Probability of label 1 for each sample: X [N, 785] -> [N, 1]."""', "# my own forward pass"),
    ("def forward(self, X: np.ndarray) -> np.ndarray:", "def forward(self, inputs):"),
    ("return 1.0 / (1.0 + np.exp(-(X @ self.w)))", "return 1.0 / (1.0 + np.exp(-(inputs @ self.w)))"),
]
RENAMES_UTILS = [
    ("indices = np.arange(num_samples)", "order = np.arange(num_samples)"),
    ("indices = np.random.permutation(num_samples)", "order = np.random.permutation(num_samples)"),
    ("batch = indices[i * batch_size : (i + 1) * batch_size]", "chosen = order[i*batch_size:(i+1)*batch_size]"),
    ("yield X[batch], Y[batch]", "yield X[chosen], Y[chosen]"),
    ("num_batches", "how_many"),
]


def _replace(text: str, renames: list[tuple[str, str]]) -> str:
    for old, new in renames:
        assert old in text, old
        text = text.replace(old, new)
    return text


def _swap_functions(source: str, first: str, second: str) -> str:
    """Put `def second` before `def first` (both top level, `first` directly followed by `second`)."""
    start = source.index(f"def {first}(")
    middle = source.index(f"def {second}(")
    end = source.index("\nclass ", middle)
    return source[:start] + source[middle:end].rstrip() + "\n\n\n" + source[start:middle].rstrip() + "\n" + source[end:]


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_assignment(REPO / "assignments" / "logistic_softmax")


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ada, a byte-identical copy, a renamed and reordered copy, grace (independent) and margaret (the template)."""
    folder = tmp_path_factory.mktemp("class")
    for student in ("ada", "grace", "margaret"):
        shutil.copytree(EXAMPLES / student, folder / student)
    shutil.copytree(EXAMPLES / "ada", folder / "ada_copy")
    renamed = folder / "ada_renamed"
    shutil.copytree(EXAMPLES / "ada", renamed)
    task2a = _replace((renamed / "task2a.py").read_text(), RENAMES_TASK2A)
    task2a = _swap_functions(task2a, "pre_process_images", "cross_entropy_loss")
    (renamed / "task2a.py").write_text("# Task 2a, written by me\n" + task2a)
    (renamed / "utils.py").write_text(_replace((renamed / "utils.py").read_text(), RENAMES_UTILS))
    return folder


@pytest.fixture(scope="module")
def pairs(assignment: Assignment, small_class: Path) -> tuple[SimilarPair, ...]:
    entries, _ = discover(small_class)
    submissions = [(student, load(student, path)) for student, path in entries]
    assert assignment.template is not None
    return find_similar(assignment, submissions, load("template", assignment.template))


def _tasks_of(pairs: tuple[SimilarPair, ...], a: str, b: str) -> dict[str, str]:
    return {p.task: p.kind for p in pairs if {p.student_a, p.student_b} == {a, b}}


def test_the_renamed_copy_really_differs_from_ada(small_class: Path) -> None:
    original = (small_class / "ada" / "task2a.py").read_text()
    renamed = (small_class / "ada_renamed" / "task2a.py").read_text()
    assert original != renamed
    assert renamed.index("def cross_entropy_loss") < renamed.index("def pre_process_images")


def test_byte_identical_copy_is_found_for_every_task(assignment: Assignment, pairs: tuple[SimilarPair, ...]) -> None:
    found = _tasks_of(pairs, "ada", "ada_copy")
    assert found == {t.id: "identical" for t in assignment.tasks}


def test_renamed_and_reordered_copy_is_found(assignment: Assignment, pairs: tuple[SimilarPair, ...]) -> None:
    found = _tasks_of(pairs, "ada", "ada_renamed")
    assert set(found) == {t.id for t in assignment.tasks}
    # the tasks whose code lives in the edited files are equal only after normalisation
    for task in ("1a", "2a", "2e"):
        assert found[task] == "renamed", task
    assert found["1b"] == "identical"  # task3a.py was left alone


def test_independent_solution_and_template_are_not_flagged(pairs: tuple[SimilarPair, ...]) -> None:
    flagged = {s for p in pairs for s in (p.student_a, p.student_b)}
    assert "grace" not in flagged
    assert "margaret" not in flagged
    assert flagged == {"ada", "ada_copy", "ada_renamed"}


def test_pairs_carry_the_code_as_written_and_come_in_a_fixed_order(
    assignment: Assignment, pairs: tuple[SimilarPair, ...]
) -> None:
    pair = next(p for p in pairs if p.task == "2a" and {p.student_a, p.student_b} == {"ada", "ada_renamed"})
    assert (pair.student_a, pair.student_b) == ("ada", "ada_renamed")
    assert "per_sample" in pair.code_a and "per_example" in pair.code_b
    assert "# task2a.py" in pair.code_a
    assert pair.score == 1.0 and pair.nodes >= MIN_NODES
    order = [t.id for t in assignment.tasks]
    keys = [(order.index(p.task), p.student_a, p.student_b) for p in pairs]
    assert keys == sorted(keys)


def test_pairs_for_summary_is_plain_data(pairs: tuple[SimilarPair, ...]) -> None:
    rows = pairs_for_summary(pairs)
    assert len(rows) == len(pairs)
    row = rows[0]
    assert set(row) == {"task", "students", "kind", "score", "nodes", "code", "lines"}
    assert row["students"] == [pairs[0].student_a, pairs[0].student_b]
    assert all(isinstance(left, str) and isinstance(right, str) for left, right in row["lines"])


ONE_HOT_A = """
import numpy as np

def one_hot_encode(Y, num_classes):
    encoded = np.zeros((Y.shape[0], num_classes))
    encoded[np.arange(Y.shape[0]), Y[:, 0]] = 1
    return encoded
"""

ONE_HOT_B = """
import numpy as np


def one_hot_encode(labels: np.ndarray, k: int) -> np.ndarray:
    # one row per label, a 1 in the label's column
    result = np.zeros((labels.shape[0], k))
    result[np.arange(labels.shape[0]), labels[:, 0]] = 1
    return result
"""

ONE_HOT_C = """
import numpy as np

def one_hot_encode(Y, num_classes):
    return np.eye(num_classes)[Y.reshape(-1)]
"""


def test_short_independent_solutions_are_not_flagged(assignment: Assignment, tmp_path: Path) -> None:
    """Two students who write the obvious few lines the same way are not copying."""
    for student, source in (("anna", ONE_HOT_A), ("bert", ONE_HOT_B), ("carl", ONE_HOT_C)):
        (tmp_path / f"{student}.py").write_text(source)
    entries, _ = discover(tmp_path)
    submissions = [(s, load(s, p)) for s, p in entries]
    assert find_similar(assignment, submissions, None) == ()


def test_long_copy_in_single_files_is_found_without_a_template(assignment: Assignment, tmp_path: Path) -> None:
    """The same long function under other names, in two single-file hand-ins."""
    source = (EXAMPLES / "ada" / "utils.py").read_text()
    (tmp_path / "anna.py").write_text(source)
    (tmp_path / "bert.py").write_text(_replace(source, RENAMES_UTILS))
    entries, _ = discover(tmp_path)
    pairs = find_similar(assignment, [(s, load(s, p)) for s, p in entries], None)
    assert _tasks_of(pairs, "anna", "bert")["2e"] == "renamed"
