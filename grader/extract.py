"""From loaded code to the minimal program a set of needed names requires.

Each code cell (or module) is parsed on its own, after IPython syntax is neutralised
line by line (`%magic`, `!shell`, `obj?` become `pass`; a `%%` cell is dropped). Only
definitional top-level statements become units: one per imported alias, `def`, `class`,
and assignments to plain names (tuples of names included). A top-level `if`/`try` is
kept whole when everything in it is definitional (`try: import torch` / `except
ImportError: torch = None`), never `if __name__ == "__main__":`. Everything else
(calls, loops, `with`, plots) is dropped, and the names it would bind are remembered so
that code reading them is told they are only set by code the grader does not run.

A need's closure follows the global names each unit reads (computed with `symtable`),
across modules through `from m import x`, `import m` + `m.attr`, and `from m import *`.
Relative imports (`from .x import y`) name submission modules and are written as absolute
ones, since the worker installs every module at the top level. A star import of a module
outside the submission is assumed to provide any name the
module does not define. Only the needed name itself is checked for a placeholder body.
Modules in `Program.modules` come dependencies first, then by name.
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from grader.model import CodeUnit, Diagnosis, Finding, ModuleCode, Program, Resolved, SourceFile

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
_MAGIC = re.compile(r"^([ \t]*)(?:[%!]|\?{1,2}[\w.]+\s*$|[\w.]+\?{1,2}\s*$|\w+(?:\s*,\s*\w+)*\s*=\s*[%!])")
_BROKEN_NAME = re.compile(
    r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^(\w+)[ \t]*(?::[^=\n]*)?=(?!=)", re.M
)


@dataclass(frozen=True)
class _Import:
    """What an import unit imports: `from module import name`, or `import module` when name is None."""

    module: str
    name: str | None


@dataclass(frozen=True, eq=False)
class _Unit:
    """A CodeUnit with what the closure needs to know about it."""

    code: CodeUnit
    order: tuple[int, int, int]  # cell, line, alias: source order
    node: ast.stmt  # line numbers relative to the cell or file
    refs: tuple[str, ...]  # global names it reads
    writes: tuple[str, ...]  # globals a function assigns through `global`
    imported: _Import | None
    attrs: frozenset[tuple[str, str]]  # (name, attribute) for every `name.attribute` read
    bare: frozenset[str]  # names used other than as `name.attribute`


@dataclass(frozen=True)
class _Broken:
    """A cell, module or unit that does not parse, with the names it seems to define."""

    filename: str
    line: int
    message: str
    names: frozenset[str]


@dataclass(frozen=True)
class _Dropped:
    """Where a name is bound only by a statement the grader does not run."""

    filename: str
    line: int
    where: str


@dataclass(frozen=True)
class _Module:
    """One student module, indexed by name."""

    name: str
    path: str
    is_notebook: bool
    bindings: Mapping[str, _Unit]
    writers: Mapping[str, _Unit]
    stars: tuple[_Unit, ...]
    broken: tuple[_Broken, ...]
    dropped: Mapping[str, _Dropped]


_Found = _Unit | _Broken | _Dropped | None


def parse_need(need: str) -> tuple[tuple[str, ...], str]:
    """Split `"task4*|task3a:SoftmaxModel"` into `(("task4*", "task3a"), "SoftmaxModel")`."""
    modules, _, name = need.rpartition(":")
    return tuple(m.strip() for m in modules.split("|") if m.strip()), name.strip()


def extract(
    files: tuple[SourceFile, ...], needs: tuple[str, ...], provided: frozenset[str] = frozenset()
) -> Program:
    """The minimal code each need depends on, where each need lives, and what is statically wrong."""
    index = {m.name: m for m in map(_index_module, files)}
    chosen: dict[str, dict[int, _Unit]] = {}
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


# ---------------------------------------------------------------- indexing a module


def _index_module(file: SourceFile) -> _Module:
    """Parse every code cell of a file into units, broken parts and dropped bindings."""
    units: list[_Unit] = []
    broken: list[_Broken] = []
    dropped: dict[str, _Dropped] = {}
    for cell in file.cells:
        filename = f"{file.path} [cell {cell.index + 1}]" if file.is_notebook else file.path
        parsed = _parse_cell(cell.source, filename, broken) if cell.kind == "code" else None
        source, tree = parsed if parsed is not None else ("", ast.Module([], []))
        for stmt in tree.body:
            made = _units(stmt, source, file.module, filename, cell.index)
            if made is None:
                where = _describe_dropped(stmt)
                dropped.update({n: _Dropped(filename, stmt.lineno, where) for n in _bound_names(stmt)})
            units.extend(u for u in made or () if isinstance(u, _Unit))
            broken.extend(u for u in made or () if isinstance(u, _Broken))
    bindings = {n: u for u in units for n in u.code.binds}
    writers = {n: u for u in units for n in u.writes}
    stars = tuple(u for u in units if u.imported is not None and u.imported.name == "*")
    return _Module(file.module, file.path, file.is_notebook, bindings, writers, stars, tuple(broken), dropped)


def _parse_cell(source: str, filename: str, broken: list[_Broken]) -> tuple[str, ast.Module] | None:
    """A cell's source with IPython syntax neutralised, and its AST; None if dropped or broken."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if source.lstrip().startswith("%%"):
        return None
    try:
        return source, ast.parse(source)  # valid Python holds no magic: `% x` continuation lines stay
    except (SyntaxError, ValueError):
        pass
    neutral = _neutralise(source)
    try:
        return neutral, ast.parse(neutral)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 1
        message = getattr(error, "msg", None) or str(error)
        names = frozenset(m.group(1) or m.group(2) for m in _BROKEN_NAME.finditer(source))
        broken.append(_Broken(filename, line, message, names))
        return None


def _neutralise(source: str) -> str:
    """The cell with IPython-only lines (and their continuation lines) made `pass`, line numbers kept."""
    lines: list[str] = []
    continued = False
    for line in source.split("\n"):
        magic = _MAGIC.match(line)
        lines.append("" if continued else f"{magic.group(1)}pass" if magic else line)
        continued = (continued or magic is not None) and line.rstrip().endswith("\\")
    return "\n".join(lines)


def _units(
    stmt: ast.stmt, source: str, module: str, filename: str, cell: int
) -> list[_Unit | _Broken] | None:
    """The units of one top-level statement, or None when it is not definitional."""
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return [_import_unit(stmt, i, module, filename, cell) for i in range(len(stmt.names))]
    binds = _bound_names(stmt)
    if not binds or not _definitional(stmt):
        return None
    decorators = getattr(stmt, "decorator_list", [])
    first = min([stmt.lineno, *(d.lineno for d in decorators)])
    code = CodeUnit(module, filename, first, _segment(source, stmt, first), binds)
    return [_unit(code, (cell, first, 0), stmt, None)]


def _import_unit(
    stmt: ast.Import | ast.ImportFrom, i: int, module: str, filename: str, cell: int
) -> _Unit | _Broken:
    """One alias of an import statement as its own unit."""
    alias = stmt.names[i]
    single: ast.stmt
    if isinstance(stmt, ast.Import):
        single, imported = ast.Import(names=[alias]), _Import(alias.name.split(".")[0], None)
        bound = alias.asname or alias.name.split(".")[0]
    elif stmt.module is None:  # `from . import utils`: a module of the submission
        single, imported = ast.Import(names=[alias]), _Import(alias.name, None)
        bound = alias.asname or alias.name
    else:  # the worker installs every module at the top level, so `from .x` becomes `from x`
        single = ast.ImportFrom(stmt.module, [alias], 0)
        imported, bound = _Import(stmt.module.split(".")[0], alias.name), alias.asname or alias.name
    binds = () if alias.name == "*" else (bound,)
    code = CodeUnit(module, filename, stmt.lineno, ast.unparse(single), binds)
    return _unit(code, (cell, stmt.lineno, i), stmt, imported)


def _unit(
    code: CodeUnit, order: tuple[int, int, int], node: ast.stmt, imported: _Import | None
) -> _Unit | _Broken:
    """A unit with its global reads and writes, or a broken part if the compiler rejects it."""
    try:
        top = symtable.symtable(code.source, code.filename, "exec")
    except SyntaxError as error:
        line = code.first_line + (error.lineno or 1) - 1
        return _Broken(code.filename, line, error.msg, frozenset(code.binds))
    refs: set[str] = set()
    writes: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                refs.add(symbol.get_name())
            if table is not top and symbol.is_declared_global() and symbol.is_assigned():
                writes.add(symbol.get_name())
        tables.extend(table.get_children())
    attrs, bare = _attribute_uses(node) if imported is None else (frozenset(), frozenset())
    return _Unit(code, order, node, tuple(sorted(refs)), tuple(sorted(writes)), imported, attrs, bare)


def _attribute_uses(node: ast.AST) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """Every `name.attribute` read in `node`, and the names used any other way."""
    attrs: set[tuple[str, str]] = set()
    bases: set[int] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
            attrs.add((child.value.id, child.attr))
            bases.add(id(child.value))
    bare = {c.id for c in ast.walk(node) if isinstance(c, ast.Name) and id(c) not in bases}
    return frozenset(attrs), frozenset(bare)


def _definitional(stmt: ast.stmt) -> bool:
    """Whether a statement only defines things: what the grader keeps."""
    if isinstance(
        stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Pass
    ):
        return True
    if isinstance(stmt, ast.Assign):
        return all(_plain_target(t) for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.value is not None
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
    if isinstance(stmt, ast.If) and not _is_main(stmt):
        return all(map(_definitional, [*stmt.body, *stmt.orelse]))
    if isinstance(stmt, ast.Try):
        handlers = [s for h in stmt.handlers for s in h.body]
        return all(map(_definitional, [*stmt.body, *handlers, *stmt.orelse, *stmt.finalbody]))
    return False


def _plain_target(target: ast.expr) -> bool:
    """A name, or a tuple or list of names (`a, *b = ...`)."""
    if isinstance(target, ast.Starred):
        target = target.value
    if isinstance(target, ast.Tuple | ast.List):
        return all(map(_plain_target, target.elts))
    return isinstance(target, ast.Name)


def _is_main(stmt: ast.stmt) -> bool:
    """Whether a statement is `if __name__ == "__main__":`."""
    return isinstance(stmt, ast.If) and "__name__" in {
        n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)
    }


def _describe_dropped(stmt: ast.stmt) -> str:
    """Where a dropped binding is, in words."""
    if _is_main(stmt):
        return 'inside `if __name__ == "__main__":`'
    kind = {
        ast.For: "a `for` loop",
        ast.While: "a `while` loop",
        ast.With: "a `with` block",
        ast.If: "an `if` block",
    }
    return f"in {kind.get(type(stmt), 'a top-level statement')}"


def _bound_names(stmt: ast.stmt) -> tuple[str, ...]:
    """The module-level names a top-level statement binds, in source order."""
    names: dict[str, None] = {}
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = None
            continue
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names[node.id] = None
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name.split(".")[0], None) for a in node.names if a.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names[node.name] = None
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return tuple(names)


def _segment(source: str, stmt: ast.stmt, first: int) -> str:
    """The exact text of a statement from its first decorator (column offsets are UTF-8 bytes)."""
    lines = source.split("\n")[first - 1 : stmt.end_lineno]
    end = lines[-1].encode()[: stmt.end_col_offset].decode()
    lines[-1] = end
    if first == stmt.lineno:
        lines[0] = lines[0].encode()[stmt.col_offset :].decode()
    return "\n".join(lines)


# ---------------------------------------------------------------- finding names


def _lookup(
    index: Mapping[str, _Module], module: str, name: str, seen: frozenset[str] = frozenset()
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
        if target not in seen and isinstance(_lookup(index, target, name, seen | {module}), _Unit):
            return star
    broken = [b for b in found.broken if name in b.names]
    return broken[-1] if broken else found.dropped.get(name)


def _defines(index: Mapping[str, _Module], module: str, name: str) -> bool:
    """Whether `module` binds `name` itself, not by importing it."""
    found = _lookup(index, module, name)
    return isinstance(found, _Unit) and found.imported is None


def _imports(index: Mapping[str, _Module], module: str, name: str) -> bool:
    """Whether `module` imports `name` by name or from a submission module (not `from numpy import *`)."""
    found = _lookup(index, module, name)
    if not isinstance(found, _Unit) or found.imported is None:
        return False
    return found.imported.name != "*" or found.imported.module in index


def _choose(index: Mapping[str, _Module], patterns: tuple[str, ...], name: str) -> str | None:
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


def _missing(index: Mapping[str, _Module], need: str, patterns: tuple[str, ...], name: str) -> Finding:
    """Why a need is found nowhere: it does not parse, is only set by dropped code, or is absent."""
    matched = [m for m in sorted(index) if any(fnmatchcase(m, p) for p in patterns)]
    for group in (matched, sorted(index)):
        found = [f for m in group if isinstance(f := _lookup(index, m, name), _Broken)]
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
    dropped = [f for m in matched or sorted(index) if isinstance(f := _lookup(index, m, name), _Dropped)]
    if dropped:
        d = dropped[-1]
        message = (
            f"`{name}` is only set by code the grader does not run ({d.filename}, line {d.line}, {d.where})."
        )
        return Finding(need, Diagnosis.NOT_IMPLEMENTED, message, d.filename, d.line)
    return Finding(need, Diagnosis.NOT_IMPLEMENTED, f"`{name}` is not defined in {where}.")


def _placeholder(index: Mapping[str, _Module], need: str, module: str, name: str) -> tuple[Finding, ...]:
    """A finding when the needed function still has the template's placeholder body."""
    found = _lookup(index, module, name)
    for _ in range(len(index) + 1):  # follow `from task2a import f` to the definition
        imported = found.imported if isinstance(found, _Unit) else None
        if imported is None or imported.name is None or imported.module not in index:
            break
        module, name = imported.module, name if imported.name == "*" else imported.name
        found = _lookup(index, module, name)
    if not isinstance(found, _Unit) or not isinstance(found.node, ast.FunctionDef | ast.AsyncFunctionDef):
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

    unit: _Unit
    name: str


class _Closure:
    """The units one need depends on and what is wrong with them; filled by `run`."""

    def __init__(self, index: Mapping[str, _Module], need: str, provided: frozenset[str]) -> None:
        self.index, self.need, self.provided = index, need, provided
        self.units: dict[str, list[_Unit]] = {}
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
            if isinstance(found, _Unit):
                self._include(module, found, name)
            elif site is not None:
                self.findings.append(self._problem(module, name, site, found))

    def _include(self, module: str, unit: _Unit, name: str) -> None:
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
        if isinstance(found, _Unit) and found.imported is not None and found.imported.name is None:
            return found.imported.module if found.imported.module in self.index else None
        return None

    def _problem(self, module: str, name: str, site: _Site, found: _Found) -> Finding:
        """The finding for a name the closure needs but cannot include."""
        code = site.unit.code
        line = code.first_line if site.unit.imported else _use_line(site.unit, site.name)
        where = f"{code.filename}, line {line}"
        if isinstance(found, _Broken):
            message = f"{found.filename}, line {found.line}: {found.message} (the code that defines `{name}` does not parse)"
            return Finding(self.need, Diagnosis.SYNTAX_ERROR, message, found.filename, found.line)
        if code.module != module:
            verb = "imports" if site.unit.imported is not None else "uses"
            message = (
                f"{where} {verb} `{name}` from `{module}`, but {self.index[module].path} does not define it."
            )
        elif isinstance(found, _Dropped):
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


def _use_line(unit: _Unit, name: str) -> int:
    """The line, in its file or cell, where a unit first reads `name`."""
    lines = [n.lineno for n in ast.walk(unit.node) if isinstance(n, ast.Name) and n.id == name]
    return min(lines) if lines else unit.code.first_line


def _dependency_order(chosen: Mapping[str, Mapping[int, _Unit]]) -> tuple[str, ...]:
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
