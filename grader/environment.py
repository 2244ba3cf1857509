"""What a hand-in was graded with: the sandbox's isolation layer and the sandbox interpreter's versions.

Recorded per student, shown in the class summary, and part of the fingerprint, so that a
changed grading environment (another NumPy, a machine without bubblewrap) grades again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.sandbox.launcher import available_isolation

LAYERS = ("none", "unshare", "bwrap")  # weakest first

_PROBE = """
import json, platform, sys
from importlib import metadata
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
print(json.dumps({"python": platform.python_version(), "numpy": version("numpy"), "torch": version("torch")}))
"""


@dataclass(frozen=True)
class GradingEnvironment:
    """The isolation layer and the versions the student's code ran with."""

    isolation: str
    python: str
    numpy: str
    torch: str = ""

    def describe(self) -> str:
        """`bwrap · Python 3.11.7 · NumPy 2.3.5 · torch 2.13.0`."""
        parts = [self.isolation, f"Python {self.python}", f"NumPy {self.numpy or 'absent'}"]
        if self.torch:
            parts.append(f"torch {self.torch}")
        return " · ".join(parts)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@functools.cache
def grader_source_hash() -> str:
    """A hash of the grader's own code and templates: a changed grader grades again."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*")):
        if file.suffix in (".py", ".j2") and "__pycache__" not in file.parts:
            digest.update(file.read_bytes())
    return digest.hexdigest()


@functools.cache
def current_environment(python: str) -> GradingEnvironment:
    """The environment sandbox workers started with `python` get on this machine (asked once per process)."""
    try:
        done = subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True)
        versions = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise UsageError(f"the sandbox interpreter {python} could not be asked for its versions: {error}") from None
    return GradingEnvironment(available_isolation(python), str(versions["python"]), str(versions["numpy"]),
                              str(versions["torch"]))


def meets(environment: GradingEnvironment, required: str | None) -> bool:
    """Whether the environment's isolation is at least `required` (`bwrap` > `unshare` > `none`)."""
    if required is None:
        return True
    return LAYERS.index(environment.isolation) >= LAYERS.index(required)
