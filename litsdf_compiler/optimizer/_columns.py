"""Required-columns analysis shared by ``projection_pushdown`` and ``dead_columns``.

For every relation of a plan DAG this computes which of its output columns its parents
observe: ``None`` means *all of them* (the root, and inputs of nodes whose result depends on
every column), a frozenset lists the labels that are enough. A node shared by several parents
needs the union of what each parent needs.

The analysis is *honest*: a node's requirement on its input is what the node, exactly as it
stands, reads (a ``Project`` needs the inputs of all its entries, even those nobody uses; a
``Drop`` needs the columns it drops, or pandas raises ``KeyError``). Rules that remove work
(``dead_columns``) then let the next analysis find smaller requirements; the driver iterates
to a fixed point.

A requirement set may hold labels that are not columns of the node (index level names used as
sort or groupby keys, labels a ``Rename`` maps away); consumers intersect it with the node's
actual columns. Labels are never *removed* for such a reason, so the analysis errs on the side
of keeping columns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

import pandas as pd

from ..ir.base import FrozenList, Node
from ..ir.expressions import Expr
from ..ir.frames import as_frame
from ..ir.relations import (
    SERIES,
    Aggregate,
    Concat,
    Drop,
    DropDuplicates,
    DropNa,
    Filter,
    FrameElementwise,
    Head,
    IndexJoin,
    Join,
    Project,
    Relation,
    Rename,
    ResetIndex,
    ScalarResult,
    SeriesMethod,
    SetIndex,
    Slice,
    Sort,
    SortIndex,
    Tail,
    TopK,
    WithColumns,
)
from ..meta import meta_of
from ._rowwise import frame_labels
from ._util import expr_columns, rebuild_inputs, relation_inputs

__all__ = [
    "Need",
    "Analysis",
    "analyze",
    "flat_columns",
    "relation_children",
    "rewrite_with",
    "suffixed",
]

Need = frozenset[Hashable] | None
"""Columns of a relation that are observed: a set of labels, or ``None`` for all of them."""

_PASS_THROUGH = (Filter, Head, Tail, Slice, SortIndex)


def relation_children(n: Node) -> list[Relation]:
    """Relations that ``n`` computes from (its relation inputs)."""
    return relation_inputs(n)


def flat_columns(rel: Relation) -> tuple[Hashable, ...] | None:
    """``rel``'s column labels when they are flat and unique, else ``None``.

    A relation whose columns are a ``MultiIndex``, repeat a label or carry a Series
    (``SERIES``) is left alone by the column rules: selecting a label there is not a plain
    column selection.
    """
    meta = as_frame(meta_of(rel))
    if not isinstance(meta, pd.DataFrame):
        return None
    cols = frame_labels(meta)
    return None if cols is None or SERIES in cols else cols


def _union(*parts: Iterable[Hashable]) -> frozenset[Hashable]:
    out: set[Hashable] = set()
    for p in parts:
        out.update(p)
    return frozenset(out)


def _exprs_columns(exprs: Iterable[Expr]) -> frozenset[Hashable]:
    return _union(*(expr_columns(e) for e in exprs))


def _plain_kwargs(method: str, kwargs: tuple[tuple[str, Any], ...]) -> bool:
    """Every argument applies the same way to every column: a scalar (or, for ``replace``, a
    flat list of scalars). Dicts map columns, nested lists and arrays are positional."""

    def scalar(v: Any) -> bool:
        return not isinstance(v, tuple) and not callable(v)  # tuples: lists, dicts, pairs

    def plain(v: Any) -> bool:
        if isinstance(v, FrozenList) and method == "replace":
            return all(scalar(x) for x in v)
        return scalar(v)

    return all(plain(v) for _, v in kwargs)


def _aggregate_needs(n: Aggregate) -> Need:
    if n.selection == "all" and n.form in ("method", "agg", "agg_list"):
        return None  # gb.sum(), gb.agg([...]): one result column per input column
    used = [m.input for m in n.measures if m.input is not None]
    return frozenset(n.keys) | frozenset(n.selected) | frozenset(used)


def suffixed(label: Hashable, suffix: Any) -> Hashable:
    """The label pandas gives an overlapping column (``f"{label}{suffix}"``, or unchanged)."""
    return f"{label}{suffix}" if isinstance(suffix, str) and suffix else label


def _join_needs(
    required: frozenset[Hashable],
    left_cols: tuple[Hashable, ...],
    right_cols: tuple[Hashable, ...],
    left_keys: Iterable[Hashable],
    right_keys: Iterable[Hashable],
    suffixes: tuple[Any, Any] | None,
) -> tuple[frozenset[Hashable], frozenset[Hashable]]:
    """Needs of both join sides: the required labels each side has plus its keys.

    A label both sides have is suffixed in the output; dropping it from one side only would
    rename the other side's column, so it is kept on both sides, or (when none of its
    output labels is required and ``suffixes`` are known) dropped from both.
    """
    overlap = frozenset(left_cols) & frozenset(right_cols)
    if suffixes is not None:
        lsuf, rsuf = suffixes
        overlap = frozenset(
            c
            for c in overlap
            if c in required or suffixed(c, lsuf) in required or suffixed(c, rsuf) in required
        )
    left = (required & frozenset(left_cols)) | overlap | frozenset(left_keys)
    right = (required & frozenset(right_cols)) | overlap | frozenset(right_keys)
    return left, right


def child_needs(n: Relation, need: Need) -> list[Need]:
    """What each of ``n``'s relation children must provide so that ``n`` yields ``need``.

    Parameters
    ----------
    n : Relation
        A plan node.
    need : frozenset or None
        The columns of ``n`` that are observed (``None``: all).

    Returns
    -------
    list
        One requirement per ``relation_children(n)`` entry, in order.
    """
    return _needs_of(n, need, relation_children(n))


def _needs_of(n: Relation, need: Need, kids: list[Relation]) -> list[Need]:
    """:func:`child_needs` given ``relation_children(n)``."""
    if not kids:
        return []
    flats = [flat_columns(k) for k in kids]
    out = _child_needs(n, need, flats)
    return [None if f is None else o for o, f in zip(out, flats, strict=True)]


def _child_needs(n: Relation, need: Need, flats: list[tuple[Hashable, ...] | None]) -> list[Need]:
    every: list[Need] = [None] * len(flats)
    # nodes that read a fixed set of columns, whatever is observed of their output
    if isinstance(n, Project):
        return [_exprs_columns(e for _, e in n.expressions)]
    if isinstance(n, ScalarResult):
        return [expr_columns(n.expr)]
    if isinstance(n, SeriesMethod):
        return [expr_columns(n.value)]
    if isinstance(n, Aggregate):
        return [_aggregate_needs(n)]
    if need is None:
        return every
    if isinstance(n, _PASS_THROUGH):
        extra = expr_columns(n.condition) if isinstance(n, Filter) else frozenset()
        return [need | extra]
    if isinstance(n, Sort):
        return [need | frozenset(n.by)]
    if isinstance(n, TopK):
        return [need | frozenset(n.columns)]
    if isinstance(n, (DropDuplicates, DropNa)):
        return every if n.subset is None else [need | frozenset(n.subset)]
    if isinstance(n, SetIndex):
        return [need | frozenset(n.keys)]
    if isinstance(n, ResetIndex):
        # the new column is "index", or "level_0" when "index" is taken: keep both
        return [need | {"index", "level_0"}]
    if isinstance(n, Drop):
        return [need | frozenset(n.columns)]  # dropping an absent column raises KeyError
    if isinstance(n, FrameElementwise):
        return [need] if _plain_kwargs(n.method, n.kwargs) else every
    if isinstance(n, WithColumns):
        cols = flats[0]
        if cols is None:
            return every
        assigned = frozenset(label for label, _ in n.expressions)
        existing = frozenset(cols)
        reads = _exprs_columns(e for _, e in n.expressions)
        # a replaced column keeps its position only while the input has it: keep it
        return [(need - assigned) | (assigned & existing) | reads]
    if isinstance(n, Rename):
        cols = flats[0]
        if cols is None:
            return every
        mapping = dict(n.mapping)
        renamed = [mapping.get(c, c) for c in cols]
        if len(set(renamed)) != len(renamed):
            return every
        return [frozenset(c for c, r in zip(cols, renamed, strict=True) if r in need)]
    if isinstance(n, Join):
        lc, rc = flats
        if lc is None or rc is None:
            return every
        on = n.on or ()
        lkeys, rkeys = (*on, *(n.left_on or ())), (*on, *(n.right_on or ()))
        # without keys, merge joins on every common column: the overlap is the key
        implicit = not (n.on or n.left_on or n.right_on or n.left_index or n.right_index)
        left, right = _join_needs(need, lc, rc, lkeys, rkeys, None if implicit else n.suffixes)
        return [left, right]
    if isinstance(n, IndexJoin):
        lc, rc = flats
        if lc is None or rc is None:
            return every
        left, right = _join_needs(need, lc, rc, n.on or (), (), None)
        return [left, right]
    if isinstance(n, Concat):
        return [need] * len(flats) if n.axis in (0, "index", "rows") else every
    return every  # FrameReduce, Describe, and any node this analysis does not know


class Analysis:
    """Result of :func:`analyze`: parents and observed columns of every relation.

    Nodes are keyed by identity (as :func:`~._util.rewrite_up` memoizes them).

    Attributes
    ----------
    needs : dict
        ``id(node) -> Need``.
    parents : dict
        ``id(node) -> list of parent nodes`` (a parent appears once per edge).
    nodes : dict
        ``id(node) -> node``.
    """

    __slots__ = ("needs", "nodes", "parents")

    def __init__(self) -> None:
        self.needs: dict[int, Need] = {}
        self.parents: dict[int, list[Relation]] = {}
        self.nodes: dict[int, Relation] = {}

    def need(self, n: Node) -> Need:
        """Observed columns of ``n`` (``None``: all; unknown nodes: all)."""
        return self.needs.get(id(n))

    def used(self, n: Relation) -> tuple[Hashable, ...] | None:
        """The columns of ``n`` that are observed, in ``n``'s column order.

        ``None`` when every column is, or ``n``'s columns are not flat and unique.
        """
        need = self.need(n)
        if need is None:
            return None
        cols = flat_columns(n)
        if cols is None:
            return None
        return tuple(c for c in cols if c in need)


_LAST: list[tuple[Node, Analysis]] = []


def analyze(plan: Node) -> Analysis:
    """Like :func:`_analyze`, reusing the analysis of the very same plan object (rules that
    run one after another on an unchanged plan share it; the optimizer driver calls
    :func:`forget` when it is done, so no plan is kept alive)."""
    if _LAST and _LAST[0][0] is plan:
        return _LAST[0][1]
    result = _analyze(plan)
    _LAST[:] = [(plan, result)]
    return result


def forget() -> None:
    """Drop the analysis kept by :func:`analyze`."""
    _LAST.clear()


def _analyze(plan: Node) -> Analysis:
    """Observed columns of every relation in ``plan`` (see the module docstring).

    Parameters
    ----------
    plan : Node
        The plan root (its output is observed in full).

    Returns
    -------
    Analysis
        Needs and parents by node identity.
    """
    out = Analysis()
    if not isinstance(plan, Relation):
        return out
    order: list[Relation] = []  # post-order: children before parents
    seen: set[int] = set()
    kids: dict[int, list[Relation]] = {}
    stack: list[tuple[Relation, bool]] = [(plan, False)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.nodes[id(n)] = n
        out.parents.setdefault(id(n), [])
        stack.append((n, True))
        kids[id(n)] = children = relation_children(n)
        for c in children:
            out.parents.setdefault(id(c), []).append(n)
            if id(c) not in seen:
                stack.append((c, False))
    pending: dict[int, Need] = {id(plan): None}
    started: set[int] = {id(plan)}
    for n in reversed(order):  # parents before children
        need = pending.get(id(n), frozenset())
        out.needs[id(n)] = need
        children = kids[id(n)]
        for c, cneed in zip(children, _needs_of(n, need, children), strict=True):
            key = id(c)
            if key not in started:
                started.add(key)
                pending[key] = cneed
            else:
                prev = pending[key]
                pending[key] = None if prev is None or cneed is None else prev | cneed
    return out


def rewrite_with(plan: Node, fn: Callable[[Relation, Relation], Relation]) -> Node:
    """Rebuild ``plan`` bottom-up, calling ``fn(original, rebuilt)`` on every relation.

    ``original`` is the node of ``plan`` (so an :class:`Analysis` of ``plan`` can be looked
    up by identity), ``rebuilt`` the same node over already rewritten inputs. Returns
    ``plan`` itself when ``fn`` changes nothing.
    """
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        if not isinstance(n, Relation):
            return n
        hit = memo.get(id(n))
        if hit is None:
            hit = fn(n, rebuild_inputs(n, visit))
            memo[id(n)] = hit
        return hit

    return visit(plan)
