"""`assignment.toml` to a validated, frozen `Assignment`: unknown keys rejected, errors name the key.

Example (every key but `schema_version`, `id`, `title` and `tasks` is optional):

    schema_version = 1
    id = "logistic_softmax"
    title = "Logistic and softmax regression"
    total_points = 100
    reference = "../../reference/logistic_softmax"      # a folder of modules or a notebook
    template = "../../student_template/logistic_softmax"
    data = "data.py"                                     # defines load(settings) -> dict

    [sandbox]                # per worker
    call_timeout = 10.0      # seconds for one call into student code
    test_timeout = 60.0      # seconds for all calls of one test
    memory_mb = 2048         # address space
    python = ""              # interpreter for workers (a venv's bin/python, relative to this folder, or
                             # a name on PATH), which needs numpy; default: the grader's own
    preload = ["numpy"]      # imported before the worker says it is ready
    provide = {"past.builtins" = "shims/past_builtins.py"}   # modules every worker holds (see below)

    `provide` maps a module name to a file of the assignment folder: instructor code (standard library
    and numpy only) placed in the student's worker, in this order, before the student's code first
    runs, so that `import NAME` finds it there. It stands in for packages that hand-ins import but the
    worker does not hold (`from past.builtins import xrange`); a package `a.b` needs `a` provided first.

    [settings]               # free-form values the tests read (`settings` fixture)
    l2_convention = "lambda"

    [inject]                 # globals given to every student module: name = key path in the data
    X_train = "binary.X_train"

    [[tasks]]
    id = "1a"
    title = "Gradient of the logistic regression loss"
    points = 10
    needs = ["task2a:BinaryModel"]

    [[questions]]            # written answers, graded by grader.answers
    id = "1a"
    task = "1a"
    kind = "expression"
    points = 2
    expected = "-(y - yhat) * x_i"
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from grader.errors import ConfigError
from grader.sandbox.launcher import Limits

SCHEMA_VERSION = 1
_TOP_KEYS = {
    "schema_version", "id", "title", "total_points", "reference", "template", "data",
    "sandbox", "settings", "inject", "tasks", "questions", "tests",
}
_SANDBOX_KEYS = {"call_timeout", "test_timeout", "memory_mb", "cpu_seconds", "python", "preload", "provide"}
_TASK_KEYS = {"id", "title", "points", "needs", "forbidden"}
_QUESTION_KEYS = {
    "id", "task", "kind", "points", "expected", "tolerance", "accepted", "options", "symbols",
    "index_superscripts", "title", "part_of", "part_names", "prompt", "answer_from",
}
_ANSWER_FROM = {"written", "figures"}  # a manual question's answer: a written answer, or the task's recorded figures
_QUESTION_KINDS = {"numeric", "choice", "expression", "shape", "manual"}


@dataclass(frozen=True)
class Task:
    """One graded task: its points for code tests and the names its code needs."""

    id: str
    title: str
    points: float
    needs: tuple[str, ...]
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionSpec:
    """A written question as declared in the TOML; `grader.answers` interprets the fields."""

    id: str
    task: str
    kind: str
    points: float
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Assignment:
    """A validated assignment: tasks, questions, limits, settings, and where its files are."""

    id: str
    title: str
    folder: Path
    tasks: tuple[Task, ...]
    questions: tuple[QuestionSpec, ...]
    limits: Limits
    python: str | None
    preload: tuple[str, ...]
    settings: Mapping[str, Any]
    inject: Mapping[str, str]
    reference: Path | None
    template: Path | None
    data: Path | None
    public_tests: Path
    hidden_tests: Path
    total_points: float
    provide: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # module name -> source

    @property
    def needs(self) -> tuple[str, ...]:
        """Every name any task needs, in task order, without repeats."""
        return tuple(dict.fromkeys(n for t in self.tasks for n in t.needs))

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def with_python(self, python: str) -> Assignment:
        """The same assignment with its workers run by another interpreter (`grade --python PATH`)."""
        return replace(self, python=checked_python(python, Path.cwd(), "--python"))

    def fingerprint(self) -> str:
        """A hash of every file of the assignment (TOML, tests, data module, reference) and its interpreter."""
        digest = hashlib.sha256()
        if self.python:  # graded with another NumPy is graded anew
            digest.update(f"python={self.python}\n".encode())
        roots = [self.folder] + ([self.reference] if self.reference else [])
        for root in roots:
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for path in files:
                if "__pycache__" in path.parts or ".ipynb_checkpoints" in path.parts:
                    continue
                digest.update(str(path.relative_to(root.parent)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()


def load_assignment(folder: Path) -> Assignment:
    """Read and validate `folder/assignment.toml`; raise `ConfigError` naming the file and key."""
    path = folder / "assignment.toml"
    if not path.is_file():
        raise ConfigError(f"{path}: no assignment.toml in this folder")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return _validate(raw, folder.resolve(), path)


def _validate(raw: dict[str, Any], folder: Path, path: Path) -> Assignment:
    where = str(path)
    _reject_unknown(raw, _TOP_KEYS, where, "")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(f"{where}: schema_version must be {SCHEMA_VERSION}, found {raw.get('schema_version')!r}")
    ident = _string(raw, "id", where)
    if ident != folder.name:
        raise ConfigError(f"{where}: id = {ident!r} but the folder is named {folder.name!r}")
    tasks = _tasks(raw.get("tasks"), where)
    questions = _questions(raw.get("questions", []), {t.id for t in tasks}, where)
    sandbox = raw.get("sandbox", {})
    _reject_unknown(sandbox, _SANDBOX_KEYS, where, "sandbox.")
    defaults = Limits()
    limits = Limits(
        call_timeout=_number(sandbox, "call_timeout", where, defaults.call_timeout, "sandbox."),
        test_timeout=_number(sandbox, "test_timeout", where, defaults.test_timeout, "sandbox."),
        memory_mb=int(_number(sandbox, "memory_mb", where, defaults.memory_mb, "sandbox.")),
        cpu_seconds=int(_number(sandbox, "cpu_seconds", where, defaults.cpu_seconds, "sandbox.")),
    )
    total = sum(t.points for t in tasks) + sum(q.points for q in questions)
    declared = _number(raw, "total_points", where, total)
    if abs(declared - total) > 1e-9:
        raise ConfigError(f"{where}: total_points = {declared:g} but the tasks and questions add up to {total:g}")
    inject = raw.get("inject", {})
    if not isinstance(inject, dict) or not all(isinstance(v, str) for v in inject.values()):
        raise ConfigError(f"{where}: [inject] maps global names to data keys (strings)")
    tests = raw.get("tests", {})
    _reject_unknown(tests, {"public", "hidden"}, where, "tests.")
    return Assignment(
        id=ident,
        title=_string(raw, "title", where),
        folder=folder,
        tasks=tasks,
        questions=questions,
        limits=limits,
        python=checked_python(sandbox["python"], folder, f"{where}: sandbox.python") if sandbox.get("python") else None,
        preload=tuple(sandbox.get("preload", ["numpy"])),
        provide=_provided(sandbox.get("provide", {}), folder, where),
        settings=MappingProxyType(dict(raw.get("settings", {}))),
        inject=MappingProxyType(dict(inject)),
        reference=_path(raw, "reference", folder, where, folder.parent.parent / "reference" / ident),
        template=_path(raw, "template", folder, where, folder.parent.parent / "student_template" / ident),
        data=_path(raw, "data", folder, where, folder / "data.py"),
        public_tests=folder / tests.get("public", "tests/public"),
        hidden_tests=folder / tests.get("hidden", "tests/hidden"),
        total_points=total,
    )


def checked_python(python: Any, base: Path, where: str) -> str:
    """The absolute path of an interpreter that can run the worker (it imports numpy), or `ConfigError`.

    A path with a folder in it is taken relative to `base`; a bare name is looked up on PATH.
    The path is not resolved: a venv's `bin/python` is a link whose target would lose the venv.
    """
    if not isinstance(python, str) or not python.strip():
        raise ConfigError(f"{where}: the interpreter must be a path, found {python!r}")
    found = shutil.which(python) if os.sep not in python else os.path.abspath(base / Path(python).expanduser())
    if found is None or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise ConfigError(f"{where}: no interpreter at {python!r}")
    try:
        probe = subprocess.run([found, "-I", "-c", "import numpy"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConfigError(f"{where}: {python!r} does not run: {error}") from None
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["it exited with an error"])[-1]
        raise ConfigError(f"{where}: {python!r} cannot import numpy, which the sandbox worker needs ({last})")
    return found


def _tasks(raw: Any, where: str) -> tuple[Task, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: [[tasks]] must list at least one task")
    tasks = []
    for index, entry in enumerate(raw):
        prefix = f"tasks[{index}]."
        _reject_unknown(entry, _TASK_KEYS, where, prefix)
        needs = entry.get("needs", [])
        if not isinstance(needs, list) or not all(isinstance(n, str) and n for n in needs):
            raise ConfigError(f"{where}: {prefix}needs must be a list of names")
        points = _number(entry, "points", where, None, prefix)
        if points < 0:
            raise ConfigError(f"{where}: {prefix}points must not be negative")
        tasks.append(Task(_string(entry, "id", where, prefix), _string(entry, "title", where, prefix), points,
                          tuple(needs), tuple(entry.get("forbidden", []))))
    ids = [t.id for t in tasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{where}: tasks.id repeated: {', '.join(duplicates)}")
    return tuple(tasks)


def _questions(raw: Any, task_ids: set[str], where: str) -> tuple[QuestionSpec, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: [[questions]] must be an array of tables")
    questions = []
    for index, entry in enumerate(raw):
        prefix = f"questions[{index}]."
        _reject_unknown(entry, _QUESTION_KEYS, where, prefix)
        kind = _string(entry, "kind", where, prefix)
        if kind not in _QUESTION_KINDS:
            raise ConfigError(f"{where}: {prefix}kind = {kind!r}; use one of {', '.join(sorted(_QUESTION_KINDS))}")
        task = str(entry.get("task", entry.get("id")))
        if task not in task_ids:
            raise ConfigError(f"{where}: {prefix}task = {task!r} is not the id of any task")
        if "answer_from" in entry and (kind != "manual" or entry["answer_from"] not in _ANSWER_FROM):
            raise ConfigError(f"{where}: {prefix}answer_from is for kind = \"manual\" only, one of "
                              f"{', '.join(sorted(_ANSWER_FROM))}")
        if "prompt" in entry and not isinstance(entry["prompt"], str):
            raise ConfigError(f"{where}: {prefix}prompt must be a string")
        extra = {k: v for k, v in entry.items() if k not in {"id", "task", "kind", "points"}}
        questions.append(QuestionSpec(_string(entry, "id", where, prefix), task, kind,
                                      _number(entry, "points", where, None, prefix), MappingProxyType(extra)))
    return tuple(questions)


def _provided(table: Any, folder: Path, where: str) -> Mapping[str, str]:
    """`[sandbox] provide`: module name -> the source of a file inside the assignment folder."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: sandbox.provide maps module names to files of the assignment folder")
    sources = {}
    for name, relative in table.items():
        target = (folder / str(relative)).resolve()
        if not isinstance(relative, str) or not target.is_relative_to(folder) or not target.is_file():
            raise ConfigError(f"{where}: sandbox.provide.{name} = {relative!r} is not a file of the assignment folder")
        sources[name] = target.read_text(encoding="utf-8")
    return MappingProxyType(sources)


def _reject_unknown(table: Any, allowed: set[str], where: str, prefix: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'the file'} must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})")


def _string(table: dict[str, Any], key: str, where: str, prefix: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {prefix}{key} must be a non-empty string")
    return value


def _number(table: dict[str, Any], key: str, where: str, default: float | None, prefix: str = "") -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {prefix}{key} must be a number")
    return float(value)


def _path(table: dict[str, Any], key: str, folder: Path, where: str, default: Path) -> Path | None:
    if key not in table:
        if default.exists():
            return default.resolve()
        for suffix in (".ipynb", ".py"):
            if default.with_suffix(suffix).exists():
                return default.with_suffix(suffix).resolve()
        return None
    target = (folder / str(table[key])).resolve()
    if not target.exists():
        raise ConfigError(f"{where}: {key} = {table[key]!r} does not exist ({target})")
    return target


def toml_without(
    text: str,
    top_level: tuple[str, ...] = (),
    in_tables: Mapping[str, tuple[str, ...]] | None = None,
    tables: tuple[str, ...] = (),
) -> str:
    """An assignment.toml's text without some keys and tables, comments and layout kept.

    `top_level` keys before the first table, keys of named tables (`{"sandbox": ("python",)}`),
    and whole tables or arrays of tables (`("questions",)` drops `[[questions]]` and `[questions.x]`).
    """
    out = []
    table = ""
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped.split("#", 1)[0].strip().strip("[]").strip()
        if table.split(".", 1)[0] in tables:
            continue
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else ""
        if key and (key in top_level if not table else key in (in_tables or {}).get(table, ())):
            continue
        out.append(line)
    return "".join(out)
