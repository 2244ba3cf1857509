"""Make a student template from a reference solution (a thin wrapper; prefer `grader assign ID`).

Usage:
    python tools/strip_solutions.py reference/logistic_softmax student_template/logistic_softmax
    python tools/strip_solutions.py --check reference/logistic_softmax student_template/logistic_softmax

The stripping rules are in `grader/assign.py`. With `--check`, nothing is written and the
exit code is 1 if the destination differs. Unlike `grader assign`, this does not refresh the
public tests' expected values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.assign import RegionError, sync_files, template_files


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the template; return the exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", type=Path, help="the reference solution folder")
    parser.add_argument("dest", type=Path, help="the student template folder to write")
    parser.add_argument("--check", action="store_true", help="only report whether dest is up to date")
    args = parser.parse_args(argv)
    try:
        files = template_files(args.source)
    except RegionError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    stale = sync_files(files, args.dest if args.source.is_dir() else args.dest.parent, write=not args.check)
    for path in stale:
        print(f"out of date: {path}" if args.check else f"wrote {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
