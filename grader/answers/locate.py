"""Where a written answer is in a submission: an `ANSWERS` dict, a tagged cell, or an `Answer QID` label."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from grader.answers.mathtext import extract_math
from grader.model import Cell, SourceFile

FoundBy = Literal["answers_dict", "tag", "label", "heading"]
ANSWERS_NAME = "ANSWERS"
_MAGIC = re.compile(r"^[ \t]*[%!].*$", re.M)
_ANY_LABEL = (
    r"^[ \t]*+(?:#{1,6}[ \t]*+)?(?:\*\*|__)?[ \t]*+answer[ \t]*+(?:to[ \t]+)?(?:question[ \t]*+|q[ \t]*+)?\(?"
)
# `(?!...)`: the id ends here; `Answer 1.2e` must not match the label `Answer 1.2e-limit` or `1.2e.i`
_LABEL_END = r"\)?(?![\w]|[.\-]\w)[ \t]*+[:.)\-–—]?[ \t]*+(?:\*\*|__)?[ \t]*+[:.\-–—]?"
_LABEL_LINE = re.compile(_ANY_LABEL + r"(?=[\w.\-]*\d)\w[\w.\-]*" + _LABEL_END, re.I | re.M)


@dataclass(frozen=True)
class FoundAnswer:
    """One answer as found: where, how, the cell it is in, and what was read of it.

    `text` is the plain answer: what follows the label in a markdown cell, or the value of
    an `ANSWERS` entry (the string itself, else its source). `math` is the math read from
    `text` (last box, else display, else inline math; the right-hand side of an equation),
    None when `text` holds no math. `value` is the Python value of an `ANSWERS` entry when
    it is a literal (`is_literal`); bare names in it are read as strings.

    `doubt` says why the grader is not sure this is the answer (found under a heading of a
    free-form report rather than in the contract's forms, or one of a question's parts
    split out of an answer holding a different number of them); empty when it is sure.
    `where` says where it was found, for messages. `hold` says why it must be read by a person
    whatever it says (an answer given as a picture; only the equation the task asks to show).
    """

    qid: str
    how: FoundBy
    file: str
    cell: int
    raw: str
    text: str
    math: str | None = None
    value: object = field(default=None, hash=False, compare=False)
    is_literal: bool = False
    doubt: str = ""
    where: str = ""
    hold: str = ""


def find_answers(files: tuple[SourceFile, ...], qids: tuple[str, ...]) -> dict[str, FoundAnswer]:
    """The answer to each question that has one: an ANSWERS entry, else a tagged cell, else a labelled cell."""
    from_dict = _answers_dict(files)
    found: dict[str, FoundAnswer] = {}
    for qid in qids:
        answer = from_dict.get(_normal_qid(qid)) or _tagged(files, qid) or _labelled(files, qid)
        if answer is not None:
            found[qid] = _renamed(answer, qid)
    return found


def _renamed(answer: FoundAnswer, qid: str) -> FoundAnswer:
    return answer if answer.qid == qid else replace(answer, qid=qid)


def _normal_qid(qid: object) -> str:
    return str(qid).strip().lower()


def _cells(files: tuple[SourceFile, ...], kind: str) -> Iterator[tuple[SourceFile, Cell]]:
    for source in files:
        for cell in source.cells:
            if cell.kind == kind:
                yield source, cell


# ---------------------------------------------------------------- ANSWERS = {...}


def _answers_dict(files: tuple[SourceFile, ...]) -> dict[str, FoundAnswer]:
    """Every ANSWERS entry, by normalised qid: the last `ANSWERS = {...}` wins, later `ANSWERS[k] = v` add to it."""
    entries: dict[str, FoundAnswer] = {}
    for source, cell in _cells(files, "code"):
        code = _MAGIC.sub("", cell.source)
        for statement in _statements(code):
            whole, pairs = _assignment(statement)
            if whole:
                entries = {}
            for qid, node in pairs:
                entries[_normal_qid(qid)] = _entry(qid, node, code, source, cell)
    return entries


def _statements(code: str) -> tuple[ast.stmt, ...]:
    """The top-level statements of a cell; for a cell that does not parse, those starting with ANSWERS."""
    try:
        return tuple(ast.parse(code).body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = code.splitlines()
    statements: list[ast.stmt] = []
    for start, line in enumerate(lines):
        if not line.startswith(ANSWERS_NAME):
            continue
        for stop in range(start + 1, min(len(lines), start + 200) + 1):
            try:
                tree = ast.parse("\n" * start + "\n".join(lines[start:stop]))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            statements.extend(tree.body)
            break
    return tuple(statements)


def _assignment(statement: ast.stmt) -> tuple[bool, tuple[tuple[str, ast.expr], ...]]:
    """Whether a statement assigns ANSWERS a whole new dict, and the (qid, value node) pairs it assigns."""
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets, value = [statement.target], statement.value
    else:
        return False, ()
    whole = False
    pairs: list[tuple[str, ast.expr]] = []
    for target in targets:
        if isinstance(target, ast.Name) and target.id == ANSWERS_NAME and isinstance(value, ast.Dict):
            whole, pairs = True, []
            for key, item in zip(value.keys, value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str | int | float):
                    pairs.append((str(key.value), item))
        elif (qid := _subscript_key(target)) is not None:
            pairs.append((qid, value))
    return whole, tuple(pairs)


def _subscript_key(target: ast.expr) -> str | None:
    """The key of an `ANSWERS["1.4"]` target, None for any other target."""
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == ANSWERS_NAME
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str | int | float)
    ):
        return str(target.slice.value)
    return None


def _entry(qid: str, node: ast.expr, code: str, source: SourceFile, cell: Cell) -> FoundAnswer:
    segment = ast.get_source_segment(code, node) or ""
    try:
        value, is_literal = _lenient_literal(node), True
    except (ValueError, TypeError, RecursionError, MemoryError):  # not a literal, or nested past reading
        value, is_literal = None, False
    text = value if isinstance(value, str) else segment
    return FoundAnswer(
        qid, "answers_dict", source.path, cell.index, cell.source, text, extract_math(text), value, is_literal
    )


def _lenient_literal(node: ast.expr) -> object:
    """`ast.literal_eval` that also reads a bare name as its string (`(H, M)` as `("H", "M")`); never runs code."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Tuple | ast.List):
        items = tuple(_lenient_literal(e) for e in node.elts)
        return items if isinstance(node, ast.Tuple) else list(items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ValueError("dict unpacking")
        return {
            _lenient_literal(k): _lenient_literal(v)
            for k, v in zip(node.keys, node.values, strict=True)
            if k is not None
        }
    return ast.literal_eval(node)


# ---------------------------------------------------------------- markdown


def _tagged(files: tuple[SourceFile, ...], qid: str) -> FoundAnswer | None:
    """The last markdown cell tagged `answer:QID`."""
    wanted = f"answer:{_normal_qid(qid)}"
    last = None
    for source, cell in _cells(files, "markdown"):
        if any(tag.strip().lower().replace(" ", "") == wanted for tag in cell.tags):
            last = (source, cell)
    if last is None:
        return None
    source, cell = last
    body = _label_pattern(qid).sub("", cell.source, count=1).strip()
    return FoundAnswer(qid, "tag", source.path, cell.index, cell.source, body, extract_math(body))


def _labelled(files: tuple[SourceFile, ...], qid: str) -> FoundAnswer | None:
    """The last markdown cell that starts with an `Answer QID` label, read up to the next label in it."""
    pattern = _label_pattern(qid)
    last = None
    for source, cell in _cells(files, "markdown"):
        if not _LABEL_LINE.match(cell.source.lstrip("\n")):
            continue
        for match in pattern.finditer(cell.source):
            following = _LABEL_LINE.search(cell.source, match.end())
            body = cell.source[match.end() : following.start() if following else None].strip()
            last = FoundAnswer(qid, "label", source.path, cell.index, cell.source, body, extract_math(body))
    return last


def _label_pattern(qid: str) -> re.Pattern[str]:
    return re.compile(_ANY_LABEL + re.escape(qid.strip()) + _LABEL_END, re.I | re.M)
