"""Make a student template from a reference solution by cutting out its solution regions.

Usage:
    python tools/strip_solutions.py reference/logistic_softmax student_template/logistic_softmax
    python tools/strip_solutions.py --check reference/logistic_softmax student_template/logistic_softmax

A solution region is every line from a `### BEGIN SOLUTION` marker to the next
`### END SOLUTION` marker, both included. The region is replaced, at the BEGIN
marker's indentation, by a TODO comment and one statement:

    ### BEGIN SOLUTION                 ->  # TODO: implement this.
                                           raise NotImplementedError
    ### BEGIN SOLUTION: <text>         ->  # TODO: <text>
                                           raise NotImplementedError
    ### BEGIN SOLUTION (pass): <text>  ->  # TODO: <text>
                                           pass

The `(pass)` form is for code the surrounding function must run without (early
stopping inside the training loop): the template still works, only without it.
Regions do not nest. Every stripped module must still parse.

Notebooks: code cells are stripped the same way and lose their outputs; markdown
cells tagged `answer:<task>` are emptied. Any other file is copied unchanged.
Files already in the destination that the source lacks (a README) are left alone.
With `--check`, nothing is written and the exit code is 1 if the destination differs.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?P<stub> \(pass\))?(?::[ \t]*(?P<todo>.*?))?[ \t]*$"
)
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints"}


class RegionError(Exception):
    """A solution marker out of place, or a stripped module that no longer parses."""


def strip_source(source: str, filename: str) -> str:
    """Replace every solution region of `source` by its TODO comment and stub statement."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    open_at: int | None = None
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        begin = BEGIN.match(text)
        if begin:
            if open_at is not None:
                raise RegionError(
                    f"{filename}:{number}: BEGIN SOLUTION inside the region opened at line {open_at}"
                )
            open_at = number
            indent = begin["indent"]
            todo = begin["todo"] or "implement this."
            stub = "pass" if begin["stub"] else "raise NotImplementedError"
            out.append(f"{indent}# TODO: {todo}\n{indent}{stub}\n")
        elif END.match(text):
            if open_at is None:
                raise RegionError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            open_at = None
        elif "SOLUTION" in text and text.lstrip().startswith("### "):
            raise RegionError(f"{filename}:{number}: unrecognised solution marker: {text.strip()}")
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise RegionError(f"{filename}:{open_at}: BEGIN SOLUTION is never closed")
    return "".join(out)


def strip_module(source: str, filename: str) -> str:
    """Strip a `.py` file and check that the result is still valid Python."""
    stripped = strip_source(source, filename)
    try:
        ast.parse(stripped, filename=filename)
    except SyntaxError as error:
        raise RegionError(
            f"{filename}:{error.lineno}: the stripped module does not parse: {error.msg}"
        ) from error
    return stripped


def strip_notebook(text: str, filename: str) -> str:
    """Strip the code cells of a notebook, clear its outputs and empty its answer cells."""
    notebook = nbformat.reads(text, as_version=4)
    for index, cell in enumerate(notebook.cells):
        where = f"{filename} [cell {index}]"
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag.startswith("answer:") for tag in tags):
            cell.source = ""
        if cell.cell_type == "code":
            cell.source = strip_source(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        else:
            strip_source(cell.source, where)  # markers belong in code cells only; reject stray ones
    return nbformat.writes(notebook)


def template_files(source_dir: Path) -> dict[Path, str]:
    """Every file of the template, as relative path -> content."""
    files: dict[Path, str] = {}
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if path.is_dir() or SKIPPED_NAMES.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            files[relative] = strip_module(text, str(path))
        elif path.suffix == ".ipynb":
            files[relative] = strip_notebook(text, str(path))
        else:
            files[relative] = text
    return files


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the template; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the reference solution folder")
    parser.add_argument("dest", type=Path, help="the student template folder to write")
    parser.add_argument("--check", action="store_true", help="only report whether dest is up to date")
    args = parser.parse_args(argv)

    try:
        files = template_files(args.source)
    except RegionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    stale = []
    for relative, content in files.items():
        target = args.dest / relative
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == content:
            continue
        stale.append(relative)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")

    if args.check:
        for relative in stale:
            print(f"out of date: {args.dest / relative}")
        return 1 if stale else 0
    for relative in stale:
        print(f"wrote {args.dest / relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
