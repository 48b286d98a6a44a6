"""Dead-column elimination: assignments and projected columns nobody reads are dropped.

Before::

    Project a=a, b=b
      WithColumns c=(a * 2), d=(b + 1)
        Source DataFrame 3x2 [a, b]

After::

    Project a=a, b=b
      Source DataFrame 3x2 [a, b]

A ``WithColumns`` entry or a ``Project`` entry whose label no ancestor observes (see
:mod:`._columns`) is removed. Entries whose label is observed stay, including every entry of
the root and of inputs of nodes that depend on all columns (``drop_duplicates()``,
``describe()``, ...). An assignment that *replaces* an existing column is dropped only when
that column is not observed at all downstream, so neither its position nor its dtype can
show. An assignment that may raise on some values (``astype``, in-place calls) is kept:
pandas raises when it runs. A ``WithColumns`` left with no entries becomes its input; a
``Project`` always keeps at least one entry (a zero-column frame is a corner case backends
need not meet).

Removing an entry can make the entries below it dead in turn; the rule repeats its analysis
until nothing changes, so one call removes whole chains.
"""

from __future__ import annotations

from ..ir.base import Node, walk
from ..ir.expressions import Cast, Expr, InplaceCall
from ..ir.relations import Project, Relation, WithColumns
from ._columns import Analysis, analyze, rewrite_with
from ._util import has_duplicates

ORDER = 60

_RAISING = (Cast, InplaceCall)
"""Expressions that raise on some values (``astype("int64")`` of NaN, an in-place ``fillna``
that will not upcast): pandas raises when the assignment runs, so such an assignment is kept
even when unused (its error is part of the program's behaviour)."""


def _may_raise(e: Expr) -> bool:
    return any(isinstance(x, _RAISING) for x in walk(e))


def _prune(analysis: Analysis, orig: Relation, new: Relation) -> Relation:
    if not isinstance(new, (Project, WithColumns)):
        return new
    need = analysis.need(orig)
    if need is None:
        return new
    kept = tuple((label, e) for label, e in new.expressions if label in need or _may_raise(e))
    if isinstance(new, WithColumns):
        if len(kept) == len(new.expressions):
            return new
        return WithColumns(new.input, kept) if kept else new.input
    kept = kept or new.expressions[:1]
    if len(kept) == len(new.expressions) or has_duplicates(tuple(k for k, _ in new.expressions)):
        return new
    return Project(new.input, kept)


def dead_columns(plan: Node) -> Node:
    """Drop column assignments and projections that nothing reads (see the module docstring).

    Parameters
    ----------
    plan : Node
        The plan root.

    Returns
    -------
    Node
        The pruned plan, or ``plan`` itself when nothing is dead.
    """
    out = plan
    while True:
        new = _prune_once(out)
        if new is out:
            return out
        out = new


def _prune_once(plan: Node) -> Node:
    analysis = analyze(plan)
    return rewrite_with(plan, lambda orig, rebuilt: _prune(analysis, orig, rebuilt))
