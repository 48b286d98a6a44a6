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

from ..backends.pandas import as_frame
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
from ..ir.relations import Relation
from ..ir.strings import StrCase, StrStrip
from ..meta import meta_of

__all__ = [
    "rows_independent",
    "flat_unique_columns",
    "frame_labels",
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


_LABELS: dict[int, tuple[weakref.ref[pd.DataFrame], tuple[Hashable, ...] | None]] = {}


def frame_labels(meta: pd.DataFrame) -> tuple[Hashable, ...] | None:
    """``meta``'s column labels when flat and unique, else ``None``; memoized per frame
    object (metadata frames are immutable and shared by every node that reads them)."""
    hit = _LABELS.get(id(meta))
    if hit is not None and hit[0]() is meta:
        return hit[1]
    cols = meta.columns
    out = None if isinstance(cols, pd.MultiIndex) or not cols.is_unique else tuple(cols)
    key = id(meta)
    _LABELS[key] = (weakref.ref(meta, lambda _: _LABELS.pop(key, None)), out)
    return out


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
    if meta is None or not meta.columns.is_unique:
        return False
    return all(_safe_node(n, meta) for e in exprs for n in walk(e))


def _safe_node(n: Node, meta: pd.DataFrame) -> bool:
    if isinstance(n, Col):
        return n.name in meta.columns and _stable_dtype(meta.dtypes[n.name])
    if isinstance(n, BinaryOp):
        return n.op not in _UNSAFE_OPS
    if isinstance(n, _STRING_NODES):
        cols = [c for c in walk(n.input) if isinstance(c, Col)]
        return bool(cols) and all(isinstance(meta.dtypes[c.name], pd.StringDtype) for c in cols)
    return isinstance(n, _SAFE_NODES)


def boolean_dtype(dtype: Any) -> bool:
    """NumPy ``bool`` or pandas' nullable ``boolean`` (a mask where NA counts as False)."""
    return bool(
        isinstance(dtype, pd.BooleanDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "b")
    )
