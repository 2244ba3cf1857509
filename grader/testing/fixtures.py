"""What the instructor's tests receive besides `student`: the reference, the data, a recorder.

These live on the host only. The reference is loaded with the same extraction as a
student's hand-in (so `reference.task2a.BinaryModel` mirrors `student.task2a.BinaryModel`)
but executed in this process: it is the instructor's trusted code and never enters a worker.
"""

from __future__ import annotations

import builtins
import importlib.util
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.errors import ConfigError
from grader.extract import extract
from grader.model import ModuleCode, Program, Record
from grader.sandbox.proxy import ModuleView, module_key, short_need
from grader.submission import load


class HostModules:
    """Student-shaped modules executed in the host process (used for the reference)."""

    def __init__(self, program: Program, inject: Mapping[str, Any], label: str) -> None:
        self.program = program
        self.modules: dict[str, types.ModuleType] = {}
        self._code = {m.name: m for m in program.modules}
        self._inject = dict(inject)
        self._label = label

    def module(self, name: str) -> types.ModuleType:
        if name not in self.modules:
            self.modules[name] = self._execute(self._code[name])
        return self.modules[name]

    def _execute(self, code: ModuleCode) -> types.ModuleType:
        module = types.ModuleType(code.name)
        self.modules[code.name] = module
        module.__dict__.update(self._inject)
        module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": self._import}
        for unit in code.units:
            source = "\n" * (unit.first_line - 1) + unit.source
            try:
                exec(compile(source, f"{self._label}/{unit.filename}", "exec"), module.__dict__)
            except Exception as error:
                raise ConfigError(f"the reference fails to load: {unit.filename}, line {unit.first_line}: {error}") from None
        return module

    def _import(self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and name in self._code:
            return self.module(name)
        if level > 0 and name in self._code:
            return self.module(name)
        return builtins.__import__(name, globals, locals, fromlist, level)


class ReferenceNamespace:
    """The `reference` fixture: `reference.NAME` or `reference.MODULE.NAME`, like `student`."""

    def __init__(self, modules: HostModules, needs: tuple[str, ...]) -> None:
        self._modules = modules
        self._needs = needs
        self._module_names = {module_key(n) for n in needs if ":" in n}

    def get(self, need: str) -> Any:
        full = next((n for n in self._needs if n == need or short_need(n) == need), need)
        resolved = self._modules.program.resolve(full)
        if resolved is None:
            raise ConfigError(f"the reference does not define {need}")
        return getattr(self._modules.module(resolved.module), resolved.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._module_names:
            return ModuleView(self, name)
        return self.get(name)




def load_reference(assignment: Assignment, inject: Mapping[str, Any]) -> ReferenceNamespace | None:
    """The reference solution as a namespace, or None when the assignment has none (student machines)."""
    if assignment.reference is None:
        return None
    loaded = load("reference", assignment.reference)
    provided = frozenset(assignment.inject)
    program = extract(loaded.files, assignment.needs, provided)
    missing = [f.message for f in program.findings if f.diagnosis.value in ("not_implemented", "syntax_error")]
    if missing:
        raise ConfigError(f"{assignment.reference}: the reference is incomplete: {'; '.join(missing)}")
    return ReferenceNamespace(HostModules(program, inject, "reference"), assignment.needs)


def load_data(assignment: Assignment) -> dict[str, Any]:
    """Call the assignment's `data.py` `load(settings)` once; the datasets every test shares."""
    if assignment.data is None or not assignment.data.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"_grader_data_.{assignment.id}", assignment.data)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{assignment.data}: cannot import the data module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "load"):
        raise ConfigError(f"{assignment.data}: the data module must define load(settings)")
    data = module.load(dict(assignment.settings))
    if not isinstance(data, dict):
        raise ConfigError(f"{assignment.data}: load(settings) must return a dict")
    return data


def injected_values(assignment: Assignment, data: Mapping[str, Any]) -> dict[str, Any]:
    """The globals the grader gives every student module, looked up in the data by key path."""
    values = {}
    for name, key_path in assignment.inject.items():
        value: Any = data
        for key in key_path.split("."):
            if not isinstance(value, Mapping) or key not in value:
                raise ConfigError(f"{assignment.folder}/assignment.toml: inject.{name} = {key_path!r} is not in the data")
            value = value[key]
        values[name] = value
    return values


class Recorder:
    """The `record` fixture: data a test keeps for the feedback report (images, curves, text)."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def images(self, title: str, groups: Mapping[str, Any], shape: tuple[int, int] = (28, 28)) -> None:
        """Rows of small images, e.g. {"student": weights (10, 784), "reference": ...}."""
        payload = {k: np.asarray(v, dtype=float).tolist() for k, v in groups.items() if v is not None}
        self.records.append(Record("images", title, {"groups": payload, "shape": list(shape)}))

    def series(self, title: str, x: Any, lines: Mapping[str, Any], xlabel: str = "", ylabel: str = "", log_x: bool = False) -> None:
        """Curves against a common x, e.g. accuracy against lambda for the student and the reference."""
        payload = {k: np.asarray(v, dtype=float).tolist() for k, v in lines.items() if v is not None}
        self.records.append(
            Record("series", title, {"x": np.asarray(x, dtype=float).tolist(), "lines": payload,
                                     "xlabel": xlabel, "ylabel": ylabel, "log_x": log_x})
        )

    def text(self, title: str, text: str) -> None:
        self.records.append(Record("text", title, {"text": text}))
