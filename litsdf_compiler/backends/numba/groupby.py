"""Groupby aggregations: keys factorized by pandas, one numba kernel per reduction.

One key column (numeric, bool or ``str``); reductions sum, mean, count, min, max, std, var,
size and nunique with pandas' defaults (``min_count`` for sum, ``ddof`` for std/var). The
result is assembled in the shape of the node's metadata (pandas' own result on empty data)
and its dtypes are checked against it; anything else is declined.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import relations as rel
from ...ir.base import thaw
from ...ir.frames import as_frame
from ...meta import meta_of
from ..base import Verdict
from ..pandas import BACKEND as PANDAS
from .emit import Unsupported, is_numeric
from .strings import STR

__all__ = ["check_aggregate", "run_aggregate", "assemble", "measures"]

_FUNCS = frozenset({"sum", "mean", "count", "min", "max", "std", "var", "size", "nunique"})
_NUMERIC_ONLY = frozenset({"sum", "mean", "min", "max", "std", "var"})
_KWARGS = {"sum": {"min_count"}, "std": {"ddof"}, "var": {"ddof"}}

Measure = tuple[Hashable | None, str, dict[str, Any]]


def measures(n: rel.Aggregate, frame: pd.DataFrame) -> list[Measure]:
    """(column, reduction, kwargs) for each output column, in pandas' order."""
    if len(n.keys) != 1 or n.keys[0] not in frame.columns:
        raise Unsupported("groupby on several keys or not on a column")
    if not frame.columns.is_unique:
        raise Unsupported("duplicate column labels")
    if n.form == "method":
        func, kwargs = n.functions[0], thaw(dict(n.arguments))
        if func not in _FUNCS or set(kwargs) - _KWARGS.get(func, set()):
            raise Unsupported(f"groupby {func} with {sorted(kwargs)}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in kwargs.values()):
            raise Unsupported("non-integer groupby arguments")
        if func == "size":
            return [(None, "size", {})]
        return [(m.input, func, kwargs) for m in n.measures]
    if n.form not in ("agg_named", "agg_dict"):
        raise Unsupported(f"groupby agg form {n.form}")
    items = [(m.input, m.function) for m in n.measures]
    series_named = n.form == "agg_named" and n.selection == "series"
    if series_named or n.shape == "multi" or any(f not in _FUNCS for _, f in items):
        raise Unsupported("groupby agg with a function numba doesn't implement")
    return [(col, f, {}) for col, f in items]


def check(n: rel.Aggregate) -> None:
    frame = as_frame(meta_of(n.input))
    todo = measures(n, frame)
    key_dtype = frame[n.keys[0]].dtype
    if not (is_numeric(key_dtype) or key_dtype == STR):
        raise Unsupported(f"groupby key of dtype {key_dtype}")
    for col, func, _ in todo:
        if col is None:
            continue
        if col not in frame.columns or col == n.keys[0]:
            raise Unsupported("aggregating the key or an unknown column")
        dtype = frame[col].dtype
        if func in _NUMERIC_ONLY and not is_numeric(dtype):
            raise Unsupported(f"groupby {func} of dtype {dtype}")
        if func not in _NUMERIC_ONLY and not (is_numeric(dtype) or dtype == STR):
            raise Unsupported(f"groupby {func} of dtype {dtype}")
        if func == "sum" and dtype.kind in "iub" and _.get("min_count", 0) > 1:
            raise Unsupported("integer sum with min_count > 1 (dtype decided by the values)")
    out = meta_of(n)
    if isinstance(out.index, pd.MultiIndex) or (
        isinstance(out, pd.DataFrame) and isinstance(out.columns, pd.MultiIndex)
    ):
        raise Unsupported("MultiIndex result")


def check_aggregate(n: rel.Aggregate) -> Verdict:
    """Whether the numba kernels reproduce this groupby exactly."""
    try:
        check(n)
    except Unsupported as why:
        return Verdict(False, f"numba declines Aggregate: {why}")
    return Verdict(True)


def _reduce(codes: np.ndarray, ngroups: int, s: pd.Series | None, func: str, kw: Any) -> Any:
    from . import _kernels as k

    if func == "size" or s is None:
        return k.group_size(codes, ngroups)
    dtype = s.dtype
    if func == "nunique":
        vcodes, uniq = pd.factorize(s, use_na_sentinel=True)
        return k.group_nunique(codes, vcodes.astype(np.int64), ngroups, max(len(uniq), 1))
    if func == "count":
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            return k.group_count_float(codes, s.to_numpy(), ngroups)
        if isinstance(dtype, np.dtype):
            return k.group_size(codes, ngroups)
        return k.group_count_valid(codes, s.notna().to_numpy(), ngroups)
    values = s.to_numpy()
    if dtype.kind == "b":
        values = values.view(np.uint8) if func in ("min", "max") else values.astype(np.int64)
    if func == "sum":
        if values.dtype.kind == "f":
            return k.group_sum(codes, values.astype(np.float64), ngroups, kw.get("min_count", 0))
        wide = np.uint64 if values.dtype.kind == "u" else np.int64
        return k.group_sum_int(codes, values.astype(wide), ngroups)
    if func in ("min", "max"):
        is_max = func == "max"
        if values.dtype.kind == "f":
            init = -np.inf if is_max else np.inf
        else:
            info = np.iinfo(values.dtype)
            init = info.min if is_max else info.max
        out, nobs = k.group_minmax(codes, values, ngroups, is_max, values.dtype.type(init))
        if values.dtype.kind == "f":
            out[nobs == 0] = np.nan
        return out.view(bool) if dtype.kind == "b" else out
    floats = values.astype(np.float64)
    if func == "mean":
        return k.group_mean(codes, floats, ngroups)
    return k.group_var(codes, floats, ngroups, kw.get("ddof", 1), func == "std")


def run_aggregate(n: rel.Aggregate, df: pd.DataFrame) -> Any:
    """Execute the groupby ``n`` on ``df`` with numba kernels."""
    key = n.keys[0]
    codes, uniques = pd.factorize(df[key], sort=n.sort, use_na_sentinel=n.dropna)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    ngroups = len(uniques)
    todo = measures(n, as_frame(meta_of(n.input)))
    arrays = [_reduce(codes, ngroups, None if c is None else df[c], f, kw) for c, f, kw in todo]
    out = assemble(n, arrays, uniques)
    return out if out is not None else PANDAS.visit_Aggregate(n, df)


def assemble(n: rel.Aggregate, arrays: list[Any], uniques: Any) -> Any:
    """The result of groupby ``n`` from one array per measure and the group keys, in the
    shape of its metadata; None when a dtype is not the metadata's (decided by the values)."""
    meta = meta_of(n)
    index = pd.Index(uniques, name=n.keys[0])
    if index.dtype != meta.index.dtype and n.as_index:
        return None
    if isinstance(meta, pd.Series):
        out: Any = pd.Series(arrays[0], index=index, name=meta.name)
        ok = out.dtype == meta.dtype
    else:
        if not n.as_index:
            arrays = [index._values, *arrays]
            index = pd.RangeIndex(len(index))
        out = pd.DataFrame(dict(enumerate(arrays)), index=index, copy=False)
        ok = len(out.columns) == len(meta.columns) and list(out.dtypes) == list(meta.dtypes)
        out.columns = meta.columns
    return out if ok else None
