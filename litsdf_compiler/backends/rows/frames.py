"""Running a generated row function over a pandas frame: the plan's table, with pandas'
dtypes (value-dependent ones from the flags the code raised) and the row index's takes (one
per filter that drops rows); labels and the index are built by the shared finalize."""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas._libs import lib

from ...lower import Rows, Table
from ._runtime import _expanding, _Row
from .codegen import Generated
from .values import BOOL, F64, I64, STR

__all__ = ["run_table"]

_STR_ARRAY = STR.construct_array_type()
_ARROW_STR = getattr(STR, "storage", None) == "pyarrow"


def _pylist(values: Any) -> list[Any]:
    """A column's values as Python objects (an Arrow-backed ``str`` column straight from
    pyarrow: missing values come as None, which the generated code reads as missing)."""
    pa_array = getattr(values, "_pa_array", None)
    if pa_array is not None and _ARROW_STR and values.dtype == STR:
        return pa_array.to_pylist()  # type: ignore[no-any-return]
    return values.tolist()  # type: ignore[no-any-return]


def _str_array(values: Any) -> Any:
    """pandas' ``str`` array of ``values`` (str, None or NaN) without the per-value checks
    of ``_from_sequence``: the generated code only produces strings and missing values."""
    if _ARROW_STR:
        chunk = pa.array(values, type=pa.large_string(), from_pandas=True)
        return _STR_ARRAY(pa.chunked_array([chunk]), dtype=STR)
    return _STR_ARRAY._from_sequence(values, dtype=STR)


def _steps(results: list[Any], filters: int) -> tuple[tuple[np.ndarray, ...], list[int]]:
    """The takes pandas applies to the row index at the filters (one per filter that drops
    rows: a RangeIndex stays one where pandas keeps it) and the surviving rows' positions."""
    n = len(results)
    keep = [i for i in range(n) if results[i].__class__ is tuple]
    if filters == 0 or len(keep) == n:
        return (), keep
    if filters == 1:
        return (np.asarray(keep, dtype=np.intp),), keep
    steps = []
    rows = list(range(n))
    for stage in range(filters):
        alive = [
            j for j, i in enumerate(rows) if results[i].__class__ is tuple or results[i] > stage
        ]
        if len(alive) != len(rows):
            steps.append(np.asarray(alive, dtype=np.intp))
            rows = [rows[j] for j in alive]
    return tuple(steps), keep


def _reached(results: list[Any], stage: int) -> bool:
    return any(r.__class__ is tuple or r >= stage for r in results)


def _infer(values: Any, meta_dtype: Any) -> Any:
    """The column pandas infers from the objects ``values`` (``Series.map(func)``)."""
    if not len(values):
        return pd.array([], dtype=meta_dtype)
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return pd.Series(lib.maybe_convert_objects(arr))._values


def _row_results(values: Any, name: str) -> Any:
    """``df.apply(func, axis=1)``'s results as pandas holds them: a Series as the first
    row's result is pandas' expanding form (refused), a row returned as is is its Series."""
    if values and isinstance(values[0], pd.Series):
        raise _expanding(name)
    if any(type(v) is _Row for v in values):
        return [v._series() if type(v) is _Row else v for v in values]
    return values


def _array(values: Any, dtype: Any) -> Any:
    if dtype is I64 or dtype is F64 or dtype is BOOL or isinstance(dtype, np.dtype):
        if dtype.kind == "M":
            return pd.array(list(values), dtype=dtype)
        return np.array(values, dtype=dtype)
    if dtype == STR:
        return _str_array(values)
    return pd.array(list(values), dtype=dtype)


def run_table(gen: Generated, frame: pd.DataFrame) -> Table:
    """``gen``'s frame function over every row of ``frame``: the plan's table (arrays of
    pandas' dtypes by internal name, the row index's takes), for the shared finalize."""
    n = len(frame)
    flags = [0] * len(gen.flags)
    get = frame._get_column_array  # by position: the Series wrappers cost more than the rows
    columns = [_pylist(get(gen.positions[field])) for field in gen.used]
    if gen.row_names:
        index = frame.index
        names = {"IX": lambda: list(index), "IXE": lambda: [index[i] for i in range(n)]}
        columns[:0] = [names[p]() for p in gen.row_names]
    results = list(map(gen.func, repeat(flags, n), *columns))
    for flag, stage in gen.checks:
        if not flags[flag] and _reached(results, stage):
            raise AttributeError("Can only use .str accessor with string values, not floating")
    steps, keep = _steps(results, gen.filters)
    rows = results if len(keep) == n else [results[i] for i in keep]
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(gen.computed)
    position = {p: j for j, p in enumerate(gen.computed)}
    meta_dtypes = gen.meta_dtypes
    arrays = []
    fields = []
    for i, (name, v) in enumerate(gen.outputs):
        fields.append(name)
        if i not in position:  # an input column, unchanged
            values = get(gen.positions[str(v.src)])
            arrays.append(
                values if len(keep) == n else values.take(np.asarray(keep, dtype=np.intp))
            )
            continue
        values = cols[position[i]]
        if v.kind == "O":
            if v.row_apply is not None:
                values = _row_results(values, v.row_apply)
            arrays.append(_infer(values, meta_dtypes[i]))
            continue
        if v.flag is None:
            arrays.append(_array(values, v.dtype))
            continue
        stage, base = gen.flags[v.flag]
        if flags[v.flag]:
            dtype = F64
        elif _reached(results, stage):
            dtype = base
        else:
            dtype = meta_dtypes[i]
        arrays.append(_array(values, dtype))
    return Table(dict(zip(fields, arrays, strict=True)), Rows(frame.index, len(keep), steps))
