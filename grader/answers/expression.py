"""A student's math, LaTeX or Python-like, read into a sympy expression without running any of it.

Each declared spelling of a symbol becomes one token first (longest first), so that `W_2^h`
is a symbol and not a power. The rest is turned into a Python-syntax string built only from
generated identifiers, numbers, operators and whitelisted function names; that string is
parsed with `ast` and built into sympy node by node (`tree.py`). Nothing reaches eval, exec,
sympify or parse_expr.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy

from grader.answers.objective import optimisation_operator
from grader.answers.tokens import (
    GREEK,
    ReadError,
    Tok,
    argument_end,
    canonical,
    index_key,
    normalise_unicode,
    replace_spellings,
    show,
    spelling_table,
    strip_braces,
    tokenize,
)
from grader.answers.tree import FUNCTIONS, build, value_at

MAX_LENGTH = 1000
_ACCENTS = frozenset(r"\hat \bar \tilde \vec \dot \ddot \check \breve \acute \grave".split())
_CLOSERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}
_PYTHON_FUNCTIONS = {name: name for name in FUNCTIONS} | {"ln": "log", "Abs": "abs", "sigma": "sigmoid"}
_LATEX_FUNCTIONS = {f"\\{name}": name for name in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh")}
_CONSTANTS = {"e": "E", "\\pi": "pi", "pi": "pi"}


@dataclass(frozen=True)
class Parsed:
    """An answer read as math: the sympy expression and the checked syntax tree it was built from."""

    source: str
    expr: sympy.Expr = field(compare=False)
    tree: ast.Expression = field(compare=False, hash=False, repr=False)
    # generated identifier -> declared symbol name, or "=E" / "=pi" for a constant
    names: Mapping[str, str] = field(compare=False, hash=False, repr=False)

    @property
    def symbols(self) -> frozenset[str]:
        """The declared symbols the answer uses."""
        return frozenset(v for v in self.names.values() if not v.startswith("="))


@dataclass(frozen=True)
class Unreadable:
    """An answer that could not be read as math, and why, in words for the student."""

    source: str
    reason: str
    optimisation: str = ""  # "argmin", "argmax", "min", "max": the answer is a problem, not its solution


def parse_expression(
    text: str,
    symbols: Mapping[str, tuple[str, ...]] | None = None,
    index_superscripts: tuple[str, ...] = (),
) -> Parsed | Unreadable:
    """Read `text` (LaTeX or Python-like) as a sympy expression in the declared `symbols`; never runs it."""
    symbols = symbols or {}
    source = text.strip()
    if len(source) > MAX_LENGTH:
        return Unreadable(source, f"the answer is longer than {MAX_LENGTH} characters")
    operator = optimisation_operator(source)
    if operator is not None:
        return Unreadable(
            source,
            f"this is an optimisation problem ({operator}), the question asks for its solution",
            operator,
        )
    try:
        normal = normalise_unicode(source).replace("$", " ")
        latex = "\\" in normal or "{" in normal
        tokens = replace_spellings(canonical(tokenize(normal, latex)), spelling_table(symbols, latex))
        keys = frozenset(
            index_key(canonical(tokenize(normalise_unicode(s), True))) for s in index_superscripts
        )
        reader = _Reader(tokens, latex, keys, tuple(symbols))
        python = reader.read()
        tree = ast.parse(python, mode="eval")
        expr = build(tree.body, reader.names)
    except ReadError as failure:
        return Unreadable(source, str(failure))
    except (SyntaxError, ValueError):
        return Unreadable(source, "it is not a complete expression")
    except (RecursionError, MemoryError):
        return Unreadable(source, "the expression is nested too deeply")
    except (TypeError, ArithmeticError, AttributeError) as error:  # sympy refusing an odd combination
        return Unreadable(source, f"sympy could not build it ({type(error).__name__})")
    return Parsed(source, expr, tree, reader.names)


def evaluate(parsed: Parsed, values: Mapping[str, complex]) -> complex:
    """The value of a parsed answer at a point (symbol name -> value), computed without sympy or eval.

    Raises ArithmeticError or ValueError where the expression is undefined (a pole, an overflow).
    """
    return value_at(parsed.tree.body, parsed.names, values)


# ---------------------------------------------------------------- tokens to Python syntax


class _Reader:
    """Turns canonical tokens into a Python expression string over generated identifiers only."""

    def __init__(self, tokens: list[Tok], latex: bool, index_keys: frozenset[str], symbols: tuple[str, ...]):
        self.tokens = tokens
        self.pos = 0
        self.latex = latex
        self.index_keys = index_keys
        self.symbols = symbols
        self.names: dict[str, str] = {}  # identifier -> symbol name, or "=E" / "=pi" for a constant
        self.unknown: list[str] = []

    def read(self) -> str:
        if not self.tokens:
            raise ReadError("there is nothing to read")
        python = self.sequence(None)
        if self.unknown:
            listed = ", ".join(f"`{u}`" for u in dict.fromkeys(self.unknown))
            declared = ", ".join(self.symbols) or "none"
            raise ReadError(f"{listed} is not one of this question's symbols ({declared})")
        return python

    def peek(self, ahead: int = 0) -> Tok | None:
        at = self.pos + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def sequence(self, closer: str | None) -> str:
        atoms: list[tuple[str, str]] = []
        while True:
            tok = self.peek()
            if tok is None:
                if closer is not None:
                    raise ReadError(f"a `{closer}` is missing")
                break
            if tok.text == closer and tok.kind in ("ch", "cmd"):
                self.pos += 1
                break
            if tok.text in (")", "]", "}", "\\}"):
                raise ReadError(f"there is an unmatched `{tok.text}`")
            operator = self.operator()
            if operator == "**":
                if not atoms or atoms[-1][0] != "val":
                    raise ReadError("a power has nothing to raise")
                atoms += [("op", "**"), ("val", self.exponent())]
            elif operator:
                atoms.append(("op", operator))
            else:
                atoms.append(("val", self.primary()))
        if not atoms:
            raise ReadError("there is an empty group" if closer else "there is nothing to read")
        return _joined(atoms)

    def operator(self) -> str | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "ch" and tok.text in "+-/^":
            self.pos += 1
            return "**" if tok.text == "^" else tok.text
        if tok.kind == "ch" and tok.text == "*":
            self.pos += 1
            follower = self.peek()
            if follower is not None and follower.text == "*":
                self.pos += 1
                return "**"
            return "*"
        if tok.kind == "cmd" and tok.text in ("\\cdot", "\\div"):
            self.pos += 1
            return "*" if tok.text == "\\cdot" else "/"
        return None

    def primary(self) -> str:
        if self.peek() is None:
            raise ReadError("the expression ends too early")
        tok = self.take()
        if tok.kind == "num":
            return tok.text
        if tok.kind == "sym":
            return self.name(tok.show, tok.text)
        if tok.kind in ("name", "word"):
            return self.named(tok)
        if tok.text in _CLOSERS:
            return "(" + self.sequence(_CLOSERS[tok.text]) + ")"
        if tok.kind == "cmd":
            return self.command(tok.text)
        raise ReadError(f"`{tok.text}` cannot be read here")

    def named(self, tok: Tok) -> str:
        follower = self.peek()
        calls = follower is not None and follower.text == "("
        if calls and tok.text in _PYTHON_FUNCTIONS and (tok.kind == "word" or not self.latex):
            return self.call(_PYTHON_FUNCTIONS[tok.text])
        if tok.kind == "word":
            raise ReadError(f"there are words (`{tok.text}`) inside the math")
        return self.name(tok.text, None)

    def command(self, name: str) -> str:
        if name == "\\frac":
            numerator = self.argument()
            return f"(({numerator})/({self.argument()}))"
        if name == "\\sqrt":
            opener = self.peek()
            if opener is not None and opener.text == "[":
                self.pos += 1
                degree = self.sequence("]")
                return f"(({self.argument()})**(1/({degree})))"
            return f"sqrt({self.argument()})"
        if name in _LATEX_FUNCTIONS:
            return self.call(_LATEX_FUNCTIONS[name])
        if name[1:] in GREEK:
            return self.name(name, None)
        if name in _ACCENTS:
            inner = self.raw_argument()
            return self.name(f"{name}{{{show(inner)}}}", None)
        raise ReadError(f"`{name}` is not something the grader can read in an answer")

    def call(self, function: str) -> str:
        opener = self.peek()
        if opener is not None and opener.text in _CLOSERS:
            self.pos += 1
            return f"{function}({self.sequence(_CLOSERS[opener.text])})"
        if not self.latex:
            raise ReadError(f"`{function}` needs its argument in parentheses")
        return f"{function}({self.primary()})"

    def argument(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ReadError("a `\\frac` or `\\sqrt` is missing an argument")
        if tok.text == "{":
            self.pos += 1
            return self.sequence("}")
        return self._first_digit() or self.primary()

    def exponent(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ReadError("a power has no exponent")
        if tok.kind == "ch" and tok.text in "+-":
            self.pos += 1
            return f"({tok.text}{self.exponent()})"
        if tok.text == "{":
            self.pos += 1
            return f"({self.sequence('}')})"
        return f"({self._first_digit() or self.primary()})"

    def _first_digit(self) -> str | None:
        """In LaTeX `x^23` and `\\frac12` take one digit as the argument, as TeX does."""
        tok = self.peek()
        if not (
            self.latex and tok is not None and tok.kind == "num" and tok.text.isdigit() and len(tok.text) > 1
        ):
            return None
        self.tokens[self.pos] = Tok("num", tok.text[1:])
        return tok.text[0]

    def raw_argument(self) -> list[Tok]:
        end = argument_end(self.tokens, self.pos)
        if end == self.pos:
            raise ReadError("an accent or subscript is missing its argument")
        inner = strip_braces(self.tokens[self.pos : end])
        self.pos = end
        return inner

    def name(self, display: str, symbol: str | None) -> str:
        """A symbol with its subscripts and index superscripts, as a generated identifier."""
        while (tok := self.peek()) is not None:
            if tok.kind == "ch" and tok.text == "_" and self.latex:
                self.pos += 1
                display += "_" + _braced(self.raw_argument())
                symbol = None
            elif tok.kind == "ch" and tok.text == "^" and self._index_follows():
                self.pos += 1
                display += "^" + _braced(self.raw_argument())
                symbol = None
            else:
                break
        return self.identifier(display, symbol or self._symbol_spelled(display))

    def _index_follows(self) -> bool:
        end = argument_end(self.tokens, self.pos + 1)
        return index_key(self.tokens[self.pos + 1 : end]) in self.index_keys

    def _symbol_spelled(self, display: str) -> str | None:
        """`x_m` or `W_2^h` read as the declared symbol `xm` or `W2h` when nothing else matched."""
        if "_" not in display and "^" not in display:
            return None
        letters = re.sub(r"[^A-Za-z0-9]", "", display)
        for name in self.symbols:
            if letters == re.sub(r"[^A-Za-z0-9]", "", name):
                return name
        return None

    def identifier(self, display: str, symbol: str | None) -> str:
        if symbol is not None:
            meaning = symbol
        elif display in _CONSTANTS:
            meaning = "=" + _CONSTANTS[display]
        else:
            self.unknown.append(display)
            meaning = "=unknown"
        ident = f"_v{len(self.names)}"
        self.names[ident] = meaning
        return ident


def _braced(tokens: list[Tok]) -> str:
    text = show(tokens)
    return text if len(tokens) == 1 else "{" + text + "}"


def _joined(atoms: list[tuple[str, str]]) -> str:
    parts: list[str] = []
    for i, (kind, text) in enumerate(atoms):
        if i and kind == "val" and atoms[i - 1][0] == "val":
            parts.append("*")  # juxtaposition is multiplication
        parts.append(text)
    return " ".join(parts)
