"""`grader assign`: the student template from the reference, and the public tests' expected values.

A solution region is every line from a `### BEGIN SOLUTION` marker to the next
`### END SOLUTION` marker, both included (the nbgrader convention). The region is
replaced, at the BEGIN marker's indentation, by a TODO comment and one statement:

    ### BEGIN SOLUTION                 ->  # TODO: implement this.
                                           raise NotImplementedError
    ### BEGIN SOLUTION: <text>         ->  # TODO: <text>
                                           raise NotImplementedError
    ### BEGIN SOLUTION (pass): <text>  ->  # TODO: <text>
                                           pass

The `(pass)` form is for code the surrounding function must run without (early
stopping inside the training loop): the template still works, only without it.
Regions do not nest. Every stripped module must still parse.

Notebooks: code cells are stripped the same way and lose their outputs and execution
counts; markdown cells tagged `answer:<task>` are emptied. Any other file is copied
unchanged. A folder reference `reference/ID/` becomes `student_template/ID/`; a notebook
or module reference `reference/ID.ipynb` becomes `student_template/ID.ipynb`. Files
already in the template that the reference lacks (a README) are left alone.

`grader assign` also refreshes `tests/public/expected.npz` (see `grader.testing.expected`)
by running the public tests against the reference, and `public_material` copies what a
student's machine needs to run `grader check`: the assignment folder (TOML, data module,
public tests with their store, shared test helpers) without the hidden tests, and with the
TOML's `reference` and `template` keys dropped (neither exists there).
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from grader.assignment import Assignment, toml_without
from grader.errors import ConfigError
from grader.testing.expected import read_store, same_values, write_store

BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?P<stub> \(pass\))?(?::[ \t]*(?P<todo>.*?))?[ \t]*$"
)
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints"}


class RegionError(ConfigError):
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


def template_files(source: Path) -> dict[Path, bytes]:
    """Every file of the template made from `source` (a folder, or one notebook or module): path -> content.

    The paths are relative to the template's folder, or just the file's name for a one-file reference.
    """
    files: dict[Path, bytes] = {}
    paths = [source] if source.is_file() else sorted(source.rglob("*"))
    for path in paths:
        relative = Path(path.name) if source.is_file() else path.relative_to(source)
        if path.is_dir() or SKIPPED_NAMES.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.suffix == ".py":
            files[relative] = strip_module(path.read_text(encoding="utf-8"), str(path)).encode()
        elif path.suffix == ".ipynb":
            files[relative] = strip_notebook(path.read_text(encoding="utf-8"), str(path)).encode()
        else:
            files[relative] = path.read_bytes()
    return files


def sync_files(files: dict[Path, bytes], dest: Path, write: bool = True) -> tuple[Path, ...]:
    """Write the files that differ under `dest` (or only list them); return what was (or is) out of date."""
    stale = []
    for relative, content in files.items():
        target = dest / relative
        if target.is_file() and target.read_bytes() == content:
            continue
        stale.append(target)
        if write:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return tuple(stale)


def template_path(assignment: Assignment) -> Path:
    """Where `grader assign` writes: the TOML's `template`, else `student_template/` beside `reference/`."""
    if assignment.template is not None:
        return assignment.template
    if assignment.reference is None:
        raise ConfigError(f"{assignment.folder}/assignment.toml: no reference, so no template to write")
    return assignment.folder.parent.parent / "student_template" / assignment.reference.name


@dataclass(frozen=True)
class AssignReport:
    """What `grader assign` wrote (or, with check, found out of date)."""

    template: Path
    stale: tuple[Path, ...]
    store: Path | None
    store_stale: bool


def assign(assignment: Assignment, dest: Path | None = None, check: bool = False, freeze: bool = True) -> AssignReport:
    """Write the student template from the reference and refresh the public tests' expected values."""
    if assignment.reference is None:
        raise ConfigError(f"{assignment.folder}/assignment.toml: the reference is not here, so there is nothing to "
                          "strip (set `reference`, or put it at reference/" + assignment.id + ")")
    target = dest or template_path(assignment)
    files = template_files(assignment.reference)
    root = target if assignment.reference.is_dir() else target.parent
    stale = sync_files(files, root, write=not check)
    store: Path | None = None
    store_stale = False
    if freeze:
        store, store_stale = freeze_expected(assignment, write=not check)
    return AssignReport(target, stale, store, store_stale)


def freeze_expected(assignment: Assignment, write: bool = True) -> tuple[Path | None, bool]:
    """Run the public tests on the reference and store the values their `expected(...)` computed.

    Returns the store's path (None when no public test asks for a value) and whether it was
    (with write=False: would be) changed. The reference must pass every public test.
    """
    from grader.pipeline import grade_submission
    from grader.session import build_context, new_pool

    context = replace(build_context(assignment, include_hidden=False), questions=())
    assert context.expected is not None and assignment.reference is not None
    pool = new_pool(assignment)
    try:
        result = grade_submission(context, pool, "reference", assignment.reference)
    finally:
        pool.close()
    failed = [f"{task.id}: {test.name}: {test.message}" for task in result.tasks for test in task.tests if not test.passed]
    if failed:
        raise ConfigError(f"{assignment.reference}: the reference fails public tests, so their expected values "
                          f"cannot be stored: {'; '.join(failed)}")
    path = context.expected.store
    values = context.expected.recorded
    if not values and not path.exists():
        return None, False
    if write:
        return path, write_store(path, values)
    return path, not same_values(read_store(path), values)


def public_material(assignment: Assignment, dest: Path) -> Path:
    """Copy what `grader check` needs on a student's machine to `dest/ID`: no hidden tests, no reference.

    The public tests are collected first, with the checks a student's machine will make (no test
    takes the reference, every fixture exists): what could not run there is refused here.
    """
    from grader.testing.collect import collect

    collect(assignment, include_hidden=False)
    hidden = assignment.hidden_tests.resolve()
    target = dest / assignment.id

    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder).resolve()
        return [n for n in names if here / n == hidden or n in SKIPPED_NAMES or n.endswith(".pyc")]

    shutil.copytree(assignment.folder, target, ignore=ignore, dirs_exist_ok=True)
    toml = target / "assignment.toml"
    toml.write_text(_without_private_paths(toml.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def _without_private_paths(text: str) -> str:
    """The TOML a student may see: no `reference`/`template` paths, no written questions, no interpreter path.

    The questions' tables hold the expected answers, so they stay with the instructor (written
    answers are graded at hand-in, never by `grader check`); `total_points` goes with them, since
    the public tasks alone no longer add up to it. `[sandbox] python` names a path on the grading
    machine, which a student's machine does not have.
    """
    return toml_without(text, top_level=("reference", "template", "total_points"),
                        in_tables={"sandbox": ("python",)}, tables=("questions",))


