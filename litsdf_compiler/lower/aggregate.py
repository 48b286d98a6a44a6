"""The one place that reads the logical ``Aggregate``'s pandas call form (``spec`` and
``selection``) for lowering: :func:`decode_aggregate` gives the explicit keys and measures
of the forms whose physical :class:`~litsdf_compiler.lower.nodes.GroupAgg` is exact, or
``None`` (the node then runs as a pandas island)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

from ..ir.relations import Aggregate

__all__ = ["AggForm", "Measure", "decode_aggregate", "GROUP_FUNCS"]

GROUP_FUNCS = frozenset(
    {"sum", "mean", "min", "max", "count", "size", "prod", "first", "last", "median"}
    | {"std", "var", "nunique"}
)
"""GroupBy reductions lowered to a GroupAgg (called without arguments)."""


class Measure(NamedTuple):
    """One aggregated output: its label, the input column's label (``None`` for ``size``),
    the reduction and its arguments."""

    output: Hashable
    input: Hashable | None
    func: str
    args: tuple[tuple[str, Any], ...] = ()


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
        The logical node (its current ``spec``/``selection`` encoding).
    columns : list
        The input's column labels, in order.

    Returns
    -------
    AggForm or None
        Keys, measures (in pandas' output order) and the result kind.
    """
    if not n.as_index or not n.keys or n.spec[0] != "method" or n.spec[2]:
        return None
    func = n.spec[1]
    if func not in GROUP_FUNCS or any(k not in columns for k in n.keys):
        return None
    if len(set(n.keys)) != len(n.keys):
        return None
    if func == "size":
        if n.selection is not None and n.selection[0] != "series":
            return None
        return AggForm(n.keys, (Measure(None, None, "size"),), series=True)
    if n.selection is None:
        labels = [c for c in columns if c not in n.keys]
        series = False
    elif n.selection[0] == "series":
        labels, series = [n.selection[1]], True
    else:
        labels, series = list(n.selection[1]), False
    if len(set(labels)) != len(labels) or any(x not in columns or x in n.keys for x in labels):
        return None
    return AggForm(n.keys, tuple(Measure(x, x, func) for x in labels), series)
