"""The reference canary: before any student, every test runs on the reference and the template.

A test the reference fails, or a test that errors in its own code on either of them, is
the instructor's mistake: the batch stops (exit 3) naming the test, its file and line and
the error, before one student is graded, so that no student is ever charged for it.

The verdict is a function of the assignment's files, its template, the grader's source and
where the tests run (the sandbox's environment, the host's interpreter and packages): its
key (`canary_key`). A passed canary is remembered under that key in the output folder
and in the user's cache folder (`user_cache_dir`), beside the reference's values it
computed, so that neither a rerun nor a run into a new output folder pays for it again.
A failed canary is never remembered.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.environment import GradingEnvironment, grader_source_hash
from grader.errors import ConfigError
from grader.model import StudentResult
from grader.report.files import write_atomic
from grader.reviews import handin_fingerprint

if TYPE_CHECKING:
    from grader.executors import Executor

MARKER = ".canary"
VALUES = ".cache"  # OUT/.cache/KEY: what the executor keeps between runs (the reference's values)
CACHE_VARIABLE = "MLGRADER_CACHE_DIR"


@dataclass(frozen=True)
class CanaryFailure:
    """One test that failed the canary, and why."""

    who: str  # "reference" or "template"
    test: str
    message: str


def canary_key(assignment_fingerprint: str, template: Path | None, environments: tuple[GradingEnvironment, ...]) -> str:
    """Everything the canary's verdict depends on, hashed: the same key, the same verdict."""
    digest = hashlib.sha256()
    parts = [assignment_fingerprint, handin_fingerprint(template) if template is not None else "no template",
             grader_source_hash(), _host(), *sorted(environment.digest() for environment in environments)]
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def user_cache_dir() -> Path | None:
    """`$MLGRADER_CACHE_DIR`, else `$XDG_CACHE_HOME/mlgrader`, else `~/.cache/mlgrader`; None when it is set empty."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlgrader"


def values_dir(out: Path, key: str) -> Path:
    """Where this key's values are kept in `out` (those of other keys are stale: removed), seeded from the user's cache.

    Keyed, because a value computed from an earlier reference or test must never be used again.
    """
    here = out / VALUES / key[:16]
    if (out / VALUES).is_dir():
        for other in (out / VALUES).iterdir():
            if other == here:
                continue
            if other.is_dir() and not other.is_symlink():
                shutil.rmtree(other)
            else:
                other.unlink()
    remembered = _remembered(key)
    if remembered is not None and not here.is_dir() and (remembered / "values").is_dir():
        for file in (remembered / "values").iterdir():
            write_atomic(here / file.name, file.read_bytes())
    return here


def check_canary(executor: Executor, assignment_id: str, out: Path, key: str) -> None:
    """Raise `ConfigError` when a test fails on the reference or errors on either; quiet when all is well.

    Runs nothing when this key passed before, in `out` or in the user's cache.
    """
    marker = out / MARKER
    if marker.is_file() and marker.read_text() == key:
        return
    if _remembered(key) is not None:
        write_atomic(marker, key)
        return
    reference, template = executor.canary()
    failures: list[CanaryFailure] = []
    if reference is not None:
        failures += [CanaryFailure("reference", name, message) for name, message in _not_passed(reference)]
    if template is not None:
        failures += [CanaryFailure("template", name, message) for name, message in _errors(template)]
    if failures:
        lines = [f"- on the {f.who}: {f.test}: {f.message}" for f in failures[:20]]
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise ConfigError(
            f"{assignment_id}: the tests do not run clean on the reference solution, so no student was graded "
            "(fix the tests or the reference, then run grade again):\n" + "\n".join(lines) + more
        )
    write_atomic(marker, key)
    _remember(key, assignment_id, out / VALUES / key[:16])


def _remembered(key: str) -> Path | None:
    """This key's entry in the user's cache, when its canary passed before."""
    root = user_cache_dir()
    entry = root / "canary" / key if root is not None else None
    return entry if entry is not None and (entry / "passed").is_file() else None


def _remember(key: str, assignment_id: str, values: Path) -> None:
    """Keep the verdict and the values in the user's cache; a cache that cannot be written is only not kept."""
    root = user_cache_dir()
    if root is None:
        return
    entry = root / "canary" / key
    try:
        if values.is_dir():
            for file in values.iterdir():
                if file.is_file():
                    write_atomic(entry / "values" / file.name, file.read_bytes())
        write_atomic(entry / "passed", f"{assignment_id}\n")  # last: an entry is whole or absent
    except OSError:
        pass


def _host() -> str:
    """The interpreter the tests run in, and when its packages last changed (installing one changes the folder)."""
    folders = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    stamps = []
    for folder in folders:
        try:
            stamps.append(f"{folder}@{os.stat(folder).st_mtime_ns}")
        except OSError:
            stamps.append(f"{folder}@missing")
    return "\n".join([sys.executable, sys.version, *stamps])


def _not_passed(result: StudentResult) -> list[tuple[str, str]]:
    """Every test or written answer the reference did not pass in full."""
    found = list(_errors(result))
    for task in result.tasks:
        for test in task.tests:
            # `needs_review` is not decided (a manual question is always so): only decided tests count
            if test.verdict is None and (not test.passed or test.score < test.max_score - 1e-9):
                found.append((test.ident or f"task {task.id}: {test.name}", test.message or "it failed"))
    if result.status == "unreadable":
        found.append(("loading", "; ".join(result.errors) or "the reference could not be read"))
    return found


def _errors(result: StudentResult) -> list[tuple[str, str]]:
    """Every test that failed through the grader's or the test's own fault."""
    return [(test.ident or f"task {task.id}: {test.name}", test.message) for task in result.tasks
            for test in task.tests if test.verdict == "error"]

