"""The written questions of an assignment as data, and the verdict on one answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from grader.model import Diagnosis

QuestionKind = Literal["numeric", "choice", "expression", "shape", "manual"]
Dim = str | int


@dataclass(frozen=True)
class Question:
    """One written question: the kind of answer it takes, the right one, and how its symbols are spelled.

    `expected` is a float or a tuple of floats (numeric), a string (choice, expression),
    or a mapping from a name to a tuple of dimensions (shape). `tolerance` is relative to
    the expected value, and absolute below 1. `accepted` are the right spellings of a
    choice; `options` all the alternatives the question offers (right and wrong), so that
    a sentence naming several of them is not credited. `symbols` maps a sympy symbol name
    to its spellings; `index_superscripts` are superscripts that index a symbol (`h`,
    `{h,m}`) rather than raise it to a power.

    A question that is one part of a question the handout asks as a whole (`3.4a` of `3.4`)
    names it in `part_of`, its position among its parts in `part` (0-based, the handout's
    order) and `part_count`, and the names a student may key it by in `part_names` (`db2`),
    so that `ANSWERS["3.4"] = (...)`, `{"db2": ...}` or one cell answering the parts in order
    are read part by part.
    """

    id: str
    kind: QuestionKind
    points: float = 0.0
    expected: object = field(default=None, hash=False)
    tolerance: float = 1e-6
    accepted: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    symbols: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    index_superscripts: tuple[str, ...] = ()
    task: str = ""
    part_of: str = ""
    part: int = 0
    part_count: int = 0
    part_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        frozen = MappingProxyType({name: tuple(spellings) for name, spellings in self.symbols.items()})
        object.__setattr__(self, "symbols", frozen)
        if isinstance(self.expected, Mapping):
            shape = MappingProxyType({str(k): _as_tuple(v) for k, v in self.expected.items()})
            object.__setattr__(self, "expected", shape)
        elif isinstance(self.expected, list):
            object.__setattr__(self, "expected", tuple(self.expected))

    @property
    def right_spellings(self) -> tuple[str, ...]:
        """The spellings of a choice that are credited: `accepted`, else the expected value."""
        if self.accepted:
            return self.accepted
        return (str(self.expected),) if self.expected is not None else ()


def _as_tuple(value: object) -> tuple[object, ...]:
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


@dataclass(frozen=True)
class AnswerVerdict:
    """Whether one written answer earns its points, what was read, and why."""

    qid: str
    passed: bool
    score: float  # fraction of the question's points, 0..1
    message: str
    read: str  # what was read of the student's answer, quoted in the report
    diagnoses: tuple[Diagnosis, ...] = ()
    manual: bool = False  # graded by a person, never by the grader
    needs_review: bool = False  # the grader is not sure it read the right answer: points held for a person
