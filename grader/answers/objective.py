"""Whether an answer states an optimisation problem (`\\arg\\min_w ...`) rather than the value it asks for."""

from __future__ import annotations

import re

_UPRIGHT = re.compile(
    r"\\(?:operatorname\*?|mathop|mathrm|textrm|text|rm|mbox|limits|nolimits|displaystyle|underset|mathbf)"
    r"(?![A-Za-z])"
)
_SPACE = re.compile(r"\\[,;:! ]|~|[{}\\]")
_ARG = re.compile(r"(?<![A-Za-z])arg\s*(min|max)(?![A-Za-z])|(?<![A-Za-z])(min|max)\s*_", re.I)


def optimisation_operator(text: str) -> str | None:
    """`argmin`, `argmax`, `min` or `max` when `text` is an optimisation problem over a variable, else None.

    `\\max(0, x)` is a function, not a problem: a bare `min`/`max` counts only with a subscript
    naming what it is taken over (`\\min_w`).
    """
    plain = _SPACE.sub(" ", _UPRIGHT.sub(" ", text))
    match = _ARG.search(plain)
    if match is None:
        return None
    if match.group(1):
        return "arg" + match.group(1).lower()
    return match.group(2).lower()
