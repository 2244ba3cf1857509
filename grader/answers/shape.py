"""Shape answers: a dict of name -> dimensions, symbolic (`("H", "M")`) or from one worked example."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from grader.answers.questions import Dim

_SPLIT = re.compile(r"\s*(?:,|\*|×|\bx\b|(?<=[A-Za-z0-9])x(?=[A-Z0-9]))\s*")


@dataclass(frozen=True)
class ShapeReading:
    """How many entries of a shape answer are right, and what is wrong with the others."""

    right: int
    total: int
    problems: tuple[str, ...]


def read_shapes(expected: Mapping[str, tuple[Dim, ...]], value: Mapping[object, object]) -> ShapeReading:
    """Check each expected entry; numbers count when one value per symbol (H, M) explains them all."""
    answered = {_key(k): _dims(v) for k, v in value.items()}
    wanted = {name: tuple(_dim(d) for d in dims) for name, dims in expected.items()}
    binding, clashes = _binding(wanted, answered)
    right = 0
    problems: list[str] = []
    for name, dims in wanted.items():
        given = answered.get(_key(name))
        if given is None:
            problems.append(f"no shape given for `{name}`")
        elif _matches(dims, given, binding, clashes):
            right += 1
        else:
            problems.append(f"`{name}`: {_shown(given)} is not its shape")
    if clashes:
        shared = ", ".join(sorted(clashes))
        problems.insert(
            0, f"{shared} are given the same number, so the shapes that use them cannot be told apart"
        )
    return ShapeReading(right, len(wanted), tuple(problems))


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _dim(item: object) -> Dim:
    if isinstance(item, bool):
        return str(item)
    if isinstance(item, int):
        return item
    if isinstance(item, float) and item.is_integer():
        return int(item)
    text = str(item).strip()
    return int(text) if text.isdigit() else text.upper()


def _dims(value: object) -> tuple[Dim, ...] | None:
    if isinstance(value, tuple | list):
        return tuple(_dim(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (_dim(value),)
    if isinstance(value, str):
        inner = value.strip().strip("()[]").strip()
        return tuple(_dim(p) for p in _SPLIT.split(inner) if p.strip()) if inner else ()
    return None


def _binding(
    wanted: Mapping[str, tuple[Dim, ...]], answered: Mapping[str, tuple[Dim, ...] | None]
) -> tuple[dict[str, int], frozenset[str]]:
    """The number each symbol most often stands for in the answer, and the symbols sharing a number."""
    votes: dict[str, Counter[int]] = {}
    for name, dims in wanted.items():
        given = answered.get(_key(name))
        if given is None or len(given) != len(dims):
            continue
        for want, got in zip(dims, given, strict=True):
            if isinstance(want, str) and isinstance(got, int):
                votes.setdefault(want, Counter())[got] += 1
    binding = {symbol: counter.most_common(1)[0][0] for symbol, counter in votes.items()}
    numbers = Counter(binding.values())
    clashes = frozenset(s for s, n in binding.items() if numbers[n] > 1)
    return binding, clashes


def _matches(
    dims: tuple[Dim, ...], given: tuple[Dim, ...] | None, binding: Mapping[str, int], clashes: frozenset[str]
) -> bool:
    if given is None or len(given) != len(dims):
        return False
    for want, got in zip(dims, given, strict=True):
        if isinstance(want, int) or isinstance(got, str):
            if want != got:
                return False
        elif want in clashes or binding.get(want) != got:
            return False
    return True


def _shown(dims: tuple[Dim, ...] | None) -> str:
    if dims is None:
        return "what was given"
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
