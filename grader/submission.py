"""Find the submissions in a folder and load their notebooks and modules.

A submission is `STUDENT.ipynb`, `STUDENT.py`, a folder `STUDENT/` of those, or a `STUDENT.zip`
of any of them (or one `.zip` of the whole class), unpacked by `grader.archives`. Loading
never raises for a student's file: whatever cannot be read becomes a message in
`LoadedSubmission.problems`, written for the student. Notebooks are read without schema
validation (it is slow on big notebooks and fails on harmless faults such as duplicate
cell ids) and their outputs are dropped on reading: only sources and tags matter here.
"""

from __future__ import annotations

import json
import os
import re
import stat
import warnings
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from grader.archives import IMPORTED, Candidate, prune, refusal_message, unpack
from grader.model import Cell, CellKind, LoadedSubmission, SourceFile

if TYPE_CHECKING:
    from grader.assignment import Assignment

MAX_BYTES = 50 * 1024 * 1024
MAX_FILES = 500
SUFFIXES = (".ipynb", ".py")
SKIPPED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints"})
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_KINDS: dict[str, CellKind] = {"code": "code", "markdown": "markdown", "raw": "raw"}
# Names of the class-wide entries of the output folder: a student with such an id could not get
# a folder of their own beside them (and would break the class files), so the entry is ignored.
RESERVED_IDS = frozenset({"gradebook.csv", "summary.html", "gradescope"})


def discover(
    folder: Path, unpack_to: Path | None = None
) -> tuple[tuple[tuple[str, Path], ...], tuple[Path, ...]]:
    """List `(student id, path)` of every submission directly under `folder`, and what was ignored.

    A student with several entries (`alice.ipynb` and `alice/`) keeps the notebook, then
    the folder, then the `.py` file, then a `.zip`; the others are listed as ignored (an
    archive beside the student's plain hand-in is never unpacked).

    Archives (`.zip`) are unpacked under `unpack_to` (a folder the grader owns, such as
    `OUT/.unpacked`), as `grader.archives` describes: one student's archive becomes that
    student's unpacked folder (the same path on every run while the archive is unchanged, so
    fingerprints hold), an archive that cannot be unpacked becomes a refusal note that `load`
    reads as unreadable with the reason, and an archive that is alone in `folder` and holds
    several hand-ins is a class export whose entries are the students. Without `unpack_to`
    archives are not unpacked: they are listed as ignored.
    """
    candidates: list[Candidate] = []
    ignored: list[Path] = []
    for entry in sorted(folder.iterdir()):
        kind = "" if entry.is_dir() else ".zip" if entry.suffix.lower() == ".zip" else entry.suffix
        if entry.name.startswith(".") or kind not in _PREFERENCE or (kind == ".zip" and unpack_to is None):
            ignored.append(entry)
            continue
        candidates.append(Candidate(entry.name if entry.is_dir() else entry.stem, kind, entry))
    chosen, dropped = _choose(candidates)
    ignored.extend(dropped)
    if unpack_to is not None:
        chosen, dropped = _unpack_archives(chosen, unpack_to)
        ignored.extend(dropped)
    return tuple(sorted((s, c.path) for s, c in chosen.items())), tuple(sorted(ignored))


_PREFERENCE = {".ipynb": 0, "": 1, ".py": 2, ".zip": 3}


def _choose(candidates: list[Candidate]) -> tuple[dict[str, Candidate], list[Path]]:
    """One entry per student, by `_PREFERENCE`; reserved ids and the entries not chosen are ignored."""
    chosen: dict[str, Candidate] = {}
    ignored: list[Path] = []
    for candidate in candidates:
        if candidate.student in RESERVED_IDS or candidate.student.startswith("."):
            ignored.append(candidate.path)
            continue
        previous = chosen.get(candidate.student)
        if previous is None or _PREFERENCE[candidate.kind] < _PREFERENCE[previous.kind]:
            if previous is not None:
                ignored.append(previous.path)
            chosen[candidate.student] = candidate
        else:
            ignored.append(candidate.path)
    return chosen, ignored


def _unpack_archives(chosen: dict[str, Candidate], target: Path) -> tuple[dict[str, Candidate], list[Path]]:
    """Every chosen archive replaced by what it unpacked to; a lone archive may be a class export."""
    result = dict(chosen)
    ignored: list[Path] = []
    kept: list[Path] = []
    alone = len(chosen) == 1
    for student, candidate in sorted(chosen.items()):
        if candidate.kind != ".zip":
            continue
        unpacked = unpack(candidate.path, target, allow_class=alone)
        kept.append(unpacked.folder)
        if not unpacked.is_class:
            result[student] = Candidate(student, "", unpacked.candidates[0].path)
            continue
        del result[student]
        inner, dropped = _choose(list(unpacked.candidates))
        ignored.extend((*dropped, *unpacked.ignored))
        for name, entry in inner.items():
            if entry.kind == ".zip":  # one level of nesting: a student's archive inside the class export
                shown = f"{entry.path.name} (in {candidate.path.name})"
                nested = unpack(entry.path, unpacked.folder, allow_class=False, shown=shown)
                entry = Candidate(name, "", nested.candidates[0].path)
            result[name] = entry
    prune(target, kept)
    return result, ignored


def one_handin_message(folder: Path, assignment: Assignment) -> str | None:
    """Why `folder` is one student's hand-in rather than a folder of hand-ins, or None if it is not.

    A hand-in folder directly holds the assignment's modules: `.py` or notebook files named
    after at least two of the module groups its tasks need (`task2a:BinaryModel`,
    `task4*|task3a:SoftmaxModel`; all of them when there is one). When the needs name no
    module (one-notebook assignments), the sign is a module set: every notebook and `.py` file
    directly in the folder imports or is imported by another one of them (hand-ins of a class
    never import each other). A folder of student folders, notebooks or unrelated `.py` files
    is never refused, nor one with two or more folders of code beside such files (a class folder
    with the starter code left in it).
    """
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file())
    if not files or _code_folders(folder) >= 2:  # student folders beside stray starter files: a class folder
        return None
    groups = {tuple(sorted(m.strip() for m in need.rpartition(":")[0].split("|") if m.strip()))
              for need in assignment.needs}
    groups.discard(())
    named = [p for p in files if any(fnmatchcase(module_name(p.stem), m) for g in groups for m in g)]
    matched = [g for g in groups if any(fnmatchcase(module_name(p.stem), m) for p in files for m in g)]
    evidence = named if groups and len(matched) >= min(2, len(groups)) else _module_set(files)
    if not evidence:
        return None
    shown = ", ".join(p.name for p in evidence[:6]) + (", ..." if len(evidence) > 6 else "")
    parent = folder.parent if folder.name not in ("", ".", "..") else folder.resolve().parent
    return (f"{folder} looks like one student's hand-in (it holds {shown}); "
            f"grade the folder that holds it: grade {parent}")


def _code_folders(folder: Path) -> int:
    """How many folders directly under `folder` hold a notebook or a `.py` file of their own."""
    count = 0
    for sub in folder.iterdir():
        if sub.is_dir() and not sub.name.startswith(".") and sub.name not in SKIPPED_DIRS:
            count += any(p.suffix in SUFFIXES for p in sub.iterdir())
    return count


def _module_set(files: list[Path]) -> list[Path]:
    """`files` when each imports, or is imported by, another of them (a program of modules), else nothing."""
    modules = {module_name(p.stem): p for p in files if p.suffix == ".py"}
    linked: set[Path] = set()
    for p in files:
        try:
            text = p.read_bytes()[:MAX_BYTES].decode("utf-8", errors="replace")
        except OSError:
            continue
        for name in IMPORTED.findall(text):
            if name in modules and modules[name] != p:
                linked.update((p, modules[name]))
    return files if len(files) >= 2 and linked == set(files) else []



def load(student: str, path: Path) -> LoadedSubmission:
    """Read one submission: a notebook, a Python file, or a folder of them."""
    if path.is_symlink():
        return LoadedSubmission(student, str(path), (), (_LINK_MESSAGE.format(path.name),))
    refused = refusal_message(path)
    if refused is not None:  # an archive that could not be unpacked (grader.archives)
        return LoadedSubmission(student, str(path), (), (refused,))
    if path.is_dir():
        files, problems = _load_folder(path)
        if not files:
            problems = (
                *problems,
                f"{path.name}/ holds no notebook (.ipynb) or Python file (.py) that could be read.",
            )
        return LoadedSubmission(student, str(path), files, problems)
    if not path.is_file():
        return LoadedSubmission(student, str(path), (), (f"{path.name} does not exist.",))
    if path.suffix not in SUFFIXES:
        return LoadedSubmission(
            student, str(path), (), (f"{path.name} is not a notebook (.ipynb) or a Python file (.py).",)
        )
    loaded, problems = _load_file(path, path.name, "submission")
    if loaded is not None and not loaded.is_notebook and not loaded.cells[0].source.strip():
        loaded, problems = None, (*problems, f"{path.name} is empty.")
    return LoadedSubmission(student, str(path), () if loaded is None else (loaded,), problems)


_LINK_MESSAGE = "{} is a symbolic link; links are not followed. Hand in the file itself."


def module_name(stem: str) -> str:
    """The import name of a file stem: `task 2a (1)` becomes `task_2a_1_`."""
    name = re.sub(r"\W", "_", stem)
    return f"_{name}" if not name or name[0].isdigit() else name


def _load_folder(folder: Path) -> tuple[tuple[SourceFile, ...], tuple[str, ...]]:
    """Every notebook and module under `folder`; a shallower file wins a clash of module names."""
    found, problems = _walk(folder)
    found.sort(key=lambda p: (len(p.relative_to(folder).parts), p.suffix != ".py", str(p)))
    files: dict[str, SourceFile] = {}
    for p in found:
        relative = p.relative_to(folder).as_posix()
        name = module_name(p.stem)
        if name in files:
            problems.append(f"{relative} was ignored: {files[name].path} already provides module `{name}`.")
            continue
        loaded, messages = _load_file(p, relative, name)
        problems.extend(messages)
        if loaded is not None:
            files[name] = loaded
    ordered = tuple(sorted(files.values(), key=lambda f: f.path))
    return ordered, tuple(problems)


def _walk(folder: Path) -> tuple[list[Path], list[str]]:
    """The notebooks and modules under `folder`, skipping hidden folders, caches and virtual environments."""
    found: list[Path] = []
    problems: list[str] = []
    for root, dirs, names in os.walk(folder):  # never follows symlinked folders, so cannot loop
        here = Path(root)
        for d in sorted(dirs):
            if (here / d / "pyvenv.cfg").exists() or d in {"site-packages", "node_modules"}:
                problems.append(
                    f"{(here / d).relative_to(folder).as_posix()}/ was ignored: it is installed packages."
                )
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and d not in {"site-packages", "node_modules"}
            and not (here / d / "pyvenv.cfg").exists()
        )
        found.extend(here / n for n in sorted(names) if Path(n).suffix in SUFFIXES and not n.startswith("."))
    if len(found) > MAX_FILES:
        problems.append(f"Only the first {MAX_FILES} of {len(found)} notebooks and Python files were read.")
    return found[:MAX_FILES], problems


def _load_file(path: Path, shown: str, module: str) -> tuple[SourceFile | None, tuple[str, ...]]:
    """One file as a SourceFile, or None and why not."""
    try:
        data = _read_regular(path, shown)
    except _Refused as refused:
        return None, (str(refused),)
    except OSError as error:
        return None, (f"{shown} could not be read ({error.strerror}).",)
    if path.suffix == ".ipynb":
        return _notebook(data, shown, module)
    return _python(data, shown, module)


class _Refused(Exception):
    """A file that is not read, with the reason for the student."""


def _read_regular(path: Path, shown: str) -> bytes:
    """The bytes of a regular file, never following a link: a hand-in cannot point at the reference, a FIFO or /dev/zero."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if os.path.islink(path):
            raise _Refused(_LINK_MESSAGE.format(shown)) from None
        raise error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(f"{shown} is not a regular file, so it was not read.")
        if info.st_size > MAX_BYTES:
            raise _Refused(f"{shown} is {info.st_size // 2**20} MB, larger than the {MAX_BYTES // 2**20} MB limit.")
        return handle.read(MAX_BYTES + 1)


def _python(data: bytes, shown: str, module: str) -> tuple[SourceFile | None, tuple[str, ...]]:
    """A module as one code cell, decoded as PEP 263 says, else as Latin-1 with a note."""
    if b"\x00" in data:
        return None, (f"{shown} is a binary file, not Python source.",)
    text, problems = _decode(data, shown)
    cell = Cell(index=0, kind="code", source=text)
    return SourceFile(module=module, path=shown, cells=(cell,), is_notebook=False), problems


def _decode(data: bytes, shown: str) -> tuple[str, tuple[str, ...]]:
    """Python source bytes to text: UTF-8, else the coding cookie, else Latin-1."""
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    head = b"\n".join(data.splitlines()[:2])
    cookie = _COOKIE.search(head)
    if cookie is not None:
        try:
            return data.decode(cookie.group(1).decode("ascii")), ()
        except (LookupError, UnicodeDecodeError):
            pass
    note = f"{shown} is not saved as UTF-8; it was read as Latin-1, so some characters may look wrong."
    return data.decode("latin-1"), (note,)


def _notebook(data: bytes, shown: str, module: str) -> tuple[SourceFile | None, tuple[str, ...]]:
    """A notebook's cells and assignment id, or None and a message a student understands."""
    if not data.strip():
        return None, (f"{shown} is empty: the notebook was probably not saved.",)
    if b"\x00" in data:
        return None, (f"{shown} is a binary file, not a notebook.",)
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, (f"{shown} is not a notebook: it is not UTF-8 text.",)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return None, (f"{shown} is not a valid notebook: its JSON is broken at {where} ({error.msg}).",)
    except RecursionError:
        return None, (f"{shown} is not a valid notebook: its JSON is nested too deeply.",)
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return None, (f"{shown} is JSON but not a Jupyter notebook.",)
    notebook = _to_v4(raw)
    if notebook is None:
        return None, (f"{shown} is a notebook in a format version that cannot be read.",)
    cells = tuple(_cell(i, c) for i, c in enumerate(notebook.get("cells") or ()) if isinstance(c, dict))
    grader = _mapping(_mapping(notebook.get("metadata")).get("grader"))
    assignment = grader.get("assignment")
    source = SourceFile(module, shown, cells, True, assignment if isinstance(assignment, str) else None)
    return source, ()


def _to_v4(raw: dict[str, Any]) -> Any | None:
    """The notebook as nbformat 4 without validating it, its outputs emptied; None if impossible."""
    for cell in _raw_cells(raw):
        if isinstance(cell, dict) and "outputs" in cell:
            cell["outputs"] = []
    try:
        version = int(raw.get("nbformat", 4))
        reader = nbformat.versions.get(version)
        if reader is None:
            return None
        notebook = reader.to_notebook_json(raw, minor=raw.get("nbformat_minor", 0))
        if version == 4:
            return notebook
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.convert(notebook, 4)
    except (ValueError, TypeError, KeyError, AttributeError, nbformat.ValidationError):
        return None


def _raw_cells(raw: dict[str, Any]) -> list[Any]:
    """The cells of a v4 notebook or of every worksheet of an older one."""
    if isinstance(raw.get("cells"), list):
        return list(raw["cells"])
    sheets = raw.get("worksheets") or []
    return [c for s in sheets if isinstance(s, dict) for c in s.get("cells") or ()]


def _cell(index: int, cell: dict[str, Any]) -> Cell:
    """One notebook cell; an unknown cell type is kept as raw."""
    source = cell.get("source", "")
    text = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
    tags = _mapping(cell.get("metadata")).get("tags")
    tags = tags if isinstance(tags, list) else ()
    kind = _KINDS.get(str(cell.get("cell_type")), "raw")
    return Cell(index, kind, text, tuple(t for t in tags if isinstance(t, str)))


def _mapping(value: object) -> dict[str, Any]:
    """`value` if it is a dict, else an empty one: notebook metadata is free-form JSON."""
    return value if isinstance(value, dict) else {}
