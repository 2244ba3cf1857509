"""The fork server: pays a worker's start once, then forks one worker per student.

Started inside the sandbox (`python -I -B forkserver.py CONTROL_FD WRITABLE_DIRS [preload ...]`)
under bubblewrap (a PID namespace, folders and IPC of its own, no capabilities), it imports the
worker's code and the preloaded modules (numpy, torch), never runs student code, and answers the
host on a SOCK_SEQPACKET socket, one request at a time:

    fork            (with two file descriptors: the requests' read end, the replies' write end)
                    -> forked PID       a worker for one student, forked from this clean state
    end PID GRACE   -> ended PID STATUS clean|dirty
                    waits up to GRACE seconds for the worker to end by itself (its exit status
                    tells how it died), then kills every process of the namespace but this one,
                    and empties every writable folder of the sandbox

So each student starts from the same state, and nothing of the previous student is left: no
process (SIGKILL to every process of the PID namespace), no file (the working directory, /tmp and
/dev/shm are emptied), no System V IPC object (or the server says `dirty` and the host starts a
new sandbox). One worker at a time: `fork` ends the previous one first. The server makes itself
undumpable, so a student's process (same user) can neither trace it nor read its memory or
descriptors; a student's process can still kill it, and the host then starts a new one.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker  # noqa: E402  (the worker's code sits beside this file in the sandbox)

PR_SET_DUMPABLE = 4
SYSV_IPC_TABLES = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem")


def set_dumpable(flag: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class ForkServer:
    """The state of the fork server: the one worker alive, and what `end` must empty."""

    def __init__(self, writable: list[str], mounts: frozenset[str] = frozenset()) -> None:
        self.writable = writable
        self.mounts = mounts  # what bubblewrap mounted inside them (an interpreter under /tmp): kept
        self.child: int | None = None
        self.statuses: dict[int, int] = {}

    def fork(self, req_fd: int, resp_fd: int, control: socket.socket) -> int:
        if self.child is not None:
            self.end(self.child, 0.0)
        pid = os.fork()
        if pid == 0:  # the student's worker
            control.close()
            try:
                set_dumpable(1)
                worker.start(req_fd, resp_fd)
            finally:
                os._exit(0)
        os.close(req_fd)
        os.close(resp_fd)
        self.child = pid
        return pid

    def end(self, pid: int, grace: float) -> tuple[str, bool]:
        """The worker's exit status (`exit N`, `signal N`, `killed`), and whether the sandbox is clean again."""
        status = self._wait(pid, grace)
        clean = self._kill_everything_else()
        if self.child == pid:
            self.child = None
        status = status or self._describe(self.statuses.pop(pid, None), killed=True)
        return status, clean and self._empty_writable() and self._no_ipc_left()

    def _wait(self, pid: int, grace: float) -> str:
        deadline = time.monotonic() + grace
        while True:
            self._reap()
            if pid in self.statuses:
                return self._describe(self.statuses.pop(pid), killed=False)
            if time.monotonic() >= deadline:
                return ""
            time.sleep(0.002)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = status

    @staticmethod
    def _describe(status: int | None, killed: bool) -> str:
        if status is None:
            return "killed" if killed else ""
        if os.WIFSIGNALED(status):
            return f"signal {os.WTERMSIG(status)}"
        return f"exit {os.waitstatus_to_exitcode(status)}"

    def _kill_everything_else(self, patience: float = 5.0) -> bool:
        """SIGKILL every process of the namespace but this one (and its init), until none is left."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)  # in a PID namespace: every process of it but init and the caller
            except ProcessLookupError:
                self._reap()
                return True
            except PermissionError:
                return False
            self._reap()
            time.sleep(0.001)
        return False

    def _empty_writable(self) -> bool:
        return all(empty_folder(folder, self.mounts) for folder in self.writable)

    def _no_ipc_left(self) -> bool:
        for table in SYSV_IPC_TABLES:
            try:
                with open(table) as handle:
                    if len(handle.read().splitlines()) > 1:  # a header line, then one line per object
                        return False
            except OSError:
                pass
        return True


def mount_points() -> frozenset[str]:
    """Where something is mounted in this sandbox (from /proc/self/mountinfo)."""
    try:
        with open("/proc/self/mountinfo") as handle:
            return frozenset(line.split()[4].replace("\\040", " ") for line in handle if len(line.split()) > 4)
    except OSError:
        return frozenset()


def empty_folder(folder: str, mounts: frozenset[str]) -> bool:
    """Remove everything in `folder` but the mount points under it and the folders that lead to them.

    Bubblewrap makes the folders that lead to a bind mount inside /tmp when the interpreter lives under
    /tmp (`/tmp/ci/.venv`): those stay, but what a student put in them goes. True when only they are left.
    """
    clean = True
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    for name in entries:
        path = os.path.join(folder, name)
        if path in mounts:
            continue
        if any(mount.startswith(path + "/") for mount in mounts) and os.path.isdir(path) and not os.path.islink(path):
            try:
                os.chmod(path, 0o755)  # a student may have locked it
            except OSError:
                pass
            clean = empty_folder(path, mounts) and clean
            continue
        _make_removable(path)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
        clean = clean and not os.path.lexists(path)
    return clean


def _make_removable(path: str) -> None:
    """A student may have taken the write permission off their folders: give it back before removing."""
    if os.path.islink(path) or not os.path.isdir(path):
        return
    for root, dirs, _ in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs)]:
            try:
                os.chmod(name, 0o700)
            except OSError:
                pass


def serve(control: socket.socket, server: ForkServer) -> None:
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 256, 2)
        except OSError:
            return
        if not message:
            return
        words = message.decode().split()
        if words[0] == "fork" and len(fds) == 2:
            pid = server.fork(fds[0], fds[1], control)
            control.send(f"forked {pid}".encode())
        elif words[0] == "end" and len(words) == 3:
            status, clean = server.end(int(words[1]), float(words[2]))
            control.send(f"ended {words[1]} {status.replace(' ', ':')} {'clean' if clean else 'dirty'}".encode())
        else:
            for fd in fds:
                os.close(fd)
            control.send(b"refused")


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    writable = [folder for folder in sys.argv[2].split(":") if folder]
    if os.getpid() > 2:  # not the first process of a PID namespace: `kill(-1)` would reach the host's processes
        control.send(b"refused: no PID namespace")
        os._exit(3)
    worker.preload(sys.argv[3:])
    set_dumpable(0)
    worker.silence()
    worker.seed_everything(0)  # the first seeding builds numpy's global generator (10 ms): once, not per student
    gc.collect()
    gc.freeze()  # the objects imported so far stay shared with every worker, not copied on the first collection
    control.send(b"ready")
    serve(control, ForkServer(writable, mount_points()))
    os._exit(0)


if __name__ == "__main__":
    main()
