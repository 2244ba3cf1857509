"""This grader beside nbgrader (and otter-grader) on the same synthetic class.

    python benchmarks/compare_graders.py [--students N] [--skip-nbgrader] [--skip-otter] [--keep]
                                         [--repeat R] [--bench-venv DIR] [--otter-venv DIR]

One small homework (logistic regression: sigmoid, gradient, 20,000 gradient-descent steps with numpy on
400 x 8 data; about 0.1-0.2 s of the student's own compute per submission), N notebooks written
with nbformat, mostly correct and some with the bugs students make (gradient not divided by N, a
flipped update, a flipped sigmoid, an untouched template). Then:

- ours: a temporary assignment folder and the real CLI, `grade SUBMISSIONS -a PATH -o OUT -j J -q`, for
  -j 1 and -j <cores>;
- nbgrader: a course folder with `source/ps1/ps1.ipynb` (answer cells with BEGIN/END SOLUTION, autograder
  test cells with BEGIN/END HIDDEN TESTS), `nbgrader generate_assignment ps1`, the class copied to
  `submitted/STUDENT/ps1/ps1.ipynb`, and `nbgrader autograde ps1` timed (one fresh kernel per notebook);
- otter-grader: `otter run` per submission (`otter grade` needs Docker; see README.md).

nbgrader and otter live in venvs of their own (default /tmp/bench-venv and /tmp/bench-venv-otter, created
with `pip install nbgrader ipykernel numpy` and `pip install otter-grader ipykernel numpy` when missing).
Whatever fails there is reported and the figures for ours still print.

Prints seconds per submission per tool and setting, the submissions' own compute (their code and the
tests run once in this process), the overhead beyond it, the ratios, the peak RSS of the largest process
of each run, and whether the tools agree on every student's score. With --repeat R, each tool's best of R
runs (the machine may be shared).

With --class-shape issue, ours also grades a class of one and the correct and buggy hand-ins alone (best of
--repeat-small runs), then four times over, at -j 1 and -j <cores>: wall(N) = fixed + N x marginal gives the
marginal wall per hand-in (everything included: grading, its files, its similarity signature), the fixed cost
of a run, and the -j speed-up both on class walls and on grading throughput (the fixed cost taken out; also
from wall(4N) - wall(N) at each -j, which holds no fixed cost at all).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

N_ROWS, N_FEATURES, LEARNING_RATE, STEPS = 400, 8, 0.5, 20000
GRADE = Path(sys.executable).with_name("grade")

# --- the homework -------------------------------------------------------------------------------

SETUP = f"""\
import numpy as np

rng = np.random.default_rng(0)
N, D = {N_ROWS}, {N_FEATURES}
X = rng.normal(size=(N, D))
w_true = rng.normal(size=D)
y = (X @ w_true + 0.5 * rng.normal(size=N) > 0).astype(float)
"""

FUNCTIONS = """\
def sigmoid(z):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-z))
    ### END SOLUTION


def loss(w, X, y):
    \"\"\"Mean binary cross-entropy of the logistic model with weights w.\"\"\"
    ### BEGIN SOLUTION
    p = sigmoid(X @ w)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    ### END SOLUTION


def gradient(w, X, y):
    \"\"\"Gradient of loss(w, X, y) with respect to w.\"\"\"
    ### BEGIN SOLUTION
    return X.T @ (sigmoid(X @ w) - y) / len(y)
    ### END SOLUTION
"""

TRAIN = f"""\
def train(X, y, lr={LEARNING_RATE}, steps={STEPS}):
    \"\"\"Gradient descent from w = 0; return the weights.\"\"\"
    ### BEGIN SOLUTION
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        w = w - lr * gradient(w, X, y)
    return w
    ### END SOLUTION
"""

TEST_GRADIENT_SHAPE = """\
w0 = np.linspace(-1, 1, D)
assert np.shape(gradient(w0, X, y)) == (D,), "gradient should return one entry per weight"
"""

# The instructor's own loss, so that a student's wrong loss does not excuse a wrong gradient.
TEST_GRADIENT_HIDDEN = """\
### BEGIN HIDDEN TESTS
def _loss(w):
    z = X @ w
    return np.mean(np.logaddexp(0, z) - y * z)

_w0 = np.linspace(-1, 1, D)
_eps = 1e-6
_numeric = np.array([(_loss(_w0 + _eps * e) - _loss(_w0 - _eps * e)) / (2 * _eps) for e in np.eye(D)])
assert np.allclose(gradient(_w0, X, y), _numeric, rtol=1e-4, atol=1e-7)
### END HIDDEN TESTS
"""

TEST_TRAIN_SHAPE = """\
assert np.shape(train(X, y, lr=0.5, steps=10)) == (D,), "train should return one weight per feature"
"""

TEST_TRAIN_HIDDEN = """\
### BEGIN HIDDEN TESTS
_w_fit = np.asarray(train(X, y, lr={lr}, steps={steps}), dtype=float)
assert np.allclose(_w_fit, np.array({expected}), rtol=1e-5, atol=1e-8)
### END HIDDEN TESTS
"""

# What students hand in, by kind of mistake: (line of the solution, what the student wrote instead).
GRADIENT_LINE = "return X.T @ (sigmoid(X @ w) - y) / len(y)"
VARIANTS: dict[str, list[tuple[str, str]] | None] = {
    "correct": [],
    "correct_dot": [(GRADIENT_LINE, "return np.dot(X.T, sigmoid(np.dot(X, w)) - y) / X.shape[0]")],
    "grad_not_averaged": [(GRADIENT_LINE, "return X.T @ (sigmoid(X @ w) - y)")],
    "update_flipped": [("w = w - lr * gradient(w, X, y)", "w = w + lr * gradient(w, X, y)")],
    "sigmoid_flipped": [("return 1 / (1 + np.exp(-z))", "return 1 / (1 + np.exp(z))")],
    "untouched": None,
}
ORDER = ["correct", "correct", "correct_dot", "correct", "grad_not_averaged", "correct", "update_flipped",
         "correct_dot", "sigmoid_flipped", "untouched"]

# The issue's class (issue 13): hand-ins that crash, hang and hog memory beside the correct and buggy ones.
GRADIENT_DEF = "def gradient(w, X, y):"
TRAIN_START = "w = np.zeros(X.shape[1])"
VARIANTS.update({
    # A shape mistake: X instead of X.T, so the matrix product raises.
    "crashing": [(GRADIENT_LINE, "return X @ (sigmoid(X @ w) - y) / len(y)")],
    # An infinite loop in gradient, which all four tests reach (train calls it).
    "hanging": [(GRADIENT_LINE, "while True:\n        pass")],
    # 40 GB in train (5e9 float64): the gradient tests pass, the train tests fail.
    "memory_hog": [(TRAIN_START, f"big = np.ones(5_000_000_000)\n    {TRAIN_START}")],
})
KIND = {"correct": "correct", "correct_dot": "correct", "grad_not_averaged": "buggy", "update_flipped": "buggy",
        "sigmoid_flipped": "buggy", "untouched": "buggy", "crashing": "crashing", "hanging": "hanging",
        "memory_hog": "memory hog"}
# What every tool must give (of 10): gradient shape 1 + hidden 3, train shape 1 + hidden 5.
EXPECTED_SCORE = {"correct": 10, "correct_dot": 10, "grad_not_averaged": 2, "update_flipped": 5,
                  "sigmoid_flipped": 2, "untouched": 0, "crashing": 0, "hanging": 0, "memory_hog": 4}
ISSUE_SHAPE = {"correct": 24, "buggy": 10, "crashing": 3, "hanging": 2, "memory hog": 1}

SOLUTION_BLOCK = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n", re.M | re.S)
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n.*?^[ \t]*### END HIDDEN TESTS\n?", re.M | re.S)


def strip_markers(source: str) -> str:
    """The instructor's solution: marker lines removed, hidden tests kept."""
    return "".join(line for line in source.splitlines(keepends=True) if "### BEGIN" not in line and "### END" not in line)


def release_source(source: str) -> str:
    """What nbgrader's generate_assignment does to a cell, for when nbgrader is not available."""
    source = SOLUTION_BLOCK.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()\n", source)
    return HIDDEN_BLOCK.sub("", source)


def expected_weights() -> list[float]:
    namespace: dict = {}
    exec(strip_markers(SETUP + FUNCTIONS + TRAIN), namespace)
    w = namespace["train"](namespace["X"], namespace["y"], LEARNING_RATE, STEPS)
    return [float(v) for v in w]


def nbgrader_meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
                  points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(expected: list[float]) -> nbformat.NotebookNode:
    """The instructor's notebook, nbgrader style."""
    v4 = nbformat.v4
    hidden_train = TEST_TRAIN_HIDDEN.format(lr=LEARNING_RATE, steps=STEPS, expected=repr(expected))
    cells = [
        v4.new_markdown_cell("# PS1: logistic regression by gradient descent\n\nFill in the functions below."),
        v4.new_code_cell(SETUP, metadata=nbgrader_meta("setup", locked=True)),
        v4.new_code_cell(FUNCTIONS, metadata=nbgrader_meta("functions", solution=True)),
        v4.new_code_cell(TEST_GRADIENT_SHAPE, metadata=nbgrader_meta("test_gradient_shape", grade=True, locked=True, points=1)),
        v4.new_code_cell(TEST_GRADIENT_HIDDEN, metadata=nbgrader_meta("test_gradient_hidden", grade=True, locked=True, points=3)),
        v4.new_code_cell(TRAIN, metadata=nbgrader_meta("train", solution=True)),
        v4.new_code_cell(TEST_TRAIN_SHAPE, metadata=nbgrader_meta("test_train_shape", grade=True, locked=True, points=1)),
        v4.new_code_cell(hidden_train, metadata=nbgrader_meta("test_train_hidden", grade=True, locked=True, points=5)),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def own_release(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    release = copy.deepcopy(source)
    for cell in release.cells:
        if cell.cell_type == "code":
            cell.source = release_source(cell.source)
    return release


def student_source(variant: str, cell_id: str) -> str | None:
    """The student's answer cell `cell_id`, or None to leave the template."""
    changes = VARIANTS[variant]
    if changes is None:
        return None
    answer = strip_markers(FUNCTIONS if cell_id == "functions" else TRAIN)
    for line, instead in changes:
        answer = answer.replace(line, instead)
    return answer


def student_notebook(release: nbformat.NotebookNode, variant: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answer = student_source(variant, meta["grade_id"])
            if answer is not None:
                cell.source = answer
    return nb


def students(count: int, shape: str = "cycle") -> list[tuple[str, str]]:
    """(student, variant) for the class: `cycle` repeats ORDER; `issue` is issue 13's class of 40 (24 correct,
    10 buggy, 3 crashing, 2 hanging, 1 memory hog) in a fixed shuffled order, a correct one first."""
    if shape == "cycle":
        return [(f"s{i:03d}", ORDER[i % len(ORDER)]) for i in range(count)]
    correct = ["correct", "correct_dot"] * 12
    buggy = ["grad_not_averaged", "update_flipped", "sigmoid_flipped"] * 3 + ["untouched"]
    rest = ["crashing"] * 3 + ["hanging"] * 2 + ["memory_hog"]
    variants = correct[1:] + buggy + rest
    random.Random(13).shuffle(variants)
    return [(f"s{i:03d}", v) for i, v in enumerate([correct[0], *variants])]


# --- this grader's assignment --------------------------------------------------------------------

def write_assignment(folder: Path, source: nbformat.NotebookNode, expected: list[float],
                     call_timeout: float = 20.0, test_timeout: float = 60.0) -> None:
    (folder / "tests" / "public").mkdir(parents=True)
    (folder / "tests" / "hidden").mkdir(parents=True)
    (folder / "assignment.toml").write_text(textwrap.dedent(f"""\
        schema_version = 1
        id = "ps1"
        title = "PS1: logistic regression by gradient descent"
        total_points = 10
        reference = "reference.ipynb"

        [sandbox]
        call_timeout = {call_timeout}
        test_timeout = {test_timeout}
        memory_mb = 1024

        [[tasks]]
        id = "gradient"
        title = "Gradient of the logistic loss"
        points = 4
        needs = ["gradient"]

        [[tasks]]
        id = "train"
        title = "Gradient descent"
        points = 6
        needs = ["train"]
        """))
    (folder / "data.py").write_text(
        '"""The data of PS1, the same arrays the notebook builds."""\n\n'
        "import numpy as np\n\n\ndef load(settings):\n"
        + textwrap.indent(SETUP.split("\n", 2)[2], "    ")
        + '    return {"X": X, "y": y}\n')
    (folder / "tests" / "public" / "test_ps1.py").write_text(textwrap.dedent(f"""\
        import numpy as np
        import pytest


        @pytest.mark.task("gradient")
        @pytest.mark.points(1)
        def test_gradient_shape(student, data):
            \"\"\"gradient returns one entry per weight\"\"\"
            X, y = data["X"], data["y"]
            g = student.gradient(np.linspace(-1, 1, X.shape[1]), X, y)
            assert np.shape(g) == (X.shape[1],), "gradient should return one entry per weight"


        @pytest.mark.task("train")
        @pytest.mark.points(1)
        def test_train_shape(student, data):
            \"\"\"train returns one weight per feature\"\"\"
            X, y = data["X"], data["y"]
            assert np.shape(student.train(X, y, lr={LEARNING_RATE}, steps=10)) == (X.shape[1],)
        """))
    (folder / "tests" / "hidden" / "test_ps1_hidden.py").write_text(textwrap.dedent(f"""\
        import numpy as np
        import pytest

        from grader.testing import assert_close, check_gradient

        EXPECTED = np.array({expected!r})


        @pytest.mark.task("gradient")
        @pytest.mark.points(3)
        def test_gradient_finite_differences(student, data):
            \"\"\"gradient matches finite differences of the loss\"\"\"
            X, y = data["X"], data["y"]
            w0 = np.linspace(-1, 1, X.shape[1])

            def loss(w):
                z = X @ w
                return float(np.mean(np.logaddexp(0, z) - y * z))

            check_gradient(loss, student.gradient(w0, X, y), w0, batch_size=len(y))


        @pytest.mark.task("train")
        @pytest.mark.points(5)
        def test_train_reaches_the_reference_weights(student, data):
            \"\"\"train reaches the reference's weights\"\"\"
            X, y = data["X"], data["y"]
            w = student.train(X, y, lr={LEARNING_RATE}, steps={STEPS})
            assert_close(w, EXPECTED, rtol=1e-5, atol=1e-8, name="the trained weights")
        """))
    reference = copy.deepcopy(source)
    for cell in reference.cells:
        if cell.cell_type == "code":
            cell.source = strip_markers(HIDDEN_BLOCK.sub("", cell.source))
    nbformat.write(reference, folder / "reference.ipynb")


# --- measuring -----------------------------------------------------------------------------------

@dataclass
class Run:
    label: str
    seconds: float | None = None
    peak_mb: float | None = None
    error: str | None = None
    per: float | None = None
    notes: list[str] = field(default_factory=list)
    all_seconds: list[float] = field(default_factory=list)
    # per student of the last run: seconds for the hand-in, and of them inside the student's calls (ours only)
    per_student: dict[str, float] = field(default_factory=dict)
    student_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, seconds: float, peak_mb: float) -> None:
        """One more timing: keep the best wall clock and the highest peak."""
        self.all_seconds.append(seconds)
        self.seconds = min(self.all_seconds)
        self.peak_mb = max(self.peak_mb or 0.0, peak_mb)


PEAK = (
    "import json, os, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "s = time.perf_counter() - t\n"
    "log = os.environ.get('BENCH_LOG')\n"
    "open(log, 'w').write(r.stderr) if log else None\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps({'rc': r.returncode, 'seconds': s, 'peak_mb': peak, 'out': r.stdout[-3000:], 'err': r.stderr[-3000:]}))\n"
)


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 3600,
          log: Path | None = None) -> dict:
    """Run `cmd` under a small parent that reports its wall clock and the largest descendant's peak RSS
    (and writes the command's whole stderr to `log`)."""
    env = dict(os.environ if env is None else env)
    if log is not None:
        env["BENCH_LOG"] = str(log)
    done = subprocess.run([sys.executable, "-c", PEAK, *cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        return {"rc": done.returncode, "seconds": 0.0, "peak_mb": 0.0, "out": done.stdout, "err": done.stderr}
    return json.loads(done.stdout.strip().splitlines()[-1])


def own_compute(notebooks: list[tuple[nbformat.NotebookNode, str]]) -> dict[str, float]:
    """Seconds to run each graded notebook's code (answers, then all tests with hidden ones) once in-process,
    best of three, by kind of hand-in ("correct", "buggy"; the crashing, hanging and memory-hog ones are not
    run here: a hang would never return). numpy is already imported here, so this is the homework's compute
    alone: no interpreter, kernel or import.

    Returns the median over correct hand-ins, the median over correct and buggy ones, and the mean over them.
    """
    correct, every = [], []
    for nb, kind in notebooks:
        if kind not in ("correct", "buggy"):
            continue
        elapsed = min(_run_cells(nb) for _ in range(3))
        every.append(elapsed)
        if kind == "correct":
            correct.append(elapsed)
    return {"correct_median": statistics.median(correct), "median": statistics.median(every),
            "mean": statistics.mean(every)}


def _run_cells(nb: nbformat.NotebookNode) -> float:
    namespace: dict = {"__name__": "__main__"}
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:  # noqa: BLE001 - a student's failing cell; nbgrader goes on too
                pass
    return time.perf_counter() - started


def graded_notebook(source: nbformat.NotebookNode, submitted: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The submission with the instructor's test cells (hidden tests included), as nbgrader runs it."""
    tests = {c.metadata["nbgrader"]["grade_id"]: strip_markers(c.source) for c in source.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    nb = copy.deepcopy(submitted)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in tests:
            cell.source = tests[grade_id]
    return nb


def run_ours(subs: Path, assignment: Path, work: Path, jobs: int, repeat: int,
             label: str | None = None) -> tuple[Run, dict[str, float]]:
    run = Run(label or f"ours -j {jobs}")
    for attempt in range(repeat):
        out = work / f"ours-j{jobs}-{attempt}"  # a fresh folder: the same one would resume and skip everyone
        out.parent.mkdir(parents=True, exist_ok=True)
        result = timed([str(GRADE), str(subs), "-a", str(assignment), "-o", str(out), "-j", str(jobs), "-q"])
        if result["rc"] != 0:
            run.error = f"grade exited {result['rc']}: {result['err'].strip()[-800:]}"
            return run, {}
        run.add(result["seconds"], result["peak_mb"])
    run.notes += [line for line in result["err"].splitlines() if line.startswith("note:")]
    with open(out / "gradebook.csv", newline="") as handle:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}
    for student in scores:  # the grader's own account of each hand-in (kept out of result.json)
        grading = out / student / ".grading.json"
        if grading.is_file():
            timing = json.loads(grading.read_text())
            run.per_student[student] = float(timing.get("seconds", 0.0))
            run.student_seconds[student] = float(timing.get("student_seconds", 0.0))
    return run, scores


def bench_env(venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def ensure_venv(venv: Path, packages: list[str], probe: str) -> str | None:
    """Create `venv` and pip install `packages` unless `probe` already runs; the error text otherwise."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return None
    print(f"installing {' '.join(packages)} into {venv} (PyPI) ...", flush=True)
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            return f"python -m venv {venv} failed: {made.stderr.strip()[-500:]}"
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True)
    if pip.returncode != 0:
        return f"pip install {' '.join(packages)} failed: {pip.stderr.strip()[-800:]}"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        return f"{probe!r} fails in {venv} after installing"
    return None


def run_nbgrader(venv: Path, source: nbformat.NotebookNode, work: Path, roster: list[tuple[str, str]],
                 subs_ours: Path, repeat: int, timeout: float = 120
                 ) -> tuple[Run, dict[str, float], nbformat.NotebookNode | None]:
    run = Run("nbgrader autograde")
    problem = ensure_venv(venv, ["nbgrader", "ipykernel", "numpy"], "import nbgrader, ipykernel, numpy")
    if problem:
        run.error = problem
        return run, {}, None
    env = bench_env(venv)
    nbgrader = str(venv / "bin" / "nbgrader")
    course = work / "nbgrader-course"
    (course / "source" / "ps1").mkdir(parents=True)
    # Each log line stamped with its time, so that the time of each student can be read from the log.
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.ExecutePreprocessor.timeout = {timeout:g}\n"
        f"c.Execute.timeout = {timeout:g}\n"
        "c.Application.log_format = '@%(created).3f [%(name)s|%(levelname)s] %(message)s'\n")
    nbformat.write(source, course / "source" / "ps1" / "ps1.ipynb")
    made = subprocess.run([nbgrader, "generate_assignment", "ps1", "--force"], cwd=course, env=env,
                          capture_output=True, text=True)
    if made.returncode != 0:
        run.error = f"nbgrader generate_assignment failed: {made.stderr.strip()[-800:]}"
        return run, {}, None
    release = nbformat.read(course / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for student, variant in roster:
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nb = student_notebook(release, variant)
        nbformat.write(nb, folder / "ps1.ipynb")
        nbformat.write(nb, subs_ours / f"{student}.ipynb")
    log = work / "nbgrader-autograde.log"
    for _ in range(repeat):
        started = time.time()
        result = timed([nbgrader, "autograde", "ps1", "--force"], cwd=course, env=env, log=log)
        if result["rc"] != 0:
            run.error = f"nbgrader autograde exited {result['rc']}: {result['err'].strip()[-800:]}"
            return run, {}, release
        run.add(result["seconds"], result["peak_mb"])
    run.per_student = per_student_from_log(log.read_text(), [s for s, _ in roster], started + result["seconds"])
    exported = subprocess.run([nbgrader, "export"], cwd=course, env=env, capture_output=True, text=True)
    scores: dict[str, float] = {}
    if exported.returncode == 0 and (course / "grades.csv").is_file():
        with open(course / "grades.csv", newline="") as handle:
            scores = {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(handle)}
    else:
        run.notes.append(f"nbgrader export failed: {exported.stderr.strip()[-300:]}")
    return run, scores, release


def per_student_from_log(text: str, roster: list[str], ended: float) -> dict[str, float]:
    """Seconds per student from nbgrader's time-stamped log: from the first line naming a student to the first
    line naming the next (the last student: to the end of the run). Includes nbgrader's own work per student
    (database, copying, kernel start and shutdown), which is what a student costs it."""
    first: dict[str, float] = {}
    pattern = re.compile(r"^@(\d+\.\d+) ")
    names = re.compile(r"\b(" + "|".join(map(re.escape, roster)) + r")\b")
    for line in text.splitlines():
        stamp = pattern.match(line)
        if not stamp:
            continue
        for name in names.findall(line):
            first.setdefault(name, float(stamp.group(1)))
    order = sorted(first, key=first.__getitem__)
    return {name: (first[order[i + 1]] if i + 1 < len(order) else ended) - first[name]
            for i, name in enumerate(order)}


def run_otter(venv: Path, work: Path, subs: Path, roster: list[tuple[str, str]]) -> tuple[Run, dict[str, float]]:
    """`otter run` per submission, against an autograder zip from `otter generate` (the same checks)."""
    run = Run("otter run")
    problem = ensure_venv(venv, ["otter-grader", "ipykernel", "numpy"], "import otter, ipykernel, numpy")
    if problem:
        run.error = problem
        return run, {}
    env = bench_env(venv)
    otter = str(venv / "bin" / "otter")
    home = work / "otter"
    tests = home / "tests"
    tests.mkdir(parents=True)
    expected = expected_weights()
    checks = {
        "gradient": [("gradient_shape", 1, TEST_GRADIENT_SHAPE), ("gradient_hidden", 3, TEST_GRADIENT_HIDDEN)],
        "train": [("train_shape", 1, TEST_TRAIN_SHAPE),
                  ("train_hidden", 5, TEST_TRAIN_HIDDEN.format(lr=LEARNING_RATE, steps=STEPS, expected=repr(expected)))],
    }
    for name, cases in checks.items():  # otter's exception-based test files: arguments come from the notebook
        text = f"import numpy as np\nfrom otter.test_files import test_case\n\nOK_FORMAT = False\nname = {name!r}\n"
        for case, points, code in cases:
            text += (f"\n\n@test_case(points={points}, hidden={'hidden' in case})\n"
                     f"def test_{case}(gradient, train, X, y, D):\n" + textwrap.indent(strip_markers(code), "    "))
        (tests / f"{name}.py").write_text(text)
    zipped = home / "autograder.zip"
    made = subprocess.run([otter, "generate", "-t", str(tests), "-o", str(zipped)], cwd=home, env=env,
                          capture_output=True, text=True)
    if made.returncode != 0 or not zipped.is_file():
        run.error = f"otter generate failed: {(made.stderr or made.stdout).strip()[-800:]}"
        return run, {}
    started = time.perf_counter()
    failures = []
    peak = 0.0
    scores: dict[str, float] = {}
    for student, _ in roster:
        out = home / "results" / student
        out.mkdir(parents=True)
        began = time.perf_counter()
        try:
            result = timed([otter, "run", "-a", str(zipped), "-o", str(out), str(subs / f"{student}.ipynb")],
                           cwd=home, env=env, timeout=600)
        except subprocess.TimeoutExpired:  # otter run has no per-test budget of its own: a hang would never end
            failures.append(f"{student}: no result after 600 s")
            continue
        finally:
            run.per_student[student] = time.perf_counter() - began
        peak = max(peak, result["peak_mb"])
        if result["rc"] != 0 or not (out / "results.json").is_file():
            failures.append(f"{student}: {result['err'].strip()[-300:]}")
            continue
        tests = json.loads((out / "results.json").read_text())["tests"]
        scores[student] = sum(float(t.get("score") or 0) for t in tests if "max_score" in t)
    run.seconds, run.peak_mb = time.perf_counter() - started, peak
    if failures:
        run.error = f"otter run failed on {len(failures)} submissions, e.g. {failures[0]}"
    return run, scores


# --- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40, help="class size for --class-shape cycle")
    parser.add_argument("--class-shape", choices=("cycle", "issue"), default="cycle",
                        help="cycle: ten hand-ins repeated (correct and buggy); issue: issue 13's 40 (24 correct, "
                             "10 buggy, 3 crashing, 2 hanging, 1 memory hog of 40 GB)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="one per-test/cell budget for every tool: nbgrader's ExecutePreprocessor.timeout and "
                             "our [sandbox] call_timeout and test_timeout (default: 30 for --class-shape issue; "
                             "else 120 for nbgrader, 20 and 60 for ours)")
    parser.add_argument("--test-timeout", type=float, default=None,
                        help="ours only: a [sandbox] test_timeout other than --timeout (call_timeout stays --timeout)")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--skip-otter", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="time each tool R times and keep the best")
    parser.add_argument("--repeat-small", type=int, default=3,
                        help="ours only: best of R runs for the class of one and the correct-and-buggy classes "
                             "(a few seconds each; the fixed cost and the -j speed-up are sensitive to noise)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (printed)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--bench-venv", type=Path, default=Path("/tmp/bench-venv"),
                        help="venv for nbgrader (created when missing)")
    parser.add_argument("--otter-venv", type=Path, default=Path("/tmp/bench-venv-otter"),
                        help="venv for otter-grader (created when missing; apart, its pins differ from nbgrader's)")
    args = parser.parse_args()
    if args.timeout is None and args.class_shape == "issue":
        args.timeout = 30.0
    if args.class_shape == "issue":
        args.students = sum(ISSUE_SHAPE.values())
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="compare-graders-"))
    print(f"{args.students} submissions ({args.class_shape} class), {cores} cores, {platform.platform()}, "
          f"Python {platform.python_version()}")
    print(f"work folder: {work}{' (kept)' if args.keep else ''}; load average {_load()}", flush=True)
    try:
        figures = _bench(args, cores, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _bench(args: argparse.Namespace, cores: int, work: Path) -> dict:
    expected = expected_weights()
    source = source_notebook(expected)
    roster = students(args.students, args.class_shape)
    subs = work / "submissions"
    subs.mkdir()
    assignment = work / "assignments" / "ps1"
    if args.timeout is None:
        write_assignment(assignment, source, expected)
    else:
        write_assignment(assignment, source, expected, call_timeout=args.timeout,
                         test_timeout=args.test_timeout or args.timeout)
    load_start = os.getloadavg()

    runs: list[Run] = []
    scores: dict[str, dict[str, float]] = {}
    release = None
    if not args.skip_nbgrader:
        print(f"nbgrader: generate_assignment, then autograde (cell timeout {args.timeout or 120:g} s) ...", flush=True)
        nb_run, scores["nbgrader autograde"], release = run_nbgrader(
            args.bench_venv, source, work, roster, subs, args.repeat, timeout=args.timeout or 120)
        runs.append(nb_run)
    if release is None:  # nbgrader skipped or broken: strip the solutions the same way ourselves
        release = own_release(source)
        for student, variant in roster:
            nbformat.write(student_notebook(release, variant), subs / f"{student}.ipynb")

    handed_in = [(graded_notebook(source, nbformat.read(subs / f"{s}.ipynb", as_version=4)), KIND[v])
                 for s, v in roster]
    compute = own_compute(handed_in)

    ours_runs = []
    for jobs in sorted({1, cores}):
        print(f"ours: grade -j {jobs} ...", flush=True)
        run, scores[f"ours -j {jobs}"] = run_ours(subs, assignment, work, jobs, args.repeat)
        ours_runs.append(run)
    runs = ours_runs + runs
    # The fixed cost of a batch (interpreter, pytest, tests, reference, data, first worker): a class of one.
    one = work / "one-student"
    one.mkdir()
    shutil.copy(subs / f"{roster[0][0]}.ipynb", one)
    (work / "one-student-out").mkdir()
    fixed, _ = run_ours(one, assignment, work / "one-student-out", 1, max(args.repeat, args.repeat_small),
                        label="ours -j 1, class of one")
    plain = [(s, v) for s, v in roster if KIND[v] in ("correct", "buggy")]
    if len(plain) < len(roster):  # the same without the crashing, hanging and hog: -j 2 / -j 1 on grading alone
        only = work / "correct-and-buggy"
        only.mkdir()
        for student, _ in plain:
            shutil.copy(subs / f"{student}.ipynb", only)
        for jobs in sorted({1, cores}):
            label = f"ours -j {jobs}, {len(plain)} correct+buggy"
            print(f"ours: grade -j {jobs} on the {len(plain)} correct and buggy only ...", flush=True)
            run, scores[label] = run_ours(only, assignment, work / f"plain-{jobs}", jobs,
                                          max(args.repeat, args.repeat_small), label=label)
            runs.append(run)
        # The same four times (136 hand-ins): the -j speed-up of a class where the fixed cost of a run weighs less
        times = 4
        big = work / "correct-and-buggy-x4"
        big.mkdir()
        for copy in range(times):
            for student, _ in plain:
                shutil.copy(subs / f"{student}.ipynb", big / f"{student}_{copy}.ipynb")
        for jobs in sorted({1, cores}):
            label = f"ours -j {jobs}, {times * len(plain)} correct+buggy"
            print(f"ours: grade -j {jobs} on the {len(plain)} correct and buggy, {times} times ...", flush=True)
            run, _ = run_ours(big, assignment, work / f"plain-x{times}-{jobs}", jobs, max(args.repeat, args.repeat_small),
                              label=label)
            runs.append(run)
    if not args.skip_otter:
        print("otter: otter run per submission ...", flush=True)
        otter_run, scores["otter run"] = run_otter(args.otter_venv, work, subs, roster)
        runs.append(otter_run)

    figures = report(roster, runs, fixed, compute, scores)
    figures["load_average_start"] = list(load_start)
    figures["load_average_end"] = list(os.getloadavg())
    figures["timeout"] = args.timeout
    figures["test_timeout"] = args.test_timeout or args.timeout
    figures["class_shape"] = args.class_shape
    print(f"load average at the start {' '.join(f'{v:.2f}' for v in load_start)}, at the end {_load()} "
          "(other work on the machine inflates every figure)")
    return figures


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(roster: list[tuple[str, str]], runs: list[Run], fixed: Run, compute: dict[str, float],
           scores: dict[str, dict[str, float]]) -> dict:
    """Print the table and the ratios; return the figures (for speed.py)."""
    count = len(roster)
    kinds = {student: KIND[variant] for student, variant in roster}
    graded = [s for s in kinds if kinds[s] in ("correct", "buggy")]  # the median is over these only
    counts = {k: sum(1 for v in kinds.values() if v == k) for k in dict.fromkeys(kinds.values())}
    print()
    print("class: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    print(f"own compute per hand-in (answers + all tests, in-process, numpy imported), correct and buggy: "
          f"median {compute['median']:.3f} s (correct only {compute['correct_median']:.3f} s, mean {compute['mean']:.3f} s)")
    print(f"{'tool':<30}{'class wall s':>13}{'median/hand-in':>16}{'x own':>7}{'in student calls':>18}"
          f"{'peak RSS MB':>13}{'verdicts':>10}")
    figures: dict = {"students": count, "kinds": counts, "own_compute": compute, "tools": {}}
    for run in [*runs, fixed]:
        if run.error or run.seconds is None:
            print(f"{run.label:<30}  failed: {run.error}")
            figures["tools"][run.label] = {"error": run.error}
            continue
        theirs = scores.get(run.label, {})
        of_class = run is not fixed
        checked = [(s, v) for s, v in roster if s in theirs or "correct+buggy" not in run.label]
        exact = [s for s, v in checked if s in theirs and abs(theirs[s] - EXPECTED_SCORE[v]) < 1e-6]
        median = _median([run.per_student[s] for s in graded if s in run.per_student])
        inside = _median([run.student_seconds[s] for s in graded if s in run.student_seconds])
        row = {"wall": run.seconds, "runs": run.all_seconds, "median": median, "student_seconds_median": inside,
               "peak_mb": run.peak_mb, "verdicts_exact": len(exact) if of_class else None,
               "verdicts_of": len(checked) if of_class else None,
               "wrong": [(s, v, theirs.get(s)) for s, v in checked if s not in exact] if of_class and theirs else []}
        figures["tools"][run.label] = row
        spread = f"  (runs: {', '.join(f'{v:.1f}' for v in run.all_seconds)})" if len(run.all_seconds) > 1 else ""
        print(f"{run.label:<30}{run.seconds:13.2f}{_fmt(median, 16, 3)}"
              f"{_fmt(median / compute['median'] if median else None, 7, 2)}{_fmt(inside, 18, 3)}"
              f"{run.peak_mb or 0:13.0f}{f'{len(exact)}/{len(checked)}' if of_class and theirs else '':>10}{spread}")
        by_kind = {k: _median([t for s, t in run.per_student.items() if kinds.get(s) == k]) for k in counts}
        row["median_by_kind"] = by_kind
        if of_class and len(run.per_student) > 1:
            print(f"{'':<30}s per hand-in by kind (median): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in by_kind.items() if v is not None))
        for note in run.notes:
            print(f"{'':<30}{note}")
        for student, variant, got in row["wrong"][:8]:
            print(f"{'':<30}{student} ({variant}): {got} points, expected {EXPECTED_SCORE[variant]}")
    print("(median/hand-in: over the correct and buggy hand-ins; ours from OUT/STUDENT/.grading.json, nbgrader from "
          "its time-stamped log, otter per `otter run` call. x own: that median / the own-compute median. "
          "peak RSS: the largest single process of the run)")
    tools = figures["tools"]
    cores = os.cpu_count() or 1
    nbg = tools.get("nbgrader autograde", {})
    ratios: dict[str, float] = {}
    plain = sum(1 for k in kinds.values() if k in ("correct", "buggy"))
    for suffix, key, what in (("", "j_speedup_class", "whole class"),
                              (f", {plain} correct+buggy", "j_speedup_plain", f"the {plain} correct and buggy"),
                              (f", {4 * plain} correct+buggy", "j_speedup_plain_x4",
                               f"the {plain} correct and buggy 4 times")):
        one, two = tools.get(f"ours -j 1{suffix}", {}), tools.get(f"ours -j {cores}{suffix}", {})
        if one.get("wall") and two.get("wall") and cores > 1:
            ratios[key] = one["wall"] / two["wall"]
            print(f"-j {cores} / -j 1 speed-up, class wall of {what}: {ratios[key]:.2f}x")
    if fixed.seconds is not None:
        ratios["class_of_one"] = fixed.seconds
        print(f"class of one (ours -j 1), wall: {fixed.seconds:.2f} s (its hand-in, as the grader timed it, "
              f"{sum(fixed.per_student.values()):.2f} s: the first hand-in of a process also waits for its sandbox)")
        whole = tools.get(f"ours -j 1, {plain} correct+buggy", {}).get("wall")
        if whole and plain > 1:
            # wall(N) = fixed + N * marginal, from the class of one and the class of `plain`: everything a run pays
            # besides its hand-ins (start, canary, context, first sandbox, class files), and everything one more
            # hand-in adds (grading, its files, its similarity signature)
            marginal = (whole - fixed.seconds) / (plain - 1)
            ratios["marginal_per_handin"] = marginal
            ratios["fixed_cost"] = fixed.seconds - marginal
            print(f"marginal wall per hand-in (ours -j 1): ({whole:.2f} - {fixed.seconds:.2f}) s / {plain - 1} = "
                  f"{marginal:.3f} s = {marginal / compute['median']:.2f}x own compute")
            print(f"fixed cost per run (ours -j 1): class of one {fixed.seconds:.2f} s - one marginal hand-in "
                  f"{marginal:.3f} s = {fixed.seconds - marginal:.2f} s")
            parallel = tools.get(f"ours -j {cores}, {plain} correct+buggy", {}).get("wall")
            if parallel and cores > 1:  # the grading throughput, the fixed cost taken out (it does not parallelise)
                marginal_j = (parallel - fixed.seconds) / (plain - 1)
                ratios["j_speedup_marginal"] = marginal / marginal_j
                print(f"marginal wall per hand-in (ours -j {cores}): ({parallel:.2f} - {fixed.seconds:.2f}) s / "
                      f"{plain - 1} = {marginal_j:.3f} s; -j {cores} / -j 1 on grading throughput: "
                      f"{marginal / marginal_j:.2f}x")
                # Amdahl: the fixed cost runs on one core whatever -j is, so even a perfect -j 2 on the hand-ins
                # gives the class of `plain` at most this speed-up
                bound = (fixed.seconds - marginal + plain * marginal) / (fixed.seconds - marginal + plain * marginal / cores)
                ratios["j_speedup_plain_bound"] = bound
                print(f"-j {cores} / -j 1 on the class wall of {plain} can be at most {bound:.2f}x with this fixed cost "
                      f"(every hand-in graded {cores} at a time with no loss)")
        # the same from the two class sizes at each -j: wall(4N) - wall(N) holds no fixed cost at all, not even one
        # that depends on -j (two sandboxes started instead of one), and weighs 3N hand-ins instead of N - 1
        small1 = tools.get(f"ours -j 1, {plain} correct+buggy", {}).get("wall")
        small2 = tools.get(f"ours -j {cores}, {plain} correct+buggy", {}).get("wall")
        big1 = tools.get(f"ours -j 1, {4 * plain} correct+buggy", {}).get("wall")
        big2 = tools.get(f"ours -j {cores}, {4 * plain} correct+buggy", {}).get("wall")
        if small1 and small2 and big1 and big2 and cores > 1:
            per1, per2 = (big1 - small1) / (3 * plain), (big2 - small2) / (3 * plain)
            ratios["j_speedup_marginal_x4"] = per1 / per2
            print(f"marginal wall per hand-in from the classes of {4 * plain} and {plain}: -j 1 ({big1:.2f} - {small1:.2f}) s"
                  f" / {3 * plain} = {per1:.3f} s, -j {cores} ({big2:.2f} - {small2:.2f}) s / {3 * plain} = {per2:.3f} s; "
                  f"-j {cores} / -j 1 on grading throughput: {per1 / per2:.2f}x")
    for label in ("ours -j 1", f"ours -j {os.cpu_count() or 1}"):
        row = tools.get(label, {})
        if row.get("wall") and nbg.get("wall"):
            ratios[f"nbgrader_over_{label.replace(' ', '')}"] = nbg["wall"] / row["wall"]
            print(f"class wall, nbgrader / {label}: {nbg['wall'] / row['wall']:.1f}x")
        if row.get("median") and nbg.get("median"):
            print(f"median per hand-in, nbgrader / {label}: {nbg['median'] / row['median']:.1f}x")
        if row.get("median"):
            ratios[f"overhead_{label.replace(' ', '')}"] = row["median"] / compute["median"]
            print(f"overhead, {label}: median {row['median']:.3f} s / own compute {compute['median']:.3f} s = "
                  f"{row['median'] / compute['median']:.2f}x")
    figures["ratios"] = ratios
    return figures


def _fmt(value: float | None, width: int, digits: int) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


if __name__ == "__main__":
    sys.exit(main())
