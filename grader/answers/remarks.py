"""Remarks around a math answer: words, spacing, conditions and end marks a student writes after the result.

`-(y - \\hat{y}) x_i \\quad (\\text{shown})` answers `-(y - \\hat{y}) x_i`. A line is cut into
pieces at its top-level spacing (`\\quad`, `\\qquad`, `, \\;`) and at its top-level words
(`\\text{for all}`, `(\\text{shown})`); a piece that is a remark (words, a condition such as
`i = 1, \\dots, d`, an end mark) is dropped; the answer starts at the last piece left that is an
equation of its own, so `a = b, \\qquad c = d` answers `d` and `(\\hat{y} - y) \\quad x_i` stays whole.
"""

from __future__ import annotations

import re

_WORD_COMMANDS = r"text|textrm|textbf|textit|textsf|texttt|textnormal|mbox|mathrm|emph|rm"
_WORD = re.compile(r"\\(?:" + _WORD_COMMANDS + r")(?![A-Za-z])\s*\{")
_SPACING = re.compile(r"\\(?:qquad|quad|hfill|hspace\*?\s*\{[^{}]*\})(?![A-Za-z])|,\s*(?:\\[;:,! ]|~)")
_END_MARK = re.compile(r"(?:\\(?:blacksquare|square|Box|qed|checkmark|surd|triangleleft|lozenge)|\$)\Z")
_CONDITION = re.compile(
    r"\\(?:forall|in|notin|neq|ne|leq|le|geq|ge|dots|ldots|cdots|text|mbox|textrm|textit|textbf|mathrm\{for)"
    r"(?![A-Za-z])|[<>]"
)
# words that are math when written upright: `\mathrm{softmax}(z)`, `\operatorname{exp}`, `\mathrm{e}`
_MATH_WORDS = frozenset(
    "exp log ln sin cos tan sinh cosh tanh sigmoid softmax relu max min sgn sign abs diag tr trace det"
    " argmin argmax arg d e T".split()
)


def strip_remarks(line: str) -> str:
    """One line of math without the remarks around its result (its last piece that is not a remark)."""
    pieces = _pieces(line)
    kept = [p for i, p in enumerate(pieces) if i == 0 or not _is_remark(p)]
    kept = [p for p in kept if p.strip(" ,;.:")]
    if not kept:
        return _without_end_marks(line)
    # a later piece with a relation is an equation of its own; one without continues the one before
    start = max((i for i, p in enumerate(kept) if i and _has_relation(p)), default=0)
    return _without_end_marks("".join(kept[start:]))


def _without_end_marks(text: str) -> str:
    """`text` without the end-of-proof marks and spaces at its end (a loop: a `...$` regex is quadratic)."""
    text = rstrip_math(text.lstrip())
    while (mark := _END_MARK.search(text[-16:])) is not None:
        text = rstrip_math(text[: len(text) - len(text[-16:]) + mark.start()])
    return text


def rstrip_math(math: str) -> str:
    """`math` without white space at its end, and without the `\\` of a control space `\\ ` there."""
    stripped = math.rstrip()
    trailing = len(stripped) - len(stripped.rstrip("\\"))
    if trailing % 2 == 1 and len(stripped) < len(math):
        stripped = stripped[:-1].rstrip()  # `x\ ` is x and a space; `x\\` is a line break, kept
    return stripped


def _has_relation(piece: str) -> bool:
    """Whether `piece` has an `=` (or `\\approx`) outside any group."""
    depth = 0
    for i, char in enumerate(piece):
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth = max(0, depth - 1)
        elif depth == 0 and char == "=" and piece[i - 1 : i] not in ("<", ">", "!", "\\"):
            return True
    return depth == 0 and "\\approx" in piece


def _pieces(line: str) -> list[str]:
    """`line` cut before each top-level spacing command and each top-level run of words."""
    cuts = [0]
    depth = 0
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and i + 1 < len(line) and not line[i + 1].isalpha():
            i += 2  # `\{`, `\,`: an escaped character never opens a group; `, \;` is cut at its comma
            continue
        if depth == 0 and (_SPACING.match(line, i) or _words_at(line, i)):
            cuts.append(i)
        if depth == 0 and char in "([" and _words_at(line, _skip_space(line, i + 1)):
            cuts.append(i)  # `(\text{shown})`
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth = max(0, depth - 1)
        i += 1
    first = len(line) - len(line.lstrip())
    cuts = sorted(set(c for c in cuts if c == 0 or c > first))
    return [line[a:b] for a, b in zip(cuts, [*cuts[1:], len(line)], strict=True)]


def _skip_space(line: str, i: int) -> int:
    while i < len(line) and line[i].isspace():
        i += 1
    return i


def _words_at(line: str, i: int) -> bool:
    """Whether upright words that are not math (`\\text{shown}`, not `\\mathrm{e}`) start at `i`."""
    match = _WORD.match(line, i)
    if match is None:
        return False
    before = i - 1
    while before >= 0 and line[before].isspace():
        before -= 1
    if before >= 0 and line[before] in "_^":
        return False
    close = line.find("}", match.end())
    inner = line[match.end() : close if close >= 0 else None]
    word = re.sub(r"\\[,;:! ]|\s", "", inner)
    if close >= 0 and _IDENTIFIER.fullmatch(inner.strip()) and (
        _MATH_AFTER.match(line, close + 1) or (before >= 0 and line[before] in _OPERATORS)
    ):
        return False  # a name written upright inside the math: `2 \text{reg} W_1`, `\lambda \cdot \text{reg}`
    return word not in _MATH_WORDS and not (len(word) == 1 and word.isalpha())


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# what continues an expression after an upright name: a symbol, a number, a group, a command that is not spacing
_MATH_AFTER = re.compile(r"\s*(?:[A-Za-z0-9({\[^_]|\\(?!q?quad|hfill|hspace|text|mbox|[,;:! ])[A-Za-z])")
_OPERATORS = "*+-/=(^_"


def _is_remark(piece: str) -> bool:
    """A piece after the first that says something about the result rather than being it."""
    body = re.sub(r"^[\s,;:]*|(?:\\q?quad|\\hfill|\\hspace\*?\s*\{[^{}]*\}|\\[;:,! ]|~)", " ", piece).strip()
    if not _without_end_marks(body):
        return True
    if body[0] in "([" and _words_at(body, _skip_space(body, 1)):
        return True
    return _words_at(body, 0) or bool(_CONDITION.search(body))
