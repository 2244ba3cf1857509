"""The math of a written answer: its last `\\boxed{}`, display or inline math, and the right-hand side."""

from __future__ import annotations

import re

from grader.answers.remarks import rstrip_math, strip_remarks

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_DISPLAY = re.compile(
    r"\$\$(?P<dollars>.+?)\$\$"
    r"|\\\[(?P<brackets>.+?)\\\]"
    r"|\\begin\{(?P<env>equation|align|alignat|gather|multline|eqnarray|aligned|gathered|split|flalign"
    r"|displaymath|math)(?P<star>\*?)\}(?P<body>.*?)\\end\{(?P=env)(?P=star)\}",
    re.S,
)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?P<dollar>.+?)(?<![\\$])\$(?!\$)|\\\((?P<paren>.+?)\\\)", re.S)
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^}]*\}(?:\{[^}]*\})?")
_LINE_BREAK = re.compile(r"\\\\(?:\[[^\]]*\])?")
_DROPPED = re.compile(r"\\(?:nonumber|notag)\b|\\(?:label|tag)\s*\{[^}]*\}")
_EDGE = r"(?:\s|[.,;:]|\\[,;:! ]|\\q?quad\b)+"
_TRAILING_ONE = re.compile(r"(?:\\[,;:! ]|\\q?quad|[.,;:])\Z")
_LEADING = re.compile(r"^" + _EDGE)
_STARTS_WITH_RELATION = re.compile(r"\s*(?:=|\\approx|:=|\\equiv)")
_STACKED_RELATION = re.compile(r"\\(?:stackrel|overset)\s*\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}\s*\{\s*=\s*\}")
# `\to` too: a limit is often answered `\mathbf{w}_{MAP} \to \mu` (inside `\lim_{n \to \infty}` it is not top level)
_RELATIONS = (
    "\\coloneqq", "\\approx", "\\equiv", "\\triangleq", "\\doteq", "\\longrightarrow", "\\rightarrow", "\\to",
    ":=", "=",
)


def matching_brace(text: str, open_index: int) -> int | None:
    """The index of the `}` closing the `{` at `open_index`, skipping escaped braces; None if unbalanced."""
    depth = 0
    i = open_index
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def boxed_contents(text: str) -> tuple[str, ...]:
    """The contents of every `\\boxed{...}` in `text`, in order (unbalanced ones are skipped)."""
    found = []
    for match in _BOXED.finditer(text):
        close = matching_brace(text, match.end() - 1)
        if close is not None:
            found.append(text[match.end() : close])
    return tuple(found)


def clean_math(math: str) -> str:
    """Math without alignment marks, environments, labels, line breaks and trailing punctuation."""
    math = _ENVIRONMENT.sub(" ", math)
    math = _LINE_BREAK.sub(" ", math)
    math = _DROPPED.sub(" ", math)
    math = math.replace("&", " ")
    math = _LEADING.sub("", _without_trailing(math))
    return math.strip()


def _without_trailing(math: str) -> str:
    """`math` without spacing and punctuation at its end (a loop: a `(...)+$` regex is quadratic)."""
    math = rstrip_math(math)
    while (edge := _TRAILING_ONE.search(math[-8:])) is not None:
        math = rstrip_math(math[: len(math) - len(math[-8:]) + edge.start()])
    return math


def _display_and_inline(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    display: list[str] = []
    for match in _DISPLAY.finditer(text):
        display.append(match.group("dollars") or match.group("brackets") or match.group("body") or "")
    rest = _DISPLAY.sub(lambda m: " " * len(m.group(0)), text)
    inline = tuple(m.group("dollar") or m.group("paren") or "" for m in _INLINE.finditer(rest))
    return tuple(display), inline


def display_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where each display equation of `text` starts and ends."""
    return tuple(m.span() for m in _DISPLAY.finditer(text))


def math_segments(text: str) -> tuple[str, ...]:
    """The math pieces an answer is read from, cleaned: its boxes, else its display math, else its inline math.

    Of a piece written over several lines (an `align`), only its last step counts: the last line
    holding a relation, with the lines that continue it.
    """
    boxed = boxed_contents(text)
    if boxed:
        return tuple(clean_math(last_step(b)) for b in boxed)
    display, inline = _display_and_inline(text)
    return tuple(clean_math(last_step(m)) for m in (display or inline))


def last_step(math: str) -> str:
    """The last step of a derivation written over lines: from its last line with a relation to its end.

    Each line loses its alignment marks and remarks first, so `&= b \\quad \\text{(chain rule)}`
    counts as `= b`.
    """
    lines = []
    for raw in _LINE_BREAK.split(math):
        line = _DROPPED.sub(" ", _ENVIRONMENT.sub(" ", raw)).replace("&", " ")
        line = _LEADING.sub("", line.strip())
        line = strip_remarks(line) if line else ""
        if line.strip():
            lines.append(line)
    if len(lines) <= 1:
        return lines[0] if lines else math
    start = max((i for i, line in enumerate(lines) if _has_relation(line)), default=0)
    return " ".join(lines[start:])


def _has_relation(math: str) -> bool:
    return right_hand_side(math, remarks=False) != clean_math(math) or _STARTS_WITH_RELATION.match(math) is not None


def extract_math(text: str) -> str | None:
    """The math answer in `text`: the right-hand side of its last box, display or inline math; None if none."""
    segments = math_segments(text)
    if not segments:
        return None
    return right_hand_side(segments[-1])


def right_hand_side(math: str, remarks: bool = True) -> str:
    """What follows the last top-level `=` (or `\\approx`, `:=`, `\\to`) of `math`; all of it if there is none.

    Remarks after the result (`\\quad (\\text{shown})`) are left out first, unless `remarks` is False.
    """
    math = _STACKED_RELATION.sub("=", math)
    if remarks:
        math = strip_remarks(clean_math(math))
    depth = 0
    cut = -1
    i = 0
    while i < len(math):
        char = math[i]
        if char == "\\" and i + 1 < len(math) and not math[i + 1].isalpha():
            i += 2  # an escaped character such as \{ never opens a group
            continue
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        elif depth == 0:
            relation = _relation_at(math, i)
            if relation:
                cut = i + len(relation)
                i = cut
                continue
        i += 1
    return clean_math(math[cut:]) if cut >= 0 else clean_math(math)


def _relation_at(math: str, i: int) -> str | None:
    for relation in _RELATIONS:
        if not math.startswith(relation, i):
            continue
        if relation == "=" and (math[i - 1 : i] in ("<", ">", "!", "=") or math[i + 1 : i + 2] == "="):
            return None
        if relation.startswith("\\") and math[i + len(relation) : i + len(relation) + 1].isalpha():
            continue
        return relation
    return None
