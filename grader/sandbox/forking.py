"""The host's end of a fork server: start it in the sandbox, ask it for a worker, end a worker.

A worker forked from the server (`forkserver.py`) costs a fork, not an interpreter's start and
the import of numpy (or torch): about a millisecond instead of 0.1-1 s of CPU per student. The
server lives in one bubblewrap sandbox per grading process; each student's worker is forked
from its clean state and, when the student is done, killed with every process it started,
and the sandbox's folders emptied (see `forkserver.py`). A server that stops answering, dies,
or cannot make the sandbox clean again is killed whole, and the next worker gets a new one.
"""

from __future__ import annotations

import os
import select
import socket

from grader.sandbox.launcher import Limits, SandboxedProcess, fork_server_command

START_TIMEOUT = 60.0
ANSWER_TIMEOUT = 15.0  # a fork, or ending a worker (waiting for it, killing what it left, emptying folders)


class ForkServerDown(Exception):
    """The fork server did not answer as it should: it is killed, and the next worker starts a new one."""


class ForkServerProcess:
    """One fork server in its sandbox, and the control socket to it."""

    def __init__(self, python: str, limits: Limits, preload: tuple[str, ...]) -> None:
        self._socket, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = server_end.fileno()
        self.sandbox = SandboxedProcess(lambda workdir: fork_server_command(python, workdir, fd, preload), limits, (fd,))
        self.process, self.group, self.workdir = self.sandbox.process, self.sandbox.group, self.sandbox.workdir
        server_end.close()
        self.alive = True
        self.ready = False
        self._unanswered = 0  # `end` requests sent without waiting for their answer

    def wait_ready(self) -> None:
        if self.ready:
            return
        answer = self._answer(START_TIMEOUT)
        if answer != "ready":
            self.kill()
            raise ForkServerDown(f"the fork server did not start ({answer or 'no answer'})")
        self.ready = True

    def fork(self) -> tuple[int, int, int]:
        """A new worker: its PID in the sandbox, the host's ends of its request and reply pipes."""
        self.wait_ready()
        self._collect_unanswered()
        req_read, req_write = os.pipe()
        resp_read, resp_write = os.pipe()
        try:
            socket.send_fds(self._socket, [b"fork"], [req_read, resp_write])
        except OSError:
            for fd in (req_write, resp_read):
                os.close(fd)
            self.kill()
            raise ForkServerDown("the fork server is gone") from None
        finally:
            os.close(req_read)
            os.close(resp_write)
        answer = self._answer(ANSWER_TIMEOUT).split()
        if len(answer) != 2 or answer[0] != "forked" or not answer[1].isdigit():
            for fd in (req_write, resp_read):
                os.close(fd)
            self.kill()
            raise ForkServerDown(f"the fork server did not fork a worker ({' '.join(answer) or 'no answer'})")
        return int(answer[1]), req_write, resp_read

    def end(self, pid: int, grace: float, wait: bool = True) -> int | None:
        """End a worker and everything it left; its exit status as `Popen.returncode` has it (None: killed).

        `grace` is how long the worker may take to end by itself (its status then says how it died).
        With `wait=False` the answer is read before the next request, so that the cleaning overlaps
        the host's own work; a server that then reports the sandbox not clean is replaced.
        """
        if not self.alive:
            return None
        if wait:
            self._collect_unanswered()
        try:
            self._socket.send(f"end {pid} {grace:g}".encode())
        except OSError:
            self.kill()
            return None
        if not wait:
            self._unanswered += 1
            return None
        return self._ended(self._answer(ANSWER_TIMEOUT + grace))

    def _collect_unanswered(self) -> None:
        while self._unanswered and self.alive:
            self._unanswered -= 1
            self._ended(self._answer(ANSWER_TIMEOUT))
        self._unanswered = 0

    def _ended(self, answer: str) -> int | None:
        words = answer.split()
        if len(words) != 4 or words[0] != "ended":
            self.kill()
            return None
        if words[3] != "clean":
            self.kill()  # something of this student could not be removed: the next worker gets a new sandbox
        kind, _, number = words[2].partition(":")
        if kind == "exit" and number.lstrip("-").isdigit():
            return int(number)
        if kind == "signal" and number.isdigit():
            return -int(number)
        return None

    def _answer(self, timeout: float) -> str:
        if not self.alive:
            return ""
        ready, _, _ = select.select([self._socket], [], [], timeout)
        try:
            data = self._socket.recv(256) if ready else b""
        except OSError:
            data = b""
        if not data:
            self.kill()
            return ""
        return data.decode(errors="replace")

    def kill(self) -> None:
        """Kill the whole sandbox (the server, its workers, whatever they started) and remove its folder."""
        if self.alive:
            self.alive = False
            self.sandbox.kill()
            self._socket.close()

    def __del__(self) -> None:
        if getattr(self, "alive", False):
            self.kill()
