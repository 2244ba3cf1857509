"""mlgrader: grade machine-learning homework with student code in a sandbox.

`from grader import check; check("1a")` runs a task's public tests from inside a notebook;
it is imported on first use, so `import grader` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check"]


def __getattr__(name: str) -> Any:
    if name == "check":
        from grader.selfcheck import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
