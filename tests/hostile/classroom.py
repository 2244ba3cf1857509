"""The hostile class: every attack in `submissions/`, plus a few that need the file system, and how it is graded."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEMO = REPO / "tests" / "fixtures" / "assignments" / "demo"
REFERENCE = REPO / "tests" / "fixtures" / "reference" / "demo.py"
HIDDEN = DEMO / "tests" / "hidden" / "test_grad_hidden.py"
SUBMISSIONS = HERE / "submissions"
SECRET_VARIABLE = "GRADER_TEST_HOST_SECRET"
DETACHED_DELAY = 3.0  # the detached attack writes this long after it starts; the suite waits longer
ATTACK_TEST = "test_attack_is_contained"
LAYER_ATTACK_TEST = "test_attack_is_stopped_under_every_layer"


def grade_command() -> list[str]:
    """The real `grade` console script of this interpreter, else the module that provides it."""
    script = Path(sys.executable).parent / "grade"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "grader.cli", "grade"]


def grade_environment(**extra: str) -> dict[str, str]:
    """The caller's environment, the repository importable, plus `extra`."""
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def layer_works(layer: str) -> bool:
    """Whether the sandbox's isolation `layer` (bwrap, unshare, none) can start a process on this machine."""
    from grader.sandbox.launcher import _wrap

    command = _wrap(layer, sys.executable, Path("/tmp"), [sys.executable, "-c", "pass"])  # type: ignore[arg-type]
    try:
        return subprocess.run(command, capture_output=True, timeout=30, cwd="/tmp").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def special_submissions(folder: Path) -> list[str]:
    """Attacks that cannot live in git as plain files: links to secrets, a FIFO, a name that clashes with class files."""
    linked = folder / "symlink-to-reference"
    linked.mkdir()
    (linked / "solution.py").symlink_to(REFERENCE)
    (linked / "tests.py").symlink_to(HIDDEN)
    (folder / "symlink-file-to-reference.py").symlink_to(REFERENCE)
    devices = folder / "fifo-and-dev-zero"
    devices.mkdir()
    os.mkfifo(devices / "blocks.py")
    (devices / "endless.py").symlink_to("/dev/zero")
    (devices / "main.py").write_text("def mse_grad(X, y, w):\n    return w\n")
    (folder / "summary.html.py").write_text((SUBMISSIONS / "honest.py").read_text())
    return ["symlink-to-reference", "symlink-file-to-reference", "fifo-and-dev-zero", "summary.html"]


@dataclass(frozen=True)
class GradedClass:
    """The hostile class after one real `grade` run, and what the suite needs to judge it."""

    run: subprocess.CompletedProcess[str]
    submissions: Path
    out: Path
    marker: str
    token: str
    files_before: dict[str, bytes]
    ended: float

    def marker_files(self) -> list[str]:
        found = [str(p) for p in Path("/tmp").glob(f"PWNED-{self.token}*")]
        return found + [p for p in ("/dev/shm/PWNED-fake-results",) if os.path.exists(p)]

    def processes_left(self) -> list[int]:
        """Processes whose command line names this run's token (the detached attack's child does)."""
        left = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if self.token.encode() in (entry / "cmdline").read_bytes():
                        left.append(int(entry.name))
                except OSError:
                    continue
        return left


def _placeholders(token: str, subs: Path, out: Path) -> dict[str, str]:
    return {
        "__OUT__": str(out),
        "__SUBMISSIONS__": str(subs),
        "__MARKER__": f"/tmp/PWNED-{token}",
        "__REFERENCE__": str(REFERENCE),
        "__HIDDEN__": str(HIDDEN),
        "__ASSIGNMENT__": str(DEMO),
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry under `folder` (links and FIFOs by kind, never read)."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = b"link:" + os.readlink(path).encode()
        elif path.is_file() and not path.is_fifo():
            found[key] = path.read_bytes()
        else:
            found[key] = b"dir" if path.is_dir() else b"special"
    return found


def grade_hostile_class(root: Path, attacks: tuple[str, ...] | None = None, isolation: str | None = None) -> GradedClass:
    """Build the class under `root`, grade it in one `grade -j 2` run, then wait out the detached process.

    `attacks` picks some of `submissions/` (the honest student is always there; the attacks the suite
    builds itself only in the whole class); `isolation` forces a sandbox layer (GRADER_ISOLATION).
    """
    token = secrets.token_hex(6)
    subs, out = root / "submissions", root / "grades"
    subs.mkdir()
    chosen = None if attacks is None else {*attacks, "honest"}
    for source in sorted(SUBMISSIONS.glob("*.py")):
        if chosen is not None and source.stem not in chosen:
            continue
        text = source.read_text()
        for placeholder, value in _placeholders(token, subs, out).items():
            text = text.replace(placeholder, value)
        (subs / source.name).write_text(text)
    if attacks is None:
        special_submissions(subs)
    before = snapshot(subs)
    command = [*grade_command(), str(subs), "-a", str(DEMO), "-o", str(out), "-j", "2", "-q"]
    extra = {SECRET_VARIABLE: f"host-secret-{token}", **({"GRADER_ISOLATION": isolation} if isolation else {})}
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=grade_environment(**extra))
    ended = time.monotonic()
    time.sleep(max(0.0, DETACHED_DELAY + 2.0 - (time.monotonic() - ended)))
    return GradedClass(run, subs, out, f"/tmp/PWNED-{token}", token, before, ended)
