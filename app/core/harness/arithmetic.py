"""Arithmetic the request spells out, computed exactly before the model answers.

A 0.5B model asked "What is 17*3?" answers 55 about as often as 51, and no tool result holds the
number for the grounding check to find. So the harness does what a calculator would: it finds the
expressions written in the request (digits joined by + - * / % ** and parentheses), evaluates them
with Python's own parser limited to numbers and operators, and hands "17*3 = 51" to the model with
the request and to the grounding check as evidence. Nothing here guesses at words: "seventeen
times three" is left to the model.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from fractions import Fraction

# A run of numbers, operators, parentheses and spaces that holds at least one operator between
# two numbers. "×" and "÷" are read as * and /.
_EXPR_RE = re.compile(r"[\d(][\d\s.+\-*/%()×÷^]*\d\)*")
_OPERATOR_BETWEEN = re.compile(r"\d\s*\)*\s*(\*\*|[+\-*/%×÷^])\s*\(*\s*-?\d")
MAX_EXPRESSIONS = 4
MAX_POWER = 64  # 2**64 is fine; 9**9**9 is not something to compute inside a turn
MAX_DIGITS = 60

_BINARY: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
}


class _NotArithmetic(Exception):
    pass


def _value(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _value(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > MAX_POWER:
                raise _NotArithmetic
            return left ** int(right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise _NotArithmetic
        if isinstance(node.op, ast.Div | ast.Mod) and right == 0:
            raise _NotArithmetic
        result = op(left, right)
        if len(str(abs(result.numerator))) > MAX_DIGITS:
            raise _NotArithmetic
        return result
    raise _NotArithmetic


def _shown(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.10g}"


def evaluate(expression: str) -> str | None:
    """The exact value of ``expression`` as text, or None if it is not plain arithmetic."""
    source = expression.replace("×", "*").replace("÷", "/").replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
        return _shown(_value(tree.body))
    except (SyntaxError, _NotArithmetic, ZeroDivisionError, OverflowError, ValueError):
        return None


def computations(request: str) -> list[str]:
    """"17*3 = 51" for each arithmetic expression written in ``request`` (at most a few)."""
    out: list[str] = []
    for match in _EXPR_RE.finditer(request):
        expr = match.group(0).strip().rstrip(".")
        while expr.count("(") > expr.count(")") and expr.startswith("("):
            expr = expr[1:].strip()
        if not _OPERATOR_BETWEEN.search(expr) or _looks_like_a_date_or_range(expr):
            continue
        value = evaluate(expr)
        if value is not None:
            out.append(f"{' '.join(expr.split())} = {value}")
        if len(out) >= MAX_EXPRESSIONS:
            break
    return out


def _looks_like_a_date_or_range(expr: str) -> bool:
    """2026-12-06, 10-20, 3/4/2025: numbers joined by - with no spaces, or three numbers joined
    by /, are more often a date, a range or a version than a sum to do."""
    return bool(re.fullmatch(r"\d+(-\d+)+|\d+/\d+/\d+", expr))
