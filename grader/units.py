"""A file's cells as top-level units: what each statement binds, reads and imports.

Each code cell (or module) is parsed on its own, after IPython syntax is neutralised line
by line (`%magic`, `!shell`, `obj?` become `pass`). A cell magic that runs its body as Python
in the kernel's namespace (`%%time`, `%%capture`, `%%prun`) keeps its body; one that runs it
elsewhere (`%%timeit`, `%%python3`, `%%script`) or is not Python (`%%bash`, `%%html`) drops the
cell; `%%writefile name.py` (or `-a`, `%%file`) makes a module of the submission named `name`
(see `written_modules`). Only
definitional top-level statements become units: one per imported alias, `def`, `class`,
and assignments to plain names (tuples of names included). A top-level `if`/`try` is kept
whole when everything in it is definitional, never `if __name__ == "__main__":`.
Everything else (calls, loops, `with`, plots) is dropped, and the names it would bind are
remembered, as are the names a cell that does not parse would define.
"""

from __future__ import annotations

import ast
import re
import shlex
import symtable
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from grader.model import CodeUnit, SourceFile

_MAGIC = re.compile(r"^([ \t]*)(?:[%!]|\?{1,2}[\w.]+\s*$|[\w.]+\?{1,2}\s*$|\w+(?:\s*,\s*\w+)*\s*=\s*[%!])")
_BROKEN_NAME = re.compile(
    r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^(\w+)[ \t]*(?::[^=\n]*)?=(?!=)", re.M
)
_CELL_MAGIC = re.compile(r"^[ \t]*%%(\w+)(.*)$")
# What IPython does with a cell magic's body, checked by running these cells in a real kernel
# (IPython 9.18, ipykernel 7.4, through nbclient): definitions made under `%%time`, `%%capture`
# and `%%prun` (nested ones too) exist afterwards; those under `%%timeit` (compiled into a function
# of its own) and `%%python3` (another process) do not.
_PYTHON_BODY = frozenset({"time", "capture", "prun"})
_ELSEWHERE = {
    "timeit": "in a `%%timeit` cell (IPython runs its body inside a function of its own)",
    **{m: f"in a `%%{m}` cell (it runs in a separate process)" for m in ("python", "python2", "python3", "pypy")},
    "script": "in a `%%script` cell (it runs in a separate process)",
}
_WRITEFILE = frozenset({"writefile", "file"})


@dataclass(frozen=True)
class Import:
    """What an import unit imports: `from module import name`, or `import module` when name is None."""

    module: str
    name: str | None


@dataclass(frozen=True, eq=False)
class Unit:
    """A CodeUnit with what the closure needs to know about it."""

    code: CodeUnit
    order: tuple[int, int, int]  # cell, line, alias: source order
    node: ast.stmt  # line numbers relative to the cell or file
    refs: tuple[str, ...]  # global names it reads
    writes: tuple[str, ...]  # globals a function assigns through `global`
    imported: Import | None
    attrs: frozenset[tuple[str, str]]  # (name, attribute) for every `name.attribute` read
    bare: frozenset[str]  # names used other than as `name.attribute`


@dataclass(frozen=True)
class Broken:
    """A cell, module or unit that does not parse, with the names it seems to define."""

    filename: str
    line: int
    message: str
    names: frozenset[str]


@dataclass(frozen=True)
class Dropped:
    """Where a name is bound only by a statement the grader does not run."""

    filename: str
    line: int
    where: str


@dataclass(frozen=True)
class ModuleIndex:
    """One student module, indexed by name."""

    name: str
    path: str
    is_notebook: bool
    bindings: Mapping[str, Unit]
    writers: Mapping[str, Unit]
    stars: tuple[Unit, ...]
    broken: tuple[Broken, ...]
    dropped: Mapping[str, Dropped]



# ---------------------------------------------------------------- indexing a module


def index_module(file: SourceFile) -> ModuleIndex:
    """Parse every code cell of a file into units, broken parts and dropped bindings."""
    cells = [
        (f"{file.path} [cell {cell.index + 1}]" if file.is_notebook else file.path, cell.index, cell.source)
        for cell in file.cells
        if cell.kind == "code"
    ]
    return _index(file.module, file.path, file.is_notebook, cells)


def written_modules(files: Iterable[SourceFile]) -> tuple[ModuleIndex, ...]:
    """The modules notebooks write with `%%writefile name.py`, which the notebook can then import.

    Cells are read in file order, as the kernel would have run them: `-a` (`--append`) adds to
    the module, a plain `%%writefile` starts it again. A name the submission already has as a
    file (a `helpers.py` handed in beside the notebook) keeps that file. Units point at the
    notebook cell that wrote them, with the cell's own line numbers.
    """
    files = tuple(files)
    taken = {f.module for f in files}
    written: dict[str, list[tuple[str, int, str]]] = {}
    for file in files:
        for cell in file.cells if file.is_notebook else ():
            magic = _cell_magic(cell.source) if cell.kind == "code" else None
            if magic is None or magic[0] not in _WRITEFILE:
                continue
            target = _writefile_target(magic[1])
            if target is None or target[1] in taken:
                continue
            append, module = target
            part = (f"{file.path} [cell {cell.index + 1}]", cell.index, magic[2])
            written[module] = [*written.get(module, []), part] if append else [part]
    return tuple(_index(name, f"{name}.py", False, cells) for name, cells in written.items())


def _writefile_target(arguments: str) -> tuple[bool, str] | None:
    """Whether `%%writefile ARGUMENTS` appends, and the module it writes; None if it is not a module."""
    try:
        words = shlex.split(arguments)
    except ValueError:
        return None
    append = any(w in ("-a", "--append") for w in words)
    paths = [w for w in words if not w.startswith("-")]
    if len(paths) != 1:
        return None
    path = paths[0].removeprefix("./")
    stem, dot, suffix = path.rpartition(".")
    if not dot or suffix != "py" or not stem.isidentifier() or stem in sys.stdlib_module_names:
        return None  # a data file, a module in a folder (a package the worker does not build), or `os.py`
    return append, stem


def _cell_magic(source: str) -> tuple[str, str, str] | None:
    """A `%%magic` cell as (magic, its arguments, the body with the magic's line left blank)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    matched = _CELL_MAGIC.match(lines[first]) if first is not None else None
    if first is None or matched is None:
        return None
    body = "\n".join(["" for _ in range(first + 1)] + lines[first + 1 :])
    return matched.group(1), matched.group(2).strip(), body


def _index(name: str, path: str, is_notebook: bool, cells: Iterable[tuple[str, int, str]]) -> ModuleIndex:
    """A module from its code cells, each given as (filename, cell index, source)."""
    units: list[Unit] = []
    broken: list[Broken] = []
    dropped: dict[str, Dropped] = {}
    for filename, index, text in cells:
        parsed = _parse_cell(text, filename, broken, dropped)
        source, tree = parsed if parsed is not None else ("", ast.Module([], []))
        for stmt in tree.body:
            made = _units(stmt, source, name, filename, index)
            if made is None:
                where = _describe_dropped(stmt)
                dropped.update({n: Dropped(filename, stmt.lineno, where) for n in _bound_names(stmt)})
            units.extend(u for u in made or () if isinstance(u, Unit))
            broken.extend(u for u in made or () if isinstance(u, Broken))
    bindings = {n: u for u in units for n in u.code.binds}
    writers = {n: u for u in units for n in u.writes}
    stars = tuple(u for u in units if u.imported is not None and u.imported.name == "*")
    return ModuleIndex(name, path, is_notebook, bindings, writers, stars, tuple(broken), dropped)


def _parse_cell(
    source: str, filename: str, broken: list[Broken], dropped: dict[str, Dropped]
) -> tuple[str, ast.Module] | None:
    """A cell's source with IPython syntax neutralised, and its AST; None if dropped or broken."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    magic = _cell_magic(source) if source.lstrip().startswith("%%") else None
    if magic is not None:
        name, _, body = magic
        if name in _PYTHON_BODY:  # the kernel ran the body as Python: keep it (its own magics included)
            return _parse_cell(body, filename, broken, dropped)
        if name in _ELSEWHERE:  # Python that leaves nothing behind: say so if a need is only defined here
            ignored: list[Broken] = []
            parsed = _parse_cell(body, filename, ignored, {})
            for stmt in parsed[1].body if parsed is not None else ():
                dropped.update({n: Dropped(filename, stmt.lineno, _ELSEWHERE[name]) for n in _bound_names(stmt)})
        return None
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
        message = _python2_note(source, getattr(error, "msg", None) or str(error))
        names = frozenset(m.group(1) or m.group(2) for m in _BROKEN_NAME.finditer(source))
        broken.append(Broken(filename, line, message, names))
        return None


_PYTHON2 = re.compile(r"^[ \t]*(?:print(?:[ \t]+[^\s(=.,)]|[ \t]*>>)|exec[ \t]+[\"'\w]|except[ \t]+[\w.]+[ \t]*,[ \t]*\w+[ \t]*:)", re.M)


def _python2_note(source: str, message: str) -> str:
    """A syntax error's message, saying so when the code is Python 2 (print statements, `except E, e:`)."""
    if "Missing parentheses in call to" in message or _PYTHON2.search(source):
        return f"{message} (this is Python 2 code; the grader runs Python 3: print(...) is a function, " \
               "`except E as e:`)"
    return message


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
) -> list[Unit | Broken] | None:
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
) -> Unit | Broken:
    """One alias of an import statement as its own unit."""
    alias = stmt.names[i]
    single: ast.stmt
    if isinstance(stmt, ast.Import):
        single, imported = ast.Import(names=[alias]), Import(alias.name.split(".")[0], None)
        bound = alias.asname or alias.name.split(".")[0]
    elif stmt.module is None:  # `from . import utils`: a module of the submission
        single, imported = ast.Import(names=[alias]), Import(alias.name, None)
        bound = alias.asname or alias.name
    else:  # the worker installs every module at the top level, so `from .x` becomes `from x`
        single = ast.ImportFrom(stmt.module, [alias], 0)
        imported, bound = Import(stmt.module.split(".")[0], alias.name), alias.asname or alias.name
    binds = () if alias.name == "*" else (bound,)
    code = CodeUnit(module, filename, stmt.lineno, ast.unparse(single), binds)
    return _unit(code, (cell, stmt.lineno, i), stmt, imported)


def _unit(
    code: CodeUnit, order: tuple[int, int, int], node: ast.stmt, imported: Import | None
) -> Unit | Broken:
    """A unit with its global reads and writes, or a broken part if the compiler rejects it."""
    try:
        top = symtable.symtable(code.source, code.filename, "exec")
    except SyntaxError as error:
        line = code.first_line + (error.lineno or 1) - 1
        return Broken(code.filename, line, error.msg, frozenset(code.binds))
    refs: set[str] = set()
    writes: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table is top or _global_in_function(symbol)):
                refs.add(symbol.get_name())
            if table is not top and symbol.is_declared_global() and symbol.is_assigned():
                writes.add(symbol.get_name())
        tables.extend(table.get_children())
    attrs, bare = _attribute_uses(node) if imported is None else (frozenset(), frozenset())
    return Unit(code, order, node, tuple(sorted(refs)), tuple(sorted(writes)), imported, attrs, bare)


def _global_in_function(symbol: symtable.Symbol) -> bool:
    """Whether a function's symbol is a module global.

    `Symbol.is_global()` alone is wrong in a function named `top` (before Python 3.13 symtable
    takes any table of that name for the module's, and its parameters for globals).
    """
    return symbol.is_declared_global() or (symbol.is_global() and not symbol.is_local())


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
