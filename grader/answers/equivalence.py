"""Whether two parsed expressions are equal: at random points first, by sympy only when that cannot tell."""

from __future__ import annotations

import cmath
import random
import zlib
from dataclasses import dataclass

import sympy

from grader.answers.expression import Parsed, evaluate

POINTS = 24
ENOUGH = 12  # points where both sides are defined, for a verdict
RELATIVE = 1e-8
SIMPLIFY_MAX_OPS = 60  # beyond this sympy.simplify may take minutes


@dataclass(frozen=True)
class Comparison:
    """The verdict on two expressions: equal, different, or undecided (None), with a hint for a near miss."""

    equal: bool | None
    hint: str = ""


def compare(answer: Parsed, expected: Parsed, seed: str = "") -> Comparison:
    """Compare `answer` with `expected` at random positive points; sympy decides only if too few are defined."""
    names = sorted(answer.symbols | expected.symbols)
    rng = random.Random(zlib.crc32(seed.encode()))
    pairs: list[tuple[complex, complex]] = []
    for _ in range(POINTS * 3):
        point = {name: complex(rng.uniform(0.3, 3.0)) for name in names}
        pair = _both_at(answer, expected, point)
        if pair is not None:
            pairs.append(pair)
        if len(pairs) >= POINTS:
            break
    if len(pairs) >= ENOUGH:
        if all(_close(a, b) for a, b in pairs):
            return Comparison(True)
        return Comparison(False, _hint(pairs))
    return Comparison(_symbolic_equal(answer.expr, expected.expr))


def _both_at(answer: Parsed, expected: Parsed, point: dict[str, complex]) -> tuple[complex, complex] | None:
    try:
        a, b = evaluate(answer, point), evaluate(expected, point)
    except (ArithmeticError, ValueError):
        return None
    if not (cmath.isfinite(a) and cmath.isfinite(b)) or max(abs(a), abs(b)) > 1e150:
        return None
    return a, b


def _close(a: complex, b: complex) -> bool:
    return abs(a - b) <= RELATIVE * max(1.0, abs(a), abs(b))


def _hint(pairs: list[tuple[complex, complex]]) -> str:
    if all(_close(a, -b) for a, b in pairs):
        return "it is off by a sign"
    ratios = [a / b for a, b in pairs if abs(b) > 1e-12]
    if len(ratios) == len(pairs) and all(_close(r, ratios[0]) for r in ratios) and not _close(ratios[0], 0):
        return "it is off by a constant factor"
    return ""


def _symbolic_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """sympy's word on `a == b` for small expressions; None when they are too big or sympy cannot tell."""
    if sympy.count_ops(a) + sympy.count_ops(b) > SIMPLIFY_MAX_OPS:
        return None
    try:
        difference = sympy.simplify(a - b)
    # sympy raises a wide range of errors on odd input; any of them means "cannot tell", not a crash
    except Exception:  # noqa: BLE001
        return None
    if difference == 0:
        return True
    if difference.is_number and difference.is_zero is False:
        return False
    return None
