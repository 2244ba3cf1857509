"""The malformed class graded once per module, and the suite's summary line."""

from __future__ import annotations

from typing import Any

MALFORMED_TEST = "test_malformed_input_is_recorded"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line the README quotes: how many malformed inputs were tried and how many crashed the batch or got no result."""
    reports = [r for key in ("passed", "failed", "error") for r in terminalreporter.stats.get(key, ())
               if getattr(r, "when", "") == "call" and MALFORMED_TEST in getattr(r, "nodeid", "")]
    if reports:
        crashes = sum(1 for r in reports if not r.passed)
        terminalreporter.write_line(f"malformed-input suite: malformed inputs tried {len(reports)}, crashes {crashes}")
