"""The `student` the tests see: names, objects and calls that reach into the worker.

A test writes `student.task2a.BinaryModel()` or `student.posterior_mu(x, 1.0, 2.0)`
as if the code were local. Behind it, `StudentSession` owns the worker: it loads the
extracted program, restarts a fresh worker after a crash, and gives each call the
time left in the test's budget. Objects that are not plain data come back as
`RemoteObject`s; their comparisons are the host's (identity), never the student's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from grader.model import Diagnosis, Program
from grader.sandbox import codec
from grader.sandbox.client import (
    Failure,
    ForkedWorker,
    SandboxUnavailable,
    StudentError,
    WorkerChannel,
    WorkerProcess,
)
from grader.sandbox.forking import ForkServerDown, ForkServerProcess
from grader.sandbox.hangs import HangMemo
from grader.sandbox.launcher import Limits, forks_workers

_BUDGET_SPENT = "it was stopped when the test's time budget ran out (the limit for one call is {:g} s)"


class WorkerPool:
    """Where a student's worker comes from: forked from a fork server, or a fresh interpreter started ahead.

    Under bubblewrap (see `forks_workers`) one fork server per pool pays the interpreter's start and
    the preloads once, and each worker is a fork of it. Elsewhere one fresh worker is kept started
    ahead, so that its start-up overlaps the previous student's tests.
    """

    def __init__(self, python: str, limits: Limits, preload: tuple[str, ...]) -> None:
        self.python = python
        self.limits = limits
        self.preload = preload
        self.forks = forks_workers(python)
        self._server: ForkServerProcess | None = None
        self._spare: WorkerProcess | None = None

    def take(self) -> WorkerChannel:
        if self.forks:
            return self._forked()
        worker = self._spare if self._spare is not None and self._spare.alive else None
        if worker is None:
            worker = WorkerProcess(self.python, self.limits, self.preload)
        self._spare = WorkerProcess(self.python, self.limits, self.preload)
        return worker

    def _forked(self) -> ForkedWorker:
        """A worker from the fork server; a server that is down is replaced once, then it is the machine's fault."""
        for attempt in (1, 2):
            if self._server is None or not self._server.alive:
                self._server = ForkServerProcess(self.python, self.limits, self.preload)
            try:
                return ForkedWorker(self._server, self.limits)
            except ForkServerDown as error:
                if attempt == 2:
                    raise SandboxUnavailable(f"the sandbox worker could not be started ({error})") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._spare is not None:
            self._spare.kill()
            self._spare = None
        if self._server is not None:
            self._server.kill()
            self._server = None


class StudentSession:
    """One student's program in a worker, restarted on demand, with a per-test deadline."""

    def __init__(self, program: Program, pool: WorkerPool, inject: dict[str, Any]) -> None:
        self.program = program
        self.pool = pool
        self.inject = inject
        self.worker: WorkerChannel | None = None
        self.generation = 0
        self.deadline = float("inf")
        self.helpers: dict[str, str] = {}
        # A student function that ran past the per-call limit once is not run again: later tests that
        # reach it fail at once with the same `timeout` (one budget per hang, not one per test).
        self.hangs = HangMemo(program)
        self.fresh = False  # this test asked for a fresh try of functions that hung before
        self.test_name = ""
        self.student_seconds = 0.0  # time inside calls into the student's code, for the summary

    # -- lifecycle

    def start_test(self, seed: int, budget: float, name: str = "", fresh: bool = False) -> None:
        """Begin a test: a fresh worker if the last one died, the test's seed, the test's deadline."""
        self.deadline = time.monotonic() + budget
        self.test_name, self.fresh = name, fresh
        self.request({"op": "seed", "seed": seed})

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _live_worker(self) -> WorkerChannel:
        if self.worker is None or not self.worker.alive:
            try:
                self.worker = self.pool.take()
            except OSError as error:
                raise SandboxUnavailable(f"the sandbox worker could not be started ({error})") from None
            self.generation += 1
            modules = [
                {
                    "name": m.name,
                    "units": [
                        {"filename": u.filename, "first_line": u.first_line, "source": u.source, "binds": list(u.binds)}
                        for u in m.units
                    ],
                }
                for m in self.program.modules
            ]
            self.worker.request({"op": "load", "modules": modules, "inject": self.inject}, 120.0, None)
            for name, source in self.helpers.items():
                self.worker.request({"op": "helper", "name": name, "source": source}, 30.0, None)
        return self.worker

    # -- requests

    def request(self, message: dict[str, Any], generation: int | None = None, callee: str = "") -> Any:
        """Send a request within the test's deadline and the per-call limit.

        `callee` names the student function a call reaches (`BinaryModel.backward`), so that a
        function that hung once is not waited for again.
        """
        if generation is not None and generation != self.generation:
            raise StudentError(
                Failure(Diagnosis.EXCEPTION, "this object belonged to a worker that crashed earlier in the test")
            )
        hang = None if self.fresh else self.hangs.blocking(callee)
        if hang is not None:
            failure = hang.failure
            assert isinstance(failure, Failure)
            via = "" if hang.function == callee else f"{callee} calls {hang.function}, which "
            raise StudentError(replace(failure, message=f"{via or hang.function + ' '}ran past its time limit "
                                       f"earlier (in the test '{hang.test}'), so it was not run again: {failure.message}"))
        call_limit = self.pool.limits.call_timeout
        if self.deadline - time.monotonic() <= 0:
            # the budget covers all of a test's calls together: once spent, no call gets more time
            raise StudentError(Failure(Diagnosis.TIMEOUT, _BUDGET_SPENT.format(call_limit)))
        worker = self._live_worker()
        generation = self.generation
        left = self.deadline - time.monotonic()
        timeout = max(0.001, min(call_limit, left))
        started = time.perf_counter()
        try:
            return worker.request(message, timeout, lambda id, type_name: RemoteObject(self, generation, id, type_name))
        except StudentError as error:
            if error.failure.diagnosis is not Diagnosis.TIMEOUT:
                raise
            failure = error.failure
            if timeout < call_limit:
                # the test's budget, not the per-call limit, ran out: say so in words that do not vary from run to run
                failure = replace(failure, message=_BUDGET_SPENT.format(call_limit))
            self.hangs.record(callee, self.test_name, failure)  # a function that timed out is not waited for again
            raise StudentError(failure) from None
        finally:
            self.student_seconds += time.perf_counter() - started

    def lookup(self, module: str, name: str) -> Any:
        value = self.request({"op": "resolve", "module": module, "name": name})
        return value._named(name) if isinstance(value, RemoteObject) else value

    def add_helper(self, name: str, source: str) -> None:
        """Place non-secret helper code (written by the instructor) in the worker as module `name`."""
        self.helpers[name] = source
        if self.worker is not None and self.worker.alive:
            self.worker.request({"op": "helper", "name": name, "source": source}, 30.0, None)


_GENERIC_TYPES = frozenset({"function", "method", "builtin_function_or_method", "generator", "list", "dict",
                            "tuple", "object", "type", "module"})


class RemoteObject:
    """A handle to an object living in the worker; attribute access and calls go there."""

    __slots__ = ("_session", "_generation", "_id", "_type", "_label")

    def __init__(self, session: StudentSession, generation: int, id: int, type_name: str) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_id", id)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_label", "")  # the student's name for it (`mse_grad`, `Ridge.fit`), when known

    def _ask(self, op: str, callee: str = "", **fields: Any) -> Any:
        return self._session.request({"op": op, "target": self._id, **fields}, self._generation, callee)

    def _callee(self, method: str = "") -> str:
        """The name a hang of this call is remembered by; none for anonymous generic objects."""
        base = self._label or ("" if self._type in _GENERIC_TYPES else self._type)
        return f"{base}.{method}" if base and method else base

    def _named(self, label: str) -> RemoteObject:
        object.__setattr__(self, "_label", label)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = self._ask("getattr", name=name)
        return value._named(f"{self._label or self._type}.{name}") if isinstance(value, RemoteObject) else value

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", name=name, value=value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", self._callee(), args=list(args), kwargs=kwargs)

    def call_method(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a method in one round trip (also special methods, which `__getattr__` will not fetch)."""
        return self._ask("call", self._callee(method), method=method, args=list(args), kwargs=kwargs)

    def __iter__(self) -> Iterator[Any]:
        iterator = self.call_method("__iter__")
        if not isinstance(iterator, RemoteObject):
            yield from iterator if isinstance(iterator, (list, tuple)) else ()
            return
        while True:
            step = iterator._ask("next", self._callee("__next__"))
            if type(step) is not dict:
                raise StudentError(Failure(Diagnosis.EXCEPTION, "the worker broke the iteration protocol"))
            if step.get("stop"):
                return
            yield step.get("value")

    def __len__(self) -> int:
        try:
            value = self.call_method("__len__")
        except StudentError as error:
            if error.failure.exception_type == "AttributeError":
                raise TypeError(f"the student's {self._type} has no len()") from None
            raise
        if type(value) is not int or value < 0:
            raise StudentError(Failure(Diagnosis.WRONG_SHAPE, "__len__ did not return a non-negative int"))
        return value

    def __getitem__(self, key: Any) -> Any:
        return self.call_method("__getitem__", key)

    def __repr__(self) -> str:
        return f"<student {self._type} object>"

    def __eq__(self, other: object) -> bool:
        """The same worker object (decided by the host, never by the student's `__eq__`)."""
        return (
            isinstance(other, RemoteObject)
            and other._session is self._session
            and other._generation == self._generation
            and other._id == self._id
        )

    def __hash__(self) -> int:
        return hash((id(self._session), self._generation, self._id))

    def __bool__(self) -> bool:
        return True

    @property
    def wire(self) -> codec.Handle:
        return codec.Handle(self._id, self._type)


class ModuleView:
    """`student.task2a` (or `reference.task2a`): one module's names, as the assignment declares them."""

    def __init__(self, namespace: Any, module: str) -> None:
        self._namespace = namespace
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return self._namespace.get(f"{self._module}:{name}")


class StudentNamespace:
    """The `student` fixture: needed names resolved through the extraction, fetched from the worker."""

    def __init__(self, session: StudentSession, needs: tuple[str, ...]) -> None:
        self._session = session
        self._needs = needs
        self._modules = {module_key(n) for n in needs if ":" in n}

    def get(self, need: str) -> Any:
        """The student's object for a need as written in assignment.toml (`"task2a:BinaryModel"`)."""
        full = next((n for n in self._needs if n == need or short_need(n) == need), need)
        resolved = self._session.program.resolve(full)
        if resolved is None:
            finding = next((f for f in self._session.program.findings if f.need == full), None)
            if finding is not None:
                raise StudentError(Failure(finding.diagnosis, finding.message))
            raise StudentError(Failure(Diagnosis.NOT_IMPLEMENTED, f"{short_need(full).split(':')[-1]} is not defined"))
        return self._session.lookup(resolved.module, resolved.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._modules:
            return ModuleView(self, name)
        return self.get(name)

    def tensor(self, array: Any) -> codec.TensorRequest:
        """Ask for `array` to arrive in the worker as a torch tensor."""
        import numpy as np

        return codec.TensorRequest(np.asarray(array))

    def helper(self, name: str, source: str) -> Any:
        """Place instructor helper code in the worker and return the module's view."""
        self._session.add_helper(name, source)
        return _HelperView(self._session, name)


class _HelperView:
    def __init__(self, session: StudentSession, module: str) -> None:
        self._session = session
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return self._session.lookup(self._module, name)


def module_key(need: str) -> str:
    """`"task4*|task3a:SoftmaxModel"` is reached as `student.task3a` (the last alternative)."""
    return need.split(":", 1)[0].split("|")[-1]


def short_need(need: str) -> str:
    """A need as tests write it: `"task4*|task3a:SoftmaxModel"` is `"task3a:SoftmaxModel"`."""
    return f"{module_key(need)}:{need.split(':', 1)[1]}" if ":" in need else need
