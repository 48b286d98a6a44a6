"""Index-observability analysis: which relations' row labels can change without consequence.

Some rewrites keep a relation's rows, values and order but *renumber* its index: pushing a
filter below a ``merge`` (the merge output is a fresh ``RangeIndex``: ``[0, 1, 2]`` instead of
the ``[0, 2, 5]`` the filter would have kept) or into a Parquet reader (``filters=`` reads a
fresh ``RangeIndex`` too). Such a rewrite is exact only where no ancestor *observes* the
index of the rewritten node.

The analysis runs top-down over the plan DAG. The root's index is observed (the user sees
it). Each node tells, for each relation input, whether that input's index reaches the
node's result or decides it:

* row-wise and row-subset nodes (``Project``, ``WithColumns``, ``Filter``, ``Head``,
  ``Sort`` ...) pass their input's index through: it is observed when theirs is;
* nodes that build a new index from values (``merge`` on columns, ``groupby`` aggregations
  on column keys, column-wise reductions, ``reset_index(drop=True)``, ``ignore_index=True``,
  ``set_index(append=False)``, ``describe``) do not observe it;
* nodes that read or keep the index (``sort_index``, ``reset_index()``, ``DataFrame.join``,
  ``concat(axis=1)``, ``idxmax``, merges on the index or on index level names) observe it;
* any node this module does not know observes its inputs' indexes (conservative).

A node shared by several parents is observed if *any* parent observes it.

Example (:func:`render_index_analysis`; ``+`` observed, ``-`` not; parameters abridged)::

    + Aggregate keys=['k'] measures=[...] functions=['sum'] ...
    -   Filter (x > 1)
    -     Join how='inner' on=['k'] ...
    -       Source DataFrame 4x2 [k, x]
    -       Source DataFrame 3x2 [k, y]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd

from ..ir.base import Node, walk
from ..ir.expressions import COLUMN_REDUCTIONS, Reduce
from ..ir.frames import as_frame
from ..ir.relations import (
    GROUP_REDUCTIONS,
    Aggregate,
    Concat,
    Describe,
    Drop,
    DropDuplicates,
    DropNa,
    Filter,
    FrameElementwise,
    FrameReduce,
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
from ._rowwise import frame_facts
from ._util import relation_inputs

__all__ = ["IndexAnalysis", "index_analysis", "render_index_analysis"]

_PASS_THROUGH = (
    Project,
    WithColumns,
    Filter,
    Drop,
    Rename,
    Head,
    Tail,
    Slice,
    TopK,
    FrameElementwise,
)
"""Nodes whose output index is (a subset of) their input's, in some order."""

_GROUP_REDUCTIONS = frozenset(GROUP_REDUCTIONS)
"""Groupby aggregations whose result depends on group values and row order only."""

_INDEX_FREE_SERIES_METHODS = frozenset({"value_counts", "unique", "describe"})


class IndexAnalysis:
    """Result of :func:`index_analysis`: whether each relation's index is observed.

    Nodes are keyed by identity (rules rewrite bottom-up and look up the *original* node).

    Attributes
    ----------
    observed : dict
        ``id(node) -> bool`` for every relation reachable from the root through relation
        inputs.
    """

    __slots__ = ("nodes", "observed")

    def __init__(self) -> None:
        self.observed: dict[int, bool] = {}
        self.nodes: dict[int, Relation] = {}

    def is_observed(self, n: Node) -> bool:
        """Whether ``n``'s index may be observed (``True`` for nodes the analysis never saw)."""
        return self.observed.get(id(n), True)


def _relation_children(n: Node) -> list[Relation]:
    return relation_inputs(n)


def _columns(rel: Relation) -> frozenset[Hashable] | None:
    """Column labels of ``rel`` (``None`` when they cannot be inferred)."""
    try:
        meta = as_frame(meta_of(rel))
    except Exception:  # an analysis must never raise: be conservative
        return None
    if isinstance(meta, pd.DataFrame):
        return frame_facts(meta).label_set  # memoized per metadata frame
    cols = getattr(meta, "columns", None)
    return None if cols is None else frozenset(cols)


def _all_columns(labels: Iterable[Hashable], rel: Relation) -> bool:
    """Every label is a column of ``rel`` (not an index level name pandas also accepts)."""
    cols = _columns(rel)
    return cols is not None and all(label in cols for label in labels)


def _aggregate_observes(n: Aggregate) -> bool:
    if not _all_columns(n.keys, n.input):
        return True  # a key names an index level
    names = (*n.functions, *(m.function for m in n.measures))
    return not all(isinstance(f, str) and f in _GROUP_REDUCTIONS for f in names)


def _kwargs(pairs: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return dict(pairs)


def _frame_reduce_observes(n: FrameReduce) -> bool:
    kwargs = _kwargs(n.kwargs)
    if n.func == "value_counts":
        return False  # indexed by the value combinations
    if n.func not in COLUMN_REDUCTIONS:
        return True
    return kwargs.get("axis", 0) in (1, "columns")  # a row-wise reduction keeps the index


def _scalar_observes(n: ScalarResult) -> bool:
    return any(isinstance(e, Reduce) and e.func in ("idxmax", "idxmin") for e in walk(n.expr))


def _series_method_observes(n: SeriesMethod, observed: bool) -> bool:
    kwargs = _kwargs(n.kwargs)
    if n.method in _INDEX_FREE_SERIES_METHODS:
        return False
    if n.method == "reset_index":
        return not kwargs.get("drop", False)
    if n.method == "sort_index":
        return True
    if kwargs.get("ignore_index", False) is True:
        return False
    return observed


def _join_observes(n: Join) -> bool:
    if n.left_index or n.right_index:
        return True
    if n.on is not None:
        return not (_all_columns(n.on, n.left) and _all_columns(n.on, n.right))
    left_on, right_on = n.left_on or (), n.right_on or ()
    return not (_all_columns(left_on, n.left) and _all_columns(right_on, n.right))


def child_observed(n: Relation, observed: bool) -> list[bool]:
    """Whether ``n`` observes the index of each of its relation inputs.

    Parameters
    ----------
    n : Relation
        A plan node.
    observed : bool
        Whether ``n``'s own index is observed by its parents.

    Returns
    -------
    list of bool
        One entry per relation input of ``n`` (in field order).
    """
    return _observed_of(n, observed, _relation_children(n))


def _observed_of(n: Relation, observed: bool, kids: list[Relation]) -> list[bool]:
    """:func:`child_observed` given ``n``'s relation children."""
    flag: bool
    if isinstance(n, _PASS_THROUGH):
        flag = observed
    elif isinstance(n, Sort):
        flag = (not n.ignore_index and observed) or not _all_columns(n.by, n.input)
    elif isinstance(n, (DropDuplicates, DropNa)):
        flag = not n.ignore_index and observed
    elif isinstance(n, Concat):
        if n.axis not in (0, "index", "rows"):
            flag = True  # columns side by side are aligned on the index
        else:
            flag = not n.ignore_index and observed
    elif isinstance(n, Aggregate):
        flag = _aggregate_observes(n)
    elif isinstance(n, FrameReduce):
        flag = _frame_reduce_observes(n)
    elif isinstance(n, ScalarResult):
        flag = _scalar_observes(n)
    elif isinstance(n, SeriesMethod):
        flag = _series_method_observes(n, observed)
    elif isinstance(n, Join):
        flag = _join_observes(n)
    elif isinstance(n, ResetIndex):
        flag = not n.drop
    elif isinstance(n, SetIndex):
        flag = n.append and observed
    elif isinstance(n, Describe):
        flag = False
    elif isinstance(n, (SortIndex, IndexJoin)):
        flag = True
    else:
        flag = True  # a node this analysis does not know
    return [flag] * len(kids)


def index_analysis(plan: Node) -> IndexAnalysis:
    """Whether the index of each relation in ``plan`` is observed (see the module docstring).

    Parameters
    ----------
    plan : Node
        The plan root; its own index is observed.

    Returns
    -------
    IndexAnalysis
        ``observed`` by node identity.
    """
    out = IndexAnalysis()
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
        stack.append((n, True))
        kids[id(n)] = children = _relation_children(n)
        stack.extend((c, False) for c in children if id(c) not in seen)
    pending: dict[int, bool] = {id(plan): True}
    for n in reversed(order):  # every parent before its children
        obs = pending.get(id(n), True)
        out.observed[id(n)] = obs
        children = kids[id(n)]
        for c, flag in zip(children, _observed_of(n, obs, children), strict=True):
            pending[id(c)] = pending.get(id(c), False) or flag
    return out


def render_index_analysis(plan: Node) -> str:
    """``plan`` as text, each relation line prefixed ``+`` (index observed) or ``-`` (not).

    Used by golden tests; lines are those of :func:`~litsdf_compiler.ir.explain.render_plan`.
    """
    from ..ir.explain import explained_inputs, render_plan

    analysis = index_analysis(plan)
    lines = render_plan(plan).split("\n")
    marks: list[str] = []

    def visit(n: Node) -> None:
        assert isinstance(n, Relation)
        marks.append("+" if analysis.is_observed(n) else "-")
        for parent in explained_inputs(n):
            visit(parent)

    visit(plan)
    return "\n".join(f"{m} {line}" for m, line in zip(marks, lines, strict=True))
