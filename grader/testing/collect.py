"""Collect an assignment's instructor tests: pytest-style functions with `task` and `points` marks.

Test files are plain pytest files. They are imported once per process, with pytest's
assertion rewriting so that a bare `assert` explains itself. Every `test_*` function
must carry `@pytest.mark.task("ID")` for a task of the assignment; the marks
`points(n)`, `timeout(seconds)` and `parametrize(...)` are understood.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import sys
import types
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.errors import ConfigError
from grader.model import Visibility


@dataclass(frozen=True)
class InstructorTest:
    """One collected test, ready to run with fixtures."""

    name: str  # what students see: the docstring's first line, or the function name in words
    ident: str  # file::function[param]
    task: str
    visibility: Visibility
    function: Callable[..., Any]
    parameters: tuple[tuple[str, Any], ...]  # from parametrize
    points: float | None
    timeout: float | None
    order: int
    fresh: bool = False  # @pytest.mark.fresh: run student functions again even if they hung in an earlier test


@dataclass(frozen=True)
class Suite:
    """All tests of an assignment, in task order, then file and definition order."""

    tests: tuple[InstructorTest, ...]

    def public(self) -> Suite:
        return Suite(tuple(t for t in self.tests if t.visibility == "public"))

    def for_task(self, task: str) -> tuple[InstructorTest, ...]:
        return tuple(t for t in self.tests if t.task == task)


def collect(assignment: Assignment, include_hidden: bool = True) -> Suite:
    """Import the public (and hidden) test files and gather their tests."""
    found: list[InstructorTest] = []
    folders: list[tuple[Visibility, Path]] = [("public", assignment.public_tests)]
    if include_hidden:
        folders.append(("hidden", assignment.hidden_tests))
    counter = itertools.count()
    for visibility, folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("test_*.py")):
            # named by the file's path and content too: two copies of an assignment in one process (tests,
            # a notebook checking twice) never share a module
            digest = zlib.crc32(str(path.resolve()).encode() + path.read_bytes())
            module = _import(path, f"_grader_tests_.{assignment.id}.{visibility}.{path.stem}_{digest:08x}")
            functions = [
                f for name, f in inspect.getmembers(module, inspect.isfunction)
                if name.startswith("test") and f.__module__ == module.__name__
            ]
            for function in sorted(functions, key=lambda f: f.__code__.co_firstlineno):
                found.extend(_expand(function, path, visibility, counter))
    order = {t.id: i for i, t in enumerate(assignment.tasks)}
    for test in found:
        if test.task not in order:
            raise ConfigError(f"{test.ident}: task {test.task!r} is not a task of {assignment.id}/assignment.toml")
        _check_fixtures(test)
    _check_points(assignment, found)
    found.sort(key=lambda t: (order[t.task], t.visibility != "public", t.order))
    return Suite(tuple(found))


# What a test may ask for by parameter name; `parametrize` adds its own names.
FIXTURES = frozenset({"student", "reference", "data", "settings", "rng", "seed", "record", "expected", "shared"})
MARKS = frozenset({"task", "points", "timeout", "parametrize", "fresh"})


def _check_fixtures(test: InstructorTest) -> None:
    """What pytest checks at collection: every parameter is a fixture; a public test never takes `reference`.

    A public test runs on students' machines, which have no reference: it asks
    `expected(key, compute)` instead.
    """
    wanted = inspect.signature(test.function).parameters
    known = FIXTURES | {name for name, _ in test.parameters}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"{location(test)}: unknown fixture(s) {', '.join(unknown)}; "
                          f"the fixtures are {', '.join(sorted(FIXTURES))}")
    if test.visibility == "public" and "reference" in wanted:
        raise ConfigError(f"{location(test)}: a public test cannot take `reference` (students' machines have "
                          "none); ask `expected(key, compute)` instead, or move the test to tests/hidden")


def _check_points(assignment: Assignment, tests: list[InstructorTest]) -> None:
    """Explicit points are positive and never add up to more than their task's points."""
    for task in assignment.tasks:
        explicit = 0.0
        for test in tests:
            if test.task == task.id and test.points is not None:
                if not test.points >= 0:
                    raise ConfigError(f"{location(test)}: points must be a number of at least 0, not {test.points:g}")
                explicit += test.points
        if explicit > task.points + 1e-9:
            raise ConfigError(f"task {task.id}: its tests' points add up to {explicit:g}, more than its "
                              f"{task.points:g} in {assignment.folder / 'assignment.toml'}")


def location(test: InstructorTest) -> str:
    """`test_task2.py::test_train_step (tests/public/test_task2.py, line 41)`: where an instructor's test is."""
    code = test.function.__code__
    return f"{test.ident} ({code.co_filename}, line {code.co_firstlineno})"


def _import(path: Path, module_name: str) -> types.ModuleType:
    if module_name in sys.modules:
        return sys.modules[module_name]
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, str(path))
    except SyntaxError as error:
        raise ConfigError(f"{path}: the test file does not parse: {error}") from None
    _rewrite_asserts(tree, source.encode(), path)
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    try:
        exec(compile(tree, str(path), "exec"), module.__dict__)
    except Exception as error:
        del sys.modules[module_name]
        raise ConfigError(f"{path}: importing the test file failed: {type(error).__name__}: {error}") from None
    return module


def _rewrite_asserts(tree: ast.Module, source: bytes, path: Path) -> None:
    """pytest's assertion rewriting, so that `assert a == b` reports both sides."""
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:  # pragma: no cover - plain asserts still work, only less talkative
        return
    rewrite_asserts(tree, source, str(path), None)


def _marks(function: Callable[..., Any]) -> dict[str, list[Any]]:
    marks: dict[str, list[Any]] = {}
    for mark in getattr(function, "pytestmark", []):
        marks.setdefault(mark.name, []).append(mark)
    return marks


def _expand(
    function: Callable[..., Any], path: Path, visibility: Visibility, counter: itertools.count[int]
) -> list[InstructorTest]:
    marks = _marks(function)
    ident = f"{path.name}::{function.__name__}"
    unknown_marks = sorted(set(marks) - MARKS)
    if unknown_marks:
        raise ConfigError(f"{path}, line {function.__code__.co_firstlineno}, {ident}: unknown mark(s) "
                          f"{', '.join(unknown_marks)}; the marks are {', '.join(sorted(MARKS))}")
    if "task" not in marks or not marks["task"][0].args:
        raise ConfigError(f"{ident}: every test needs @pytest.mark.task(\"ID\")")
    task = str(marks["task"][0].args[0])
    points = float(marks["points"][0].args[0]) if "points" in marks else None
    timeout = float(marks["timeout"][0].args[0]) if "timeout" in marks else None
    title = _title(function)
    cases: list[tuple[str, tuple[tuple[str, Any], ...]]] = [("", ())]
    for mark in marks.get("parametrize", []):
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else list(mark.args[0])
        values = list(mark.args[1])
        ids = mark.kwargs.get("ids")
        expanded = []
        for suffix, params in cases:
            for index, value in enumerate(values):
                row = value if len(names) > 1 else (value,)
                label = str(ids[index]) if ids else "-".join(str(v) for v in row)
                expanded.append((f"{suffix}-{label}" if suffix else label, params + tuple(zip(names, row, strict=True))))
        cases = expanded
    return [
        InstructorTest(
            name=f"{title} [{suffix}]" if suffix else title,
            ident=f"{ident}[{suffix}]" if suffix else ident,
            task=task,
            visibility=visibility,
            function=function,
            parameters=params,
            points=points,
            timeout=timeout,
            order=next(counter),
            fresh="fresh" in marks,
        )
        for suffix, params in cases
    ]


def _title(function: Callable[..., Any]) -> str:
    doc = inspect.getdoc(function)
    if doc:
        return doc.strip().splitlines()[0].rstrip(".")
    return function.__name__.removeprefix("test_").replace("_", " ")
