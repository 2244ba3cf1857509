"""An answer as canonical tokens: one spelling for LaTeX that means the same, declared symbols as one token."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

TokKind = Literal["cmd", "num", "name", "word", "sym", "ch"]

_LATEX_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|\.\d+|[A-Za-z]|\s+|.", re.S)
_PYTHON_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+|\s+|.", re.S)
_IGNORED = frozenset(
    r"\left \right \big \Big \bigg \Bigg \bigl \bigr \Bigl \Bigr \biggl \biggr \Biggl \Biggr \middle"
    r" \displaystyle \textstyle \limits \nonumber \quad \qquad \, \; \: \! \> \\".split()
) | {"\\ "}
_SIZED = frozenset(
    r"\left \right \big \Big \bigg \Bigg \bigl \bigr \Bigl \Bigr \biggl \biggr \middle".split()
)
_FONTS = frozenset(r"\mathbf \boldsymbol \bm \mathit \mathsf \mathnormal \textbf \textit \pmb".split())
_WORDS = frozenset(r"\text \textrm \mbox \operatorname \mathrm".split())
_RENAMED = {
    "\\overline": "\\bar",
    "\\widehat": "\\hat",
    "\\widetilde": "\\tilde",
    "\\dfrac": "\\frac",
    "\\tfrac": "\\frac",
    "\\cfrac": "\\frac",
    "\\ln": "\\log",
    "\\times": "\\cdot",
    "\\ast": "\\cdot",
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "\\varepsilon": "\\epsilon",
}
GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho varrho"
    " sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon"
    " Phi Psi Omega".split()
)


@dataclass(frozen=True)
class Tok:
    """One token of an answer; a "sym" token is a declared symbol, `show` its spelling as written."""

    kind: TokKind
    text: str
    show: str = ""


class ReadError(Exception):
    """Stops reading an answer; `parse_expression` turns it into `Unreadable`, so it never leaves the package."""


# ---------------------------------------------------------------- tokens


def normalise_unicode(text: str) -> str:
    """Unicode math as ASCII LaTeX: `σ²` as `\\sigma ^2`, `ŷ` as `\\hat{y}`, `−` as `-`."""
    text = unicodedata.normalize("NFD", text)
    text = re.sub(r"(\w)[\u0302]", r"\\hat{\1}", text)
    text = re.sub(r"(\w)[\u0304\u0305]", r"\\bar{\1}", text)
    text = re.sub(r"(\w)[\u0303]", r"\\tilde{\1}", text)
    out = []
    for char in text:
        out.append(_UNICODE.get(char) or _greek(char) or char)
    return "".join(out)


_UNICODE = {
    "−": "-",
    "–": "-",
    "—": "-",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "×": "*",
    "÷": "/",
    "²": "^2",
    "³": "^3",
    "√": "\\sqrt ",
    "\u00a0": " ",
}


def _greek(char: str) -> str | None:
    if not "\u0370" <= char <= "\u03ff":
        return None
    name = unicodedata.name(char, "")
    for prefix, capital in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        if name.startswith(prefix):
            letter = name[len(prefix) :].lower().replace("lamda", "lambda")
            return "\\" + (letter.capitalize() if capital else letter) + " "
    return None


def tokenize(text: str, latex: bool) -> list[Tok]:
    """Tokens of `text`: in LaTeX each letter is its own name, in Python a whole identifier is one."""
    tokens = []
    for match in (_LATEX_TOKEN if latex else _PYTHON_TOKEN).finditer(text):
        piece = match.group(0)
        if piece.isspace():
            continue
        if piece.startswith("\\"):
            tokens.append(Tok("cmd", piece))
        elif piece[0].isdigit() or (piece[0] == "." and len(piece) > 1):
            tokens.append(Tok("num", piece))
        elif piece[0].isalpha() or piece[0] == "_" and len(piece) > 1:
            tokens.append(Tok("name", piece))
        else:
            tokens.append(Tok("ch", piece))
    return tokens


def canonical(tokens: list[Tok]) -> list[Tok]:
    """One spelling for LaTeX that means the same: no sizing, spacing or fonts, `{x}` as `x`, `_` before `^`."""
    tokens = _drop_decoration(tokens)
    tokens = _unbrace_single(tokens)
    return _subscript_first(tokens)


def _drop_decoration(tokens: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.kind == "ch" and tok.text in ("&", "~"):
            continue
        if tok.kind != "cmd":
            out.append(tok)
            continue
        name = _RENAMED.get(tok.text, tok.text)
        if name in _SIZED and i < len(tokens) and tokens[i].text == ".":
            i += 1  # \left. and \right. are invisible delimiters
        if name in _IGNORED or name in _FONTS:
            continue
        if name in _WORDS:
            end = argument_end(tokens, i)
            inner = tokens[i:end]
            word = "".join(t.text for t in strip_braces(inner))
            out.append(Tok("name", word) if len(word) == 1 and word.isalpha() else Tok("word", word))
            i = end
            continue
        out.append(Tok("cmd", name))
    return out


def _unbrace_single(tokens: list[Tok]) -> list[Tok]:
    changed = True
    while changed:
        changed = False
        out: list[Tok] = []
        i = 0
        while i < len(tokens):
            if (
                tokens[i].text == "{"
                and i + 2 < len(tokens)
                and tokens[i + 2].text == "}"
                and tokens[i + 1].text not in ("{", "}")
                and not (tokens[i + 1].kind == "num" and len(tokens[i + 1].text) > 1)
            ):
                out.append(tokens[i + 1])
                i += 3
                changed = True
            else:
                out.append(tokens[i])
                i += 1
        tokens = out
    return tokens


def _subscript_first(tokens: list[Tok]) -> list[Tok]:
    i = 0
    while i < len(tokens):
        if tokens[i].text == "^" and tokens[i].kind == "ch":
            sup_end = argument_end(tokens, i + 1)
            if sup_end < len(tokens) and tokens[sup_end].text == "_":
                sub_end = argument_end(tokens, sup_end + 1)
                sup, sub = tokens[i + 1 : sup_end], tokens[sup_end + 1 : sub_end]
                tokens = tokens[:i] + [Tok("ch", "_"), *sub, Tok("ch", "^"), *sup] + tokens[sub_end:]
        i += 1
    return tokens


def argument_end(tokens: list[Tok], start: int) -> int:
    """The index after the LaTeX argument starting at `start`: a braced group or one token."""
    if start >= len(tokens):
        return start
    if tokens[start].text != "{":
        return start + 1
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == "{":
            depth += 1
        elif tokens[i].text == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(tokens)


def strip_braces(tokens: list[Tok]) -> list[Tok]:
    """A braced group without its outer braces; anything else unchanged."""
    if len(tokens) >= 2 and tokens[0].text == "{" and argument_end(tokens, 0) == len(tokens):
        return tokens[1:-1]
    return tokens


def show(tokens: list[Tok]) -> str:
    """Tokens written back as text, for messages and symbol keys."""
    out = ""
    for tok in tokens:
        piece = tok.show or tok.text
        if piece[:1].isalpha() and re.search(r"\\[A-Za-z]+$", out):
            out += " "  # keep `\bar x` from running together as `\barx`
        out += piece
    return out


def index_key(tokens: list[Tok]) -> str:
    """How a superscript is compared with the declared index superscripts: `^{h,m}` as `h,m`."""
    return show(strip_braces(tokens))


# ---------------------------------------------------------------- spellings


def spelling_table(
    symbols: Mapping[str, tuple[str, ...]], latex: bool
) -> tuple[tuple[tuple[Tok, ...], str], ...]:
    """Every declared spelling as canonical tokens with its symbol, longest first."""
    table: dict[tuple[Tok, ...], str] = {}
    for name, spellings in symbols.items():
        automatic = (name, f"\\{name}") if name in GREEK else (name,)
        for spelling in (*spellings, *automatic):
            normal = normalise_unicode(spelling)
            key = tuple(canonical(tokenize(normal, latex or "\\" in normal)))
            if key:
                table.setdefault(key, name)
    return tuple(sorted(table.items(), key=lambda item: -len(item[0])))


def replace_spellings(tokens: list[Tok], table: tuple[tuple[tuple[Tok, ...], str], ...]) -> list[Tok]:
    """`tokens` with every declared spelling (longest first) replaced by one "sym" token."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        for spelling, name in table:
            if tuple(tokens[i : i + len(spelling)]) == spelling:
                out.append(Tok("sym", name, show(list(spelling))))
                i += len(spelling)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out
