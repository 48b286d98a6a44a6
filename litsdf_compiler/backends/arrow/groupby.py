"""``GroupAgg`` and ``OrderBy`` on Arrow's hash aggregation and sort kernels (multi-threaded).

Group order is pandas', rebuilt from a row-number column: Acero's ``group_by`` returns groups
in no particular order when it runs threaded, so groups are sorted by their keys
(``sort=True``: ascending, a missing key last) or by the first row of each group
(``sort=False``: pandas' order of first appearance). A float NaN is a missing value for the
reductions (pandas skips it), so float inputs have their NaNs made nulls first.

What it runs natively (else :func:`native_group_agg` says why and pandas' groupby over the
arrays runs the node, exactly): keys of int64, int32, bool, str or datetime64[ns] (float
keys are declined: Arrow's hashing of -0.0 / 0.0 is not pandas'); ``sum``, ``mean``,
``min``, ``max``, ``count``, ``size``, ``std``, ``var`` (ddof=1), ``nunique`` of the kinds
below; several keys with ``dropna=False`` only when no key can be missing. ArrowDtype keys
and measures follow :mod:`.arrowdtype`'s table (a null is the missing value, a NaN value is
not: such an array runs by pandas' groupby / sort; an empty group's mean is a null).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...lower import GroupAgg, OrderBy, Rows, Table
from ..base import Verdict
from . import arrowdtype
from .arrays import NotArrow, kind_of, take, to_arrow

__all__ = ["native_group_agg", "run_group_agg", "check_order_by", "run_order_by", "has_ties"]

_ROW = "__arrow_row__"
_CODE = "__arrow_group__"
_KEYS = {"int64", "int32", "bool", "str", "datetime"}
_MEASURES = {
    "sum": {"int64", "float64", "bool"},
    "mean": {"int64", "float64"},
    "min": {"int64", "int32", "float64", "bool", "str", "datetime"},
    "max": {"int64", "int32", "float64", "bool", "str", "datetime"},
    "count": {"int64", "int32", "float64", "bool", "str", "datetime"},
    "std": {"int64", "float64"},
    "var": {"int64", "float64"},
    "nunique": {"int64", "int32", "bool", "str", "datetime"},
}
_ARROW_FUNC = {
    "sum": "sum",
    "mean": "mean",
    "min": "min",
    "max": "max",
    "count": "count",
    "std": "stddev",
    "var": "variance",
    "nunique": "count_distinct",
}
_SORTED = {"int64", "int32", "int16", "int8", "uint32", "uint16", "uint8"}
_SORTED |= {"float64", "bool", "str", "datetime"}


def native_group_agg(n: GroupAgg) -> Verdict:
    """Whether Arrow's kernels run ``n`` exactly (else the reason)."""
    dtypes = {f.name: f.dtype for f in n.input.schema}
    for k in n.keys:
        kind = kind_of(dtypes[k])
        if kind not in _KEYS and arrowdtype.family(kind) not in arrowdtype.GROUP_KEYS:
            return Verdict(False, f"group key {k!r} of dtype {dtypes[k]}")
    if len(n.keys) > 1 and not n.dropna:
        return Verdict(False, "several keys with dropna=False (pandas' order of missing keys)")
    for _, column, func, args in n.measures:
        if args:
            return Verdict(False, f"{func} with arguments {dict(args)}")
        if func == "size":
            continue
        kind = kind_of(dtypes.get(column))  # type: ignore[arg-type]
        if kind not in _MEASURES.get(func, ()) and not arrowdtype.measure_ok(func, kind):
            return Verdict(False, f"{func} of {column!r} of dtype {dtypes.get(column)}")  # type: ignore[arg-type]
    return Verdict(True)


def _nan_as_null(values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(values.type) and values.null_count != len(values):
        nan = pc.is_nan(values)
        if pc.any(nan).as_py():
            return pc.if_else(nan, pa.scalar(None, values.type), values)
    return values


def run_group_agg(n: GroupAgg, t: Table) -> Table:
    """The groups of ``n`` over ``t``'s columns (``n`` passed :func:`native_group_agg`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtypes = {f.name: f.dtype for f in n.input.schema}
    columns: dict[str, Any] = {k: to_arrow(t.columns[k]) for k in n.keys}
    aggs: list[tuple[Any, ...]] = []
    outputs: dict[str, str] = {}
    for out, column, func, _ in n.measures:
        if func == "size":  # (one count of the rows for every size measure)
            if f"{_ROW}_count" not in outputs.values():
                aggs.append((_ROW, "count", pc.CountOptions(mode="all")))
            outputs[out] = f"{_ROW}_count"
            continue
        assert column is not None
        name = f"__arrow_m{len(aggs)}__"
        values = to_arrow(t.columns[column])
        if not isinstance(dtypes[column], pd.ArrowDtype):
            values = _nan_as_null(values)  # (NumPy float64: NaN is pandas' missing value)
        elif arrowdtype.has_nan(values):  # (a NaN value: pandas' masked kernels keep it)
            raise NotArrow(f"{column!r} holds a NaN value")
        if func in ("mean", "std", "var") or (func == "sum" and values.type == pa.bool_()):
            values = values.cast("float64" if func != "sum" else "int64", safe=False)
        columns[name] = values
        options: Any = None
        if func == "sum":
            options = pc.ScalarAggregateOptions(skip_nulls=True, min_count=0)
        elif func in ("std", "var"):
            options = pc.VarianceOptions(ddof=1)
        elif func in ("count", "nunique"):
            options = pc.CountOptions(mode="only_valid")
        aggs.append((name, _ARROW_FUNC[func], options))
        outputs[out] = f"{name}_{_ARROW_FUNC[func]}"
    table = pa.table(columns)
    if n.dropna:
        valid = None
        for k in n.keys:
            ok = pc.is_valid(table[k])
            valid = ok if valid is None else pc.and_(valid, ok)
        if valid is not None and not pc.all(valid).as_py():
            table = table.filter(valid)
    table = table.append_column(_ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    aggs.append((_ROW, "min"))
    code = _combined_code(table, n.keys) if len(n.keys) > 1 else None
    if code is None:
        grouped = table.group_by(list(n.keys), use_threads=True).aggregate(aggs)
        keys = {k: grouped[k] for k in n.keys}
    else:  # (one int64 code of the keys: Acero's one-key grouping is much faster)
        table = table.append_column(_CODE, code)
        grouped = table.group_by([_CODE], use_threads=True).aggregate(aggs)
        first = grouped[f"{_ROW}_min"]
        keys = {k: table[k].take(first) for k in n.keys}
    if n.sort:
        order = pc.sort_indices(
            pa.table(keys), sort_keys=[(k, "ascending", "at_end") for k in keys]
        )
    else:
        order = pc.sort_indices(grouped[f"{_ROW}_min"])
    grouped = grouped.take(order)
    keys = {k: v.take(order) for k, v in keys.items()}
    names = [f.name for f in n.schema]
    cols: dict[str, Any] = {}
    for name, key in zip(names, n.keys, strict=False):
        cols[name] = keys[key]
    for out, source in outputs.items():
        values = grouped[source]
        func, column = next((m[2], m[1]) for m in n.measures if m[0] == out)
        arrow = isinstance(dtypes.get(column), pd.ArrowDtype)  # type: ignore[arg-type]
        if func in ("mean", "std", "var") and not arrow:  # (an empty group's null: NaN)
            values = pc.fill_null(values, float("nan"))
        cols[out] = values
    return Table({name: cols[name] for name in names}, Rows(None, grouped.num_rows))


def _combined_code(table: Any, keys: tuple[str, ...]) -> Any:
    """One int64 group code per row from the dictionary codes of several (non-missing) keys,
    or ``None`` when the key combinations are too many to number in an int64."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return None
    code = None
    size = 1
    for k in keys:
        column = table[k]
        if column.null_count:
            return None
        values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        encoded = pc.dictionary_encode(values)
        width = max(len(encoded.dictionary), 1)
        size *= width
        if size >= 2**62:
            return None
        idx = encoded.indices.cast("int64")
        code = idx if code is None else pc.add(pc.multiply(code, width), idx)
    return code


def check_order_by(n: OrderBy) -> Verdict:
    """Whether Arrow's stable sort orders ``n``'s keys as pandas does."""
    dtypes = {f.name: f.dtype for f in n.input.schema}
    for k, _ in n.keys:
        kind = kind_of(dtypes[k])
        if kind not in _SORTED and arrowdtype.family(kind) not in arrowdtype.SORT_KEYS:
            return Verdict(False, f"arrow sorts no key of dtype {dtypes[k]} ({k!r})")
    return Verdict(True)


def has_ties(values: Any) -> bool:
    """Whether two non-missing values of ``values`` are equal (NaN and null are missing)."""
    import pyarrow.compute as pc

    key = _nan_as_null(to_arrow(values))
    valid = len(key) - key.null_count
    return valid > 1 and pc.count_distinct(key, mode="only_valid").as_py() != valid


def _sort_key(values: Any) -> Any:
    """A key Arrow sorts as pandas does, fast: NaN as null; strings as the rank of their
    dictionary value (the same order: UTF-8 bytes sort like code points; one int64 key
    sorts much faster than strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return _nan_as_null(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return pc.take(pa.array(rank), encoded.indices)


def run_order_by(n: OrderBy, t: Table) -> Table:
    """The rows of ``t`` in ``n``'s order: Arrow's stable ``sort_indices``, a NaN key sorted
    as a missing one (pandas' ``na_position``), ties in input order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = list(dict.fromkeys(k for k, _ in n.keys))
    dtypes = {f.name: f.dtype for f in n.input.schema}
    keys: dict[str, Any] = {}
    for k in names:
        values = to_arrow(t.columns[k])
        if isinstance(dtypes[k], pd.ArrowDtype) and arrowdtype.has_nan(values):
            raise NotArrow(f"sort key {k!r} holds a NaN value (pandas orders it apart)")
        keys[k] = _sort_key(values)
    table = pa.table(keys)
    place = "at_start" if n.na_position == "first" else "at_end"
    sort_keys = [(k, "ascending" if asc else "descending", place) for k, asc in n.keys]
    order = pc.sort_indices(table, sort_keys=sort_keys).to_numpy().astype(np.intp, copy=False)
    cols = {k: take(v, order) for k, v in t.columns.items()}
    rows = Rows(None, len(order)) if n.ignore_index else t.rows.take(order)
    return Table(cols, rows)
