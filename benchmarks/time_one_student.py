"""Where the time goes when one hand-in is graded: load, extraction, worker start, the tests' own compute.

    python benchmarks/time_one_student.py [SUBMISSION] [-a ASSIGNMENT] [--repeat N]

Prints a line per phase (median of N runs, seconds) and the share of the total.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from grader.catalog import find_assignment
from grader.extract import extract
from grader.sandbox.client import WorkerProcess
from grader.session import build_context, new_pool
from grader.submission import load
from grader.testing.runner import run_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", default="examples/submissions/ada")
    parser.add_argument("-a", "--assignment", default="logistic_softmax")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assignment = find_assignment(args.assignment)
    started = time.perf_counter()
    context = build_context(assignment)
    print(f"once per batch and process (tests, data, reference): {time.perf_counter() - started:.3f} s")
    phases: dict[str, list[float]] = {"load": [], "extract": [], "worker start": [], "tests": [], "of which in tests": []}
    pool = new_pool(assignment)
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        loaded = load("student", Path(args.submission))
        t1 = time.perf_counter()
        program = extract(loaded.files, assignment.needs, frozenset(assignment.inject))
        t2 = time.perf_counter()
        worker = WorkerProcess(pool.python, pool.limits, pool.preload)
        worker.wait_ready()
        t3 = time.perf_counter()
        worker.kill()
        outcomes = run_suite(context, program, pool)
        t4 = time.perf_counter()
        phases["load"].append(t1 - t0)
        phases["extract"].append(t2 - t1)
        phases["worker start"].append(t3 - t2)
        phases["tests"].append(t4 - t3)
        phases["of which in tests"].append(sum(o.duration for o in outcomes))
    pool.close()
    total = sum(statistics.median(v) for k, v in phases.items() if k != "of which in tests")
    for name, values in phases.items():
        median = statistics.median(values)
        print(f"{name:>20}: {median:7.3f} s  ({100 * median / total:4.1f}% of {total:.3f} s)")


if __name__ == "__main__":
    main()
