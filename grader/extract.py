"""From loaded code to the minimal program a set of needed names requires.

`grader.units` turns each file into definitional top-level units (imports, `def`, `class`,
assignments to plain names; magics, calls, loops, plots and `__main__` blocks dropped, the
names they would bind remembered so that code reading them is told they are only set by
code the grader does not run). This module resolves the needs among those units.

A need's closure follows the global names each unit reads (computed with `symtable`),
across modules through `from m import x`, `import m` + `m.attr`, and `from m import *`.
Relative imports (`from .x import y`) name submission modules and are written as absolute
ones, since the worker installs every module at the top level. A module a notebook writes with
`%%writefile helpers.py` is a submission module like a handed-in `helpers.py`. A star import of a module
outside the submission is assumed to provide any name the
module does not define. Only the needed name itself is checked for a placeholder body.
Modules in `Program.modules` come dependencies first, then by name.
"""

from __future__ import annotations

import ast
import builtins
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from grader.model import Diagnosis, Finding, ModuleCode, Program, Resolved, SourceFile
from grader.units import Broken, Dropped, ModuleIndex, Unit, index_module, written_modules

KNOWN = frozenset(dir(builtins)) | {
    "__file__",
    "__name__",
    "__doc__",
    "__spec__",
    "__loader__",
    "__package__",
}
HINT = (
    "it is not defined anywhere in the submission "
    "(a variable that only exists when the file runs as a script, or in another cell?)"
)
_Found = Unit | Broken | Dropped | None



def parse_need(need: str) -> tuple[tuple[str, ...], str]:
    """Split `"task4*|task3a:SoftmaxModel"` into `(("task4*", "task3a"), "SoftmaxModel")`."""
    modules, _, name = need.rpartition(":")
    return tuple(m.strip() for m in modules.split("|") if m.strip()), name.strip()


def extract(
    files: tuple[SourceFile, ...], needs: tuple[str, ...], provided: frozenset[str] = frozenset()
) -> Program:
    """The minimal code each need depends on, where each need lives, and what is statically wrong."""
    return extract_indexed(index_files(files), needs, provided)


def index_files(files: tuple[SourceFile, ...]) -> dict[str, ModuleIndex]:
    """Every module of a submission, parsed once: what `extract_indexed` resolves needs in (it never changes it)."""
    index = {m.name: m for m in map(index_module, files)}
    index.update((m.name, m) for m in written_modules(files))  # `%%writefile helpers.py` cells
    return index


def extract_indexed(
    index: Mapping[str, ModuleIndex], needs: tuple[str, ...], provided: frozenset[str] = frozenset()
) -> Program:
    """`extract` on modules indexed already: one parse of a hand-in serves the needs of every task."""
    chosen: dict[str, dict[int, Unit]] = {}
    resolved: list[Resolved] = []
    findings: list[Finding] = []
    for need in needs:
        patterns, name = parse_need(need)
        head = name.split(".")[0]
        module = _choose(index, patterns, head)
        if module is None:
            findings.append(_missing(index, need, patterns, head))
            continue
        resolved.append(Resolved(need, module, name))
        closure = _Closure(index, need, provided)
        closure.run(module, head)
        findings.extend(_placeholder(index, need, module, head))
        findings.extend(closure.findings)
        for unit_module, units in closure.units.items():
            chosen.setdefault(unit_module, {}).update({id(u): u for u in units})
    modules = tuple(
        ModuleCode(name, tuple(u.code for u in sorted(chosen[name].values(), key=lambda u: u.order)))
        for name in _dependency_order(chosen)
    )
    return Program(modules, tuple(resolved), tuple(dict.fromkeys(findings)))


# ---------------------------------------------------------------- finding names


def _lookup(
    index: Mapping[str, ModuleIndex], module: str, name: str, seen: frozenset[str] = frozenset()
) -> _Found:
    """What binds `name` in `module`: a unit, else a broken or dropped binding, else None."""
    found = index[module]
    if name in found.bindings:
        return found.bindings[name]
    if name in found.writers:
        return found.writers[name]
    for star in reversed(found.stars):
        target = star.imported.module if star.imported else ""
        if target not in index:
            return star  # `from numpy import *` may provide anything
        if target not in seen and isinstance(_lookup(index, target, name, seen | {module}), Unit):
            return star
    broken = [b for b in found.broken if name in b.names]
    return broken[-1] if broken else found.dropped.get(name)


def _defines(index: Mapping[str, ModuleIndex], module: str, name: str) -> bool:
    """Whether `module` binds `name` itself, not by importing it."""
    found = _lookup(index, module, name)
    return isinstance(found, Unit) and found.imported is None


def _imports(index: Mapping[str, ModuleIndex], module: str, name: str) -> bool:
    """Whether `module` imports `name` by name or from a submission module (not `from numpy import *`)."""
    found = _lookup(index, module, name)
    if not isinstance(found, Unit) or found.imported is None:
        return False
    return found.imported.name != "*" or found.imported.module in index


def _choose(index: Mapping[str, ModuleIndex], patterns: tuple[str, ...], name: str) -> str | None:
    """The module a need is taken from: the patterns in order; every module only when none matches.

    When a module the need names exists (even one that does not parse), the name is looked for
    there only: falling back to another module would grade `task2a.cross_entropy_loss` as if it
    were `task3a`'s.
    """
    groups = [sorted(m for m in index if fnmatchcase(m, p)) for p in patterns]
    if not any(groups):
        groups.append(sorted(index))
    for group in groups:
        defining = [m for m in group if _defines(index, m, name)]
        importing = [m for m in group if _imports(index, m, name)]
        if defining or importing:
            return (defining or importing)[-1]
    return None


def _missing(index: Mapping[str, ModuleIndex], need: str, patterns: tuple[str, ...], name: str) -> Finding:
    """Why a need is found nowhere: it does not parse, is only set by dropped code, or is absent."""
    matched = [m for m in sorted(index) if any(fnmatchcase(m, p) for p in patterns)]
    for group in (matched, sorted(index)):
        found = [f for m in group if isinstance(f := _lookup(index, m, name), Broken)]
        if found:
            b = found[-1]
            message = (
                f"{b.filename}, line {b.line}: {b.message} (the code that defines `{name}` does not parse)"
            )
            return Finding(need, Diagnosis.SYNTAX_ERROR, message, b.filename, b.line)
    if matched:
        where = " or ".join(index[m].path for m in matched)
    elif len(index) == 1:
        only = next(iter(index.values()))
        where = "the notebook" if only.is_notebook else only.path
    else:
        where = "the submission"
    dropped = [f for m in matched or sorted(index) if isinstance(f := _lookup(index, m, name), Dropped)]
    if dropped:
        d = dropped[-1]
        message = (
            f"`{name}` is only set by code the grader does not run ({d.filename}, line {d.line}, {d.where})."
        )
        return Finding(need, Diagnosis.NOT_IMPLEMENTED, message, d.filename, d.line)
    return Finding(need, Diagnosis.NOT_IMPLEMENTED, f"`{name}` is not defined in {where}.")


def _placeholder(index: Mapping[str, ModuleIndex], need: str, module: str, name: str) -> tuple[Finding, ...]:
    """A finding when the needed function still has the template's placeholder body."""
    found = _lookup(index, module, name)
    for _ in range(len(index) + 1):  # follow `from task2a import f` to the definition
        imported = found.imported if isinstance(found, Unit) else None
        if imported is None or imported.name is None or imported.module not in index:
            break
        module, name = imported.module, name if imported.name == "*" else imported.name
        found = _lookup(index, module, name)
    if not isinstance(found, Unit) or not isinstance(found.node, ast.FunctionDef | ast.AsyncFunctionDef):
        return ()
    body = found.node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not all(map(_is_placeholder, body)):
        return ()
    message = f"`{name}` in {found.code.filename} is still the template's placeholder."
    return (Finding(need, Diagnosis.NOT_IMPLEMENTED, message, found.code.filename, found.code.first_line),)


def _is_placeholder(stmt: ast.stmt) -> bool:
    """`pass`, `...`, a docstring, or `raise NotImplementedError(...)`."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


# ---------------------------------------------------------------- the closure


@dataclass(frozen=True)
class _Site:
    """Where a name is read: the unit and the name as it is written there."""

    unit: Unit
    name: str


class _Closure:
    """The units one need depends on and what is wrong with them; filled by `run`."""

    def __init__(self, index: Mapping[str, ModuleIndex], need: str, provided: frozenset[str]) -> None:
        self.index, self.need, self.provided = index, need, provided
        self.units: dict[str, list[Unit]] = {}
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self._included: set[int] = set()
        self._todo: deque[tuple[str, str, _Site | None]] = deque()

    def run(self, module: str, name: str) -> None:
        """Include `name` of `module` and everything it needs."""
        self._todo.append((module, name, None))
        while self._todo:
            module, name, site = self._todo.popleft()
            if (module, name) in self._seen:
                continue
            self._seen.add((module, name))
            found = _lookup(self.index, module, name)
            if isinstance(found, Unit):
                self._include(module, found, name)
            elif site is not None:
                self.findings.append(self._problem(module, name, site, found))

    def _include(self, module: str, unit: Unit, name: str) -> None:
        """Add a unit, then queue the names it reads and the submission code it imports."""
        imported = unit.imported
        if imported is not None and imported.module in self.index and imported.name is not None:
            target = name if imported.name == "*" else imported.name  # one star unit serves many names
            self._todo.append((imported.module, target, _Site(unit, name)))
        if id(unit) in self._included:
            return
        self._included.add(id(unit))
        self.units.setdefault(module, []).append(unit)
        defined = self.index[module]
        for ref in unit.refs:
            if ref in self.provided or (ref in KNOWN and ref not in defined.bindings):
                continue
            site = _Site(unit, ref)
            self._todo.append((module, ref, site))
            target_module = self._module_import(module, ref)
            if target_module is None:
                continue
            attrs = sorted(attr for base, attr in unit.attrs if base == ref)
            if ref in unit.bare:
                attrs = sorted(self.index[target_module].bindings)
            self._todo.extend((target_module, attr, site) for attr in attrs)

    def _module_import(self, module: str, name: str) -> str | None:
        """The submission module that `name` is bound to by `import that`, if it is one."""
        found = _lookup(self.index, module, name)
        if isinstance(found, Unit) and found.imported is not None and found.imported.name is None:
            return found.imported.module if found.imported.module in self.index else None
        return None

    def _problem(self, module: str, name: str, site: _Site, found: _Found) -> Finding:
        """The finding for a name the closure needs but cannot include."""
        code = site.unit.code
        line = code.first_line if site.unit.imported else _use_line(site.unit, site.name)
        where = f"{code.filename}, line {line}"
        if isinstance(found, Broken):
            message = f"{found.filename}, line {found.line}: {found.message} (the code that defines `{name}` does not parse)"
            return Finding(self.need, Diagnosis.SYNTAX_ERROR, message, found.filename, found.line)
        if code.module != module:
            verb = "imports" if site.unit.imported is not None else "uses"
            message = (
                f"{where} {verb} `{name}` from `{module}`, but {self.index[module].path} does not define it."
            )
        elif isinstance(found, Dropped):
            message = (
                f"`{name}` is used in {where}, but it is only set by code the grader does not run "
                f"({found.filename}, line {found.line}, {found.where})."
            )
        else:
            elsewhere = [m.path for m in self.index.values() if name in m.bindings and m.name != module]
            path = self.index[module].path
            message = f"`{name}` is used in {where}, but {HINT}"
            if elsewhere:
                message = f"`{name}` is used in {where}, but {path} does not define or import it (it is defined in {elsewhere[0]})."
        return Finding(self.need, Diagnosis.UNDEFINED_NAME, message, code.filename, line)


def _use_line(unit: Unit, name: str) -> int:
    """The line, in its file or cell, where a unit first reads `name`."""
    lines = [n.lineno for n in ast.walk(unit.node) if isinstance(n, ast.Name) and n.id == name]
    return min(lines) if lines else unit.code.first_line


def _dependency_order(chosen: Mapping[str, Mapping[int, Unit]]) -> tuple[str, ...]:
    """Module names with the modules each imports first, otherwise by name."""
    order: dict[str, None] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        imports = {u.imported.module for u in chosen[name].values() if u.imported is not None}
        for dependency in sorted(imports & chosen.keys()):
            visit(dependency)
        order[name] = None

    for name in sorted(chosen):
        visit(name)
    return tuple(order)
