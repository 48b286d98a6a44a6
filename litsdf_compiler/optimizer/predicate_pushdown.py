"""Predicate pushdown: filters move towards the data, so less of it flows through the plan.

Below column assignments they do not read (exact, the index is kept)::

    Filter (a > 1)                        WithColumns b=(a * 2)
      WithColumns b=(a * 2)       ->        Filter (a > 1)
        Source                                Source

Into the sides of a ``merge`` (each conjunct of an ``&`` on its own; a label such as
``y_x`` is the left ``y``; an ``on=`` key of an inner join goes to both sides, of a left or
right join to the kept side), but never into the side an outer join fills with missing
values::

    ScalarResult expr=reduce(func='sum', x)         ScalarResult expr=reduce(func='sum', x)
      Filter (((x > 1) & (y_y < 9)) & (k > 1))        Join how='inner' on=['k']
        Join how='inner' on=['k']             ->        Filter ((x > 1) & (k > 1))
          Source [k, x, y]                                Source [k, x, y]
          Source [k, y, z]                              Filter ((y < 9) & (k > 1))
                                                          Source [k, y, z]

Into a Parquet scan as pyarrow ``filters=`` (``column <op> literal`` conjuncts with ``==``,
``<``, ``<=``, ``>``, ``>=`` on integer (not uint64), float and string columns: pyarrow
keeps every row pandas keeps, missing values failing both, integers compared by value in
both; a float literal only where the column's dtype holds it exactly, as pandas converts it
to ``float32`` and pyarrow compares in ``float64``; ``!=`` is not pushed, pandas keeps NaN
there).
The filter stays above, so pandas' own semantics decide the rows; the file's row-group
statistics let pyarrow skip whole row groups::

    ResetIndex drop=True
      Filter ((f > 0.1) & (s != 'b'))
        ReadParquet path='t.parquet'
    ->
    ResetIndex drop=True
      Filter ((f > 0.1) & (s != 'b'))
        ReadParquet path='t.parquet' options=[['filters', [['f', '>', 0.1]]]]

Only for a file whose columns keep their pandas dtype when rows are left out (no nulls in
integer/boolean columns, which pandas would read as float/object; no dictionary or nested
types) and a read without other options.

And below stable sorts (a filtered stable sort is the sort of the filtered rows).

A merge and a filtered Parquet read number their rows afresh, so those two rewrites change
the index of the filter's result (``[0, 1]`` instead of ``[0, 2]``): they fire only where
:mod:`._index` proves no ancestor observes that index. Whatever moves below a node is
evaluated on fewer rows, so assignments a filter moves under must have dtypes that do not
depend on the rows (:func:`._rowwise.rows_independent`). Not pushed: across ``Head``,
``Tail``, slices, ``TopK``, ``drop_duplicates``, ``dropna``, groupbys, ``concat`` and
unstable sorts (``kind="quicksort"`` on one key orders ties arbitrarily), into the null side
of an outer join, into a left join whose right columns change dtype when missing values
appear (``int64`` becomes ``float64`` only if some row is unmatched), or when the merge
validates keys (fewer rows could pass ``validate=``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ..ir.base import FrozenList, Node
from ..ir.expressions import BinaryOp, Col, Expr, Lit
from ..ir.relations import Filter, Join, Project, ReadParquet, Relation, Sort, Source, WithColumns
from ..meta import expr_meta
from ._index import index_analysis
from ._rowwise import boolean_dtype, flat_unique_columns, input_meta, rows_independent
from ._util import expr_columns, rebuild_inputs, substitute, walk_relations

ORDER = 20

_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq"}
_ARROW_OPS = {"eq": "==", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
"""``!=`` is not pushed: pandas keeps missing values (``NaN != 1`` is True), pyarrow drops them."""
_STABLE_KINDS = ("stable", "mergesort")


def predicate_pushdown(plan: Node) -> Node:
    """Move filters below assignments, stable sorts, into joins and Parquet scans.

    Parameters
    ----------
    plan : Node
        The plan to rewrite.

    Returns
    -------
    Node
        The rewritten plan, or ``plan`` itself when no filter moves.
    """
    if not any(isinstance(n, Filter) for n in walk_relations(plan)):
        return plan  # nothing to push: skip the whole-plan index analysis
    analysis = index_analysis(plan)
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        if not isinstance(n, Relation) or isinstance(n, Source):
            return n
        hit = memo.get(id(n))
        if hit is None:
            rebuilt = rebuild_inputs(n, visit)
            if isinstance(rebuilt, Filter):
                hit = _push(rebuilt, analysis.is_observed(n))
            else:
                hit = rebuilt
            memo[id(n)] = hit
        return hit

    return visit(plan)


# ---------------------------------------------------------------------------------------------


def _condition_dtype(cond: Expr, rel: Relation) -> Any:
    meta = input_meta(rel)
    if meta is None:
        return None
    try:
        return expr_meta(cond, meta, {}).dtype
    except Exception:  # unknown: do not push
        return None


def _conjuncts(cond: Expr, rel: Relation) -> list[Expr]:
    """``cond`` split on ``&`` where both operands are boolean masks (then ``&`` is AND)."""
    if (
        isinstance(cond, BinaryOp)
        and cond.op == "and"
        and boolean_dtype(_condition_dtype(cond.left, rel))
        and boolean_dtype(_condition_dtype(cond.right, rel))
    ):
        return _conjuncts(cond.left, rel) + _conjuncts(cond.right, rel)
    return [cond]


def _and(parts: list[Expr]) -> Expr:
    out = parts[0]
    for p in parts[1:]:
        out = BinaryOp("and", out, p)
    return out


def _push(f: Filter, observed: bool) -> Relation:
    """``f`` moved as far down as is exact (``f`` itself when it cannot move)."""
    x = f.input
    if flat_unique_columns(x) is None or not boolean_dtype(_condition_dtype(f.condition, x)):
        return f
    if isinstance(x, WithColumns):
        return _below_assignments(f, x, observed)
    if isinstance(x, Project):
        return _below_projection(f, x, observed)
    if isinstance(x, Sort):
        return _below_sort(f, x, observed)
    if isinstance(x, Join) and not observed:
        return _into_join(f, x)
    if isinstance(x, ReadParquet) and not observed:
        return _into_parquet(f, x)
    return f


def _below_assignments(f: Filter, x: WithColumns, observed: bool) -> Relation:
    assigned = {label for label, _ in x.expressions}
    if expr_columns(f.condition) & assigned:
        return f
    if not rows_independent((e for _, e in x.expressions), x.input):
        return f
    return WithColumns(_push(Filter(x.input, f.condition), observed), x.expressions)


def _below_projection(f: Filter, x: Project, observed: bool) -> Relation:
    """Only when the filter then moves further down (a projection pushed below a filter by
    another rule must not bounce back)."""
    entries = dict(x.expressions)
    if len(entries) != len(x.expressions):
        return f
    reads = expr_columns(f.condition)
    if not all(isinstance(entries.get(label), Col) for label in reads):
        return f
    if flat_unique_columns(x.input) is None:
        return f
    if not rows_independent((e for _, e in x.expressions), x.input):
        return f
    lower = Filter(x.input, substitute(f.condition, {label: entries[label] for label in reads}))
    pushed = _push(lower, observed)
    if pushed is lower:
        return f
    return Project(pushed, x.expressions)


def _below_sort(f: Filter, x: Sort, observed: bool) -> Relation:
    """A stable sort (several keys are sorted with a stable lexsort whatever ``kind``)."""
    if x.kind not in _STABLE_KINDS and len(x.by) < 2:
        return f
    if x.ignore_index and observed:
        return f  # the sort numbers its rows: filtering first renumbers the result
    inner = _push(Filter(x.input, f.condition), observed and not x.ignore_index)
    return dataclasses.replace(x, input=inner)


# joins ----------------------------------------------------------------------------------------


def _key_pairs(
    j: Join, lcols: tuple[Hashable, ...], rcols: tuple[Hashable, ...]
) -> list[tuple[Hashable, Hashable]] | None:
    if j.on is not None:
        return [(k, k) for k in j.on]
    if j.left_on is not None and j.right_on is not None:
        if len(j.left_on) != len(j.right_on):
            return None
        return list(zip(j.left_on, j.right_on, strict=True))
    if j.left_on is not None or j.right_on is not None:
        return None
    common = [c for c in lcols if c in rcols]
    return [(c, c) for c in common] or None


def _join_origins(
    j: Join, lcols: tuple[Hashable, ...], rcols: tuple[Hashable, ...]
) -> dict[Hashable, tuple[str, Hashable]] | None:
    """Each output label of ``j`` -> ("left" | "right" | "key", input label).

    ``None`` when the predicted labels (pandas' suffix rules) differ from the real ones.
    """
    pairs = _key_pairs(j, lcols, rcols)
    if pairs is None:
        return None
    combined = {lk for lk, rk in pairs if lk == rk}
    right_kept = [c for c in rcols if c not in combined]
    overlap = set(lcols) & set(right_kept)
    sx, sy = j.suffixes

    def label(c: Hashable, sfx: str | None) -> Hashable:
        return f"{c}{sfx}" if c in overlap and sfx is not None else c

    origins: list[tuple[Hashable, tuple[str, Hashable]]] = [
        (label(c, sx), ("key" if c in combined else "left", c)) for c in lcols
    ]
    origins += [(label(c, sy), ("right", c)) for c in right_kept]
    predicted = [lab for lab, _ in origins]
    if j.indicator:
        predicted.append("_merge" if j.indicator is True else j.indicator)
    out_cols = flat_unique_columns(j)
    if out_cols is None or tuple(predicted) != out_cols:
        return None
    return dict(origins)


def _identity_dtype(dtype: Any) -> bool:
    """Keys whose equal values are identical (``0.0 == -0.0`` and ``1 == True`` are not)."""
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, np.dtype) and dtype.kind in "iubM"


def _fills_without_dtype_change(rel: Relation, columns: set[Hashable]) -> bool:
    """Missing values (rows an outer side does not match) keep these columns' dtypes
    (``int64`` would become ``float64``, ``bool`` ``object``)."""
    meta = input_meta(rel)
    if meta is None:
        return False
    meta = meta[[c for c in meta.columns if c in columns]]
    return bool(meta.reindex(range(1)).dtypes.equals(meta.dtypes))


def _into_join(f: Filter, j: Join) -> Relation:
    if j.how not in ("inner", "left", "right") or j.left_index or j.right_index:
        return f
    if j.validate is not None or j.sort:
        return f
    lcols, rcols = flat_unique_columns(j.left), flat_unique_columns(j.right)
    if lcols is None or rcols is None:
        return f
    origins = _join_origins(j, lcols, rcols)
    pairs = _key_pairs(j, lcols, rcols)
    lmeta, rmeta, jmeta = input_meta(j.left), input_meta(j.right), input_meta(j)
    if origins is None or pairs is None or lmeta is None or rmeta is None or jmeta is None:
        return f
    if any(lk not in lcols or rk not in rcols for lk, rk in pairs):
        return f  # a key names an index level
    if any(lmeta.dtypes[lk] != rmeta.dtypes[rk] for lk, rk in pairs):
        return f  # an empty side makes pandas take the key dtype from the other side
    # the side a left (right) join may fill with missing values: its columns but the keys
    # merged into the other side's
    keys = {lk for lk, rk in pairs if lk == rk}
    left_ok = j.how == "inner" or (
        j.how == "left" and _fills_without_dtype_change(j.right, set(rcols) - keys)
    )
    right_ok = j.how == "inner" or (
        j.how == "right" and _fills_without_dtype_change(j.left, set(lcols) - keys)
    )
    to_left: list[Expr] = []
    to_right: list[Expr] = []
    keep: list[Expr] = []
    for c in _conjuncts(f.condition, j):
        labels = expr_columns(c)
        sides = {origins[x][0] for x in labels if x in origins}
        if not labels or any(x not in origins for x in labels):
            keep.append(c)
            continue
        consistent = all(
            jmeta.dtypes[x] == (rmeta if origins[x][0] == "right" else lmeta).dtypes[origins[x][1]]
            for x in labels
        )
        keys_ok = all(_identity_dtype(jmeta.dtypes[x]) for x in labels if origins[x][0] == "key")
        if not consistent or not keys_ok:
            keep.append(c)
            continue
        targets = []
        if sides <= {"left", "key"} and left_ok:
            targets.append("left")
        if sides <= {"right", "key"} and right_ok:
            targets.append("right")
        if not targets:
            keep.append(c)
            continue
        for side in targets:
            mapped = substitute(c, {x: Col(origins[x][1]) for x in labels})
            (to_left if side == "left" else to_right).append(mapped)
    if not to_left and not to_right:
        return f
    new_left = _push(Filter(j.left, _and(to_left)), False) if to_left else j.left
    new_right = _push(Filter(j.right, _and(to_right)), False) if to_right else j.right
    joined = dataclasses.replace(j, left=new_left, right=new_right)
    return Filter(joined, _and(keep)) if keep else joined


# parquet --------------------------------------------------------------------------------------


def _arrow_filter(c: Expr, schema: Any) -> tuple[str, str, Any] | None:
    """``c`` as a pyarrow ``(column, op, value)`` filter that keeps every row ``c`` keeps."""
    import pyarrow as pa

    if not isinstance(c, BinaryOp) or c.op not in _ARROW_OPS:
        return None
    op = c.op
    col, lit = c.left, c.right
    if isinstance(col, Lit) and isinstance(lit, Col):
        col, lit, op = lit, col, _FLIP[op]
    if not isinstance(col, Col) or not isinstance(lit, Lit) or not isinstance(col.name, str):
        return None
    if col.name not in schema.names:
        return None
    typ = schema.field(col.name).type
    value = lit.value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return None
    if pa.types.is_signed_integer(typ) or (
        pa.types.is_unsigned_integer(typ) and typ.bit_width < 64
    ):
        # pandas (NumPy 2) and pyarrow both compare integers by value (pyarrow in int64, which
        # holds every value of these columns; a uint64 column would be cast to int64)
        ok = isinstance(value, int) and -(2**63) <= value < 2**63
    elif pa.types.is_floating(typ):
        # pandas converts the literal to the column's float dtype, pyarrow compares in float64:
        # alike only for a value the column's dtype holds exactly (not 0.1 on float32)
        ok = isinstance(value, (int, float)) and math.isfinite(value) and _exact(value, typ)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        ok = isinstance(value, str)
    else:
        ok = False
    return (col.name, _ARROW_OPS[op], value) if ok else None


def _exact(value: int | float, typ: Any) -> bool:
    """``value`` is a number of the Arrow float type ``typ`` exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (overflow to inf: not exact)
        try:
            held = np.dtype(typ.to_pandas_dtype()).type(value)
        except (OverflowError, TypeError, ValueError):
            return False
    return float(held) == value  # (in Python: a NumPy float32 would compare in float32)


def _stable_parquet_dtypes(pf: Any) -> bool:
    """Reading a subset of rows gives every column the dtype it has when all rows are read.

    Integer and boolean columns become ``float64``/``object`` in pandas when they hold a
    null, so they must have none (per row-group statistics); floats, strings and timestamps
    keep their dtype either way; any other type is not trusted.
    """
    import pyarrow as pa

    schema = pf.schema_arrow
    md = pf.metadata
    for i, field in enumerate(schema):
        typ = field.type
        if pa.types.is_integer(typ) or pa.types.is_boolean(typ):
            for g in range(md.num_row_groups):
                chunk = md.row_group(g).column(i)
                stats = chunk.statistics
                if (
                    chunk.path_in_schema != field.name
                    or stats is None
                    or not stats.has_null_count
                    or stats.null_count != 0
                ):
                    return False
        elif not (
            pa.types.is_floating(typ)
            or pa.types.is_string(typ)
            or pa.types.is_large_string(typ)
            or pa.types.is_timestamp(typ)
        ):
            return False
    return True


def _into_parquet(f: Filter, r: ReadParquet) -> Relation:
    options = dict(r.options)
    if set(options) - {"engine"} or options.get("engine", "auto") not in ("auto", "pyarrow"):
        return f  # already filtered, or options whose interplay is not checked
    if not os.path.isfile(r.path):
        return f
    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(r.path)
        schema = pf.schema_arrow
        if len(schema.names) != pf.metadata.num_columns or not _stable_parquet_dtypes(pf):
            return f
    except Exception:  # an unreadable file is left to the reader
        return f
    filters = [t for c in _conjuncts(f.condition, r) if (t := _arrow_filter(c, schema))]
    if not filters:
        return f
    options["filters"] = FrozenList(filters)
    scan = dataclasses.replace(r, options=tuple(sorted(options.items())))
    return Filter(scan, f.condition)
