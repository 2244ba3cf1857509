"""The similarity report at scale: the old pairwise comparison beside the hashed one, first run and rerun.

    python benchmarks/similarity_scale.py [--sizes 200 1000 10000] [--old-up-to 1000] [--classes mixed copies] [--keep]

A synthetic assignment (three tasks, each a function of a dozen numpy statements, and a template whose
stubs and provided helper every hand-in carries) and a class of N single-file hand-ins, generated from a
fixed seed: most students write their own code (a random program), and the rest are planted copies of
them: byte-for-byte copies, copies with the local names, comments and layout changed, and copies with
one token changed (near matches). Then, each in a fresh process so that its peak memory is its own:

- old: what the batch did before, `find_similar` on every loaded submission then `pairs_for_summary`
  (every pair of students compared), run only up to `--old-up-to` students;
- new, first run: `similar_code` with an empty output folder (every student loaded once, signatures stored);
- new, rerun: `similar_code` again on the same folder with nothing changed (no student loaded).

Prints seconds, peak RSS (the process's own, from getrusage, taken before the benchmark lists every pair
to check that both methods agree) and the size of the summary's similar-code
section for each, the ratios old/new, and the same for a class of N identical copies (where every pair
matches, which is what made summary.html grow to tens of megabytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

ASSIGNMENT_TOML = """\
schema_version = 1
id = "similarity_scale"
title = "Synthetic class for the similarity benchmark"
total_points = 30
template = "template.py"

[[tasks]]
id = "fit"
title = "fit"
points = 10
needs = ["fit"]

[[tasks]]
id = "transform"
title = "transform"
points = 10
needs = ["transform"]

[[tasks]]
id = "score"
title = "score"
points = 10
needs = ["score"]
"""

TEMPLATE = '''\
import numpy as np


def standardise(X):
    """Provided: every column to mean 0 and standard deviation 1."""
    centred = X - X.mean(axis=0, keepdims=True)
    return centred / (centred.std(axis=0, keepdims=True) + 1e-12)


def fit(X, y):
    raise NotImplementedError


def transform(X, w):
    raise NotImplementedError


def score(X, y, w):
    raise NotImplementedError
'''

FUNCTIONS = (("fit", ("X", "y")), ("transform", ("X", "w")), ("score", ("X", "y", "w")))
WORDS = ("grad", "loss", "step", "scale", "norm", "acc", "delta", "z", "h", "err", "total", "mean", "rate", "res")
UNARY = ("np.exp", "np.tanh", "np.abs", "np.sqrt", "np.log1p", "np.square", "np.sign", "np.clip01")
REDUCE = ("np.sum", "np.mean", "np.max", "np.min")
OPS = ("+", "-", "*", "/")


def write_assignment(folder: Path) -> Path:
    """The synthetic assignment folder: assignment.toml and the template."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(ASSIGNMENT_TOML)
    (folder / "template.py").write_text(TEMPLATE)
    return folder


def own_solution(rng: random.Random, statements: int = 12) -> tuple[str, list[str]]:
    """A student's own code: three random functions of numpy arithmetic; the source and its local names."""
    parts = ["import numpy as np", "", "", TEMPLATE.split("\n\n\n")[1].strip()]
    names: list[str] = []
    for name, args in FUNCTIONS:
        values = list(args)
        lines = [f"def {name}({', '.join(args)}):"]
        for i in range(statements):
            target = f"{rng.choice(WORDS)}_{name}_{i}"
            lines.append(f"    {target} = {_expression(rng, values, 2)}")
            values.append(target)
            names.append(target)
        lines.append(f"    return standardise({values[-1]}) if {rng.random():.3f} > 0.5 else {values[-1]}")
        parts += ["", "", "\n".join(lines)]
    return "\n".join(parts) + "\n", names


def _expression(rng: random.Random, values: list[str], depth: int) -> str:
    roll = rng.random()
    if depth == 0 or roll < 0.25:
        return rng.choice(values) if rng.random() < 0.8 else f"{rng.uniform(0.1, 9):.2f}"
    if roll < 0.5:
        fn = rng.choice(UNARY)
        if fn == "np.clip01":
            return f"np.clip({_expression(rng, values, depth - 1)}, 0, 1)"
        return f"{fn}({_expression(rng, values, depth - 1)})"
    if roll < 0.6:
        return f"{rng.choice(REDUCE)}({rng.choice(values)}, axis={rng.randint(0, 1)}, keepdims=True)"
    a, b = _expression(rng, values, depth - 1), _expression(rng, values, depth - 1)
    return f"({a} {rng.choice(OPS)} {b})"


def renamed_copy(source: str, names: list[str], rng: random.Random) -> str:
    """The same code with every local name changed, a comment and other spacing: a disguised copy."""
    for i, name in enumerate(sorted(names, key=len, reverse=True)):
        source = source.replace(name, f"{rng.choice(WORDS)}{i}x")
    return "# my own work\n" + source.replace(" = ", " =  ")


def near_copy(source: str, rng: random.Random) -> str:
    """The same code with one operator of one statement changed."""
    lines = source.splitlines()
    candidates = [i for i, line in enumerate(lines) if " + " in line and line.startswith("    ")]
    if not candidates:
        return source + "\nEXTRA = 1\n"
    i = rng.choice(candidates)
    lines[i] = lines[i].replace(" + ", " - ", 1)
    return "\n".join(lines) + "\n"


def write_class(folder: Path, size: int, seed: int = 0, copies_only: bool = False) -> dict[str, list[str]]:
    """N hand-ins `sNNNNN.py`; what was planted: {"own", "copy", "renamed", "near"} -> students."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    planted: dict[str, list[str]] = {"own": [], "copy": [], "renamed": [], "near": []}
    originals: list[tuple[str, list[str]]] = []
    for i in range(size):
        student = f"s{i:05d}"
        roll = rng.random()
        if copies_only and originals:
            kind, source = "copy", originals[0][0]
        elif not originals or roll < 0.6:
            source, names = own_solution(rng)
            originals.append((source, names))
            kind = "own"
        else:
            original, names = rng.choice(originals)
            if roll < 0.8:
                kind, source = "copy", original
            elif roll < 0.9:
                kind, source = "renamed", renamed_copy(original, names, rng)
            else:
                kind, source = "near", near_copy(original, rng)
        (folder / f"{student}.py").write_text(source)
        planted[kind].append(student)
    return planted


# ---------------------------------------------------------------- measuring, one process per figure


def _child(mode: str, assignment_folder: Path, submissions: Path, out: Path) -> dict[str, Any]:
    """Run one method in this process; its time, peak RSS and summary section size."""
    from grader.assignment import load_assignment
    from grader.report.files import write_atomic
    from grader.report.html import summary_html
    from grader.similarity import find_similar, pairs_for_summary, similar_code
    from grader.submission import discover, load

    assignment = load_assignment(assignment_folder)
    entries, _ = discover(submissions)
    start = time.perf_counter()
    if mode == "old":
        template = load("template", assignment.template) if assignment.template else None
        pairs = find_similar(assignment, [(s, load(s, p)) for s, p in entries], template)
        rows = pairs_for_summary(pairs)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        keys = [(p.task, p.student_a, p.student_b, p.kind, round(p.score, 6)) for p in pairs]
    else:
        fingerprints = {s: f"{p.stat().st_mtime_ns}-{p.stat().st_size}" for s, p in entries}
        report = similar_code(assignment, entries, fingerprints, out, write_atomic)
        rows = report.summary_rows()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the check's own pair list
        keys = [(t, a, b, k, round(x, 6)) for t, a, b, k, x in report.pairs()] if len(entries) <= 2000 else []
    html = summary_html(assignment.title, [t.id for t in assignment.tasks], [], [], similar=rows)
    digest = hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:12] if keys or len(entries) <= 2000 else "-"
    return {"seconds": seconds, "peak_mb": peak, "html_kb": len(html.encode()) / 1024, "pairs": len(keys),
            "digest": digest}


def _measure(mode: str, assignment_folder: Path, submissions: Path, out: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, str(assignment_folder), str(submissions), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _baseline(assignment_folder: Path) -> float:
    """Peak RSS of a process that imports the same and does nothing: what the figures sit on."""
    code = ("import resource, grader.similarity, grader.report.html, grader.report.files, grader.submission;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 10000])
    parser.add_argument("--old-up-to", type=int, default=1000, help="largest class the pairwise method runs on")
    parser.add_argument("--classes", nargs="+", choices=["mixed", "copies"], default=["mixed", "copies"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *paths = args.child
        print(json.dumps(_child(mode, *map(Path, paths))))
        return
    root = Path(tempfile.mkdtemp(prefix="similarity-scale-"))
    assignment_folder = write_assignment(root / "similarity_scale")
    print(f"python {sys.version.split()[0]}; baseline process (imports only): {_baseline(assignment_folder):.0f} MB")
    header = f"{'class':>22} {'method':>12} {'seconds':>9} {'peak MB':>8} {'summary KB':>11} {'pairs':>8}"
    print(header)
    try:
        for copies_only in [kind == "copies" for kind in args.classes]:
            for size in args.sizes:
                label = f"{size} {'copies' if copies_only else 'mixed'}"
                submissions = root / f"class-{label.replace(' ', '-')}"
                write_class(submissions, size, seed=size, copies_only=copies_only)
                rows = {}
                if size <= args.old_up_to:
                    rows["old pairwise"] = _measure("old", assignment_folder, submissions, root / "unused")
                out = root / f"out-{label.replace(' ', '-')}"
                rows["new first"] = _measure("new", assignment_folder, submissions, out)
                rows["new rerun"] = _measure("new", assignment_folder, submissions, out)
                for method, row in rows.items():
                    print(f"{label:>22} {method:>12} {row['seconds']:9.2f} {row['peak_mb']:8.0f} "
                          f"{row['html_kb']:11.1f} {row['pairs']:8.0f}")
                if "old pairwise" in rows:
                    old = rows["old pairwise"]
                    print(f"{'':>22} {'old/new':>12} first {old['seconds'] / rows['new first']['seconds']:.1f}x, "
                          f"rerun {old['seconds'] / rows['new rerun']['seconds']:.1f}x; summary "
                          f"{old['html_kb'] / rows['new first']['html_kb']:.1f}x; same pairs: "
                          f"{old['digest'] == rows['new first']['digest'] == rows['new rerun']['digest']}")
                shutil.rmtree(submissions)
                sys.stdout.flush()
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
