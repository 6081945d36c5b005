"""Safe arithmetic expressions for model specifications, evaluated vectorised with numpy.

A model spec writes its equations as plain text (``CL / V1``, ``ktr * (1 - E)``). This module parses
such text with Python's ``ast``, allows only arithmetic, comparisons inside ``where`` and a short list of
numpy functions, and compiles it once into a function of a namespace of arrays. Nothing else of Python
is reachable, so a spec file cannot run code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

FUNCTIONS: dict[str, Callable] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "minimum": np.minimum,
    "maximum": np.maximum,
    "where": np.where,
    "clip": np.clip,
}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class ExpressionError(ValueError):
    """An expression in a model spec is not allowed or names something unknown."""


@dataclass(frozen=True)
class Expression:
    """A compiled expression: ``names`` it reads and ``evaluate(namespace)``."""

    text: str
    names: frozenset[str]
    _code: object

    def evaluate(self, namespace: Mapping[str, object]):
        """Value of the expression; ``namespace`` maps every name in ``names`` to a number or array."""
        env = {n: namespace[n] for n in self.names}
        return eval(self._code, {"__builtins__": {}, **FUNCTIONS}, env)  # noqa: S307 - AST validated

    def __str__(self) -> str:
        return self.text


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINOPS):
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names)
    elif isinstance(node, ast.Compare):
        if not all(isinstance(op, _CMPOPS) for op in node.ops):
            raise ExpressionError("only <, <=, >, >=, ==, != comparisons are allowed")
        _check(node.left, names)
        for c in node.comparators:
            _check(c, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(f"only these functions are allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ExpressionError("keyword arguments are not allowed")
        for a in node.args:
            _check(a, names)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id!r} is a function; call it with arguments")
        names.add(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
            raise ExpressionError(f"constant {node.value!r} is not a number")
    else:
        raise ExpressionError(f"{type(node).__name__} is not allowed in a model expression")


def compile_expression(text: str | float | int) -> Expression:
    """Parse and validate ``text``; raises :class:`ExpressionError` with the reason."""
    src = str(text).strip()
    if not src:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse {src!r}: {e.msg}") from None
    names: set[str] = set()
    _check(tree, names)
    return Expression(src, frozenset(names), compile(tree, "<kbone-model>", "eval"))


def closure(names: set[str] | list[str], exprs: Mapping[str, Expression]) -> set[str]:
    """The definitions in ``exprs`` that ``names`` need, directly or through each other."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        k = todo.pop()
        if k in seen or k not in exprs:
            continue
        seen.add(k)
        todo.extend(exprs[k].names)
    return seen


def dependency_order(exprs: Mapping[str, Expression], known: set[str] | Mapping[str, object]) -> list[str]:
    """Names of ``exprs`` in an order where each reads only ``known`` names or earlier ones; an unknown name
    or a cycle raises :class:`ExpressionError`."""
    pending = dict(exprs)
    have = set(known)
    out: list[str] = []
    while pending:
        ready = [k for k, e in pending.items() if e.names <= have]
        if not ready:
            missing = {n for e in pending.values() for n in e.names if n not in have and n not in pending}
            if missing:
                raise ExpressionError(f"unknown names: {', '.join(sorted(missing))}")
            raise ExpressionError(f"circular definitions among: {', '.join(sorted(pending))}")
        for k in ready:
            out.append(k)
            have.add(k)
            del pending[k]
    return out


def evaluate_all(exprs: Mapping[str, Expression], namespace: dict[str, object]) -> dict[str, object]:
    """Evaluate a dict of expressions in dependency order, adding each result to ``namespace``.

    Expressions may use each other (``k10: CL / V1`` then ``tmax: log(ka/k10) / (ka - k10)``); a cycle or
    an unknown name raises :class:`ExpressionError`.
    """
    out: dict[str, object] = {}
    for k in dependency_order(exprs, namespace):
        namespace[k] = out[k] = exprs[k].evaluate(namespace)
    return out
