"""Readable, stable text (and dict) rendering of plans."""

from __future__ import annotations

from typing import Any

from pandas.api.extensions import no_default

from .base import FrozenDict, FrozenList, Node, inputs
from .expressions import Alias, BinaryOp, Col, Expr, Lit, UnaryOp
from .relations import DataRef, Measure, Relation, Source

__all__ = ["render_expr", "render_plan", "plan_dict", "fallback_sources"]

_SYMBOLS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "truediv": "/",
    "floordiv": "//",
    "mod": "%",
    "pow": "**",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "and": "&",
    "or": "|",
    "xor": "^",
}
_UNARY = {"neg": "-", "pos": "+", "invert": "~"}


def _value(v: Any) -> str:
    if isinstance(v, Measure):  # ``'out': sum('col', min_count=1)``
        args = "".join(f", {k}={_value(x)}" for k, x in v.arguments)
        inner = "" if v.input is None else repr(v.input)
        return f"{v.output!r}: {v.function}({inner}{args})"
    if isinstance(v, Node):
        return render_expr(v) if isinstance(v, Expr) else type(v).__name__
    if isinstance(v, FrozenDict):
        return "{" + ", ".join(f"{_value(k)}: {_value(x)}" for k, x in v) + "}"
    if isinstance(v, (FrozenList, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, DataRef):
        return repr(v)
    return repr(v)


def render_expr(e: Expr) -> str:
    """An expression as compact infix text, e.g. ``(price * fillna(qty, 0))``."""
    if isinstance(e, Col):
        return str(e.name)
    if isinstance(e, Lit):
        return "<default>" if e.value is no_default else repr(e.value)
    if isinstance(e, BinaryOp):
        return f"({render_expr(e.left)} {_SYMBOLS[e.op]} {render_expr(e.right)})"
    if isinstance(e, UnaryOp):
        inner = render_expr(e.input)
        return f"abs({inner})" if e.op == "abs" else f"{_UNARY[e.op]}{inner}"
    if isinstance(e, Alias):
        return f"{render_expr(e.input)} AS {e.name!r}"
    parts = []
    for f in e.__match_args__:
        v = getattr(e, f)
        if isinstance(v, Expr):
            parts.append(render_expr(v))
        elif isinstance(v, tuple) and v and all(isinstance(x, Expr) for x in v):
            parts.extend(render_expr(x) for x in v)
        elif v is not no_default:
            parts.append(f"{f}={_value(v)}")
    return f"{type(e).__name__.lower()}({', '.join(parts)})"


def _params(n: Relation) -> str:
    if isinstance(n, Source):
        shape = getattr(n.data.data, "shape", "?")
        cols = list(getattr(n.data.data, "columns", []))
        shown = ", ".join(map(str, cols[:8])) + (", ..." if len(cols) > 8 else "")
        return f"{n.origin} {shape[0]}x{shape[1]} [{shown}]"
    parts = []
    for f in n.__match_args__:
        if f in n._inputs:
            continue
        v = getattr(n, f)
        if f == "expressions":
            parts.append(", ".join(f"{k}={render_expr(x)}" for k, x in v))
        elif f == "condition" or isinstance(v, Expr):
            parts.append(f"{f}={render_expr(v)}" if f != "condition" else render_expr(v))
        elif (
            v is not no_default
            and v != ()
            and v is not None
            and f != "version"
            and not (f == "narrow" and v is False)
        ):
            parts.append(f"{f}={_value(v)}")  # (a reader's file version is not shown)
    return " ".join(parts)


def render_plan(plan: Node, indent: int = 0) -> str:
    """The plan as an indented tree, one node per line (children below, indented)."""
    lines: list[str] = []

    def visit(n: Node, depth: int, prefix: str = "") -> None:
        pad = "  " * depth
        if isinstance(n, Expr):
            lines.append(f"{pad}{prefix}{render_expr(n)}")
            return
        assert isinstance(n, Relation)
        lines.append(f"{pad}{prefix}{type(n).__name__} {_params(n)}".rstrip())
        below = "<- " if isinstance(n, Source) else ""
        for parent in explained_inputs(n):
            visit(parent, depth + 1, below)

    visit(plan, indent)
    return "\n".join(lines)


def plan_dict(n: Node) -> dict[str, Any]:
    """A structured (JSON-able) view of the plan for tools and tests."""
    if isinstance(n, Expr):
        return {"expr": render_expr(n)}
    assert isinstance(n, Relation)
    inputs_ = [plan_dict(x) for x in inputs(n)]  # (a Source's lineage: in the text only)
    return {"op": type(n).__name__, "params": _params(n), "inputs": inputs_}


def explained_inputs(n: Relation) -> list[Relation]:
    """The relations shown below ``n`` in an explain tree: its inputs, or for a ``Source``
    the plans its data was computed from by a fallback (``lineage``: history, not input)."""
    if isinstance(n, Source):
        return list(n.lineage)
    return inputs(n)  # type: ignore[return-value]


def fallback_sources(plan: Node) -> list[Source]:
    """Sources in ``plan`` that hold the result of a pandas fallback."""
    from .base import walk

    out = []
    for n in walk(plan):
        if isinstance(n, Source) and n.origin.startswith("fallback"):
            out.append(n)
            for parent in n.lineage:
                out.extend(fallback_sources(parent))
    return out
