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
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import platform
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


def students(count: int) -> list[tuple[str, str]]:
    return [(f"s{i:03d}", ORDER[i % len(ORDER)]) for i in range(count)]


# --- this grader's assignment --------------------------------------------------------------------

def write_assignment(folder: Path, source: nbformat.NotebookNode, expected: list[float]) -> None:
    (folder / "tests" / "public").mkdir(parents=True)
    (folder / "tests" / "hidden").mkdir(parents=True)
    (folder / "assignment.toml").write_text(textwrap.dedent("""\
        schema_version = 1
        id = "ps1"
        title = "PS1: logistic regression by gradient descent"
        total_points = 10
        reference = "reference.ipynb"

        [sandbox]
        call_timeout = 20.0
        test_timeout = 60.0
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

    def add(self, seconds: float, peak_mb: float) -> None:
        """One more timing: keep the best wall clock and the highest peak."""
        self.all_seconds.append(seconds)
        self.seconds = min(self.all_seconds)
        self.peak_mb = max(self.peak_mb or 0.0, peak_mb)


PEAK = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "s = time.perf_counter() - t\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps({'rc': r.returncode, 'seconds': s, 'peak_mb': peak, 'out': r.stdout[-3000:], 'err': r.stderr[-3000:]}))\n"
)


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 3600) -> dict:
    """Run `cmd` under a small parent that reports its wall clock and the largest descendant's peak RSS."""
    done = subprocess.run([sys.executable, "-c", PEAK, *cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        return {"rc": done.returncode, "seconds": 0.0, "peak_mb": 0.0, "out": done.stdout, "err": done.stderr}
    return json.loads(done.stdout.strip().splitlines()[-1])


def own_compute(notebooks: list[nbformat.NotebookNode]) -> tuple[float, float]:
    """Seconds to run each graded notebook's code (answers, then all tests with hidden ones) once in-process.

    Returns (median over correct submissions, mean over the class). numpy is already imported here,
    so this is the homework's compute alone: no interpreter, kernel or import.
    """
    correct, every = [], []
    for nb, ok in notebooks:
        elapsed = min(_run_cells(nb) for _ in range(3))
        every.append(elapsed)
        if ok:
            correct.append(elapsed)
    return statistics.median(correct), statistics.mean(every)


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


def run_ours(subs: Path, assignment: Path, work: Path, jobs: int, repeat: int) -> tuple[Run, dict[str, float]]:
    run = Run(f"ours -j {jobs}")
    for attempt in range(repeat):
        out = work / f"ours-j{jobs}-{attempt}"  # a fresh folder: the same one would resume and skip everyone
        result = timed([str(GRADE), str(subs), "-a", str(assignment), "-o", str(out), "-j", str(jobs), "-q"])
        if result["rc"] != 0:
            run.error = f"grade exited {result['rc']}: {result['err'].strip()[-800:]}"
            return run, {}
        run.add(result["seconds"], result["peak_mb"])
    run.notes += [line for line in result["err"].splitlines() if line.startswith("note:")]
    with open(out / "gradebook.csv", newline="") as handle:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}
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
                 subs_ours: Path, repeat: int) -> tuple[Run, dict[str, float], nbformat.NotebookNode | None]:
    run = Run("nbgrader autograde")
    problem = ensure_venv(venv, ["nbgrader", "ipykernel", "numpy"], "import nbgrader, ipykernel, numpy")
    if problem:
        run.error = problem
        return run, {}, None
    env = bench_env(venv)
    nbgrader = str(venv / "bin" / "nbgrader")
    course = work / "nbgrader-course"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.ExecutePreprocessor.timeout = 120\n")
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
    for _ in range(repeat):
        result = timed([nbgrader, "autograde", "ps1", "--force"], cwd=course, env=env)
        if result["rc"] != 0:
            run.error = f"nbgrader autograde exited {result['rc']}: {result['err'].strip()[-800:]}"
            return run, {}, release
        run.add(result["seconds"], result["peak_mb"])
    exported = subprocess.run([nbgrader, "export"], cwd=course, env=env, capture_output=True, text=True)
    scores: dict[str, float] = {}
    if exported.returncode == 0 and (course / "grades.csv").is_file():
        with open(course / "grades.csv", newline="") as handle:
            scores = {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(handle)}
    else:
        run.notes.append(f"nbgrader export failed: {exported.stderr.strip()[-300:]}")
    return run, scores, release


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
        result = timed([otter, "run", "-a", str(zipped), "-o", str(out), str(subs / f"{student}.ipynb")], cwd=home, env=env)
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
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--skip-otter", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="time each tool R times and keep the best")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (printed)")
    parser.add_argument("--bench-venv", type=Path, default=Path("/tmp/bench-venv"),
                        help="venv for nbgrader (created when missing)")
    parser.add_argument("--otter-venv", type=Path, default=Path("/tmp/bench-venv-otter"),
                        help="venv for otter-grader (created when missing; apart, its pins differ from nbgrader's)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="compare-graders-"))
    print(f"{args.students} submissions, {cores} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"work folder: {work}{' (kept)' if args.keep else ''}; load average {_load()}", flush=True)
    try:
        return _bench(args, cores, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _bench(args: argparse.Namespace, cores: int, work: Path) -> int:
    expected = expected_weights()
    source = source_notebook(expected)
    roster = students(args.students)
    subs = work / "submissions"
    subs.mkdir()
    assignment = work / "assignments" / "ps1"
    write_assignment(assignment, source, expected)

    runs: list[Run] = []
    nb_scores: dict[str, float] = {}
    otter_scores: dict[str, float] = {}
    release = None
    if not args.skip_nbgrader:
        print("nbgrader: generate_assignment, then autograde ...", flush=True)
        nb_run, nb_scores, release = run_nbgrader(args.bench_venv, source, work, roster, subs, args.repeat)
        runs.append(nb_run)
    if release is None:  # nbgrader skipped or broken: strip the solutions the same way ourselves
        release = own_release(source)
        for student, variant in roster:
            nbformat.write(student_notebook(release, variant), subs / f"{student}.ipynb")

    handed_in = [(graded_notebook(source, nbformat.read(subs / f"{s}.ipynb", as_version=4)), v.startswith("correct"))
                 for s, v in roster]
    compute_correct, compute_mean = own_compute(handed_in)

    ours_scores: dict[str, float] = {}
    ours_runs = []
    for jobs in sorted({1, cores}):
        print(f"ours: grade -j {jobs} ...", flush=True)
        run, scores = run_ours(subs, assignment, work, jobs, args.repeat)
        ours_runs.append(run)
        ours_scores = ours_scores or scores
    runs = ours_runs + runs
    # The fixed cost of a batch (interpreter, pytest, tests, reference, data, first worker): a class of one.
    one = work / "one-student"
    one.mkdir()
    shutil.copy(subs / f"{roster[0][0]}.ipynb", one)
    (work / "one-student-out").mkdir()
    fixed, _ = run_ours(one, assignment, work / "one-student-out", 1, args.repeat)
    if not args.skip_otter:
        print("otter: otter run per submission ...", flush=True)
        otter_run, otter_scores = run_otter(args.otter_venv, work, subs, roster)
        runs.append(otter_run)

    report(args.students, cores, runs, fixed, compute_correct, compute_mean, ours_scores,
           {"nbgrader": nb_scores, "otter": otter_scores}, roster)
    print(f"load average at the end: {_load()} (other work on the machine inflates every figure)")
    return 0


def report(count: int, cores: int, runs: list[Run], fixed: Run, compute_correct: float, compute_mean: float,
           ours: dict[str, float], others: dict[str, dict[str, float]], roster: list[tuple[str, str]]) -> None:
    print()
    print(f"own compute per submission (answers + all tests, in-process, numpy imported): "
          f"{compute_correct:.3f} s for a correct one, {compute_mean:.3f} s mean over the class")
    print(f"{'tool':<22}{'wall s':>9}{'s/sub':>9}{'overhead/sub':>14}{'peak RSS MB':>13}")
    by_label = {}
    for run in runs:
        if run.error or run.seconds is None:
            print(f"{run.label:<22}  failed: {run.error}")
            continue
        run.per = run.seconds / count
        by_label[run.label] = run
        spread = f"  (runs: {', '.join(f'{v:.1f}' for v in run.all_seconds)})" if len(run.all_seconds) > 1 else ""
        print(f"{run.label:<22}{run.seconds:9.2f}{run.per:9.3f}{run.per - compute_mean:14.3f}{run.peak_mb or 0:13.0f}{spread}")
        for note in run.notes:
            print(f"{'':<22}{note}")
    print("(overhead = s/sub minus the class's mean own compute; peak RSS = the largest single process of the run)")
    if fixed.seconds is not None and "ours -j 1" in by_label and count > 1:
        marginal = (by_label["ours -j 1"].seconds - fixed.seconds) / (count - 1)
        print(f"ours -j 1 on a class of one: {fixed.seconds:.2f} s (the fixed cost of a batch); each further "
              f"submission {marginal:.3f} s, {marginal - compute_mean:.3f} s beyond its own compute")
    base = by_label.get("nbgrader autograde")
    for label in ("otter run",):
        if label in by_label and base:
            print(f"{label} / nbgrader: {by_label[label].per / base.per:.2f}")
    for label, run in by_label.items():
        if label.startswith("ours"):
            for other in ("nbgrader autograde", "otter run"):
                if other in by_label:
                    print(f"{other} / {label}: {by_label[other].per / run.per:.1f}x")
            overhead = run.per - compute_mean
            print(f"{label}: {run.per / compute_mean:.2f}x the own compute (overhead {overhead:.3f} s/sub)")
    if base:
        print(f"nbgrader autograde: {base.per / compute_mean:.1f}x the own compute "
              f"(overhead {base.per - compute_mean:.3f} s/sub)")
    for tool, theirs in others.items():
        if not (ours and theirs):
            continue
        disagree = [(s, v, ours.get(s), theirs.get(s)) for s, v in roster
                    if s not in ours or s not in theirs or abs(ours[s] - theirs[s]) > 1e-6]
        if disagree:
            print(f"scores differ for {len(disagree)} of {len(roster)} students (student, kind, ours, {tool}):")
            for row in disagree[:10]:
                print("   ", *row)
        else:
            print(f"scores: ours and {tool} agree on all {len(roster)} students")
    kinds: dict[str, float] = {}
    for student, variant in roster:
        kinds.setdefault(variant, ours.get(student, float("nan")))
    if ours:
        print("ours, score by kind of submission (of 10):", ", ".join(f"{k} {v:g}" for k, v in kinds.items()))


if __name__ == "__main__":
    sys.exit(main())
