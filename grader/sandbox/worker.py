"""The worker: runs inside the sandbox, holds the student's code and nothing else.

Started as a script (`python -I worker.py REQ_FD RESP_FD [preload ...]`), or forked from the
fork server (`forkserver.py`) that imported all this once, it imports
only the standard library, numpy and the codec beside it. It answers requests from
the host one at a time: load the student's modules, look names up, call functions,
read and set attributes, iterate. Objects that are not plain data stay here and the
host gets a handle to them. Every failure of student code becomes an error reply;
the worker itself only ends when the host closes the channel or kills it.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import io
import os
import random
import sys
import traceback
import types
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec  # noqa: E402  (the codec file sits beside this one in the sandbox)
import numpy as np  # noqa: E402


class BoundedSink(io.TextIOBase):
    """Where the student's prints go: the first few thousand characters are kept, the rest dropped."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.size < self.limit:
            piece = str(text)[: self.limit - self.size]
            self.kept.append(piece)
            self.size += len(piece)
        return len(text)


class StudentModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the student's extracted modules to `import`, executing each unit on its own."""

    def __init__(self, modules: list[dict[str, Any]], injected: dict[str, Any]) -> None:
        self.units = {m["name"]: m["units"] for m in modules}
        self.injected = injected
        self.failures: dict[tuple[str, str], dict[str, Any]] = {}
        self.filenames = {u["filename"] for m in modules for u in m["units"]}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.units:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update(self.injected)
        for unit in self.units[module.__name__]:
            try:
                tree = ast.parse(unit["source"], unit["filename"])
                ast.increment_lineno(tree, unit["first_line"] - 1)
                exec(compile(tree, unit["filename"], "exec"), module.__dict__)
            except BaseException as error:  # a failing unit sinks only the names it binds
                for name in unit["binds"]:
                    self.failures[(module.__name__, name)] = describe(error, self.filenames)


class Worker:
    """The request loop's state: the student's modules and the objects handed out as handles."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(object) -> handle, so one object is always one handle
        self.next_id = 1
        self.modules: StudentModules | None = None

    # -- handles

    def handle_for(self, value: Any) -> Any:
        tensor = _tensor_as_array(value)
        if tensor is not None:
            return codec.to_wire(tensor)
        known = self.ids.get(id(value))
        if known is None:
            known = self.next_id
            self.next_id += 1
            self.objects[known] = value
            self.ids[id(value)] = known
        return {"$h": [known, type(value).__name__]}

    def object_for(self, id: int, type_name: str) -> Any:
        if id not in self.objects:
            raise KeyError(f"no object #{id} in the worker")
        return self.objects[id]

    def args(self, wire: Any) -> Any:
        return _tensors_from_requests(wire)

    # -- requests

    def handle(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        if op == "load":
            self.modules = StudentModules(request["modules"], self.args(request["inject"]))
            sys.meta_path.insert(0, self.modules)
            return None
        if op == "resolve":
            return self.resolve(request["module"], request["name"])
        if op == "helper":
            module = types.ModuleType(request["name"])
            sys.modules[request["name"]] = module
            exec(compile(request["source"], f"<grader helper {request['name']}>", "exec"), module.__dict__)
            return None
        if op == "seed":
            seed_everything(request["seed"])
            return None
        if op == "release":
            for handle in request["ids"]:
                released = self.objects.pop(handle, None)
                self.ids.pop(id(released), None)
            return None
        target = self.object_for(request["target"], "")
        if op == "getattr":
            return getattr(target, request["name"])
        if op == "setattr":
            setattr(target, request["name"], self.args(request["value"]))
            return None
        if op == "call":
            if request.get("method"):
                target = getattr(target, request["method"])
            return target(*self.args(request["args"]), **self.args(request["kwargs"]))
        if op == "next":
            try:
                return {"value": next(target)}
            except StopIteration:
                return {"stop": True}
        raise ValueError(f"unknown request {op!r}")

    def resolve(self, module_name: str, name: str) -> Any:
        module = __import__(module_name)
        assert self.modules is not None
        failure = self.modules.failures.get((module_name, name))
        if failure is not None:
            raise LoadFailure(failure)
        if not hasattr(module, name):
            raise NotImplementedError(f"{name} is not defined")
        return getattr(module, name)


class LoadFailure(Exception):
    """A name whose defining statement failed when the module was loaded."""

    def __init__(self, description: dict[str, Any]) -> None:
        super().__init__(description["message"])
        self.description = description


def describe(
    error: BaseException, student_files: set[str], load_failures: dict[tuple[str, str], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An exception as plain data: its type, message, kind and the frames in student code."""
    if isinstance(error, LoadFailure):
        return error.description
    cause = _load_cause(error, load_failures or {}, student_files)
    if cause is not None:
        return cause
    try:
        message = str(error)[:2000]
    except BaseException:
        message = "(the exception's message could not be read)"
    frames = [
        [frame.filename, frame.lineno or 0, frame.name]
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename in student_files
    ]
    if isinstance(error, SyntaxError) and error.filename in student_files:
        frames.append([error.filename, error.lineno or 0, "<module>"])
    return {"type": type(error).__name__, "message": message, "frames": frames[-20:], "kind": _kind(error)}


def _load_cause(
    error: BaseException, load_failures: dict[tuple[str, str], dict[str, Any]], student_files: set[str]
) -> dict[str, Any] | None:
    """For a NameError of a global whose own line failed when its module loaded, that failure.

    `INF = np.Inf` failing at load leaves `INF` undefined; the function that reads it then
    raises a NameError, but what went wrong is the AttributeError of the line that set it.
    """
    name = getattr(error, "name", None)
    if not isinstance(error, NameError) or not name:
        return None
    causes = [description for (_, bound), description in load_failures.items() if bound == name]
    if not causes:
        return None
    cause = causes[-1]
    frames = [
        [frame.filename, frame.lineno or 0, frame.name]
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename in student_files
    ]
    message = f"{cause['message']} (the line that sets `{name}` failed, so `{name}` is not defined)"
    return {**cause, "message": message[:2000], "frames": (list(cause["frames"]) + frames)[-20:]}


def _kind(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return "not_implemented"
    if isinstance(error, NameError) and not isinstance(error, UnboundLocalError):
        return "undefined_name"
    if isinstance(error, MemoryError):
        return "memory_limit"
    if isinstance(error, SyntaxError):
        return "syntax_error"
    if isinstance(error, SystemExit):
        return "exit"
    return "exception"


def seed_everything(seed: int) -> None:
    """The same seed for every random source the student might use, so that runs repeat."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _tensor_as_array(value: Any) -> Any:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return None


def _tensors_from_requests(value: Any) -> Any:
    if isinstance(value, codec.TensorRequest):
        import torch

        return torch.as_tensor(value.array)
    if type(value) is list:
        return [_tensors_from_requests(v) for v in value]
    if type(value) is tuple:
        return tuple(_tensors_from_requests(v) for v in value)
    if type(value) is dict:
        return {k: _tensors_from_requests(v) for k, v in value.items()}
    return value


def serve(req_fd: int, resp_fd: int) -> None:
    """Answer requests until the host closes the channel."""
    worker = Worker()
    codec.write_message(resp_fd, codec.encode({"ready": True}))
    while True:
        try:
            (size,) = codec.HEADER.unpack(codec.read_exactly(req_fd, codec.HEADER.size))
            request = codec.decode(codec.read_exactly(req_fd, size), worker.object_for)
        except EOFError:
            return
        student_files = worker.modules.filenames if worker.modules else set()
        try:
            reply = {"ok": worker.handle(request)}
            frame = codec.encode(reply, worker.handle_for)
        except BaseException as error:  # student code failed: report it, keep serving
            failures = worker.modules.failures if worker.modules else {}
            frame = codec.encode({"error": describe(error, student_files, failures)})
        codec.write_message(resp_fd, frame)


def preload(names: list[str]) -> None:
    """Import the modules every worker needs before the first student (numpy, torch)."""
    for name in names:
        try:
            __import__(name)
        except ImportError:  # not installed: student code that imports it fails then, with its own message
            pass


def silence() -> None:
    """The student's prints go to bounded buffers, its file descriptors 1 and 2 to /dev/null, stdin is empty."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout = BoundedSink()
    sys.stderr = BoundedSink()
    sys.stdin = io.StringIO("")


def start(req_fd: int, resp_fd: int) -> None:
    """One student's worker, started fresh or forked from the fork server: fresh buffers, the same seeds, then serve."""
    silence()
    seed_everything(0)  # what module-level code draws is the same on every run
    serve(req_fd, resp_fd)


def main() -> None:
    preload(sys.argv[3:])
    start(int(sys.argv[1]), int(sys.argv[2]))
    os._exit(0)


if __name__ == "__main__":
    main()
