"""Hangs remembered for one hand-in: a student function that ran past its limit is not waited for again.

Later calls fail at once with the same `timeout` when they call the hung function itself, or a
function of the student's that reaches it: `train` whose loop calls a hung `gradient` (read from
the student's code: the names each top-level definition uses, followed transitively). Methods of
one class are told apart: a hung `Model.forward` does not stop `Model.zero_grad`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.model import Program


@dataclass(frozen=True)
class Hang:
    """Where a function hung first, and how."""

    function: str  # `gradient`, `BinaryModel.backward`
    test: str
    failure: object  # the client's `Failure`, raised again as it was


class HangMemo:
    """The hangs of one hand-in and the reach of its functions."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.hangs: dict[str, Hang] = {}
        self._uses: dict[str, set[str]] | None = None

    def record(self, function: str, test: str, failure: object) -> None:
        if function and function not in self.hangs:
            self.hangs[function] = Hang(function, test, failure)

    def blocking(self, function: str) -> Hang | None:
        """The hang a call of `function` would run into, if any."""
        if not function or not self.hangs:
            return None
        if function in self.hangs:
            return self.hangs[function]
        top = function.split(".", 1)[0]
        reached = self._reach(top) - {top}
        for hang in self.hangs.values():
            if hang.function.split(".", 1)[0] in reached:
                return hang
        return None

    def _reach(self, name: str) -> set[str]:
        uses = self._graph()
        seen = {name}
        todo = [name]
        while todo:
            for used in uses.get(todo.pop(), ()):
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        return seen

    def _graph(self) -> dict[str, set[str]]:
        """Each top-level name of the student's code and the names its definition uses."""
        if self._uses is None:
            self._uses = {}
            for module in self.program.modules:
                for unit in module.units:
                    try:
                        tree = ast.parse(unit.source)
                    except SyntaxError:
                        continue
                    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
                    for bound in unit.binds:
                        self._uses.setdefault(bound, set()).update(names)
        return self._uses
