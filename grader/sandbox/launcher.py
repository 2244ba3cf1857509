"""How a worker process is started: the isolation layer, its limits and its environment.

Three layers, strongest first, chosen once per process:

- `bwrap`: user, mount, PID, network, IPC and UTS namespaces. The worker sees the
  interpreter and system libraries read-only, its own empty working directory and
  nothing else of the file system; it has no network; its whole PID namespace dies
  with it.
- `unshare`: user, PID, network and mount namespaces, but the file system stays visible
  (read-only protection then rests on file permissions).
- `none`: process limits only, for systems without namespaces. The grader says so once.

Limits that apply in every layer come from `setrlimit` in the child before exec:
address space, CPU seconds, file size, core dumps off. Where a `pids` cgroup can be
created (the grader runs as root, or has been delegated a cgroup), each worker gets its
own, which caps its number of processes (a fork bomb) and lets the host kill every
process the worker started, detached or not. `RLIMIT_NPROC` cannot do this: it counts
every process of the real user, and root is exempt from it.
"""

from __future__ import annotations

import functools
import itertools
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Isolation = Literal["bwrap", "unshare", "none"]
WORKER_DIR = Path(__file__).resolve().parent
SANDBOX_HOME = "/sandbox"
SANDBOX_CODE = "/opt/grader-worker"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker."""

    call_timeout: float = 10.0
    test_timeout: float = 60.0
    memory_mb: int = 2048
    cpu_seconds: int = 900
    file_size_mb: int = 64
    max_processes: int = 128  # through a pids cgroup where one can be made; 0: no cap


@functools.cache
def available_isolation(python: str) -> Isolation:
    """The strongest isolation layer that really works on this machine."""
    if os.environ.get("GRADER_ISOLATION") in ("bwrap", "unshare", "none"):
        return os.environ["GRADER_ISOLATION"]  # type: ignore[return-value]
    for layer in ("bwrap", "unshare"):
        command = _wrap(layer, python, Path("/tmp"), [python, "-c", "pass"])  # type: ignore[arg-type]
        if shutil.which(command[0]) is None:
            continue
        try:
            probe = subprocess.run(command, capture_output=True, timeout=20, cwd="/tmp")
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return layer  # type: ignore[return-value]
    return "none"


def worker_command(python: str, workdir: Path, req_fd: int, resp_fd: int, preload: tuple[str, ...]) -> list[str]:
    """The full command line that starts a worker in the chosen isolation layer."""
    layer = available_isolation(python)
    script = f"{SANDBOX_CODE}/worker.py" if layer == "bwrap" else str(WORKER_DIR / "worker.py")
    inner = [python, "-I", "-B", script, str(req_fd), str(resp_fd), *preload]
    return _wrap(layer, python, workdir, inner)


def forks_workers(python: str) -> bool:
    """Whether each student's worker is forked from a fork server (`forkserver.py`) rather than started.

    Only under bubblewrap: the server needs a PID namespace (to kill every process a student
    left), folders and System V IPC of the sandbox's own (to empty them), and a student without
    capabilities (who cannot trace the server or change its mounts). Under `unshare` student
    code is root in its namespace, and under `none` nothing is private: there each student gets
    a fresh interpreter.
    """
    return available_isolation(python) == "bwrap"


def fork_server_command(python: str, workdir: Path, control_fd: int, preload: tuple[str, ...]) -> list[str]:
    """The command line that starts the fork server in the sandbox, which forks one worker per student.

    It is told which folders are the sandbox's own, to empty between students: the working
    directory, /tmp and /dev/shm.
    """
    if not forks_workers(python):
        raise ValueError("a fork server needs bubblewrap")
    script = f"{SANDBOX_CODE}/forkserver.py"
    inner = [python, "-I", "-B", script, str(control_fd), f"{SANDBOX_HOME}:/tmp:/dev/shm", *preload]
    return _wrap("bwrap", python, workdir, inner)


def _wrap(layer: Isolation, python: str, workdir: Path, inner: list[str]) -> list[str]:
    if layer == "bwrap":
        return ["bwrap", *_bwrap_arguments(python, workdir), "--", *inner]
    if layer == "unshare":
        return ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net", "--mount", *inner]
    return inner


def _bwrap_arguments(python: str, workdir: Path) -> list[str]:
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # first: later binds may sit inside /tmp
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc/alternatives"):
        if os.path.exists(system_dir):
            args += ["--ro-bind", system_dir, system_dir]
    for path in sorted(_interpreter_paths(python)):
        args += ["--ro-bind", path, path]
    for name in ("worker.py", "codec.py", "forkserver.py"):
        args += ["--ro-bind", str(WORKER_DIR / name), f"{SANDBOX_CODE}/{name}"]
    args += ["--bind", str(workdir), SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    args += ["--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    return args


def _interpreter_paths(python: str) -> set[str]:
    """The folders the worker's interpreter needs: its prefix and where its packages live."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):  # not realpath: a venv's python links to its base
        candidates = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        candidates.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    else:
        candidates = set(_ask_interpreter(python))
    candidates.add(str(Path(python).resolve().parent.parent))
    candidates.add(str(Path(python).parent.parent))
    return {p for p in candidates if p and os.path.isdir(p) and p not in ("/", "/usr")}


def _ask_interpreter(python: str) -> list[str]:
    script = "import sys, sysconfig; print('\\n'.join([sys.prefix, sys.base_prefix, *sysconfig.get_paths().values(), *sys.path]))"
    out = subprocess.run([python, "-I", "-c", script], capture_output=True, text=True, timeout=30, check=True)
    return [line for line in out.stdout.splitlines() if line]


def sandbox_environment(workdir: Path) -> dict[str, str]:
    """A minimal environment: no secrets, one BLAS thread, deterministic hashing."""
    home = SANDBOX_HOME if available_isolation(sys.executable) == "bwrap" else str(workdir)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "TMPDIR": "/tmp" if home == SANDBOX_HOME else str(workdir),
    }


def apply_limits(limits: Limits, group: ProcessGroup | None = None) -> None:
    """Called in the child between fork and exec: the limits every layer shares."""
    if group is not None:
        group.join()
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# ---------------------------------------------------------------- process cap (pids cgroup)

_GROUP_NAMES = itertools.count()


@functools.cache
def pids_hierarchy() -> Path | None:
    """Where this process may create pids cgroups (v1 `pids` controller or cgroup v2), or None."""
    candidates = [Path("/sys/fs/cgroup/pids")]
    unified = Path("/sys/fs/cgroup")
    if "pids" in _read(unified / "cgroup.subtree_control").split():
        candidates.append(unified)
    for base in candidates:
        parent = base / "mlgrader"
        try:
            parent.mkdir(exist_ok=True)
            probe = parent / f"probe-{os.getpid()}"
            probe.mkdir()
            probe.rmdir()
        except OSError:
            continue
        _remove_orphaned_groups(parent)
        return parent
    return None


def _remove_orphaned_groups(parent: Path) -> None:
    """Remove the empty groups of grading processes that are gone (killed, or ended without cleaning up)."""
    for group in parent.glob("worker-*-*"):
        owner = int(group.name.split("-")[1])
        try:
            os.kill(owner, 0)
            continue  # its owner is alive and may still use it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            group.rmdir()  # fails, harmlessly, while processes remain in it
        except OSError:
            pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class ProcessGroup:
    """One worker's pids cgroup: caps how many processes it may run and kills all of them at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> ProcessGroup | None:
        """A new group capped at `max_processes`, or None where cgroups are not available."""
        parent = pids_hierarchy()
        if parent is None or max_processes <= 0:
            return None
        path = parent / f"worker-{os.getpid()}-{next(_GROUP_NAMES)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_processes))
        except OSError:
            return None
        return cls(path)

    def join(self) -> None:
        """Move the calling process into the group (in the child, before exec)."""
        try:
            with open(self.path / "cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))
        except OSError:
            pass  # the worker then runs uncapped rather than not at all; the timeout and the kill still hold

    def pids(self) -> list[int]:
        return [int(line) for line in _read(self.path / "cgroup.procs").split()]

    def kill_all(self, patience: float = 5.0) -> None:
        """SIGKILL every process in the group, also those that detached, then remove the group."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)
        try:
            self.path.rmdir()
        except OSError:
            pass  # a group still emptying stays behind, empty and harmless


class SandboxedProcess:
    """A process started in the sandbox: its own working folder, its pids cgroup, and the kill of all it started.

    What runs in it (a worker, a fork server) is the caller's: `command_for(workdir)` gives the command line,
    `pass_fds` the descriptors it inherits.
    """

    def __init__(self, command_for: Callable[[Path], list[str]], limits: Limits, pass_fds: tuple[int, ...]) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        os.chmod(self.workdir, 0o777)
        self.group = ProcessGroup.create(limits.max_processes)
        group = self.group
        self.process = subprocess.Popen(
            command_for(self.workdir),
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            env=sandbox_environment(self.workdir),
            start_new_session=True,
            preexec_fn=lambda: apply_limits(limits, group),
        )

    def exit_code(self, patience: float) -> int | None:
        """How the process ended (as `Popen.returncode`), waiting up to `patience` seconds; None: still running."""
        try:
            return self.process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the process group, then what left it (through the pids cgroup); remove the working folder."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.exit_code(10)
        if self.group is not None:
            self.group.kill_all()  # also what left the process group (setsid, double fork)
        shutil.rmtree(self.workdir, ignore_errors=True)


def isolation_notes(python: str) -> tuple[str, ...]:
    """What the instructor should know about this machine's sandbox, said once per run."""
    notes = []
    layer = available_isolation(python)
    if layer != "bwrap":
        kept = "namespaces and process limits" if layer == "unshare" else "process limits only"
        notes.append(f"sandbox isolation is '{layer}' (bubblewrap is not available): student code runs with {kept}, "
                     "and can read files its permissions allow (apt-get install bubblewrap)")
    if pids_hierarchy() is None:
        notes.append("no pids cgroup can be created here: the number of student processes is not capped")
    return tuple(notes)
