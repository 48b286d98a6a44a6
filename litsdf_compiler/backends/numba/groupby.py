"""Groupby aggregations: keys factorized by pandas, one numba kernel per reduction.

One code path over arrays serves both forms a groupby reaches numba in:

* a physical :class:`~litsdf_compiler.lower.GroupAgg` (``gb.f()``, ``gb[sel].f()``,
  ``gb.size()`` with ``as_index``): :func:`group_spec` reads its fields,
  :func:`run_group_agg` returns the table of its schema (no ``meta_of``: the node's schema
  has the dtypes);
* a groupby island (a ``PandasCall`` of a logical ``Aggregate`` with no physical form:
  named / dict aggregations, keyword arguments, ``as_index=False``): :func:`check_aggregate`
  and :func:`run_aggregate` assemble pandas' object in the shape of the node's metadata.

Keys are columns (numeric, bool or ``str``; several keys for a GroupAgg); reductions sum,
mean, count, min, max, std, var, size and nunique with pandas' defaults (``min_count`` for
sum, ``ddof`` for std/var). A result dtype that is not the expected one (pandas decided it
from the values) is not guessed: the caller runs pandas' kernels instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ...ir import relations as rel
from ...ir.base import thaw
from ...ir.frames import as_frame
from ...lower import GroupAgg, Rows, Table
from ...meta import meta_of
from ..base import Verdict
from ..pandas import BACKEND as PANDAS
from .emit import Unsupported, is_numeric
from .strings import STR

__all__ = [
    "GroupSpec",
    "group_spec",
    "check_spec",
    "native_group_agg",
    "run_group_agg",
    "group_codes",
    "reduce_arrays",
    "check_aggregate",
    "run_aggregate",
    "island_spec",
    "assemble",
]

_FUNCS = frozenset({"sum", "mean", "count", "min", "max", "std", "var", "size", "nunique"})
_NUMERIC_ONLY = frozenset({"sum", "mean", "min", "max", "std", "var"})
_KWARGS = {"sum": {"min_count"}, "std": {"ddof"}, "var": {"ddof"}}

Measure = tuple[Hashable | None, str, tuple[tuple[str, Any], ...]]
"""(input column, reduction, keyword arguments) of one output column."""


class GroupSpec(NamedTuple):
    """A groupby over arrays by name (a GroupAgg's internal names, an island's labels): key
    columns, one measure per output, pandas' flags."""

    keys: tuple[Hashable, ...]
    measures: tuple[Measure, ...]
    sort: bool
    dropna: bool


# the spec and its check (dtypes given, never read from the logical plan) ------------------------
def group_spec(n: GroupAgg) -> GroupSpec:
    """The spec of the physical ``n`` over its input's internal names."""
    measures = tuple((col, func, tuple(args)) for _, col, func, args in n.measures)
    return GroupSpec(n.keys, measures, n.sort, n.dropna)


def check_spec(spec: GroupSpec, dtypes: Mapping[Any, Any], *, several: bool = False) -> None:
    """:class:`Unsupported` (with the reason) unless the kernels reproduce ``spec`` over
    columns of ``dtypes``; ``several``: several keys are allowed (factorized together)."""
    if not spec.keys or (len(spec.keys) > 1 and not several):
        raise Unsupported("groupby on several keys or not on a column")
    for key in spec.keys:
        key_dtype = dtypes[key]
        if not (is_numeric(key_dtype) or key_dtype == STR):
            raise Unsupported(f"groupby key {key!r} of dtype {key_dtype}")
    for col, func, args in spec.measures:
        kwargs = dict(args)
        if func not in _FUNCS or set(kwargs) - _KWARGS.get(func, set()):
            raise Unsupported(f"groupby {func} with {sorted(kwargs)}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in kwargs.values()):
            raise Unsupported("non-integer groupby arguments")
        if col is None:
            if func != "size":
                raise Unsupported(f"groupby {func} of no column")
            continue
        if col in spec.keys:
            raise Unsupported("aggregating the key")
        if func == "size" and not isinstance(dtypes[col], np.dtype):
            # (the size of an extension column has its integer kind: int64[pyarrow], Int64)
            raise Unsupported(f"groupby size of column {col!r} of dtype {dtypes[col]}")
        dtype = dtypes[col]
        if func in _NUMERIC_ONLY and not is_numeric(dtype):
            raise Unsupported(f"groupby {func} of dtype {dtype}")
        if func not in _NUMERIC_ONLY and not (is_numeric(dtype) or dtype == STR):
            raise Unsupported(f"groupby {func} of dtype {dtype}")
        if func == "sum" and dtype.kind in "iub" and kwargs.get("min_count", 0) > 1:
            raise Unsupported("integer sum with min_count > 1 (dtype decided by the values)")


def native_group_agg(n: GroupAgg) -> Verdict:
    """Whether numba's kernels run ``n`` (else pandas' groupby over the arrays does, with
    the reason): from the node's fields and its input's schema only."""
    try:
        check_spec(group_spec(n), {f.name: f.dtype for f in n.input.schema}, several=True)
    except Unsupported as why:
        return Verdict(False, f"numba runs GroupAgg by pandas' groupby: {why}")
    return Verdict(True)


# the kernels over arrays -------------------------------------------------------------------
def group_codes(
    keys: list[Any], sort: bool, dropna: bool
) -> tuple[np.ndarray, int, list[Any]] | None:
    """(group number of each row, -1 for none; number of groups; each key's value per
    group), groups in pandas' order: sorted by the keys, or by first appearance; ``None``
    when the key combinations are too many to number with one int64."""
    if len(keys) == 1:
        codes, uniques = pd.factorize(keys[0], sort=sort, use_na_sentinel=dropna)
        return np.ascontiguousarray(codes, dtype=np.int64), len(uniques), [uniques]
    parts = [pd.factorize(k, sort=sort, use_na_sentinel=dropna) for k in keys]
    sizes = [max(len(u), 1) for _, u in parts]
    if float(np.prod([float(s) for s in sizes])) >= 2.0**62:
        return None
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    missing = np.zeros(len(keys[0]), dtype=bool)
    for (codes, _), size in zip(parts, sizes, strict=True):
        combined = combined * size + codes
        missing |= codes < 0
    if missing.any():  # (a missing key under dropna: the row is in no group)
        gcodes = np.full(len(combined), -1, dtype=np.int64)
        valid = ~missing
        sub, groups = pd.factorize(combined[valid], sort=sort)
        gcodes[valid] = sub
    else:
        gcodes, groups = pd.factorize(combined, sort=sort)
    per_key = []
    rest = np.asarray(groups, dtype=np.int64)
    for (_, uniques), size in zip(reversed(parts), reversed(sizes), strict=True):
        per_key.append(uniques.take(rest % size))
        rest = rest // size
    return np.ascontiguousarray(gcodes, dtype=np.int64), len(groups), per_key[::-1]


def _reduce(codes: np.ndarray, ngroups: int, arr: Any, func: str, kw: dict[str, Any]) -> Any:
    from . import _kernels as k

    if func == "size" or arr is None:
        return k.group_size(codes, ngroups)
    dtype = arr.dtype
    if func == "nunique":
        vcodes, uniq = pd.factorize(arr, use_na_sentinel=True)
        return k.group_nunique(codes, vcodes.astype(np.int64), ngroups, max(len(uniq), 1))
    if func == "count":
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            return k.group_count_float(codes, np.asarray(arr), ngroups)
        if isinstance(dtype, np.dtype):
            return k.group_size(codes, ngroups)
        return k.group_count_valid(codes, np.asarray(~pd.isna(arr)), ngroups)
    values = np.asarray(arr)
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


def _kernel_array(arr: Any) -> Any:
    """A column as the kernels read it: NumPy for NumPy dtypes, the pandas array else."""
    if isinstance(arr, np.ndarray) or not isinstance(arr.dtype, np.dtype):
        return arr
    return arr.to_numpy()


def reduce_arrays(
    spec: GroupSpec, columns: Mapping[Any, Any]
) -> tuple[list[Any], list[Any]] | None:
    """(each key's value per group, one result array per measure) of ``spec`` over the
    arrays ``columns``; ``None`` when an array's dtype is not one the kernels take (the
    caller runs pandas' kernels)."""
    arrays = {name: _kernel_array(columns[name]) for name in _used(spec)}
    try:
        check_spec(spec, {k: v.dtype for k, v in arrays.items()}, several=True)
    except Unsupported:
        return None
    grouped = group_codes([arrays[k] for k in spec.keys], spec.sort, spec.dropna)
    if grouped is None:
        return None
    codes, ngroups, keys = grouped
    results = [
        _reduce(codes, ngroups, None if c is None else arrays[c], f, dict(kw))
        for c, f, kw in spec.measures
    ]
    return keys, results


def _used(spec: GroupSpec) -> list[Hashable]:
    return list(dict.fromkeys([*spec.keys, *(c for c, _, _ in spec.measures if c is not None)]))


def group_table(n: GroupAgg, keys: list[Any], results: list[Any]) -> Table | None:
    """The table of ``n``'s schema from the keys' values per group and one array per
    measure; ``None`` when a dtype is not the schema's (pandas decided it from the values)."""
    values = [*keys, *results]
    names = [*(f.name for f in n.schema[: len(n.keys)]), *(m[0] for m in n.measures)]
    cols = dict(zip(names, values, strict=True))
    for f in n.schema:
        if cols[f.name].dtype != f.dtype:
            return None
    ngroups = len(keys[0])
    return Table({f.name: cols[f.name] for f in n.schema}, Rows(None, ngroups))


def run_group_agg(n: GroupAgg, table: Table) -> Table | None:
    """The groups of ``n`` by numba's kernels over ``table``'s arrays; ``None`` when the
    arrays or a result dtype are not the kernels' (the caller runs pandas' groupby)."""
    done = reduce_arrays(group_spec(n), table.columns)
    return None if done is None else group_table(n, *done)


# groupby islands (forms with no GroupAgg): shaped by the logical node's metadata --------------
def island_spec(n: rel.Aggregate, frame: pd.DataFrame) -> GroupSpec:
    """The spec of the logical ``n`` over the columns of ``frame`` (its input's metadata,
    by label); :class:`Unsupported` for forms the kernels don't run."""
    if len(n.keys) != 1 or n.keys[0] not in frame.columns:
        raise Unsupported("groupby on several keys or not on a column")
    if not frame.columns.is_unique:
        raise Unsupported("duplicate column labels")
    if n.form == "method":
        func, kwargs = n.functions[0], thaw(dict(n.arguments))
        args = tuple(sorted(kwargs.items()))
        if func == "size":
            return GroupSpec(n.keys, ((None, "size", args),), n.sort, n.dropna)
        todo = tuple((m.input, func, args) for m in n.measures)
        return GroupSpec(n.keys, todo, n.sort, n.dropna)
    if n.form not in ("agg_named", "agg_dict"):
        raise Unsupported(f"groupby agg form {n.form}")
    items = [(m.input, m.function) for m in n.measures]
    series_named = n.form == "agg_named" and n.selection == "series"
    if series_named or n.shape == "multi" or any(f not in _FUNCS for _, f in items):
        raise Unsupported("groupby agg with a function numba doesn't implement")
    return GroupSpec(n.keys, tuple((col, f, ()) for col, f in items), n.sort, n.dropna)


def check(n: rel.Aggregate) -> None:
    """:class:`Unsupported` unless the kernels reproduce the island ``n`` exactly."""
    frame = as_frame(meta_of(n.input))
    spec = island_spec(n, frame)
    if any(c is not None and c not in frame.columns for c, _, _ in spec.measures):
        raise Unsupported("aggregating an unknown column")
    check_spec(spec, dict(frame.dtypes.items()))
    out = meta_of(n)
    if isinstance(out.index, pd.MultiIndex) or (
        isinstance(out, pd.DataFrame) and isinstance(out.columns, pd.MultiIndex)
    ):
        raise Unsupported("MultiIndex result")


def check_aggregate(n: rel.Aggregate) -> Verdict:
    """Whether the numba kernels reproduce this groupby island exactly."""
    try:
        check(n)
    except Unsupported as why:
        return Verdict(False, f"numba declines Aggregate: {why}")
    return Verdict(True)


def run_aggregate(n: rel.Aggregate, df: pd.DataFrame) -> Any:
    """Execute the groupby island ``n`` on ``df`` with numba kernels."""
    spec = island_spec(n, as_frame(meta_of(n.input)))
    columns = {name: df[name]._values for name in _used(spec)}
    done = reduce_arrays(spec, columns)
    out = None if done is None else assemble(n, done[1], done[0][0])
    return out if out is not None else PANDAS.visit_Aggregate(n, df)


def assemble(n: rel.Aggregate, arrays: list[Any], uniques: Any) -> Any:
    """The result of the island ``n`` from one array per measure and the group keys, in the
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
