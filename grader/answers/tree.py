"""The checked syntax tree of an answer built into sympy, or evaluated at a point, from a whitelist only."""

from __future__ import annotations

import ast
import cmath
import math
from collections.abc import Callable, Mapping

import sympy

from grader.answers.tokens import ReadError


def _sigmoid_sympy(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


def _sigmoid_complex(z: complex) -> complex:
    return 1 / (1 + cmath.exp(-z))


# name in the generated Python -> (sympy function, complex function)
FUNCTIONS: dict[str, tuple[Callable[[sympy.Expr], sympy.Expr], Callable[[complex], complex]]] = {
    "exp": (sympy.exp, cmath.exp),
    "log": (sympy.log, cmath.log),
    "sqrt": (sympy.sqrt, cmath.sqrt),
    "sin": (sympy.sin, cmath.sin),
    "cos": (sympy.cos, cmath.cos),
    "tan": (sympy.tan, cmath.tan),
    "sinh": (sympy.sinh, cmath.sinh),
    "cosh": (sympy.cosh, cmath.cosh),
    "tanh": (sympy.tanh, cmath.tanh),
    "abs": (sympy.Abs, lambda z: complex(abs(z))),
    "sigmoid": (_sigmoid_sympy, _sigmoid_complex),
}


def build(node: ast.expr, names: Mapping[str, str]) -> sympy.Expr:
    """The sympy expression of a syntax tree holding only numbers, names, + - * / ** and whitelisted calls."""
    if isinstance(node, ast.BinOp):
        left, right = build(node.left, names), build(node.right, names)
        return _binary(node.op, left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = build(node.operand, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return _number(node.value)
    if isinstance(node, ast.Name) and node.id in names:
        meaning = names[node.id]
        if meaning.startswith("="):
            return sympy.E if meaning == "=E" else sympy.pi
        return sympy.Symbol(meaning, positive=True)
    if _is_allowed_call(node):
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return FUNCTIONS[node.func.id][0](build(node.args[0], names))
    raise ReadError("the expression uses something other than numbers, symbols, operators and math functions")


def _is_allowed_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    )


def _binary(op: ast.operator, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    if isinstance(op, ast.Pow):
        _check_power(left, right)
        return left**right
    raise ReadError("the expression uses an operator other than + - * / ^")


def _check_power(base: sympy.Expr, exponent: sympy.Expr) -> None:
    """Refuse powers whose exact value would take sympy minutes (`10^10^10`)."""
    if not exponent.is_Number:
        return
    if abs(float(exponent)) > 64:
        raise ReadError("an exponent is larger than 64")
    if base.is_Number and base != 0 and abs(float(exponent)) * abs(math.log10(abs(float(base)))) > 300:
        raise ReadError("a number in it is too large")


def _number(value: int | float) -> sympy.Expr:
    if isinstance(value, int):
        if abs(value) > 10**300:
            raise ReadError("a number in it is too large")
        return sympy.Integer(value)
    if not math.isfinite(value):
        raise ReadError("a number in it is too large")
    return sympy.Rational(str(value)) if "e" not in repr(value) else sympy.Float(value)


def value_at(node: ast.expr, names: Mapping[str, str], values: Mapping[str, complex]) -> complex:
    """The complex value of a syntax tree at a point (symbol name -> value), with cmath only."""
    if isinstance(node, ast.BinOp):
        left, right = value_at(node.left, names, values), value_at(node.right, names, values)
        return _complex_binary(node.op, left, right)
    if isinstance(node, ast.UnaryOp):
        operand = value_at(node.operand, names, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return complex(node.value)
    if isinstance(node, ast.Name):
        meaning = names[node.id]
        if meaning.startswith("="):
            return complex(math.e if meaning == "=E" else math.pi)
        return complex(values[meaning])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return complex(FUNCTIONS[node.func.id][1](value_at(node.args[0], names, values)))
    raise ValueError("not an expression the reader builds")


def _complex_binary(op: ast.operator, left: complex, right: complex) -> complex:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    if right == int(right.real) and abs(right.real) <= 64:
        return complex(left ** int(right.real))  # exact integer powers keep negative bases real
    return complex(left**right)
