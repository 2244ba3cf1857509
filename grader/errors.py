"""The grader's own errors: the instructor's or the environment's mistakes, each with an exit code."""

from __future__ import annotations


class GraderError(Exception):
    """A mistake outside the students' work: bad configuration, unreadable assignment, bad usage."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GraderError):
    """`assignment.toml` (or a test file it names) is wrong; the message names the file and the key."""

    exit_code = 3


class UsageError(GraderError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class OutputLocked(GraderError):
    """Another `grade` run is writing to the same output folder."""

    exit_code = 4
