"""One student's code for a task as comparable text; the exact pairwise comparison of a class (the oracle).

For each task, each student's code is the task's extracted program (`grader.extract.extract`
with the task's needs): the needed definitions and every helper they depend on. It is cut into
pieces, one per top-level function, per method of a top-level class, per class header (name,
bases, class attributes) and per other top-level statement; imports are left out, since everyone
writes the same ones. Each piece is normalised on its AST:

- docstrings, bare string statements, comments (gone with the AST), type annotations and
  `assert` messages are dropped, and the layout is `ast.unparse`'s;
- names the student binds (arguments, local variables, nested functions) are renamed `v0, v1, ...`
  in order of first appearance within the piece; top-level helpers the student defines are renamed
  `g0, g1, ...` in order of first appearance across the sorted pieces; the names the assignment
  needs, attributes (`self.w`, method names), imported names and builtins (`np.sum`, `len`) are kept;
- the pieces are sorted, so the order of definitions and of methods does not matter.

Pieces equal to a piece of the template's code for the task (unchanged stubs, provided helpers,
the starter's own methods) are left out: only what the students wrote is compared.

Size is counted in AST nodes that stand for something written (names, calls, constants,
subscripts, statements; not load/store contexts or operators): `return 1 / (1 + np.exp(-z))` is
13, a numerically stable softmax 30, the usual three-line one-hot encoding 34, a whole
`batch_loader` about 80. Two students are flagged for a task when what is left is:

- exactly the same after normalisation and at least `MIN_NODES` (60) nodes large, about five or six
  lines of arithmetic. Below that, the obvious idiom is what independent students write: two
  correct one-hot encodings or a softmax plus its loss come out identical after renaming, so they
  are never flagged;
- or, as a near match, at least `NEAR_RATIO` (0.95) alike on the normalised token stream (difflib)
  and at least `MIN_NODES_NEAR` (100) nodes large on both sides: a copy with a line or two changed
  is still found, while short code, where 5% is a single token, is not.

`kind` is `identical` when the code as written is the same byte for byte (the names of the files or
cells it sits in aside: a copied notebook is `alice.ipynb` and `bob.ipynb`), `renamed` when only the
normalisation makes it equal, and `similar` for a near match. `find_similar` compares every pair of students,
which is quadratic in the class: `grader.similarity.index` finds the same pairs from hashes and is what
the batch runs; this one stays as the definition they are checked against. The order of its result is
fixed: by task in assignment order, then by the pair of student ids.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from grader.assignment import Assignment, Task
from grader.extract import extract_indexed, index_files, parse_need
from grader.model import CodeUnit, LoadedSubmission
from grader.units import ModuleIndex

MIN_NODES = 60
MIN_NODES_NEAR = 100
NEAR_RATIO = 0.95

Kind = Literal["identical", "renamed", "similar"]
_PLACEHOLDER = "_G"
_UNCOUNTED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Module)
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code for one task is the same (or nearly) after normalisation."""

    task: str
    student_a: str
    student_b: str
    kind: Kind
    score: float  # 1.0 for identical and renamed; the token similarity for a near match
    nodes: int  # AST nodes of the compared (normalised, template-free) code, the smaller of the two
    code_a: str  # the task's extracted code as student_a wrote it
    code_b: str


@dataclass(frozen=True)
class Normalised:
    """One student's code for one task, normalised and stripped of the template's pieces."""

    student: str
    text: str  # the normalised pieces, sorted, joined
    digest: str
    nodes: int
    raw: str  # the code as written under its file names, for the side-by-side view
    written: str  # the code as written, without the file names: equal means byte for byte the same code
    tokens: tuple[str, ...]


def find_similar(
    assignment: Assignment,
    submissions: Sequence[tuple[str, LoadedSubmission]],
    template: LoadedSubmission | None,
) -> tuple[SimilarPair, ...]:
    """Every pair of students whose code for a task matches, task by task, in a fixed order."""
    excluded = template_pieces(assignment, template)
    pairs: list[SimilarPair] = []
    for task in assignment.tasks:
        found = []
        for student, loaded in sorted(submissions, key=lambda s: s[0]):
            normalised = normalise_task(assignment, task, student, loaded, excluded[task.id])
            if normalised is not None:
                found.append(normalised)
        pairs.extend(_compare(task.id, found))
    return tuple(pairs)


def template_pieces(assignment: Assignment, template: LoadedSubmission | None) -> dict[str, frozenset[str]]:
    """Per task, the first-pass texts of the template's pieces: what the students did not write."""
    provided = frozenset(assignment.inject)
    index = index_files(template.files) if template is not None and template.readable else None
    excluded: dict[str, frozenset[str]] = {}
    for task in assignment.tasks:
        excluded[task.id] = frozenset()
        if index is not None:
            units = _task_units(index, task, provided)
            excluded[task.id] = frozenset(_template_texts(units, _kept_names(task)))
    return excluded


def normalise_task(
    assignment: Assignment,
    task: Task,
    student: str,
    loaded: LoadedSubmission,
    excluded: frozenset[str],
    index: Mapping[str, ModuleIndex] | None = None,
) -> Normalised | None:
    """The student's normalised code for one task; None when unreadable or when nothing of their own is left.

    `index`: the hand-in's modules indexed already (`grader.extract.index_files(loaded.files)`), when
    several tasks of one hand-in are normalised: parsing is most of the cost.
    """
    if not loaded.readable:
        return None
    units = _task_units(index if index is not None else index_files(loaded.files), task, frozenset(assignment.inject))
    return _normalise(student, units, _kept_names(task), excluded)


def tokens_of(text: str) -> tuple[str, ...]:
    """The token stream the near-match ratio compares: words and single punctuation marks."""
    return tuple(_TOKEN.findall(text))


def pairs_for_summary(pairs: Sequence[SimilarPair]) -> list[dict[str, Any]]:
    """Every pair as an entry of the class summary, side by side: what the summary drew before clusters."""
    return [
        {
            "type": "near",
            "task": p.task,
            "tasks": [p.task],
            "students": [[p.student_a], [p.student_b]],
            "more_students": [0, 0],
            "kind": p.kind,
            "score": round(p.score, 3),
            "nodes": p.nodes,
            "code": [p.code_a, p.code_b],
            "lines": _side_by_side(p.code_a, p.code_b),
        }
        for p in pairs
    ]


# ---------------------------------------------------------------- comparing


def _compare(task: str, found: list[Normalised]) -> list[SimilarPair]:
    """Exact matches by digest, then near matches among what is large enough."""
    pairs = []
    for a, b in combinations(found, 2):
        if a.digest == b.digest and a.nodes >= MIN_NODES:
            kind: Kind = "identical" if a.written == b.written else "renamed"
            pairs.append(SimilarPair(task, a.student, b.student, kind, 1.0, min(a.nodes, b.nodes), a.raw, b.raw))
        elif min(a.nodes, b.nodes) >= MIN_NODES_NEAR:
            ratio = near_ratio(a.tokens, b.tokens)
            if ratio >= NEAR_RATIO:
                pairs.append(
                    SimilarPair(task, a.student, b.student, "similar", ratio, min(a.nodes, b.nodes), a.raw, b.raw)
                )
    return pairs


def near_ratio(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """difflib's similarity of two token streams, with the cheap upper bounds tried first."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < NEAR_RATIO or matcher.quick_ratio() < NEAR_RATIO:
        return 0.0
    return matcher.ratio()


def _side_by_side(a: str, b: str) -> list[tuple[str, str]]:
    """The two codes line by line, padded to the same length."""
    left, right = a.splitlines(), b.splitlines()
    size = max(len(left), len(right))
    return [(left[i] if i < len(left) else "", right[i] if i < len(right) else "") for i in range(size)]


# ---------------------------------------------------------------- one student's code for a task


def _kept_names(task: Task) -> frozenset[str]:
    """The names the assignment fixes for this task: never renamed."""
    return frozenset(parse_need(n)[1] for n in task.needs)


def _task_units(index: Mapping[str, ModuleIndex], task: Task, provided: frozenset[str]) -> list[CodeUnit]:
    """The units of the task's extracted program, module by module."""
    program = extract_indexed(index, task.needs, provided)
    return [u for m in program.modules for u in m.units]


def _normalise(
    student: str, units: list[CodeUnit], kept: frozenset[str], excluded: frozenset[str]
) -> Normalised | None:
    """The student's normalised code without the template's pieces; None when nothing is left."""
    trees = _parse(units)
    helpers = _helpers(trees, kept)
    # First pass: helpers all look alike, so the pieces can be sorted whatever the helpers are called.
    first = _pieces(trees, {h: _PLACEHOLDER for h in helpers})
    mine = sorted((p for p in first if p.text not in excluded), key=lambda p: p.text)
    if not mine:
        return None
    order: dict[str, str] = {}
    for piece in mine:
        for name in _names_in_order(piece.node):
            if name in helpers and name not in order:
                order[name] = f"g{len(order)}"
    mapping = {h: order.get(h, _PLACEHOLDER) for h in helpers}
    # without helpers the second pass renames as the first did: its texts are the first pass's
    texts = sorted(_piece_text(p.node, mapping, p.method) if helpers else p.text for p in mine)
    text = "\n\n".join(texts)
    nodes = sum(p.nodes for p in mine)
    raw = _raw(units)
    written = "\n".join(unit.source.rstrip() + "\n" for unit in units)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Normalised(student, text, digest, nodes, raw, written, tokens_of(text))


def _template_texts(units: list[CodeUnit], kept: frozenset[str]) -> list[str]:
    """The first-pass texts of the template's pieces (helpers all alike), to leave out of the comparison."""
    trees = _parse(units)
    helpers = _helpers(trees, kept)
    return [piece.text for piece in _pieces(trees, {h: _PLACEHOLDER for h in helpers})]


def _raw(units: list[CodeUnit]) -> str:
    """The task's code as the student wrote it, each unit under its file name."""
    parts = []
    current = None
    for unit in units:
        header = f"# {unit.filename}"
        if header != current:
            parts.append(header)
            current = header
        parts.append(unit.source.rstrip() + "\n")
    return "\n".join(parts).rstrip() + "\n"


def _parse(units: list[CodeUnit]) -> list[ast.stmt]:
    """The units' statements, imports left out (everyone imports numpy the same way)."""
    statements: list[ast.stmt] = []
    for unit in units:
        try:
            tree = ast.parse(unit.source)
        except SyntaxError:
            continue
        statements.extend(s for s in tree.body if not _skipped(s))
    return statements


def _skipped(stmt: ast.stmt) -> bool:
    """Imports and bare strings (a module docstring kept as a unit) are not compared."""
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _helpers(statements: list[ast.stmt], kept: frozenset[str]) -> frozenset[str]:
    """Top-level names the student defines other than the assignment's: renamed canonically."""
    names: set[str] = set()
    for stmt in statements:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(stmt.name)
        else:
            names.update(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return frozenset(names - kept)


@dataclass(frozen=True)
class _Piece:
    """A function, a method, a class header or another statement, with its first-pass text."""

    node: ast.stmt
    method: bool
    text: str
    nodes: int


def _pieces(statements: list[ast.stmt], globals_: dict[str, str]) -> list[_Piece]:
    """Each top-level function, each method and header of a top-level class, each other statement."""
    parts: list[tuple[ast.stmt, bool]] = []
    for stmt in statements:
        if isinstance(stmt, ast.ClassDef):
            methods = [s for s in stmt.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
            header = copy.copy(stmt)
            header.body = [s for s in stmt.body if s not in methods] or [ast.Pass()]
            parts.append((header, False))
            parts.extend((m, True) for m in methods)
        else:
            parts.append((stmt, False))
    pieces = []
    for node, method in parts:
        text = _piece_text(node, globals_, method)
        nodes = _size(ast.parse(text))
        pieces.append(_Piece(node, method, text, nodes))
    return pieces


def _size(tree: ast.AST) -> int:
    """AST nodes that stand for something written: no contexts, operators or the module itself."""
    return sum(not isinstance(n, _UNCOUNTED) for n in ast.walk(tree))


def _piece_text(piece: ast.stmt, globals_: dict[str, str], method: bool) -> str:
    """One piece normalised: stripped, renamed, unparsed. A method keeps its name (it is an attribute)."""
    tree = _Strip().visit(_copy_tree(piece))
    local = _local_names(tree) if isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef) else []
    mapping = dict(globals_)
    mapping.update({name: f"v{i}" for i, name in enumerate(local)})
    name = getattr(tree, "name", None)
    renamed = _Rename(mapping).visit(tree)
    if method:
        renamed.name = name
    return ast.unparse(ast.fix_missing_locations(renamed))


def _copy_tree(node: Any) -> Any:
    """A deep copy of an AST, several times faster than `copy.deepcopy` (which is most of the cost here).

    Nodes and lists are copied; everything else in a tree (names, constants, the shared `Load`/`Store`
    contexts, which nothing here changes) is immutable and shared.
    """
    if isinstance(node, list):
        return [_copy_tree(item) for item in node]
    if not isinstance(node, ast.AST) or isinstance(node, ast.expr_context):
        return node
    copied = node.__class__()
    for name in node._fields:
        if hasattr(node, name):
            setattr(copied, name, _copy_tree(getattr(node, name)))
    for name in node._attributes:
        if hasattr(node, name):
            setattr(copied, name, getattr(node, name))
    return copied


def _local_names(tree: ast.AST) -> list[str]:
    """Names bound inside a function (arguments, variables, nested definitions), in order of appearance."""
    declared_global = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not tree:
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    bound -= declared_global
    return [name for name in _names_in_order(tree) if name in bound]


def _names_in_order(tree: ast.AST) -> list[str]:
    """Every name, argument and nested definition name in source order, without repeats."""
    seen: dict[str, None] = {}

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            seen.setdefault(node.id, None)
        elif isinstance(node, ast.arg):
            seen.setdefault(node.arg, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            seen.setdefault(node.name, None)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not tree:
            seen.setdefault(node.name, None)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return list(seen)


class _Strip(ast.NodeTransformer):
    """Drop docstrings and other bare constants, annotations and assert messages."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and all(isinstance(s, ast.stmt) for s in body):
                kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                if not kept and field == "body":
                    kept = [ast.Pass()]
                setattr(node, field, kept)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        return self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=self.visit(node.value)), node)

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        node.msg = None
        return self.generic_visit(node)


class _Rename(ast.NodeTransformer):
    """Apply a name mapping to names, arguments, definitions and `global` statements."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
        node.name = self.mapping.get(node.name, node.name)
        return self.generic_visit(node)

    visit_FunctionDef = _definition
    visit_AsyncFunctionDef = _definition
    visit_ClassDef = _definition

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self.mapping.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self.mapping.get(n, n) for n in node.names]
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        node.names = [self.mapping.get(n, n) for n in node.names]
        return node
