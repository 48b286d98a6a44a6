"""Correctness checks of engine results against the pandas reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas
from pandas.api import types as ptypes

OK = "ok"


def _first_line(err: BaseException) -> str:
    """A compact one-paragraph message of an exception."""
    text = " ".join(str(err).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def strict(expected: Any, actual: Any) -> str:
    """Compare a litsdf result with the pandas result exactly.

    Parameters
    ----------
    expected : object
        The pandas result (DataFrame, Series or scalar).
    actual : object
        The litsdf result after ``to_pandas()``.

    Returns
    -------
    str
        ``"ok"`` or ``"mismatch: <reason>"``.
    """
    try:
        if isinstance(expected, pandas.DataFrame):
            if not isinstance(actual, pandas.DataFrame):
                return f"mismatch: expected DataFrame, got {type(actual).__name__}"
            pandas.testing.assert_frame_equal(actual, expected)
        elif isinstance(expected, pandas.Series):
            if not isinstance(actual, pandas.Series):
                return f"mismatch: expected Series, got {type(actual).__name__}"
            pandas.testing.assert_series_equal(actual, expected)
        elif not _scalar_equal(expected, actual):
            return f"mismatch: expected {expected!r}, got {actual!r}"
    except AssertionError as err:
        return f"mismatch: {_first_line(err)}"
    return OK


def _scalar_equal(expected: Any, actual: Any) -> bool:
    """Scalar equality where NaN equals NaN and floats compare closely."""
    if pandas.isna(expected) is True and pandas.isna(actual) is True:
        return True
    if isinstance(expected, float | np.floating) and isinstance(actual, int | float | np.number):
        return bool(np.isclose(float(expected), float(actual), rtol=1e-9))
    return bool(expected == actual)


def _as_frame(value: Any) -> pandas.DataFrame | None:
    """Coerce a result to a DataFrame (None for scalars)."""
    if isinstance(value, pandas.DataFrame):
        return value
    if isinstance(value, pandas.Series):
        return value.to_frame()
    return None


def _normalize(frame: pandas.DataFrame) -> list[np.ndarray]:
    """Columns as float64 (numbers, bools, datetimes) or str (everything else)."""
    columns: list[np.ndarray] = []
    for _, column in frame.items():
        if ptypes.is_bool_dtype(column.dtype) or ptypes.is_numeric_dtype(column.dtype):
            columns.append(column.to_numpy(dtype="float64", na_value=np.nan))
        elif ptypes.is_datetime64_any_dtype(column.dtype):
            values = column.astype("datetime64[ns]").to_numpy()
            columns.append(values.astype("int64").astype("float64"))
        else:
            columns.append(column.astype(object).map(str).to_numpy(dtype=object))
    return columns


def loose(expected: Any, actual: Any, rtol: float = 1e-6) -> str:
    """Compare a polars/DuckDB result with the pandas result loosely.

    Row counts and column counts must agree; column names are matched when the
    name sets agree (by position otherwise); rows are compared after sorting on
    every column; numbers compare with relative tolerance ``rtol`` and NaN equal
    to null; dtypes and the index are ignored.

    Parameters
    ----------
    expected : object
        The pandas result.
    actual : object
        The engine's result converted to pandas.
    rtol : float, default 1e-6
        Relative tolerance for numbers.

    Returns
    -------
    str
        ``"ok"`` or ``"mismatch: <reason>"``.
    """
    exp, act = _as_frame(expected), _as_frame(actual)
    if exp is None or act is None:
        if exp is None and act is None:
            ok = _scalar_equal(expected, actual)
            return OK if ok else f"mismatch: expected {expected!r}, got {actual!r}"
        return f"mismatch: expected {type(expected).__name__}, got {type(actual).__name__}"
    if exp.shape != act.shape:
        return f"mismatch: shape {act.shape} != pandas {exp.shape}"
    if set(map(str, exp.columns)) == set(map(str, act.columns)):
        act = act.set_axis(list(map(str, act.columns)), axis=1)[list(map(str, exp.columns))]
    left, right = _sorted(_normalize(exp)), _sorted(_normalize(act))
    for name, a, b in zip(exp.columns, left, right, strict=True):
        if a.dtype.kind != b.dtype.kind:
            return f"mismatch: column {name!r} kinds differ ({b.dtype} vs {a.dtype})"
        if a.dtype.kind == "f":
            if not np.allclose(b, a, rtol=rtol, atol=0.0, equal_nan=True):
                bad = int(np.flatnonzero(~np.isclose(b, a, rtol=rtol, equal_nan=True))[0])
                return f"mismatch: column {name!r} row {bad}: {b[bad]} != {a[bad]}"
        elif not np.array_equal(a, b):
            bad = int(np.flatnonzero(a != b)[0])
            return f"mismatch: column {name!r} row {bad}: {b[bad]} != {a[bad]}"
    return OK


def _sorted(columns: list[np.ndarray]) -> list[np.ndarray]:
    """Sort rows on every column, exact (non-float) columns first, NaN last.

    Exact columns lead so that float noise between engines cannot reorder
    rows whose keys are exact.
    """
    if not columns or len(columns[0]) == 0:
        return columns
    exact = [pandas.factorize(c, sort=True)[0] for c in columns if c.dtype.kind != "f"]
    floats = [np.nan_to_num(c, nan=np.inf) for c in columns if c.dtype.kind == "f"]
    keys = exact + floats
    order = np.lexsort(keys[::-1])
    return [c[order] for c in columns]
