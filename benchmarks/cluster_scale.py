"""Grading on Dask: throughput on local:1 and local:2, the speed-up, the scheduler's cost per hand-in, client memory.

    python benchmarks/cluster_scale.py                 # 200 and 1,000 hand-ins
    python benchmarks/cluster_scale.py --sizes 100     # a quick look

The class is copies of a small class of the demo assignment (tests/fixtures/assignments/demo: five
tests and a written answer per hand-in; correct, buggy and broken hand-ins in turn), so what is
measured is the grader and the scheduler, not the homework's own compute. For each size it prints:
the wall time and throughput of `grade --cluster local:1` and `local:2` and of `grade -j 1` (forked
processes, no Dask), the speed-up from one worker to two, the scheduler's overhead per hand-in
(`local:1` against `-j 1`, same number of grading processes), and the peak memory of the `grade`
process when it is only the client of an external scheduler with two workers (it should not grow
with the class).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from democlass import GOOD, demo_copy  # noqa: E402

KINDS = {
    "good": GOOD,
    "buggy": GOOD.replace("/ len(y)", "/ len(y) * 2"),
    "broken": "def mse_grad(X, y, w:\n    pass\n",
}


def make_class(folder: Path, size: int) -> Path:
    submissions = folder / f"class{size}"
    submissions.mkdir()
    names = list(KINDS)
    for index in range(size):
        kind = names[index % len(names)]
        (submissions / f"s{index:05d}_{kind}.py").write_text(KINDS[kind])
    return submissions


def grade(arguments: list[str], out: Path) -> tuple[float, int]:
    """Wall seconds and the peak resident memory (KB) of the `grade` process itself (wait4's rusage)."""
    command = [sys.executable, "-m", "grader.cli", "grade", *arguments, "-o", str(out), "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"grade failed: {' '.join(command)}\n{process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss


def external_cluster(folder: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard"], cwd=folder, env=env, stderr=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, start_new_session=True)
    address = ""
    assert scheduler.stderr is not None
    while not address:
        found = re.search(rb"Scheduler at:\s+(tcp://\S+)", scheduler.stderr.readline())
        address = found.group(1).decode() if found else ""
    worker = subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                               "--resources", "sandbox=1", "--no-dashboard"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    import distributed

    with distributed.Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, [scheduler, worker]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    try:
        assignment = demo_copy(folder)
        print(f"machine: {os.cpu_count()} cores; class of the demo assignment ({len(KINDS)} kinds of hand-in in turn)")
        print(f"{'hand-ins':>9} {'how':<24} {'wall s':>8} {'per s':>8} {'grade MB':>9}")
        for size in args.sizes:
            submissions = make_class(folder, size)
            walls = {}
            for label, extra in (("-j 1 (fork, no Dask)", ["-j", "1"]), ("--cluster local:1", ["--cluster", "local:1"]),
                                 ("--cluster local:2", ["--cluster", "local:2"])):
                out = folder / f"out-{size}-{len(walls)}"
                wall, memory = grade([str(submissions), "-a", str(assignment), *extra], out)
                walls[label] = wall
                print(f"{size:>9} {label:<24} {wall:>8.1f} {size / wall:>8.1f} {memory / 1024:>9.0f}")
                shutil.rmtree(out)
            address, processes = external_cluster(folder, 2)
            try:
                out = folder / f"out-{size}-client"
                wall, memory = grade([str(submissions), "-a", str(assignment), "--cluster", address], out)
                print(f"{size:>9} {'client of 2 workers':<24} {wall:>8.1f} {size / wall:>8.1f} {memory / 1024:>9.0f}")
                shutil.rmtree(out)
            finally:
                for process in processes:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            one, two, fork = walls["--cluster local:1"], walls["--cluster local:2"], walls["-j 1 (fork, no Dask)"]
            print(f"{size:>9} speed-up local:2 / local:1 = {one / two:.2f}x; scheduler overhead per hand-in "
                  f"(local:1 - fork -j 1) = {1000 * (one - fork) / size:+.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
