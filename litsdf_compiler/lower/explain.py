"""Text rendering of a physical plan: one node per line, with its schema."""

from __future__ import annotations

from ..ir.explain import render_expr
from .nodes import (
    Compute,
    Distinct,
    Filter,
    Finalize,
    GroupAgg,
    HashJoin,
    Limit,
    OrderBy,
    PandasCall,
    Physical,
    Scan,
    Select,
    TopK,
    UnionAll,
)

__all__ = ["render_physical"]


def _schema(n: Physical) -> str:
    return (
        "["
        + ", ".join(
            f"{f.name}: {f.dtype}" + ("" if f.role == "column" else f" ({f.role})")
            for f in n.schema
        )
        + "]"
    )


def _params(n: Physical) -> str:
    if isinstance(n, Scan):
        cols = ", ".join(f"{label!r} AS {name}" for label, name in n.columns)
        return f"{type(n.source).__name__} [{cols}]"
    if isinstance(n, Compute):
        return ", ".join(f"{name}={render_expr(e)}" for name, e in n.expressions)
    if isinstance(n, Filter):
        return render_expr(n.condition) + " (takes the row index)"
    if isinstance(n, Select):
        return ", ".join(n.names())
    if isinstance(n, Limit):
        return (
            f"[{'' if n.start is None else n.start}:{'' if n.stop is None else n.stop}"
            + ("" if n.step is None else f":{n.step}")
            + "]"
        )
    if isinstance(n, OrderBy):
        keys = ", ".join(f"{k} {'asc' if a else 'desc'}" for k, a in n.keys)
        reset = ", index reset" if n.ignore_index else " (takes the row index)"
        return f"{keys} {n.kind}, nulls {n.na_position}{reset}"
    if isinstance(n, GroupAgg):
        measures = ", ".join(f"{out}={func}({col or ''})" for out, col, func, _ in n.measures)
        order = "sorted" if n.sort else "first appearance"
        return f"by {', '.join(n.keys)}: {measures} ({order}, dropna={n.dropna})"
    if isinstance(n, HashJoin):
        on = ", ".join(f"{a}={b}" for a, b in zip(n.left_keys, n.right_keys, strict=True))
        order = "any order" if n.any_order else f"order by {', '.join(n.order)}"
        return f"{n.how} on {on} ({order})"
    if isinstance(n, UnionAll):
        reset = ", index reset" if n.ignore_index else " (appends the row indexes)"
        return f"{len(n.parts)} {n.kind}s{reset}"
    if isinstance(n, Distinct):
        reset = ", index reset" if n.ignore_index else " (takes the row index)"
        return f"on {', '.join(n.keys)} keep={n.keep!r}{reset}"
    if isinstance(n, TopK):
        which = "largest" if n.largest else "smallest"
        return f"{n.n} {which} by {', '.join(n.keys)} keep={n.keep!r} (takes the row index)"
    if isinstance(n, PandasCall):
        return f"pandas {type(n.node).__name__}"
    if isinstance(n, Finalize):
        what = {"frame": f"DataFrame columns={n.columns!r}", "series": f"Series name={n.name!r}"}
        index = n.index[0] if n.index[0] != "levels" else f"levels {list(n.index[1])}"
        return f"{what.get(n.kind, 'scalar')} of {list(n.fields)}, index={index}"
    return ""


def render_physical(root: Physical, indent: int = 0) -> str:
    """The physical plan as an indented tree: each node with its parameters and schema.

    Parameters
    ----------
    root : Physical
        The plan's root (a :class:`Finalize`).
    indent : int
        Indentation depth of the root line.

    Returns
    -------
    str
        One node per line, inputs below and indented.
    """
    lines: list[str] = []

    def visit(n: Physical, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{type(n).__name__} {_params(n)}".rstrip())
        if not isinstance(n, Finalize):
            lines.append(f"{pad}  -> {_schema(n)}")
        for c in n.inputs:
            visit(c, depth + 1)

    visit(root, indent)
    return "\n".join(lines)
