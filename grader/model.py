"""Frozen dataclasses for every stage's result: what flows from load to report.

No I/O lives here. Each stage takes the previous stage's result and returns a new
one; nothing is mutated after construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

CellKind = Literal["code", "markdown", "raw"]
Visibility = Literal["public", "hidden"]


class Diagnosis(StrEnum):
    """The contract's vocabulary for what went wrong in a failed test."""

    NOT_IMPLEMENTED = "not_implemented"
    UNDEFINED_NAME = "undefined_name"
    SYNTAX_ERROR = "syntax_error"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    WRONG_SHAPE = "wrong_shape"
    NAN_OR_INF = "nan_or_inf"
    SIGN_FLIPPED = "sign_flipped"
    SCALED = "scaled"
    TRANSPOSED = "transposed"
    MISSING_REGULARIZATION = "missing_regularization"
    NUMERICALLY_UNSTABLE = "numerically_unstable"
    BELOW_THRESHOLD = "below_threshold"
    FORBIDDEN_API = "forbidden_api"
    WRONG_ANSWER = "wrong_answer"
    NUMPY_VERSION = "numpy_version"


# A test's verdict beyond passed/failed: "error" when the grader, not the student, failed it
# (no points decided, the student is graded again on the next run); "needs_review" when the
# grader could not decide it (its points are held until an instructor reviews it).
Verdict = Literal["error", "needs_review"]
Status = Literal["graded", "unreadable", "error"]


# ---------------------------------------------------------------- load


@dataclass(frozen=True)
class Cell:
    """One cell of a notebook, or a whole `.py` file as a single code cell."""

    index: int
    kind: CellKind
    source: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFile:
    """One notebook or module of a submission, as cells in file order."""

    module: str  # the import name the worker gives it ("task2a", "submission")
    path: str  # relative display path ("task2a.py", "report.ipynb")
    cells: tuple[Cell, ...]
    is_notebook: bool
    metadata_assignment: str | None = None  # from notebook metadata, if any


@dataclass(frozen=True)
class LoadedSubmission:
    """What could be read of one student's hand-in."""

    student: str
    path: str
    files: tuple[SourceFile, ...]
    problems: tuple[str, ...] = ()  # messages about parts that could not be read

    @property
    def readable(self) -> bool:
        return bool(self.files)


# ---------------------------------------------------------------- extract


@dataclass(frozen=True)
class CodeUnit:
    """One top-level statement the worker will execute, with its origin kept for tracebacks."""

    module: str
    filename: str  # "task2a.py" or "report.ipynb [cell 4]"
    first_line: int  # line of the statement in that file or cell, 1-based
    source: str
    binds: tuple[str, ...]


@dataclass(frozen=True)
class ModuleCode:
    """The minimal code of one student module: the units the needed names depend on."""

    name: str
    units: tuple[CodeUnit, ...]


@dataclass(frozen=True)
class Finding:
    """A static fact about a needed name: missing, unparsable, or reading an undefined global."""

    need: str
    diagnosis: Diagnosis
    message: str
    filename: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Resolved:
    """Where a needed name (as written in assignment.toml) lives in the submission."""

    need: str
    module: str
    name: str


@dataclass(frozen=True)
class Program:
    """Everything the worker receives: student code only, nothing of the tests or the reference."""

    modules: tuple[ModuleCode, ...]
    resolved: tuple[Resolved, ...]
    findings: tuple[Finding, ...]

    def findings_for(self, needs: tuple[str, ...]) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.need in needs)

    def resolve(self, need: str) -> Resolved | None:
        for r in self.resolved:
            if r.need == need:
                return r
        return None


# ---------------------------------------------------------------- run and score


@dataclass(frozen=True)
class TestOutcome:
    """The verdict of one instructor test on one submission, before points."""

    name: str
    task: str
    visibility: Visibility
    passed: bool
    message: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()
    weight: float | None = None  # explicit points from @pytest.mark.points, else None
    is_question: bool = False  # a written answer rather than a code test
    partial: float | None = None  # fraction of the points earned, where partial credit applies
    duration: float = 0.0
    records: tuple[Record, ...] = ()
    traceback: tuple[TraceFrame, ...] = ()
    verdict: Verdict | None = None
    ident: str = ""  # where the instructor test is defined, for the grader's own messages
    student_seconds: float = 0.0  # time spent inside calls into the student's code


@dataclass(frozen=True)
class TraceFrame:
    """One frame of a student traceback: only frames in the student's own code are kept."""

    filename: str
    line: int
    function: str


@dataclass(frozen=True)
class Record:
    """Data a test recorded for the report (an image, a series to plot); never a hidden expected value."""

    kind: str  # "images", "series", "text"
    title: str
    payload: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class TestResult:
    """One test with its points."""

    name: str
    visibility: Visibility
    passed: bool
    score: float
    max_score: float
    message: str
    diagnoses: tuple[Diagnosis, ...]
    records: tuple[Record, ...] = ()
    traceback: tuple[TraceFrame, ...] = ()
    verdict: Verdict | None = None
    ident: str = ""  # where the instructor test is defined, for the grader's own messages


@dataclass(frozen=True)
class TaskResult:
    """A task's tests and their sum."""

    id: str
    title: str
    score: float
    max_score: float
    tests: tuple[TestResult, ...]
    held: float = 0.0  # points of tests awaiting an instructor's review (`needs_review`)


@dataclass(frozen=True)
class StudentResult:
    """The whole grade of one student: what result.json holds."""

    student: str
    assignment: str
    status: Status
    score: float
    max_score: float
    tasks: tuple[TaskResult, ...]
    errors: tuple[str, ...] = ()
    held: float = 0.0  # points awaiting an instructor's review, neither earned nor lost
    environment: str = ""  # what it was graded with (isolation, versions), kept out of result.json
    student_seconds: float = 0.0  # of `seconds`, the time inside the student's own code
    seconds: float = 0.0  # wall time, kept out of result.json so that it stays byte-identical
    sources: tuple[ModuleCode, ...] = ()  # the extracted code, for the feedback report
