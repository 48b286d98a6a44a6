"""The one place lowering reads the logical ``Aggregate``: :func:`decode_aggregate` gives
the keys and measures of the forms whose physical
:class:`~litsdf_compiler.lower.nodes.GroupAgg` is exact, or ``None`` (the node then runs as a
pandas island). The pandas call forms themselves were decoded once, by the front end
(:func:`litsdf_compiler.ir.aggregate.aggregate`)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from ..ir.relations import Aggregate, Measure

__all__ = ["AggForm", "decode_aggregate", "GROUP_FUNCS"]

GROUP_FUNCS = frozenset(
    {"sum", "mean", "min", "max", "count", "size", "prod", "first", "last", "median"}
    | {"std", "var", "nunique"}
)
"""GroupBy reductions lowered to a GroupAgg (called without arguments)."""


class AggForm(NamedTuple):
    """An aggregate in explicit form: key labels, measures, and whether the result is a
    Series (``gb[label].f()``, ``gb.size()``) rather than a frame."""

    keys: tuple[Hashable, ...]
    measures: tuple[Measure, ...]
    series: bool


def decode_aggregate(n: Aggregate, columns: list[Hashable]) -> AggForm | None:
    """The explicit form of ``n`` over an input with the (unique) labels ``columns``, for
    ``gb.<func>()`` (any selection) and named or dict aggregations of one function per
    output (``gb.agg(out=(column, func), ...)``, ``gb.agg({column: func})``), with
    ``as_index`` either way; ``None`` for other forms.

    Parameters
    ----------
    n : Aggregate
        The logical (normalized) node.
    columns : list
        The input's column labels, in order.

    Returns
    -------
    AggForm or None
        Keys, measures (in pandas' output order; ``gb.size()`` reads no column) and the result
        kind (a frame whenever ``as_index=False``).
    """
    if not n.keys or n.form not in ("method", "agg_named", "agg_dict") or n.arguments:
        return None
    if len(set(n.keys)) != len(n.keys) or any(k not in columns for k in n.keys):
        return None
    if not n.measures or n.shape == "multi":
        return None
    outputs = [m.output for m in n.measures]
    if len(set(outputs)) != len(outputs) or (not n.as_index and set(outputs) & set(n.keys)):
        return None
    measures = []
    for m in n.measures:
        if m.function not in GROUP_FUNCS or m.arguments:
            return None
        if m.function == "size":  # (of a column when named: its dtype is the column's kind)
            if m.input is not None and m.input not in columns:
                return None
            measures.append(Measure(m.output, m.input, "size", ()))
            continue
        if m.input is None or m.input not in columns or m.input in n.keys:
            return None
        measures.append(m)
    if n.form == "method":
        labels = [m.input for m in measures if m.input is not None]
        if len(set(labels)) != len(labels):
            return None
        size = measures[0].function == "size"
        if size and (len(measures) != 1 or (n.as_index and n.shape != "series")):
            return None
    series = n.shape == "series" and n.as_index and n.form == "method"
    return AggForm(n.keys, tuple(measures), series=series)
