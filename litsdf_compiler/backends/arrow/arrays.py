"""Arrays between the arrow backend's nodes: pandas' arrays <-> Arrow arrays, exactly.

A table's columns are Arrow arrays (``pa.Array`` / ``pa.ChunkedArray``) or, where they came
from pandas and no Arrow kernel touched them, pandas' own arrays (NumPy arrays, extension
arrays). :func:`to_arrow` converts pandas' arrays zero-copy where Arrow's layout is NumPy's
(numeric columns; pandas' ``str`` dtype *is* an Arrow array) with NaN kept as a value, not
made a null (``from_pandas=False``), so a float64 NaN stays what it is in pandas.
:func:`to_pandas` converts back to the field's pandas dtype (the schema is the contract; a
dtype pandas decides from the values, such as float64 for integers with a missing value, is
the array's own).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "STR",
    "NotArrow",
    "is_arrow",
    "kind_of",
    "to_arrow",
    "to_pandas",
    "take",
    "positions_of",
]

STR = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas 3's default string dtype (``str``): an Arrow string array, NaN as its missing value."""

_KINDS = {
    np.dtype("int64"): "int64",
    np.dtype("int32"): "int32",
    np.dtype("int16"): "int16",
    np.dtype("int8"): "int8",
    np.dtype("uint32"): "uint32",
    np.dtype("uint16"): "uint16",
    np.dtype("uint8"): "uint8",
    np.dtype("float64"): "float64",
    np.dtype("bool"): "bool",
    np.dtype("datetime64[ns]"): "datetime",
}


class NotArrow(Exception):
    """An array whose values the arrow backend has no exact Arrow form for (the message
    says which)."""


def kind_of(dtype: Any) -> str | None:
    """The kind of values the backend computes on for a pandas ``dtype`` (``"int64"``,
    ``"float64"``, ``"bool"``, ``"datetime"``, ``"str"``; narrower integers by their NumPy
    name, which only compare; an ArrowDtype's ``"pa:<arrow type>"``: :mod:`.arrowdtype`),
    or ``None``."""
    if isinstance(dtype, np.dtype):
        return _KINDS.get(dtype)
    if isinstance(dtype, pd.ArrowDtype):
        from .arrowdtype import arrow_kind

        return arrow_kind(dtype)
    if dtype == STR:
        return "str"
    return None


def is_arrow(values: Any) -> bool:
    """Whether ``values`` is an Arrow array (chunked or not)."""
    import pyarrow as pa

    return isinstance(values, (pa.Array, pa.ChunkedArray))


def to_arrow(values: Any) -> Any:
    """The Arrow array of ``values`` (zero-copy for numeric NumPy arrays and pandas' Arrow
    arrays; a NaN stays a NaN value, a ``NaT`` becomes a null).

    Raises
    ------
    NotArrow
        For values with no exact Arrow form here (object arrays, categoricals, ...).
    """
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, pd.api.extensions.ExtensionArray):
        pa_array = getattr(values, "_pa_array", None)
        if pa_array is not None:
            return pa_array
        if isinstance(values.dtype, np.dtype) or isinstance(values, pd.arrays.DatetimeArray):
            values = values.to_numpy()
        else:
            raise NotArrow(f"an array of dtype {values.dtype}")
    if isinstance(values, np.ndarray) and values.dtype in _KINDS:
        return pa.array(values, from_pandas=False)
    dtype = getattr(values, "dtype", type(values).__name__)
    raise NotArrow(f"an array of dtype {dtype}")


def to_pandas(values: Any, dtype: Any) -> Any:
    """``values`` as pandas' array of ``dtype`` (NumPy and pandas arrays as they are).

    Integers with a missing value become float64 with NaN, as pandas gives them; a NumPy
    dtype of the same kind but another width is cast to the field's (``int32`` fields).
    """
    from ...lower import to_pandas_array

    if not is_arrow(values):
        return values
    if isinstance(dtype, np.dtype) and dtype.kind in "iufbM":
        out = _numpy(values) if values.null_count == 0 or dtype.kind in "fM" else None
        if out is None:  # (a missing value: pandas' value-dependent dtype)
            if dtype.kind == "b":
                return to_pandas_array(values, np.dtype(object))
            out = _numpy(values.cast("float64", safe=False))
        elif out.dtype != dtype and out.dtype.kind == dtype.kind:
            out = out.astype(dtype)
        return out
    from_arrow = getattr(dtype, "__from_arrow__", None)
    if from_arrow is not None:
        import pyarrow as pa

        target = getattr(dtype, "pyarrow_dtype", None)
        if target is not None and values.type != target:
            values = values.cast(target)
        if isinstance(values, pa.Array):
            values = pa.chunked_array([values], type=values.type)
        return from_arrow(values)
    return to_pandas_array(values, dtype)


def _numpy(values: Any) -> np.ndarray:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.to_numpy()
    return values.to_numpy(zero_copy_only=False)


def take(values: Any, positions: Any) -> Any:
    """The values at ``positions`` (``intp``; or an Arrow integer array, a null taking a
    null) of an Arrow or pandas array (a chunked Arrow array is made one chunk first: Arrow's
    take over one chunk is several times faster)."""
    if is_arrow(values):
        import pyarrow as pa

        chunked = isinstance(values, pa.ChunkedArray) and values.num_chunks > 1
        if chunked and values.nbytes < 2**31:  # (string offsets stay within int32)
            values = values.combine_chunks()
        return values.take(positions)
    if hasattr(values, "take"):
        return values.take(positions)
    return values[positions]


def positions_of(mask: Any) -> np.ndarray:
    """The positions (``intp``) where the non-null Arrow boolean ``mask`` holds."""
    import pyarrow as pa

    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    bools = _numpy(mask)
    return np.flatnonzero(bools).astype(np.intp, copy=False)
