"""Common-subexpression elimination: an expression already computed into a column is read back.

Before::

    WithColumns y=(log1p(a) * 2)
      Filter ((log1p(a) * 2) > 1)
        WithColumns x=(log1p(a) * 2)
          Source DataFrame 3x2 [a, b]

After::

    WithColumns y=x
      Filter (x > 1)
        WithColumns x=(log1p(a) * 2)
          Source DataFrame 3x2 [a, b]

A ``Filter`` condition, a ``Project`` entry or a ``WithColumns`` entry that contains an
expression ``E`` which an input ``WithColumns`` assigned to a label ``L`` gets ``Col(L)``
instead: the assignment stored exactly ``E``'s Series (same values, dtype and index). Between
the two nodes there may be other assignments, filters, limits, slices and sorts, provided:

- nothing in between (nor the assigning node itself) reassigns ``L`` or a column ``E``
  reads, so ``E`` would compute the same values again;
- where rows were removed in between, ``E``'s dtype does not depend on the rows it sees
  (:func:`._dtypes.dtype_from_input_dtypes`, :func:`._rowwise.rows_independent`: ``map``
  with a dict is ``int64`` on some rows and ``float64`` on all of them);
- ``E`` is a computation reading some column (not a bare column or literal, which would gain
  nothing) and evaluates to a Series of ``L``'s dtype.

Only these three contexts are rewritten: there the Series name of an expression is never
observed (a ``SeriesMethod`` value such as ``value_counts()`` or a ``ScalarResult`` such as
``quantile([...])`` shows it, and ``Col(L)`` is named ``L``, not like ``E``). A
``WithColumns`` directly above another one is left to :mod:`.fuse_assignments`.

Within one node, nothing needs rewriting: the pandas backend evaluates each node's
expressions with one memo keyed by structural equality (``PandasBackend.ev`` and
``_run_assignments``), so ``WithColumns x=log1p(a), y=(log1p(a) + 1)`` or the condition
``(log1p(a) > 0) & (log1p(a) < 5)`` compute ``log1p(a)`` once. Equal *sub-plans* are merged
into one object by the optimizer driver (:mod:`._share`), so every backend computes a shared
sub-plan once.

Runs before :mod:`.predicate_pushdown` (``ORDER`` 15 < 20): a filter rewritten to read ``L``
stays above the assignment instead of being pushed below it and recomputing ``E``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable

import pandas as pd

from ..ir.base import Node, replace_children
from ..ir.expressions import Alias, Col, Expr, Lit
from ..ir.relations import (
    Filter,
    Head,
    Project,
    Relation,
    Slice,
    Sort,
    SortIndex,
    Tail,
    WithColumns,
)
from ..meta import expr_meta
from ._dtypes import dtype_from_input_dtypes
from ._rowwise import dtypes_of, flat_unique_columns, input_meta, rows_independent
from ._util import expr_columns, rewrite_relations, shared_memo

ORDER = 15

_ROW_SUBSETS = (Filter, Head, Tail, Slice)
_PERMUTATIONS = (Sort, SortIndex)


def cse(plan: Node) -> Node:
    """Replace expressions that an input assignment already computed by that column.

    Parameters
    ----------
    plan : Node
        The plan to rewrite.

    Returns
    -------
    Node
        The rewritten plan, or ``plan`` itself when no expression is recomputed.
    """
    return rewrite_relations(plan, local_rewrite())


def local_rewrite() -> Callable[[Node], Node]:
    """A fresh per-relation rewrite (a local rule: see :mod:`litsdf_compiler.optimizer`)."""
    return _Reuse()


def _substantial(e: Expr) -> bool:
    """``e`` computes something from columns (not a bare column, literal or rename of one)."""
    while isinstance(e, Alias):
        e = e.input
    return not isinstance(e, (Col, Lit)) and bool(expr_columns(e))


_MAX_DEPTH = 64
"""How far below a node assignments are looked for (bounds the rule's time on long chains)."""


class _Reuse:
    """The rewrite of one :func:`cse` call, with its memos (by node identity)."""

    def __init__(self) -> None:
        self._safe: dict[tuple[int, int], tuple[Expr, Relation, bool]] = {}
        self._found: dict[int, tuple[Relation, dict[Expr, Hashable]]] = {}

    def available(self, rel: Relation) -> dict[Expr, Hashable]:
        """:func:`_available` of ``rel``, once per relation (a node's input is asked about
        again when the node is checked after another rule rewrote it)."""
        hit = self._found.get(id(rel))
        if hit is None or hit[0] is not rel:
            hit = self._found[id(rel)] = (rel, _available(rel, self))
        return hit[1]

    def rows_safe(self, e: Expr, rel: Relation) -> bool:
        key = (id(e), id(rel))
        hit = self._safe.get(key)
        if hit is None or hit[0] is not e or hit[1] is not rel:
            ok = dtype_from_input_dtypes(e, rel) or rows_independent([e], rel)
            hit = self._safe[key] = (e, rel, ok)
        return hit[2]

    def __call__(self, n: Node) -> Node:
        return _reuse(n, self)


def _available(rel: Relation, ctx: _Reuse) -> dict[Expr, Hashable]:
    """Expressions whose values are columns of ``rel``: ``{E: L}`` (the nearest assignment)."""
    found: dict[Expr, Hashable] = {}
    blocked: set[Hashable] = set()
    rows_changed = False
    x: Relation = rel
    for _ in range(_MAX_DEPTH):
        if isinstance(x, WithColumns):
            last = dict(x.expressions)
            here = set(last)
            reassigned = blocked | here
            for label, e in last.items():
                if label in blocked or e in found or not _substantial(e):
                    continue
                if not expr_columns(e).isdisjoint(reassigned):
                    continue
                if rows_changed and not ctx.rows_safe(e, x.input):
                    continue
                found[e] = label
            blocked |= here
        elif isinstance(x, _ROW_SUBSETS):
            rows_changed = True
        elif not isinstance(x, _PERMUTATIONS):
            return found
        x = x.input
    return found


_SAME_SERIES = shared_memo()
"""``(id(e), label, dtypes of the columns read) -> (e, answer)`` for :func:`_same_series`."""
_SAME_SERIES_LIMIT = 8192


def _same_series(e: Expr, label: Hashable, frame: pd.DataFrame) -> bool:
    """``e`` and ``Col(label)`` both evaluate to Series of the same dtype on ``frame`` (which
    depends only on the dtypes of the columns they read, when all are ``str`` labels of a
    frame with unique labels: the answer is memoized by those)."""
    dtypes = dtypes_of(frame, (label, *expr_columns(e)))
    if dtypes is None:
        return _compute_same_series(e, label, frame)
    key = (id(e), dtypes)
    hit = _SAME_SERIES.get(key)
    if hit is None or hit[0] is not e:
        if len(_SAME_SERIES) >= _SAME_SERIES_LIMIT:
            _SAME_SERIES.clear()
        hit = _SAME_SERIES[key] = (e, _compute_same_series(e, label, frame))
    return hit[1]  # type: ignore[no-any-return]


def _compute_same_series(e: Expr, label: Hashable, frame: pd.DataFrame) -> bool:
    try:
        a = expr_meta(e, frame, {})
        b = expr_meta(Col(label), frame, {})
    except Exception:
        return False
    return isinstance(a, pd.Series) and isinstance(b, pd.Series) and a.dtype == b.dtype


def _reuse(n: Node, ctx: _Reuse) -> Node:
    if not isinstance(n, (Filter, Project, WithColumns)):
        return n
    if isinstance(n, WithColumns) and isinstance(n.input, WithColumns):
        return n
    exprs_ = [n.condition] if isinstance(n, Filter) else [e for _, e in n.expressions]
    if not any(_substantial(e) for e in exprs_):
        return n
    found = ctx.available(n.input)
    if not found or flat_unique_columns(n.input) is None:
        return n
    frame = input_meta(n.input)
    assert frame is not None
    checked: dict[Expr, bool] = {}

    def sub_node(e: Node) -> Node:
        return sub(e) if isinstance(e, Expr) else e

    def sub(e: Expr) -> Expr:
        label = found.get(e)
        if label is not None:
            ok = checked.get(e)
            if ok is None:
                ok = checked[e] = _same_series(e, label, frame)
            if ok:
                return Col(label)
        return replace_children(e, sub_node)

    if isinstance(n, Filter):
        cond = sub(n.condition)
        return n if cond is n.condition else dataclasses.replace(n, condition=cond)
    exprs = tuple((label, sub(e)) for label, e in n.expressions)
    if all(a[1] is b[1] for a, b in zip(exprs, n.expressions, strict=True)):
        return n
    return dataclasses.replace(n, expressions=exprs)
