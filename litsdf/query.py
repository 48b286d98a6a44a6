"""``DataFrame.query``: a simple expression language parsed into the plan's expressions.

Supported: column names (and backquoted names), ``@variables``, literals, lists,
comparisons (chained too), ``and``/``or``/``not``/``&``/``|``/``~``, arithmetic, and
``in`` / ``not in``. Anything else returns ``None`` so the caller falls back to pandas.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import TYPE_CHECKING, Any

from pandas.errors import UndefinedVariableError

from litsdf_compiler.ir.expressions import Expr

if TYPE_CHECKING:
    from .frame import DataFrame

__all__ = ["parse_query"]

_AT = "__litsdf_at_"
_BQ = "__litsdf_bq_"


class _Unsupported(Exception):
    pass


def _rewrite(expr: str) -> tuple[str, dict[str, str]]:
    """pandas' token rewrite: ``&``/``|`` to ``and``/``or``, ``@x`` and backquoted names."""
    out: list[tuple[int, str]] = []
    quoted: dict[str, str] = {}

    def _quote(m: re.Match[str]) -> str:
        key = f"{_BQ}{len(quoted)}"
        quoted[key] = m.group(1)
        return key

    expr = re.sub(r"`([^`]*)`", _quote, expr)  # a backquoted name: any text (pandas)
    tokens = list(tokenize.generate_tokens(io.StringIO(expr).readline))
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == tokenize.OP and tok.string == "&":
            out.append((tokenize.NAME, "and"))
        elif tok.type == tokenize.OP and tok.string == "|":
            out.append((tokenize.NAME, "or"))
        elif tok.type == tokenize.OP and tok.string == "@" and i + 1 < len(tokens):
            i += 1
            out.append((tokenize.NAME, _AT + tokens[i].string))
        else:
            out.append((tok.type, tok.string))
        i += 1
    return tokenize.untokenize(out), quoted


def parse_query(expr: str, df: DataFrame, level: int = 1, **kwargs: Any) -> Expr | None:
    """The boolean condition of ``df.query(expr)`` as a plan expression, or None."""
    from .series import Series

    if kwargs or not isinstance(expr, str):
        return None
    frame = sys._getframe(level + 1)
    scope = {**frame.f_globals, **frame.f_locals}
    try:
        text, quoted = _rewrite(expr)
        tree = ast.parse(text.strip(), mode="eval")
        value = _Eval(df, scope, quoted).visit(tree.body)
    except (_Unsupported, SyntaxError, tokenize.TokenError):
        return None
    if not isinstance(value, Series) or value._rel != df._plan:
        return None
    return value._expr


class _Eval(ast.NodeVisitor):
    def __init__(self, df: DataFrame, scope: dict[str, Any], quoted: dict[str, str]) -> None:
        self.df, self.scope, self.quoted = df, scope, quoted

    def generic_visit(self, node: ast.AST) -> Any:
        raise _Unsupported(type(node).__name__)

    def visit_Name(self, node: ast.Name) -> Any:
        name = self.quoted.get(node.id, node.id)
        if name.startswith(_AT):
            var = name[len(_AT) :]
            if var not in self.scope:
                raise UndefinedVariableError(var, True)
            return self.scope[var]
        if name in self.df.columns:
            return self.df[name]
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name == "index" or name in self.df._meta.index.names:
            raise _Unsupported(name)  # index resolvers: run in pandas
        raise UndefinedVariableError(name, False)

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List  # type: ignore[assignment]

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        v = self.visit(node.operand)
        if isinstance(node.op, (ast.Not, ast.Invert)):
            return ~v
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return +v
        raise _Unsupported("unary")

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self.visit(v) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        import operator

        ops = {
            ast.Add: operator.add,
            ast.Sub: operator.sub,
            ast.Mult: operator.mul,
            ast.Div: operator.truediv,
            ast.FloorDiv: operator.floordiv,
            ast.Mod: operator.mod,
            ast.Pow: operator.pow,
        }
        fn = ops.get(type(node.op))
        if fn is None:
            raise _Unsupported("binop")
        return fn(self.visit(node.left), self.visit(node.right))

    def visit_Compare(self, node: ast.Compare) -> Any:
        import operator

        ops = {
            ast.Eq: operator.eq,
            ast.NotEq: operator.ne,
            ast.Lt: operator.lt,
            ast.LtE: operator.le,
            ast.Gt: operator.gt,
            ast.GtE: operator.ge,
        }
        left = self.visit(node.left)
        result = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comp)
            if isinstance(op, (ast.In, ast.NotIn)):
                vals = right if isinstance(right, list) else [right]
                if not hasattr(left, "isin"):
                    raise _Unsupported("in")
                part = left.isin(vals)
                if isinstance(op, ast.NotIn):
                    part = ~part
            elif (
                isinstance(op, (ast.Eq, ast.NotEq))
                and isinstance(right, list)
                and hasattr(left, "isin")
            ):  # pandas: ``col == [..]`` means ``col in [..]``
                part = left.isin(right)
                if isinstance(op, ast.NotEq):
                    part = ~part
            elif (
                isinstance(op, (ast.Eq, ast.NotEq))
                and isinstance(left, list)
                and hasattr(right, "isin")
            ):
                part = right.isin(left)
                if isinstance(op, ast.NotEq):
                    part = ~part
            elif type(op) in ops:
                part = ops[type(op)](left, right)
            else:
                raise _Unsupported("compare")
            result = part if result is None else (result & part)
            left = right
        return result
