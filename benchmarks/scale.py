"""`grade` at 200, 1,000 and 10,000 hand-ins of a cheap assignment: its own peak memory, the no-op rerun, similarity.

    python benchmarks/scale.py [--sizes 200 1000 10000] [-j JOBS] [--buggy-every K] [--json PATH] [--keep]

The demo assignment of this project's tests (`tests/democlass.py`: `demo_copy`, the correct hand-in `GOOD`),
a class of N single-file hand-ins: every K-th one buggy (its gradient not divided by N), the rest correct.
For each size, in a fresh output folder:

- `grade SUBMISSIONS -a ASSIGNMENT -o OUT -j JOBS -q`, timed, with the peak memory of the `grade` process
  itself: VmHWM polled from /proc/PID/status while it runs (not its children: the forked grading processes
  and the sandbox workers come and go per student and are not what grows with the class);
- the same command again on the same OUT, where nothing is left to grade (the no-op rerun): seconds and VmHWM;
- the similarity step alone on the same class into an empty folder (`similar_code`, as the batch calls it, in
  a process of its own: `similarity_scale.py`'s child), seconds and peak RSS.

Each size prints as it finishes, with how long it took: 10,000 hand-ins take about 4 minutes on two cores
under bubblewrap (each worker a fork of the fork server); with fresh interpreters (unshare, none) count on
about 0.15 s of CPU more per hand-in.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GRADE = Path(sys.executable).with_name("grade")


def vm_hwm_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) in MB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def run_grade(subs: Path, assignment: Path, out: Path, jobs: int) -> dict[str, Any]:
    """`grade` on the class, timed, its own VmHWM polled every 50 ms until it exits."""
    command = [str(GRADE), str(subs), "-a", str(assignment), "-o", str(out), "-j", str(jobs), "-q"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, vm_hwm_mb(process.pid) or 0.0)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"grade exited {process.returncode}:\n{stderr[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak, "said": (stdout + stderr).strip().splitlines()[-1:]}


def write_class(folder: Path, size: int, buggy_every: int, good: str) -> int:
    """N hand-ins of the demo assignment; returns how many are buggy."""
    folder.mkdir(parents=True)
    buggy = good.replace("return X.T @ (X @ w - y) / len(y)", "return X.T @ (X @ w - y)")
    assert buggy != good
    count = 0
    for i in range(size):
        wrong = buggy_every > 0 and i % buggy_every == buggy_every - 1
        count += wrong
        (folder / f"s{i:05d}.py").write_text(f"# hand-in {i}\n" + (buggy if wrong else good))
    return count


def similarity_alone(assignment: Path, subs: Path, out: Path) -> dict[str, Any]:
    """The similarity step of the batch on this class, first run, in a process of its own."""
    sys.path.insert(0, str(HERE))
    import similarity_scale

    return similarity_scale._measure("new", assignment, subs, out)


def measure(size: int, work: Path, assignment: Path, jobs: int, buggy_every: int, good: str) -> dict[str, Any]:
    """One class size: grading, the no-op rerun and the similarity step."""
    began = time.perf_counter()
    subs = work / f"class-{size}"
    buggy = write_class(subs, size, buggy_every, good)
    out = work / f"out-{size}"
    first = run_grade(subs, assignment, out, jobs)
    rerun = run_grade(subs, assignment, out, jobs)
    similar = similarity_alone(assignment, subs, work / f"similarity-{size}")
    graded = sum(1 for p in out.iterdir() if (p / "result.json").is_file())
    shutil.rmtree(subs.parent / f"similarity-{size}", ignore_errors=True)
    return {"size": size, "buggy": buggy, "graded": graded, "jobs": jobs, "grade": first, "rerun": rerun,
            "similarity": similar, "took": time.perf_counter() - began, "load_average": list(os.getloadavg())}


def print_row(row: dict[str, Any]) -> None:
    """One line per size, as soon as it is measured."""
    g, r, s = row["grade"], row["rerun"], row["similarity"]
    print(f"{row['size']:>7}{g['seconds']:>10.1f}{g['seconds'] / row['size']:>9.3f}{g['peak_mb']:>10.0f}"
          f"{r['seconds']:>10.2f}{r['peak_mb']:>9.0f}{s['seconds']:>10.2f}{s['peak_mb']:>9.0f}"
          f"{row['took']:>9.0f}   load {' '.join(f'{v:.1f}' for v in row['load_average'])}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 10000])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="grade -j (default: cores)")
    parser.add_argument("--buggy-every", type=int, default=5, help="every K-th hand-in buggy (0: none)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    # the demo assignment and its correct hand-in, as the tests use them
    from democlass import GOOD, demo_copy

    work = Path(tempfile.mkdtemp(prefix="grade-scale-"))
    print(f"grade on the demo assignment (tests/democlass.py), -j {args.jobs}, every {args.buggy_every}th hand-in "
          f"buggy; work folder {work}{' (kept)' if args.keep else ''}; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    print(f"{'hand-ins':>7}{'grade s':>10}{'s/each':>9}{'VmHWM MB':>10}{'rerun s':>10}{'VmHWM':>9}"
          f"{'simil. s':>10}{'RSS MB':>9}{'took s':>9}", flush=True)
    rows = []
    try:
        assignment = demo_copy(work)
        for size in args.sizes:
            rows.append(measure(size, work, assignment, args.jobs, args.buggy_every, GOOD))
            print_row(rows[-1])
            if rows[-1]["graded"] != size:
                print(f"   only {rows[-1]['graded']} of {size} result.json files", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("(VmHWM: the `grade` process's own peak resident set, from /proc/PID/status; rerun: `grade` again on "
          "the same OUT, nothing to grade; simil.: the similarity step alone on the class, first run, its own "
          "process)")
    if len(rows) > 1:
        peaks = [r["grade"]["peak_mb"] for r in rows]
        print(f"grade VmHWM from {rows[0]['size']} to {rows[-1]['size']} hand-ins: {peaks[0]:.0f} -> {peaks[-1]:.0f} MB "
              f"({100 * (max(peaks) / min(peaks) - 1):.0f}% spread)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
