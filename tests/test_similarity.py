"""Similar code across students: copies found (byte for byte, renamed, nearly), independent work not flagged.

The pairwise method (`find_similar`) is the definition; the hashed one the batch runs (`similar_code`)
must find exactly its pairs, group copies into clusters, reload only changed students, and keep the
summary small however many students copied.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO

from grader.assignment import Assignment, load_assignment
from grader.model import LoadedSubmission
from grader.report.files import write_atomic
from grader.report.html import summary_html
from grader.similarity import (
    MIN_NODES,
    NEAR_RATIO,
    Cluster,
    NearMatch,
    SignatureMaker,
    SimilarityReport,
    SimilarPair,
    find_similar,
    pairs_for_summary,
    similar_code,
)
from grader.similarity.normalise import near_ratio
from grader.similarity.report import SHOWN
from grader.similarity.signatures import SignatureStore, context_key, shingles
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
    assert set(row) == {"type", "task", "tasks", "students", "more_students", "kind", "score", "nodes", "code", "lines"}
    assert row["students"] == [[pairs[0].student_a], [pairs[0].student_b]]
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


# ---------------------------------------------------------------- the hashed method, at scale


def _benchmark_module() -> ModuleType:
    """The synthetic class generator of benchmarks/similarity_scale.py (one generator for tests and figures)."""
    spec = importlib.util.spec_from_file_location("similarity_scale", REPO / "benchmarks" / "similarity_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCALE = _benchmark_module()


class CountingLoader:
    """`load`, counting whose submission was loaded (injected, nothing patched)."""

    def __init__(self) -> None:
        self.students: list[str] = []

    def __call__(self, student: str, path: Path) -> LoadedSubmission:
        self.students.append(student)
        return load(student, path)


def _fingerprints(entries: list[tuple[str, Path]]) -> dict[str, str]:
    return {s: hashlib.sha256(p.read_bytes()).hexdigest() for s, p in entries}


def _oracle(assignment: Assignment, entries: list[tuple[str, Path]]) -> list[tuple[str, str, str, str, float]]:
    template = load("template", assignment.template) if assignment.template is not None else None
    pairs = find_similar(assignment, [(s, load(s, p)) for s, p in entries], template)
    return [(p.task, p.student_a, p.student_b, p.kind, round(p.score, 9)) for p in pairs]


def _hashed(report: SimilarityReport) -> list[tuple[str, str, str, str, float]]:
    return [(t, a, b, k, round(score, 9)) for t, a, b, k, score in report.pairs()]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    return load_assignment(SCALE.write_assignment(tmp_path_factory.mktemp("a") / "similarity_scale"))


@pytest.fixture(scope="module")
def generated(synthetic: Assignment, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """60 hand-ins: own solutions, byte copies, renamed copies, near copies, and two with tiny code."""
    folder = tmp_path_factory.mktemp("generated")
    planted = SCALE.write_class(folder, 58, seed=7)
    short = "import numpy as np\n\ndef fit(X, y):\n    return np.linalg.lstsq(X, y, rcond=None)[0]\n"
    for student in ("tiny_a", "tiny_b"):  # the same obvious line: below the node floor, never flagged
        (folder / f"{student}.py").write_text(short)
    return folder, planted


@pytest.fixture(scope="module")
def first_run(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[SimilarityReport, Path, CountingLoader]:
    entries, _ = discover(generated[0])
    loader = CountingLoader()
    out = tmp_path_factory.mktemp("out")
    return similar_code(synthetic, entries, _fingerprints(entries), out, write_atomic, loader), out, loader


def test_hashed_method_finds_the_same_pairs_as_pairwise(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], first_run: tuple[SimilarityReport, Path, Any]
) -> None:
    entries, _ = discover(generated[0])
    expected = _oracle(synthetic, entries)
    assert _hashed(first_run[0]) == expected
    kinds = {kind for _, _, _, kind, _ in expected}
    assert kinds == {"identical", "renamed", "similar"}  # the class really holds all three
    flagged = {s for _, a, b, _, _ in expected for s in (a, b)}
    planted = generated[1]
    assert set(planted["copy"]) | set(planted["renamed"]) | set(planted["near"]) <= flagged
    assert not {"tiny_a", "tiny_b"} & flagged
    assert len(set(planted["own"]) - flagged) >= 15  # independent work is not flagged


def test_hashed_method_matches_pairwise_on_the_example_class(
    assignment: Assignment, small_class: Path, pairs: tuple[SimilarPair, ...], tmp_path: Path
) -> None:
    """Folders of modules, the real template left out, a renamed and reordered copy."""
    entries, _ = discover(small_class)
    report = similar_code(assignment, entries, _fingerprints_of_folders(entries), tmp_path, write_atomic)
    assert _hashed(report) == [(p.task, p.student_a, p.student_b, p.kind, round(p.score, 9)) for p in pairs]
    assert {s for c in report.clusters for s in c.students} == {"ada", "ada_copy", "ada_renamed"}
    # 4b, 4c and 4e need the same functions: the same students with the same code, drawn once
    rows = [r for r in report.summary_rows() if r["type"] == "cluster"]
    merged = next(r for r in rows if "4b" in r["tasks"])
    assert {"4b", "4c", "4e"} <= set(merged["tasks"])
    assert len(rows) < len(report.clusters) == len(assignment.tasks)
    html = summary_html(assignment.title, [t.id for t in assignment.tasks], [], [], similar=report.summary_rows())
    assert "tasks " + ", ".join(merged["tasks"]) in html


def _fingerprints_of_folders(entries: list[tuple[str, Path]]) -> dict[str, str]:
    return {s: hashlib.sha256(b"".join(f.read_bytes() for f in sorted(p.rglob("*.py")))).hexdigest() for s, p in entries}


def test_clusters_group_identical_copies_and_tell_how_they_were_written(
    synthetic: Assignment, tmp_path: Path
) -> None:
    source, names = SCALE.own_solution(random.Random(1))
    for student in ("c1", "c2", "c3"):
        (tmp_path / "class" / f"{student}.py").parent.mkdir(exist_ok=True)
        (tmp_path / "class" / f"{student}.py").write_text(source)
    (tmp_path / "class" / "r1.py").write_text(SCALE.renamed_copy(source, names, random.Random(2)))
    (tmp_path / "class" / "own.py").write_text(SCALE.own_solution(random.Random(3))[0])
    entries, _ = discover(tmp_path / "class")
    report = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic)
    assert len(report.clusters) == len(synthetic.tasks)  # one entry per task, not one per pair
    for cluster in report.clusters:
        assert cluster.students == ("c1", "c2", "c3", "r1")
        assert cluster.writings == (("c1", "c2", "c3"), ("r1",))
        assert cluster.kind == "renamed"
    assert report.near == ()
    rows = report.summary_rows()
    assert [r["type"] for r in rows] == ["cluster"] * len(synthetic.tasks)
    assert all(r["shown"] == "c1" and "def " in r["code"] and r["size"] == 4 for r in rows)
    saved = json.loads((tmp_path / "out" / "similarity.json").read_text())
    assert [c["students"] for c in saved["clusters"]] == [["c1", "c2", "c3", "r1"]] * len(synthetic.tasks)


def test_identical_single_file_copies_are_identical_not_renamed(synthetic: Assignment, tmp_path: Path) -> None:
    """Two byte-identical `STUDENT.py` files differ only in their file names, which are not code."""
    source = SCALE.own_solution(random.Random(5))[0]
    (tmp_path / "anna.py").write_text(source)
    (tmp_path / "bert.py").write_text(source)
    entries, _ = discover(tmp_path)
    assert {kind for _, _, _, kind, _ in _oracle(synthetic, entries)} == {"identical"}


def test_a_rerun_loads_only_the_changed_student(
    synthetic: Assignment,
    generated: tuple[Path, dict[str, list[str]]],
    first_run: tuple[SimilarityReport, Path, CountingLoader],
    tmp_path: Path,
) -> None:
    report, out, loader = first_run
    folder = tmp_path / "class"
    shutil.copytree(generated[0], folder)
    shutil.copytree(out, tmp_path / "out")
    entries, _ = discover(folder)
    assert sorted(loader.students) == sorted(s for s, _ in entries)  # the first run loaded everyone once

    unchanged = CountingLoader()
    again = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic, unchanged)
    assert unchanged.students == [] and again.loaded == ()
    assert again.pairs() == report.pairs()

    copied = generated[1]["copy"][0]
    (folder / f"{copied}.py").write_text(SCALE.own_solution(random.Random(99))[0])  # now their own work
    changed = CountingLoader()
    after = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic, changed)
    assert changed.students == [copied] and after.loaded == (copied,)
    assert _hashed(after) == _oracle(synthetic, entries)
    assert copied not in {s for _, a, b, _, _ in _hashed(after) for s in (a, b)}


def test_a_student_who_left_the_class_leaves_no_signature(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    entries, _ = discover(generated[0])
    kept = entries[:3]
    similar_code(synthetic, kept, _fingerprints(kept), tmp_path, write_atomic)
    similar_code(synthetic, kept[:2], _fingerprints(kept[:2]), tmp_path, write_atomic)
    stored = sorted(p.stem for p in (tmp_path / ".similarity" / "signatures").iterdir())
    assert stored == [s for s, _ in kept[:2]]


def test_summary_of_a_class_of_copies_stays_small(synthetic: Assignment, tmp_path: Path) -> None:
    """80 copies: one entry per task with the code once, where the pairwise rows drew 3,160 pairs a task."""
    source = SCALE.own_solution(random.Random(11))[0]
    for i in range(80):
        (tmp_path / "class" / f"s{i:02d}.py").parent.mkdir(exist_ok=True)
        (tmp_path / "class" / f"s{i:02d}.py").write_text(source)
    entries, _ = discover(tmp_path / "class")
    report = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic)
    task_ids = [t.id for t in synthetic.tasks]
    html = summary_html(synthetic.title, task_ids, [], [], similar=report.summary_rows())
    code = report.code[("s00", task_ids[0])]
    pairwise = [SimilarPair(t, a, b, "identical", 1.0, 100, code, code) for t, a, b, _, _ in report.pairs()]
    old_html = summary_html(synthetic.title, task_ids, [], [], similar=pairs_for_summary(pairwise))
    assert len(report.pairs()) == len(task_ids) * 80 * 79 // 2
    assert len(html) < 40_000 < len(old_html) / 10
    assert html.count("and 20 more") == len(task_ids)  # 60 names shown, the rest counted
    saved = json.loads((tmp_path / "out" / "similarity.json").read_text())
    assert [len(c["students"]) for c in saved["clusters"]] == [80] * len(task_ids)


def test_summary_shows_the_largest_entries_and_counts_the_rest() -> None:
    clusters = tuple(Cluster("t", 70, ((f"a{i:03d}", f"b{i:03d}"),)) for i in range(SHOWN + 7))
    near = tuple(NearMatch("t", 120, (f"x{i}",), (f"y{i}",), 0.96, 0.0) for i in range(3))
    report = SimilarityReport(("t",), clusters, near, ())
    rows = report.summary_rows()
    assert [r["type"] for r in rows] == ["cluster"] * SHOWN + ["near"] * 3 + ["more"]
    assert rows[-1] == {"type": "more", "clusters": 7, "near": 0, "file": "similarity.json"}
    html = summary_html("t", ["t"], [], [], similar=rows)
    assert "And 7 more groups" in html and 'href="similarity.json"' in html
    assert html.count("<details>") == SHOWN + 3


def test_near_matches_have_a_trigram_jaccard_of_at_least_0_6() -> None:
    """The bound the recall figures rest on: difflib ratio >= 0.95 implies a trigram-bag Jaccard >= 0.6."""
    rng = random.Random(0)
    vocabulary = [f"t{i}" for i in range(12)] + ["(", ")", "=", ".", ","]
    checked = 0
    lowest = 1.0
    for _ in range(600):
        a = [rng.choice(vocabulary) for _ in range(rng.randint(100, 300))]
        b = list(a)
        for _ in range(rng.randint(1, 12)):  # scattered one-token edits: the worst case for trigrams
            i = rng.randrange(len(b))
            b[i : i + rng.randint(0, 1)] = [rng.choice(vocabulary) for _ in range(rng.randint(0, 1))]
        if near_ratio(tuple(a), tuple(b)) < NEAR_RATIO:
            continue
        sa, sb = set(shingles(a)), set(shingles(b))
        lowest = min(lowest, len(sa & sb) / len(sa | sb))
        checked += 1
    assert checked > 200
    assert 0.6 <= lowest < 0.75  # the bound holds, and the test reaches near it



def test_a_rerun_reuses_the_near_match_ratios(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], first_run: tuple[SimilarityReport, Path, Any],
    tmp_path: Path,
) -> None:
    """The ratios stored by a run are what the next one uses: zeroed in the file, the near matches vanish."""
    report, out, _ = first_run
    assert report.near  # the generated class has near copies
    shutil.copytree(out, tmp_path / "out")
    ratios = tmp_path / "out" / ".similarity" / "ratios.json"
    stored = json.loads(ratios.read_text())
    assert len(stored["ratios"]) >= len(report.near)
    ratios.write_text(json.dumps({"format": stored["format"], "ratios": dict.fromkeys(stored["ratios"], 0.0)}))
    (tmp_path / "out" / ".similarity" / "report.json").unlink()  # else the unchanged class's report is read back
    entries, _ = discover(generated[0])
    zeroed = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic)
    assert zeroed.near == () and zeroed.clusters == report.clusters and zeroed.loaded == ()
    ratios.unlink()
    (tmp_path / "out" / ".similarity" / "report.json").unlink()
    recomputed = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic)
    assert recomputed.near == report.near
    assert json.loads(ratios.read_text()) == stored


def test_an_unchanged_class_reads_its_report_back_without_hashing_anything(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], first_run: tuple[SimilarityReport, Path, Any],
    tmp_path: Path,
) -> None:
    """A rerun on the same class reads one file: no signature, no code, and datasketch (scipy) is not imported."""
    report, out, _ = first_run
    shutil.copytree(out, tmp_path / "out")
    shutil.rmtree(tmp_path / "out" / ".similarity" / "signatures")  # proof that the rerun does not read them
    (tmp_path / "out" / "similarity.json").unlink()
    script = """
import hashlib, json, sys
from pathlib import Path
from grader.assignment import load_assignment
from grader.report.files import write_atomic
from grader.similarity import similar_code
from grader.submission import discover
assignment = load_assignment(Path(sys.argv[1]))
entries, _ = discover(Path(sys.argv[2]))
fingerprints = {s: hashlib.sha256(p.read_bytes()).hexdigest() for s, p in entries}
report = similar_code(assignment, entries, fingerprints, Path(sys.argv[3]), write_atomic)
print(json.dumps({"loaded": list(report.loaded), "pairs": len(report.pairs()), "datasketch": "datasketch" in sys.modules}))
"""
    done = subprocess.run([sys.executable, "-c", script, str(synthetic.folder), str(generated[0]), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"loaded": [], "pairs": len(report.pairs()), "datasketch": False}
    assert json.loads((tmp_path / "out" / "similarity.json").read_text()) == report.as_json()
    # one student more: the class changed, so the report is made again (only the newcomer is loaded)
    shutil.copytree(generated[0], tmp_path / "class")
    (tmp_path / "class" / "newcomer.py").write_text(SCALE.own_solution(random.Random(123))[0])
    entries, _ = discover(tmp_path / "class")
    loader = CountingLoader()
    shutil.copytree(out / ".similarity" / "signatures", tmp_path / "out" / ".similarity" / "signatures")
    grown = similar_code(synthetic, entries, _fingerprints(entries), tmp_path / "out", write_atomic, loader)
    assert loader.students == ["newcomer"] and grown.pairs() == report.pairs()


def test_signatures_made_beside_grading_give_the_report_made_at_the_end(
    synthetic: Assignment, generated: tuple[Path, dict[str, list[str]]], first_run: tuple[SimilarityReport, Path, Any],
    tmp_path: Path,
) -> None:
    """The batch makes each graded hand-in's signature as its result arrives (`make_for`); the report then
    loads nobody again and is the one made from scratch at the end. A signature already stored is not remade."""
    report, _, _ = first_run
    entries, _ = discover(generated[0])
    fingerprints = _fingerprints(entries)
    loader = CountingLoader()
    maker = SignatureMaker(synthetic, SignatureStore(tmp_path / "out", write_atomic), context_key(synthetic), loader)
    for student, path in entries:
        maker.make_for(student, path, fingerprints[student])
    assert sorted(loader.students) == sorted(s for s, _ in entries)
    maker.make_for(entries[0][0], entries[0][1], fingerprints[entries[0][0]])
    assert len(loader.students) == len(entries)  # stored already: not loaded again
    at_the_end = CountingLoader()
    beside = similar_code(synthetic, entries, fingerprints, tmp_path / "out", write_atomic, at_the_end)
    assert at_the_end.students == [] and beside.loaded == ()
    assert beside.as_json() == report.as_json()
    assert json.loads((tmp_path / "out" / "similarity.json").read_text()) == report.as_json()
