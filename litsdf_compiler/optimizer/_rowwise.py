"""Helpers for rules that move row subsets (filters, limits) below row-wise nodes.

Expressions are row-wise, so their *values* commute with filters and limits. Their *dtype*
(and whether pandas raises) may depend on which rows they see, though: ``map`` with a dict
gives ``float64`` when some value is unmapped and ``int64`` otherwise, ``//`` by an integer
zero turns ``int64`` into ``float64``, ``.str.len()`` on ``str`` values with missing ones is
``float64`` but ``int64`` without, ``astype(int)`` raises on NaN. :func:`rows_independent`
accepts only expressions whose result dtype (and errors) depend on the input dtypes alone.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..ir.base import Node, walk
from ..ir.expressions import (
    Alias,
    Between,
    BinaryOp,
    Col,
    Expr,
    IsIn,
    IsNa,
    Lit,
    NotNa,
    Round,
    UnaryOp,
)
from ..ir.frames import as_frame
from ..ir.relations import Relation
from ..ir.strings import StrCase, StrStrip
from ..meta import meta_of

__all__ = [
    "rows_independent",
    "flat_unique_columns",
    "frame_labels",
    "frame_facts",
    "boolean_dtype",
    "input_meta",
]

_SAFE_NODES = (Col, Lit, Alias, BinaryOp, UnaryOp, IsNa, NotNa, Between, IsIn, Round)
_STRING_NODES = (StrCase, StrStrip)
_UNSAFE_OPS = frozenset({"floordiv", "mod", "pow"})
"""Integer ``//`` and ``%`` by zero become float; ``**`` raises on negative integer powers."""


def input_meta(rel: Relation) -> pd.DataFrame | None:
    """The empty DataFrame ``rel`` produces, or ``None`` if it cannot be inferred."""
    try:
        meta = as_frame(meta_of(rel))
    except Exception:  # rules stay conservative instead of raising
        return None
    return meta if isinstance(meta, pd.DataFrame) else None


class FrameFacts:
    """What rules ask about a metadata frame's columns, computed once per frame object."""

    __slots__ = ("dtypes", "label_set", "labels", "plain", "unique")

    def __init__(self, meta: pd.DataFrame) -> None:
        cols = meta.columns
        items = cols.tolist()  # (once: iterating an Arrow-backed label index is slow)
        self.unique: bool = bool(cols.is_unique)
        self.labels: tuple[Hashable, ...] | None = (
            None if isinstance(cols, pd.MultiIndex) or not self.unique else tuple(items)
        )
        """The column labels when flat and unique, else ``None``."""
        self.label_set: frozenset[Hashable] = frozenset(items)
        self.dtypes: dict[Hashable, Any] = (
            dict(zip(items, meta.dtypes.tolist(), strict=True)) if self.unique else {}
        )
        """Label -> dtype (empty unless the labels are unique)."""
        self.plain: frozenset[Hashable] | None = None
        """Labels of plain-dtype columns (filled by :func:`._dtypes.plain_columns`)."""


_FACTS: dict[int, tuple[weakref.ref[pd.DataFrame], FrameFacts]] = {}


def frame_facts(meta: pd.DataFrame) -> FrameFacts:
    """:class:`FrameFacts` of ``meta``, memoized per frame object (metadata frames are
    immutable and shared by every node that reads them)."""
    hit = _FACTS.get(id(meta))
    if hit is not None and hit[0]() is meta:
        return hit[1]
    out = FrameFacts(meta)
    key, table = id(meta), _FACTS  # (the callback may run at exit, after module globals)
    table[key] = (weakref.ref(meta, lambda _: table.pop(key, None)), out)
    return out


def dtypes_of(meta: pd.DataFrame, labels: Iterable[Hashable]) -> tuple[Any, ...] | None:
    """``(label, dtype class, dtype)`` of each of ``labels`` in ``meta`` (``None`` for an
    absent one): all that the dtype of an expression reading those columns depends on, as a
    memo key. ``None`` when a label is not a ``str`` or ``meta`` repeats labels (pandas then
    selects columns its own way)."""
    facts = frame_facts(meta)
    if not facts.unique:
        return None
    out = []
    for c in labels:
        if type(c) is not str:
            return None
        dtype = facts.dtypes.get(c)
        out.append((c, type(dtype), dtype))
    return tuple(out)


def frame_labels(meta: pd.DataFrame) -> tuple[Hashable, ...] | None:
    """``meta``'s column labels when flat and unique, else ``None`` (memoized per frame)."""
    return frame_facts(meta).labels


def _has_column(meta: pd.DataFrame, facts: FrameFacts, label: Hashable) -> bool:
    """``label in meta.columns`` (a ``str`` label from the memo: it equals only that ``str``,
    while pandas matches other labels its own way, e.g. ``True`` is not ``1``)."""
    if type(label) is str:
        return label in facts.label_set
    return label in meta.columns


def _dtype_of(meta: pd.DataFrame, facts: FrameFacts, label: Hashable) -> Any:
    """``meta.dtypes[label]`` (from the memo for a ``str`` label that is there)."""
    if type(label) is str:
        hit = facts.dtypes.get(label, facts)
        if hit is not facts:
            return hit
    return meta.dtypes[label]


def flat_unique_columns(rel: Relation) -> tuple[Hashable, ...] | None:
    """``rel``'s column labels when flat and unique, else ``None``."""
    meta = input_meta(rel)
    return None if meta is None else frame_labels(meta)


def _stable_dtype(dtype: Any) -> bool:
    """Numeric, boolean, datetime and ``str`` columns (``object`` results depend on values)."""
    if isinstance(dtype, pd.StringDtype):
        return True
    kind = getattr(dtype, "kind", "O")
    return isinstance(dtype, np.dtype) and kind in "iufbM"


def rows_independent(exprs: Iterable[Expr], rel: Relation) -> bool:
    """Whether ``exprs`` evaluated on any subset of ``rel``'s rows give that subset of the
    values computed on all rows, with the same dtype and without raising differently.

    Parameters
    ----------
    exprs : iterable of Expr
        Row-wise expressions over ``rel``.
    rel : Relation
        The relation they read.

    Returns
    -------
    bool
        ``True`` only for a conservative set of expression nodes over numeric, boolean,
        datetime and ``str`` columns.
    """
    meta = input_meta(rel)
    if meta is None:
        return False
    facts = frame_facts(meta)
    if not facts.unique:
        return False
    return all(_safe_node(n, meta, facts) for e in exprs for n in walk(e))


def _safe_node(n: Node, meta: pd.DataFrame, facts: FrameFacts) -> bool:
    if isinstance(n, Col):
        return _has_column(meta, facts, n.name) and _stable_dtype(_dtype_of(meta, facts, n.name))
    if isinstance(n, BinaryOp):
        return n.op not in _UNSAFE_OPS
    if isinstance(n, _STRING_NODES):
        cols = [c for c in walk(n.input) if isinstance(c, Col)]
        return bool(cols) and all(
            isinstance(_dtype_of(meta, facts, c.name), pd.StringDtype) for c in cols
        )
    return isinstance(n, _SAFE_NODES)


def boolean_dtype(dtype: Any) -> bool:
    """NumPy ``bool`` or pandas' nullable ``boolean`` (a mask where NA counts as False)."""
    return bool(
        isinstance(dtype, pd.BooleanDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "b")
    )
