"""Everything issue 13's "What it must show" asks for, in one run, and the issue's goals marked met or not met.

    python benchmarks/speed.py [--big] [--sizes 200 1000] [--skip-nbgrader] [--otter] [--repeat R] [--json PATH]

Runs, one after the other, each in a process of its own (their own output is shown as they go):

1. `compare_graders.py --class-shape issue --skip-otter`: the issue's class of 40 (24 correct, 10 buggy,
   3 crashing, 2 hanging, 1 allocating 40 GB), one 30 s budget per test/cell for every tool, graded by this
   grader at `-j 1` and `-j 2` and by nbgrader `autograde`; per hand-in median (correct and buggy), class wall,
   the own-compute median, a class of one, and the 34 correct and buggy alone at -j 1 and -j 2 (best of 3
   each), then 4 times over (136, best of 3); from these the marginal wall per hand-in (everything included),
   the fixed cost of a run (class of one minus one marginal hand-in) and the -j speed-up on class walls and on
   grading throughput (also from the classes of 136 and 34 at each -j, which holds no fixed cost); every
   verdict checked against the expected score;
2. `time_one_student.py` on `logistic_softmax`: its reference graded as a hand-in (a correct one) and
   `examples/submissions/grace` (real-shaped: bias first, loops): time per phase, the time inside the
   student's calls, and the ratio of the two;
3. `scale.py --sizes 200 1000` (and 10000 with --big, tens of minutes): `grade`'s own peak memory
   (VmHWM), the no-op rerun and the similarity step at each size.

Then the table of the issue's goals, each figure beside its goal and marked met / not met. The load average
is printed at the start and the end: on a shared machine every figure is inflated, parallel runs most.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def step(title: str, script: str, arguments: list[str], figures: Path) -> tuple[Any, float]:
    """Run one benchmark script (its output shown as it goes); its JSON figures and how long it took."""
    print(f"\n=== {title}  (load average {load()})", flush=True)
    command = [sys.executable, str(HERE / script), *arguments, "--json", str(figures)]
    print("$ " + " ".join(command[1:]).replace(str(REPO) + "/", ""), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, check=False)
    took = time.perf_counter() - started
    print(f"--- {title}: {took:.0f} s", flush=True)
    if done.returncode != 0 or not figures.is_file():
        print(f"!!! {script} exited {done.returncode}: its figures are missing below", flush=True)
        return None, took
    return json.loads(figures.read_text()), took


def goals(compare: Any, reference: Any, real: Any, scale: Any, cores: int) -> list[tuple[str, str, str]]:
    """(goal, figure, verdict) for each of the issue's goals; `not measured` where a step failed."""
    rows: list[tuple[str, str, str]] = []

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    tools = (compare or {}).get("tools", {})
    own = (compare or {}).get("own_compute", {}).get("median")
    one, two = tools.get("ours -j 1", {}), tools.get(f"ours -j {cores}", {})
    nbg = tools.get("nbgrader autograde", {})
    if own and one.get("median"):
        ratio1 = one["median"] / own
        extra = f"; -j {cores}: {two['median']:.3f} s = {two['median'] / own:.2f}x" if two.get("median") else ""
        rows.append(("per hand-in median <= 1.25x own compute (-j 1)",
                     f"{one['median']:.3f} s / {own:.3f} s = {ratio1:.2f}x{extra}", mark(ratio1 <= 1.25)))
    else:
        rows.append(("per hand-in median <= 1.25x own compute", "-", "not measured"))
    ratios = (compare or {}).get("ratios", {})
    fixed, one_wall = ratios.get("fixed_cost"), ratios.get("class_of_one")
    marginal = ratios.get("marginal_per_handin")
    rows.append(("fixed cost per run < 1 s (-j 1: class of one - one marginal hand-in)",
                 f"{one_wall:.2f} s - {marginal:.3f} s = {fixed:.2f} s" if fixed is not None else "-",
                 mark(fixed < 1.0) if fixed is not None else "not measured"))
    if marginal and own:
        rows.append(("(figure) marginal wall per hand-in, everything included (-j 1)",
                     f"{marginal:.3f} s = {marginal / own:.2f}x own compute", "(figure)"))
    plain, whole = ratios.get("j_speedup_plain"), ratios.get("j_speedup_class")
    bigger, throughput = ratios.get("j_speedup_plain_x4"), ratios.get("j_speedup_marginal")
    if plain:
        rows.append((f"-j {cores} >= 1.8x -j 1 (class wall, the 34 correct and buggy)",
                     f"{plain:.2f}x (whole class with hangs: {whole:.2f}x)" if whole else f"{plain:.2f}x",
                     mark(plain >= 1.8)))
        if bigger:
            rows.append((f"-j {cores} >= 1.8x -j 1 (class wall, the 34 four times: 136)", f"{bigger:.2f}x",
                         mark(bigger >= 1.8)))
        bound = ratios.get("j_speedup_plain_bound")
        if bound:
            rows.append((f"(figure) the most -j {cores} can gain on the class wall of 34 with this fixed cost",
                         f"{bound:.2f}x", "(figure)"))
        if throughput:
            rows.append((f"-j {cores} >= 1.8x -j 1 (grading throughput: 34 and a class of one)",
                         f"{throughput:.2f}x", mark(throughput >= 1.8)))
        sizes = ratios.get("j_speedup_marginal_x4")
        if sizes:
            rows.append((f"-j {cores} >= 1.8x -j 1 (grading throughput: 136 and 34)", f"{sizes:.2f}x",
                         mark(sizes >= 1.8)))
    else:
        rows.append((f"-j {cores} >= 1.8x -j 1", "-", "not measured"))
    if nbg.get("wall") and two.get("wall"):
        r2 = nbg["wall"] / two["wall"]
        r1 = f"; -j 1: {nbg['wall'] / one['wall']:.1f}x" if one.get("wall") else ""
        rows.append((f"class of 40 with hangs >= 5x faster than nbgrader (-j {cores}, the default)",
                     f"{nbg['wall']:.0f} s / {two['wall']:.0f} s = {r2:.1f}x{r1}", mark(r2 >= 5)))
    else:
        rows.append(("class of 40 with hangs >= 5x faster than nbgrader", "-", "not measured"))
    if reference:
        rows.append(("logistic_softmax correct hand-in (its reference) <= 1.5x its own calls",
                     f"{reference['total']:.2f} s / {reference['median']['in student calls']:.2f} s = "
                     f"{reference['ratio']:.2f}x", mark(reference["ratio"] <= 1.5)))
    else:
        rows.append(("logistic_softmax correct hand-in <= 1.5x its own calls", "-", "not measured"))
    if real:
        rows.append(("logistic_softmax real-shaped hand-in (grace), printed",
                     f"{real['total']:.2f} s / {real['median']['in student calls']:.2f} s = {real['ratio']:.2f}x "
                     f"({real['points']})", "(figure)"))
    sizes = {row["size"]: row for row in scale or []}
    if len(sizes) > 1:
        peaks = [row["grade"]["peak_mb"] for row in sizes.values()]
        spread = max(peaks) / min(peaks) - 1
        span = f"{min(sizes)} to {max(sizes)}"
        verdict = mark(spread <= 0.10) + ("" if 10000 in sizes else f" (only {span}; 10,000 not run)")
        rows.append(("grade memory flat within 10% from 200 to 10,000",
                     " / ".join(f"{s}: {sizes[s]['grade']['peak_mb']:.0f} MB" for s in sorted(sizes))
                     + f" ({100 * spread:.0f}%)", verdict))
    else:
        rows.append(("grade memory flat within 10%", "-", "not measured"))
    if 1000 in sizes:
        rerun = sizes[1000]["rerun"]["seconds"]
        rows.append(("no-op rerun of 1,000 < 2 s", f"{rerun:.2f} s", mark(rerun < 2.0)))
    else:
        rows.append(("no-op rerun of 1,000 < 2 s", "-", "not measured"))
    if sizes:
        small = min(sizes)
        per = {s: sizes[s]["similarity"]["seconds"] / s for s in sorted(sizes)}
        growth = "; per hand-in x" + f"{per[max(sizes)] / per[small]:.2f} from {small} to {max(sizes)}" \
            if len(sizes) > 1 else ""
        rows.append(("similarity near-linear in class size (first run, alone)",
                     " / ".join(f"{s}: {sizes[s]['similarity']['seconds']:.1f} s" for s in sorted(sizes)) + growth,
                     "(figure)"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="scale.py sizes (default 200 1000)")
    parser.add_argument("--big", action="store_true", help="also 10,000 hand-ins in scale.py (tens of minutes)")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--otter", action="store_true", help="also otter run per hand-in (slow)")
    parser.add_argument("--repeat", type=int, default=1, help="compare_graders.py: best of R runs per tool")
    parser.add_argument("--student-repeat", type=int, default=3, help="time_one_student.py runs per hand-in")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    args = parser.parse_args()
    sizes = args.sizes or [200, 1000]
    if args.big and 10000 not in sizes:
        sizes.append(10000)
    cores = os.cpu_count() or 1
    began = time.perf_counter()
    start_load = load()
    print(f"speed.py: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores, {platform.platform()}, "
          f"Python {platform.python_version()}; load average at the start {start_load}", flush=True)
    with tempfile.TemporaryDirectory(prefix="speed-") as folder:
        tmp = Path(folder)
        compare_args = ["--class-shape", "issue", "--repeat", str(args.repeat)]
        compare_args += [] if args.otter else ["--skip-otter"]
        compare_args += ["--skip-nbgrader"] if args.skip_nbgrader else []
        compare, t_compare = step("1. the issue's class: ours and nbgrader", "compare_graders.py", compare_args,
                                  tmp / "compare.json")
        student = ["-a", "logistic_softmax", "--repeat", str(args.student_repeat)]
        reference, t_reference = step("2a. logistic_softmax: its reference as a hand-in", "time_one_student.py",
                                      [*student, "--reference"], tmp / "reference.json")
        real, t_real = step("2b. logistic_softmax: a real-shaped hand-in (grace)", "time_one_student.py",
                            ["examples/submissions/grace", *student], tmp / "real.json")
        scale, t_scale = step("3. grade at scale: memory, no-op rerun, similarity", "scale.py",
                              ["--sizes", *map(str, sizes)], tmp / "scale.json")
    rows = goals(compare, reference, real, scale, cores)
    total = time.perf_counter() - began
    print(f"\n=== issue 13's goals  (load average at the start {start_load}, at the end {load()}; "
          f"took {total / 60:.1f} min: compare {t_compare:.0f} s, reference {t_reference:.0f} s, "
          f"grace {t_real:.0f} s, scale {t_scale:.0f} s)")
    width = max(len(goal) for goal, _, _ in rows)
    for goal, figure, verdict in rows:
        print(f"{goal:<{width}}  {verdict:<12}  {figure}")
    if args.json:
        args.json.write_text(json.dumps({"compare": compare, "reference": reference, "real": real, "scale": scale,
                                         "goals": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
