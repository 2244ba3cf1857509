"""The host's end of one worker: start it, send a request, wait with a deadline, kill it.

What the worker says is decoded by the strict codec and checked like user input.
Any failure of the worker (a hang, a death, a garbled message) becomes a
`StudentError` with the diagnosis the test will carry, and the worker is killed:
the next request needs a new worker.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from grader.model import Diagnosis, TraceFrame
from grader.sandbox import codec
from grader.sandbox.forking import ForkServerProcess
from grader.sandbox.launcher import Limits, ProcessGroup, SandboxedProcess, worker_command
from grader.sandbox.numpy_removals import numpy_removal

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Failure:
    """What went wrong in the worker, as data: the diagnosis, a message and student frames."""

    diagnosis: Diagnosis
    message: str
    frames: tuple[TraceFrame, ...] = ()
    exception_type: str = ""


class StudentError(Exception):
    """Student code failed (raised, hung, died, exceeded memory); carries a `Failure`."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class SandboxUnavailable(Exception):
    """The sandbox worker could not be started: the grader's or the machine's failure, never the student's."""


_KINDS = {
    "not_implemented": Diagnosis.NOT_IMPLEMENTED,
    "undefined_name": Diagnosis.UNDEFINED_NAME,
    "memory_limit": Diagnosis.MEMORY_LIMIT,
    "syntax_error": Diagnosis.SYNTAX_ERROR,
}


def failure_from_reply(error: Any) -> Failure:
    """Check an error reply from the worker field by field and turn it into a `Failure`."""
    if type(error) is not dict:
        return Failure(Diagnosis.EXCEPTION, "the worker sent a malformed error")
    kind = error.get("kind")
    type_name = str(error.get("type", "Exception"))[:100]
    message = str(error.get("message", ""))[:2000]
    frames = tuple(
        TraceFrame(str(f[0])[:300], int(f[1]), str(f[2])[:200])
        for f in (error.get("frames") or [])[:20]
        if type(f) is list and len(f) == 3 and type(f[1]) is int
    )
    if kind == "exit":
        text = f"the code called exit ({type_name}: {message}) instead of returning a value"
        return Failure(Diagnosis.EXCEPTION, text, frames, type_name)
    diagnosis = _KINDS.get(str(kind), Diagnosis.EXCEPTION)
    removed = numpy_removal(type_name, message) if diagnosis is Diagnosis.EXCEPTION else None
    if removed is not None:  # written for an older NumPy: say which API and what to write instead
        return Failure(Diagnosis.NUMPY_VERSION, f"{type_name}: {removed}", frames, type_name)
    text = f"{type_name}: {message}" if message else type_name
    return Failure(diagnosis, text, frames, type_name)


class WorkerChannel:
    """The pipes to one worker and the protocol over them; how its process starts and ends is a subclass's."""

    def __init__(self, limits: Limits, req_write: int, resp_read: int) -> None:
        self.limits = limits
        self._req_write = req_write
        self._resp_read = resp_read
        self.alive = True
        self.ready = False
        self.started = time.perf_counter()

    def wait_ready(self) -> None:
        """Block until the worker has imported its preloads and said it is ready."""
        if self.ready:
            return
        try:
            reply = self._receive(START_TIMEOUT)
        except StudentError as error:
            raise SandboxUnavailable(f"the sandbox worker did not start ({error.failure.message})") from None
        if reply != {"ready": True}:
            self.kill()
            raise SandboxUnavailable("the sandbox worker did not start (it sent no ready signal)")
        self.ready = True

    def request(self, message: dict[str, Any], timeout: float, resolve_handle: Any) -> Any:
        """Send one request and return the decoded `ok` value, or raise `StudentError`."""
        if not self.alive:
            raise StudentError(Failure(Diagnosis.EXCEPTION, "the student's code already crashed the worker"))
        self.wait_ready()
        try:
            frame = codec.encode(message, _outgoing_handle)
        except codec.CodecError as error:
            raise TypeError(f"a test tried to send something that is not plain data: {error}") from None
        try:
            codec.write_message(self._req_write, frame)
        except OSError:
            failure = self._death_failure()
            self.kill()
            raise StudentError(failure) from None
        reply = self._receive(timeout, resolve_handle)
        if type(reply) is not dict or len(reply) != 1:
            self.kill()
            raise StudentError(Failure(Diagnosis.EXCEPTION, "the worker broke the protocol"))
        if "ok" in reply:
            return reply["ok"]
        if "error" in reply:
            raise StudentError(failure_from_reply(reply["error"]))
        self.kill()
        raise StudentError(Failure(Diagnosis.EXCEPTION, "the worker broke the protocol"))

    def _receive(self, timeout: float, resolve_handle: Any = None) -> Any:
        deadline = time.monotonic() + timeout
        try:
            header = self._read(codec.HEADER.size, deadline)
            (size,) = codec.HEADER.unpack(header)
            if size > codec.MAX_MESSAGE_BYTES:
                raise codec.CodecError(f"a reply of {size} bytes")
            return codec.decode(self._read(size, deadline), resolve_handle)
        except TimeoutError:
            self.kill()
            raise StudentError(
                Failure(Diagnosis.TIMEOUT, f"it ran for more than {timeout:g} s (the time limit) and was stopped")
            ) from None
        except EOFError:
            failure = self._death_failure()
            self.kill()
            raise StudentError(failure) from None
        except codec.CodecError as error:
            self.kill()
            raise StudentError(Failure(Diagnosis.EXCEPTION, f"it returned something that is not plain data ({error})")) from None

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._resp_read], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._resp_read, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _death_failure(self) -> Failure:
        code = self._exit_code()
        if code is not None and code < 0 and -code == signal.SIGXCPU:
            return Failure(Diagnosis.TIMEOUT, "it used up the worker's CPU time and was stopped")
        if code is not None and code < 0 and -code == signal.SIGSEGV:
            return Failure(Diagnosis.EXCEPTION, "the worker crashed (segmentation fault)")
        return Failure(
            Diagnosis.EXCEPTION,
            f"the worker process ended during the call (exit status {code}): the code called os._exit, "
            "was killed, or crashed the interpreter",
        )

    def kill(self) -> None:
        """End the worker and every process it started; close the channel."""
        if self.alive:
            self.alive = False
            self._end()
            for fd in (self._req_write, self._resp_read):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _exit_code(self) -> int | None:
        """How the worker's process ended (as `Popen.returncode`), waiting a few seconds for it; None: unknown."""
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def __del__(self) -> None:
        if getattr(self, "alive", False):
            self.kill()


class WorkerProcess(WorkerChannel):
    """A worker started as a fresh interpreter in the sandbox (where workers are not forked: see `forks_workers`)."""

    def __init__(self, python: str, limits: Limits, preload: tuple[str, ...] = ("numpy",)) -> None:
        req_read, req_write = os.pipe()
        resp_read, resp_write = os.pipe()
        self.sandbox = SandboxedProcess(lambda workdir: worker_command(python, workdir, req_read, resp_write, preload),
                                        limits, (req_read, resp_write))
        self.process, self.group, self.workdir = self.sandbox.process, self.sandbox.group, self.sandbox.workdir
        os.close(req_read)
        os.close(resp_write)
        super().__init__(limits, req_write, resp_read)

    def _exit_code(self) -> int | None:
        return self.sandbox.exit_code(5)

    def _end(self) -> None:
        self.sandbox.kill()


class ForkedWorker(WorkerChannel):
    """A worker forked from the fork server of its sandbox; ending it kills all it left and empties the sandbox."""

    def __init__(self, server: ForkServerProcess, limits: Limits) -> None:
        self.server = server
        self.pid, req_write, resp_read = server.fork()
        self._ended = False
        super().__init__(limits, req_write, resp_read)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The sandbox's outermost process (bubblewrap), which the fork server and this worker live under."""
        return self.server.process

    @property
    def group(self) -> ProcessGroup | None:
        """The pids cgroup of the sandbox (which caps the processes of the server and this worker together)."""
        return self.server.group

    def _exit_code(self) -> int | None:
        self._ended = True
        return self.server.end(self.pid, grace=5.0)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.server.end(self.pid, grace=0.0, wait=False)  # answered before the server's next fork


def _outgoing_handle(value: Any) -> Any:
    """Host objects that may cross to the worker: only handles to the worker's own objects."""
    wire = getattr(value, "wire", None)
    if isinstance(wire, codec.Handle):
        return codec.to_wire(wire)
    raise codec.CodecError(f"cannot send a value of type {type(value).__name__}")


def default_python() -> str:
    """The interpreter workers run with unless the assignment names another."""
    return os.environ.get("GRADER_WORKER_PYTHON") or sys.executable
