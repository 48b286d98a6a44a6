"""Which inferred dtypes are exact: the column dtypes that do not depend on the data's values.

:func:`litsdf_compiler.meta.meta_of` runs every node on *empty* inputs. That gives the exact
dtype of a column only when pandas decides it from the input dtypes alone. It does not for the
side of a ``merge`` that may be unmatched (an ``int64`` column of a left merge's right side
becomes ``float64`` when some row is unmatched, which an empty merge never shows), ``concat``
of frames with different columns, ``map`` with a dict, ``where``, ``fillna``, object
inference, groupby aggregations, or a CSV read (its dtypes are inferred from a sample of
rows). Rules whose correctness depends on a dtype (``x + 0`` is the identity for integers
but turns ``-0.0`` into ``0.0`` for floats; ``fillna`` does nothing on an integer column
that has no missing values) ask :func:`exact_columns` which columns of a relation have a
dtype they can rely on, and :func:`exact_expr` whether an expression's inferred dtype
follows from them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.dtypes.dtypes import BaseMaskedDtype

from ..ir.base import Node, walk
from ..ir.expressions import (
    Alias,
    Between,
    BinaryOp,
    Cast,
    Col,
    Expr,
    IsIn,
    IsNa,
    Lit,
    NotNa,
    Round,
    Ufunc,
    UnaryOp,
)
from ..ir.relations import (
    Drop,
    DropDuplicates,
    DropNa,
    Filter,
    Head,
    Join,
    Project,
    ReadParquet,
    Relation,
    Rename,
    Slice,
    Sort,
    SortIndex,
    Source,
    Tail,
    TopK,
    WithColumns,
)
from ._columns import suffixed
from ._rowwise import frame_facts, input_meta
from ._util import expr_columns, shared_memo

__all__ = ["exact_columns", "exact_expr", "ExactColumns", "dtype_from_input_dtypes"]

_ROWS_ONLY = (Filter, Head, Tail, Slice, Sort, SortIndex, TopK, DropDuplicates, DropNa)
"""Nodes that select or reorder rows: every column keeps its dtype."""

_DETERMINISTIC = (Col, Lit, Alias, BinaryOp, UnaryOp, Ufunc, IsNa, NotNa, Between, IsIn, Round)
_VALUE_DEPENDENT_OPS = frozenset({"floordiv", "mod", "pow"})
"""Integer ``//`` and ``%`` by zero give ``float64``; ``**`` of negative integer powers raises."""


def _plain_dtype(dtype: Any) -> bool:
    """Numeric, boolean, datetime/timedelta and ``str`` dtypes (not object or categorical)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iufbmM"
    return isinstance(dtype, pd.StringDtype | pd.DatetimeTZDtype | BaseMaskedDtype)


def plain_columns(meta: pd.DataFrame) -> frozenset[Hashable]:
    """Labels of ``meta``'s columns with a plain dtype (see :func:`_plain_dtype`; memoized
    with the frame's other facts)."""
    facts = frame_facts(meta)
    out = facts.plain
    if out is None:
        if facts.unique:
            out = frozenset(c for c, d in facts.dtypes.items() if _plain_dtype(d))
        else:
            dtypes = meta.dtypes.tolist()
            out = frozenset(c for c, d in zip(meta.columns, dtypes, strict=True) if _plain_dtype(d))
        facts.plain = out
    return out


def _cast_is_deterministic(dtype: Any) -> bool:
    try:
        target = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return False
    return not isinstance(target, pd.CategoricalDtype)


_VALUE_FREE = shared_memo()
"""``id(e) -> (e, every node of e computes its dtype from its operands' dtypes)``."""
_VALUE_FREE_LIMIT = 8192


def _value_free_node(n: Node) -> bool:
    if isinstance(n, BinaryOp):
        return n.op not in _VALUE_DEPENDENT_OPS
    if isinstance(n, Cast):
        return _cast_is_deterministic(n.dtype)
    return isinstance(n, _DETERMINISTIC)


def exact_expr(e: Expr, columns: frozenset[Hashable]) -> bool:
    """Whether ``e``'s dtype follows from its inputs' dtypes alone, all of which are exact.

    Parameters
    ----------
    e : Expr
        A row-wise expression.
    columns : frozenset
        Labels of the input columns whose inferred dtype is exact.

    Returns
    -------
    bool
        ``True`` when every column ``e`` reads is in ``columns`` and every node of ``e``
        computes its dtype from its operands' dtypes (never from their values).
    """
    hit = _VALUE_FREE.get(id(e))
    if hit is None or hit[0] is not e:
        if len(_VALUE_FREE) >= _VALUE_FREE_LIMIT:
            _VALUE_FREE.clear()
        hit = _VALUE_FREE[id(e)] = (e, all(_value_free_node(n) for n in walk(e)))
    return bool(hit[1]) and expr_columns(e) <= columns


class ExactColumns:
    """Memoized :func:`exact_columns` over one plan (by node identity)."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Node, frozenset[Hashable]]] = {}

    def __call__(self, rel: Relation) -> frozenset[Hashable]:
        """Labels of ``rel``'s columns whose inferred dtype is exact."""
        hit = self._memo.get(id(rel))
        if hit is None or hit[0] is not rel:
            hit = (rel, self._compute(rel))
            self._memo[id(rel)] = hit
        return hit[1]

    def _compute(self, rel: Relation) -> frozenset[Hashable]:
        meta = input_meta(rel)
        if meta is None or frame_facts(meta).labels is None:  # nested or repeated labels
            return frozenset()
        plain = plain_columns(meta)
        if isinstance(rel, (Source, ReadParquet)):
            return plain
        if isinstance(rel, _ROWS_ONLY):
            return self(rel.input) & plain
        if isinstance(rel, Drop):
            return self(rel.input) & plain
        if isinstance(rel, Rename):
            mapping = dict(rel.mapping)
            return frozenset(mapping.get(c, c) for c in self(rel.input)) & plain
        if isinstance(rel, (WithColumns, Project)):
            base = self(rel.input)
            out = set(base) if isinstance(rel, WithColumns) else set()
            for label, e in rel.expressions:
                if exact_expr(e, base):
                    out.add(label)
                else:
                    out.discard(label)
            return frozenset(out) & plain
        if isinstance(rel, Join):
            return self._join(rel) & plain
        return frozenset()

    def _join(self, rel: Join) -> frozenset[Hashable]:
        """Exact columns of a ``merge`` on ``on=`` keys (or the common columns). A side whose
        every output row comes from one of its rows (``inner``, its own ``left``/``right``/
        anti side) keeps its dtypes; the other side's columns get
        missing values for unmatched rows, so only dtypes that hold them unchanged stay exact
        (floats, datetimes, timedeltas, ``str``, nullable dtypes: ``int64`` becomes
        ``float64`` and ``bool`` ``object``). A key is exact when both sides have it exact with
        the same dtype."""
        if rel.left_on or rel.right_on or rel.left_index or rel.right_index:
            return frozenset()
        sides = _JOIN_SIDES.get(rel.how)
        lmeta, rmeta = input_meta(rel.left), input_meta(rel.right)
        if sides is None or lmeta is None or rmeta is None:
            return frozenset()
        lfacts, rfacts = frame_facts(lmeta), frame_facts(rmeta)
        lcols, rcols = lfacts.labels, rfacts.labels
        if lcols is None or rcols is None:  # nested or repeated labels
            return frozenset()
        ldtypes, rdtypes = lfacts.dtypes, rfacts.dtypes
        common = lfacts.label_set & rfacts.label_set
        keys = frozenset(rel.on) if rel.on is not None else common
        left, right = self(rel.left), self(rel.right)
        out: set[Hashable] = set()
        for k in keys:
            if k in left and k in right and _same_dtype(ldtypes.get(k), rdtypes.get(k)):
                out.add(k)
        overlap = common - keys
        for cols, exact, dtypes, whole, suffix in (
            (lcols, left, ldtypes, sides[0], rel.suffixes[0]),
            (rcols, right, rdtypes, sides[1], rel.suffixes[1]),
        ):
            for c in cols:
                if c in keys or c not in exact or not (whole or _holds_missing(dtypes[c])):
                    continue
                out.add(suffixed(c, suffix) if c in overlap else c)
        return frozenset(out)


_JOIN_SIDES = {
    "inner": (True, True),
    "left": (True, False),
    "left_anti": (True, False),
    "right": (False, True),
    "right_anti": (False, True),
    "outer": (False, False),
}
"""``how`` -> whether every output row of the (left, right) side comes from a row of it."""


def _same_dtype(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a == b and repr(a) == repr(b)


def _holds_missing(dtype: Any) -> bool:
    """A missing value leaves the dtype as it is (no ``int64`` -> ``float64`` upcast)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "fmM"
    return isinstance(dtype, pd.StringDtype | pd.DatetimeTZDtype | BaseMaskedDtype)


def exact_columns(rel: Relation) -> frozenset[Hashable]:
    """Labels of ``rel``'s columns whose inferred dtype (:func:`~..meta.meta_of`) is exact.

    Parameters
    ----------
    rel : Relation
        Any relation.

    Returns
    -------
    frozenset
        Columns of in-memory sources and Parquet reads, carried through row selections,
        drops, renames, value-independent assignments and merges on columns (see
        ``ExactColumns._join``); empty for anything else (index joins, concats, groupbys,
        CSV reads, ...) and for frames with repeated or nested labels.
    """
    return ExactColumns()(rel)


def dtype_from_input_dtypes(e: Expr, rel: Relation) -> bool:
    """Whether ``e``'s dtype on ``rel`` is a function of the dtypes of the columns it reads
    (numeric, boolean, datetime or ``str`` ones), whatever the rows: evaluated on a subset of
    the rows, it gives that subset of the values with the same dtype.

    Parameters
    ----------
    e : Expr
        A row-wise expression over ``rel``.
    rel : Relation
        The relation it reads.

    Returns
    -------
    bool
        ``False`` when unsure.
    """
    meta = input_meta(rel)
    if meta is None or frame_facts(meta).labels is None:  # nested or repeated labels
        return False
    return exact_expr(e, plain_columns(meta))
