"""Where the time goes when one hand-in is graded: load, extraction, worker start, the tests, the student's calls.

    python benchmarks/time_one_student.py [SUBMISSION] [-a ASSIGNMENT] [--reference] [--repeat N] [--json PATH]

SUBMISSION is a hand-in as `grade` reads it (STUDENT.ipynb, STUDENT.py or a folder), default
examples/submissions/grace (logistic_softmax written the other way round: bias first, loops); ASSIGNMENT an id
under assignments/ or a folder (default logistic_softmax). --reference grades the assignment's reference
instead, as if a student had handed it in.

Prints a line per phase (median of N runs, seconds) and its share of the total: the batch's one-off context
(tests, data, reference), then per run: load, extract, a sandbox worker's start, the tests (which start their
own worker), and of the tests the time inside the student's calls (`student_seconds`, as the grader measures
it for .grading.json). The first run also computes the reference's expected values (cached for the rest of
the batch), so it is printed apart; the median is of the runs after it when N > 1. Then the ratio of the
hand-in's total to its own calls: what the issue's goal (at most 1.5x) is about.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from grader.catalog import find_assignment
from grader.extract import extract
from grader.session import build_context, new_pool
from grader.submission import load
from grader.testing.runner import run_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", default="examples/submissions/grace")
    parser.add_argument("-a", "--assignment", default="logistic_softmax")
    parser.add_argument("--reference", action="store_true", help="grade the assignment's reference as the hand-in")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    assignment = find_assignment(args.assignment)
    handin = assignment.reference if args.reference else Path(args.submission)
    if handin is None:
        raise SystemExit(f"{assignment.id} has no reference")
    print(f"{assignment.id}: {'the reference ' if args.reference else ''}{handin}, {args.repeat} runs")
    started = time.perf_counter()
    context = build_context(assignment)
    once = time.perf_counter() - started
    print(f"once per batch and process (tests, data, reference loaded): {once:.3f} s")
    runs: list[dict[str, float]] = []
    points = ""
    pool = new_pool(assignment)
    try:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            loaded = load("student", handin)
            t1 = time.perf_counter()
            program = extract(loaded.files, assignment.needs, frozenset(assignment.inject))
            t2 = time.perf_counter()
            worker = pool.take()  # a fork of the pool's fork server (bubblewrap) or a fresh interpreter
            worker.wait_ready()
            t3 = time.perf_counter()
            worker.kill()
            outcomes = run_suite(context, program, pool)
            t4 = time.perf_counter()
            runs.append({"load": t1 - t0, "extract": t2 - t1, "worker start": t3 - t2, "tests": t4 - t3,
                         "in student calls": sum(o.student_seconds for o in outcomes)})
            points = f"{sum(o.passed for o in outcomes)} of {len(outcomes)} tests passed"
    finally:
        pool.close()
    print(f"({points})")
    first, later = runs[0], runs[1:] or runs
    phases = {name: statistics.median(run[name] for run in later) for name in first}
    # A hand-in as the batch grades it: load, extract and tests (the tests start the worker they use).
    total = phases["load"] + phases["extract"] + phases["tests"]
    for name, median in phases.items():
        print(f"{name:>20}: {median:7.3f} s  ({100 * median / total:5.1f}% of {total:.3f} s)   first run {first[name]:.3f} s")
    ratio = total / phases["in student calls"] if phases["in student calls"] else float("nan")
    print(f"hand-in total (load + extract + tests) / its own calls: {total:.3f} / {phases['in student calls']:.3f} s "
          f"= {ratio:.2f}x   (first run, computing the reference's values: "
          f"{first['load'] + first['extract'] + first['tests']:.3f} s)")
    how = "a fork of the pool's fork server" if pool.forks else "a fresh interpreter"
    print(f"(worker start: {how}, measured apart for a worker that is then killed; the tests take their own)")
    if args.json:
        args.json.write_text(json.dumps({"assignment": assignment.id, "handin": str(handin), "context": once,
                                         "first": first, "median": phases, "total": total, "ratio": ratio,
                                         "points": points, "runs": len(runs)}, indent=1))


if __name__ == "__main__":
    main()
