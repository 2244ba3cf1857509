"""Forbidden APIs: which library calls a task's extracted code makes, read statically, never run.

A task's `forbidden` list in assignment.toml holds patterns over fully qualified names, as
the code would reach them after its imports:

    "torch.nn.*"            anything under torch.nn (a call, a base class, a decorator, a value)
    "!torch.nn.Parameter"   an exception: allowed even though a pattern above matches it
    "torch.softmax"         one name exactly
    ".softmax"              a method of that name on anything the grader cannot resolve (`x.softmax(1)`)

Names are resolved through every form of import the units use, at module level or inside a
function: `import torch.nn.functional as F` (F.relu is torch.nn.functional.relu), `from torch
import softmax`, `from torch.nn import functional`, `import torch` (torch.nn.Linear). A name
the student binds again locally (a parameter or an assignment in the function) is not an
import. Each use becomes a `Finding` with `Diagnosis.FORBIDDEN_API` naming the call and where.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import replace
from fnmatch import fnmatchcase

from grader.assignment import Assignment
from grader.extract import extract
from grader.model import CodeUnit, Diagnosis, Finding, Program, SourceFile, TestOutcome


def forbidden_calls(
    program: Program,
    names: tuple[str, ...],
    forbidden: tuple[str, ...],
    judged_elsewhere: frozenset[str] = frozenset(),
) -> tuple[Finding, ...]:
    """Every use of a forbidden API in the units of `program` (the extraction of a task's needs `names`).

    Units that define a name in `judged_elsewhere` (a need of a task that judges it, even when
    this task needs it too) are skipped, so that a forbidden call in `softmax` costs the task
    that asks for `softmax`, not every task using it.
    """
    banned = tuple(p for p in forbidden if not p.startswith("!"))
    allowed = tuple(p[1:] for p in forbidden if p.startswith("!"))
    if not banned:
        return ()
    findings: list[Finding] = []
    for module in program.modules:
        aliases = _module_aliases(module.units)
        for unit in module.units:
            if set(unit.binds) & judged_elsewhere:
                continue
            need = next((n for n in names if n.split(":")[-1] in unit.binds), names[0] if names else "")
            for qualified, line in _uses(unit, aliases):
                if _matches(qualified, banned) and not _matches(qualified, allowed):
                    findings.append(
                        Finding(
                            need=need,
                            diagnosis=Diagnosis.FORBIDDEN_API,
                            message=f"{unit.filename}, line {line}: uses `{qualified}`, which this task forbids",
                            filename=unit.filename,
                            line=line,
                        )
                    )
    return tuple(dict.fromkeys(findings))


def _matches(qualified: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("."):
            if qualified.startswith("?.") and qualified.endswith(pattern):
                return True
        elif fnmatchcase(qualified, pattern) or qualified == pattern.removesuffix(".*"):
            return True
    return False


def _module_aliases(units: tuple[CodeUnit, ...]) -> dict[str, str]:
    """Local name -> qualified name, for every top-level import of a module."""
    aliases: dict[str, str] = {}
    for unit in units:
        tree = _parse(unit)
        if tree is not None:
            for statement in tree.body:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    aliases.update(_import_aliases(statement))
    return aliases


def _import_aliases(statement: ast.Import | ast.ImportFrom) -> dict[str, str]:
    aliases = {}
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                aliases[head] = head  # `import torch.nn` binds `torch`
    elif statement.module and not statement.level:
        for alias in statement.names:
            if alias.name != "*":
                aliases[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return aliases


def _parse(unit: CodeUnit) -> ast.Module | None:
    try:
        return ast.parse(unit.source)
    except (SyntaxError, ValueError):
        return None


def _uses(unit: CodeUnit, module_aliases: dict[str, str]) -> list[tuple[str, int]]:
    """(qualified name, line) for every outermost attribute chain or name the unit reads."""
    tree = _parse(unit)
    if tree is None:
        return []
    aliases = dict(module_aliases)
    shadowed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            aliases.update(_import_aliases(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            shadowed.update(a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in module_aliases:
            shadowed.add(node.id)
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    uses = []
    for node in ast.walk(tree):
        if id(node) in inner or not isinstance(node, ast.Attribute | ast.Name):
            continue
        if not isinstance(node.ctx, ast.Load):
            continue
        qualified = _qualified(node, aliases, shadowed)
        if qualified is not None:
            uses.append((qualified, unit.first_line + node.lineno - 1))
    return uses


def _qualified(node: ast.expr, aliases: dict[str, str], shadowed: set[str]) -> str | None:
    """The dotted name a chain reaches: `F.relu` -> `torch.nn.functional.relu`; `x.softmax` -> `?.softmax`."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.reverse()
    if isinstance(node, ast.Name) and node.id in aliases and node.id not in shadowed:
        return ".".join([aliases[node.id], *parts])
    if isinstance(node, ast.Name) and node.id in ("self", "cls"):
        return None  # the student's own method
    if parts:
        return "?." + parts[-1]  # a method on a value: only its last name is known
    return None


def policy_findings(assignment: Assignment, files: tuple[SourceFile, ...]) -> dict[str, tuple[Finding, ...]]:
    """Per task with a `forbidden` list, the forbidden APIs its extracted code uses (none: no entry).

    A function is judged in the first task (in assignment order) that needs it: `softmax`
    calling `torch.softmax` costs the task that asks for `softmax`, not the later ones using it.
    """
    found: dict[str, tuple[Finding, ...]] = {}
    for index, task in enumerate(assignment.tasks):
        if not task.forbidden or not task.needs:
            continue
        elsewhere = frozenset(n.split(":")[-1] for t in assignment.tasks[:index] for n in t.needs)
        program = extract(files, task.needs, frozenset(assignment.inject))
        findings = forbidden_calls(program, task.needs, task.forbidden, elsewhere)
        if findings:
            found[task.id] = findings
    return found


def apply_policy(outcomes: tuple[TestOutcome, ...], findings: dict[str, tuple[Finding, ...]]) -> tuple[TestOutcome, ...]:
    """Every outcome of a task that uses a forbidden API fails with `forbidden_api`: the task scores 0."""
    if not findings:
        return outcomes
    changed = []
    for outcome in outcomes:
        task_findings = findings.get(outcome.task)
        if task_findings:
            message = "\n".join(f.message for f in task_findings)
            outcome = replace(outcome, passed=False, partial=0.0, message=message,
                              diagnoses=(Diagnosis.FORBIDDEN_API,))
        changed.append(outcome)
    return tuple(changed)
