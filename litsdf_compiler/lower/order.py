"""Which joins may emit their rows in any order: :func:`relax_order`.

pandas' merge orders its rows by explicit rules (see :class:`~.nodes.HashJoin`), and an
engine that matches rows by hashing must rebuild that order with a sort of the row numbers.
That sort is wasted where nothing downstream can observe the order: a group-by with
``sort=True`` whose reductions do not depend on the order of rows (``sum``, ``mean``,
``min``, ``max``, ``count``, ``size``, ``nunique``, ``std``, ``var``, ``median``), reached
through row-wise steps (``Compute``, ``Filter``, ``Select``), other joins and unions, or a
whole-column reduction of that kind.

A float sum in another order may differ from pandas' in the last bits, as any engine's
summation does; every other result is the same. Everything else observes order: the
result itself (``Finalize``), an island, limits, sorts (their ties), ``drop_duplicates``,
top-k, first-appearance group order (``sort=False``), ``first`` / ``last``, and a reduction
outside that list.
"""

from __future__ import annotations

import dataclasses

from ..ir import expressions as ex
from ..ir.base import walk
from .nodes import Compute, Filter, Finalize, GroupAgg, HashJoin, Physical, Select, UnionAll
from .prune import _order

__all__ = ["relax_order", "ORDER_FREE"]

ORDER_FREE = frozenset(
    {"sum", "mean", "min", "max", "count", "size", "nunique", "std", "var", "median"}
)
"""Reductions whose value does not depend on the order of the rows (float sums up to
rounding)."""

_TRANSPARENT = (Filter, Select, HashJoin, UnionAll)
"""Nodes whose output order is their inputs' order (a join's: its inputs' row numbers)."""


def _free_compute(n: Compute) -> bool:
    """A row-wise step, or whole-column reductions of :data:`ORDER_FREE` only."""
    return all(
        x.func in ORDER_FREE and not x.kwargs
        for _, e in n.expressions
        for x in walk(e)
        if isinstance(x, ex.Reduce)
    )


def _needs_order(consumer: Physical, ordered: bool) -> bool:
    """Whether ``consumer`` reads its inputs' row order, given whether its own output's order
    is read (``ordered``)."""
    if isinstance(consumer, GroupAgg):
        return not consumer.sort or any(m[2] not in ORDER_FREE or m[3] for m in consumer.measures)
    if isinstance(consumer, Compute):
        return ordered or not _free_compute(consumer)
    if isinstance(consumer, _TRANSPARENT):
        return ordered
    return True


def relax_order(root: Finalize) -> Finalize:
    """``root``'s plan with ``any_order`` set on every join whose row order no consumer
    observes; the same plan when there is none.

    Parameters
    ----------
    root : Finalize
        A lowered plan.

    Returns
    -------
    Finalize
        The plan, its joins marked.
    """
    order = _order(root)  # (consumers first)
    ordered: dict[int, bool] = {id(root): True}
    for n in order:
        mine = ordered.get(id(n), True)
        for child in n.inputs:
            ordered[id(child)] = ordered.get(id(child), False) or _needs_order(n, mine)
    free = {id(n) for n in order if isinstance(n, HashJoin) and not ordered.get(id(n), True)}
    if not free:
        return root
    built: dict[int, Physical] = {}

    def rebuilt(n: Physical) -> Physical:
        hit = built.get(id(n))
        if hit is not None:
            return hit
        from ..ir.base import replace_children

        out = replace_children(n, lambda c: rebuilt(c) if isinstance(c, Physical) else c)
        if id(n) in free:
            out = dataclasses.replace(out, any_order=True)  # type: ignore[type-var]
        built[id(n)] = out
        return out

    out = rebuilt(root)
    assert isinstance(out, Finalize)
    return out
