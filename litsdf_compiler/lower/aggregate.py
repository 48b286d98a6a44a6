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
    ``gb.<func>()`` with ``as_index=True`` and any selection; ``None`` for other forms.

    Parameters
    ----------
    n : Aggregate
        The logical (normalized) node.
    columns : list
        The input's column labels, in order.

    Returns
    -------
    AggForm or None
        Keys, measures (in pandas' output order) and the result kind.
    """
    if not n.as_index or not n.keys or n.form != "method" or n.arguments:
        return None
    if len(set(n.keys)) != len(n.keys) or any(k not in columns for k in n.keys):
        return None
    if not n.measures or n.shape == "multi":
        return None
    if len({m.function for m in n.measures}) != 1 or n.measures[0].function not in GROUP_FUNCS:
        return None
    labels = [m.input for m in n.measures if m.input is not None]
    if len(set(labels)) != len(labels) or any(x not in columns or x in n.keys for x in labels):
        return None
    if any(m.arguments for m in n.measures):
        return None
    if n.measures[0].function == "size" and (len(n.measures) != 1 or n.shape != "series"):
        return None
    return AggForm(n.keys, n.measures, series=n.shape == "series")
