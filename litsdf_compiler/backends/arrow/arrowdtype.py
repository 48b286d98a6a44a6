"""ArrowDtype columns (``int64[pyarrow]``, ``double[pyarrow]``, ``string[pyarrow]``,
``timestamp[us][pyarrow]``, ``bool[pyarrow]``, ...): the kind family ``pa:<arrow type>``.

A column read with ``dtype_backend="pyarrow"`` (or built with ``pd.ArrowDtype``) *is* an Arrow
array, and pandas computes on it with ``pyarrow.compute`` itself
(``pandas.core.arrays.arrow.ArrowExtensionArray``), with semantics that are not the NumPy
dtypes' ones: a missing value is a null that propagates (no NaN fill; a NaN is a value, and an
arithmetic result's NaN becomes a null), comparisons give ``bool[pyarrow]`` with nulls, ``&`` /
``|`` are Kleene's, integer arithmetic is checked (``add_checked``: an overflow raises),
``int / int`` is ``double``, ``//`` has pandas' own sign fix, ``isna`` / ``isin`` give NumPy
``bool``, and a filter by a mask drops its null rows.

How the backend keeps them exactly:

* **expressions** over ArrowDtype columns run by pandas' own ``ArrowExtensionArray`` methods
  over the Arrow arrays, wrapped zero-copy (:func:`evaluate`): the same ``pyarrow.compute``
  calls pandas makes, so the same values, nulls, errors and dtypes. :func:`typeof` checks the
  expression is row-wise (an allow-list of nodes) and gives the kind of pandas' empty-input
  result;
* **relations** run on the Arrow arrays where Arrow's semantics are pandas' for the type
  (:data:`FAMILIES`: which types sort, group, join and aggregate natively), else by pandas'
  shared implementation over the arrays. A NaN *value* in a ``double`` column (a file may hold
  one) is never what Arrow's kernels assume of pandas' order and reductions: such arrays go to
  pandas (:func:`has_nan`).

The result columns finalize to the fields' ArrowDtype (``__from_arrow__``, zero-copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...ir import base
from ...ir import expressions as ex
from ...ir import strings as st
from ...ir import temporal as tm

__all__ = [
    "PREFIX",
    "arrow_kind",
    "dtype_of",
    "family",
    "involves",
    "typeof",
    "evaluate",
    "has_nan",
    "SORT_KEYS",
    "GROUP_KEYS",
    "MEASURES",
]

PREFIX = "pa:"
"""Kinds of ArrowDtype values: ``"pa:" + str(pyarrow type)`` (``"pa:int64"``,
``"pa:timestamp[us]"``)."""

_TYPES: dict[str, Any] = {}
"""Kind -> its pyarrow type (every kind :func:`arrow_kind` handed out)."""


def _family_of_type(t: Any) -> str | None:
    import pyarrow as pa

    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) and t.bit_width in (32, 64):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is None else None
    if pa.types.is_date32(t):
        return "date"
    return None


FAMILIES = ("int", "float", "bool", "str", "timestamp", "date")
"""The Arrow types computed here, by family (others: decimals, lists, dictionaries,
time zones, durations, ... are declined or run by pandas' implementations)."""

SORT_KEYS = {"int", "float", "bool", "str", "timestamp", "date"}
"""Families Arrow's stable ``sort_indices`` orders as pandas' ``sort_values`` (nulls by
``na_position``; a ``double`` key holding a NaN value goes to pandas)."""

GROUP_KEYS = {"int", "bool", "str", "timestamp", "date"}
"""Families whose values Acero groups as pandas' groupby (one null group; float keys: Arrow
hashes ``-0.0`` apart from ``0.0``, pandas does not)."""

MEASURES: dict[str, set[str]] = {
    "sum": {"int64", "float", "bool"},
    "mean": {"int", "float", "bool"},
    "min": {"int", "float", "bool", "str", "timestamp", "date"},
    "max": {"int", "float", "bool", "str", "timestamp", "date"},
    "count": {"int", "float", "bool", "str", "timestamp", "date"},
    "std": {"int64", "float"},
    "var": {"int64", "float"},
    "nunique": {"int", "bool", "str", "timestamp", "date"},
}
"""Group reductions Acero computes as pandas does for ArrowDtype inputs, by family (``int64``:
only that width: pandas keeps a narrower integer's width in ``sum``, Arrow widens it). An
empty or all-null group: ``sum`` 0 (``min_count=0``), the others null (pandas' ``<NA>``)."""


def arrow_kind(dtype: Any) -> str | None:
    """The kind of an ``ArrowDtype`` of a type computed here (:data:`FAMILIES`), else
    ``None``."""
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    t = dtype.pyarrow_dtype
    if _family_of_type(t) is None:
        return None
    kind = PREFIX + str(t)
    _TYPES.setdefault(kind, t)
    return kind


def dtype_of(kind: str) -> pd.ArrowDtype | None:
    """The ArrowDtype of a ``pa:`` kind (``None`` for another kind)."""
    t = _TYPES.get(kind)
    return None if t is None else pd.ArrowDtype(t)


def family(kind: str | None) -> str | None:
    """The family of a ``pa:`` kind (``"int"``, ``"float"``, ...; ``"int64"`` is also an
    ``"int"``), or ``None`` for another kind."""
    t = _TYPES.get(kind or "")
    return None if t is None else _family_of_type(t)


def measure_ok(func: str, kind: str | None) -> bool:
    """Whether Acero's ``func`` over values of the ``pa:`` ``kind`` is pandas'
    (:data:`MEASURES`)."""
    allowed = MEASURES.get(func, set())
    fam = family(kind)
    if fam is None:
        return False
    return fam in allowed or (kind == PREFIX + "int64" and "int64" in allowed)


def has_nan(values: Any) -> bool:
    """Whether the Arrow array ``values`` is floating and holds a NaN value (not a null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_floating(values.type) or values.null_count == len(values):
        return False
    return bool(pc.any(pc.is_nan(values)).as_py())


# expressions ----------------------------------------------------------------------------------
_ROW_WISE = (
    ex.Col,
    ex.Lit,
    ex.Alias,
    ex.BinaryOp,
    ex.UnaryOp,
    ex.FillNa,
    ex.IsNa,
    ex.NotNa,
    ex.Cast,
    ex.Where,
    ex.Clip,
    ex.Round,
    ex.Between,
    ex.IsIn,
    st.StrCase,
    st.StrStrip,
    st.StrLen,
    st.StrContains,
    st.StrStartsWith,
    st.StrEndsWith,
    st.StrReplace,
    st.StrSlice,
    st.StrGet,
    st.StrMethod,
    tm.DtField,
    tm.DtMethod,
    tm.DtNormalize,
)
"""Expression nodes whose value at a row depends only on that row's values (pandas' method
of the same name over the whole array, element by element): safe to run over the arrays with
a fresh index."""

_NUMPY_RESULTS: dict[Any, str] = {
    np.dtype("bool"): "bool",
    np.dtype("int64"): "int64",
    np.dtype("float64"): "float64",
}
"""NumPy results of an ArrowDtype expression the backend carries on (``isna``, ``isin``,
casts to NumPy dtypes): their kinds in the NumPy family."""


def _columns(e: ex.Expr) -> list[str]:
    return [str(n.name) for n in base.walk(e) if isinstance(n, ex.Col)]


def involves(e: ex.Expr, schema: Mapping[str, Any]) -> bool:
    """Whether ``e`` reads an ArrowDtype column (then it is computed by this module)."""
    return any(isinstance(schema.get(name), pd.ArrowDtype) for name in _columns(e))


def typeof(e: ex.Expr, schema: Mapping[str, Any], unsupported: type[Exception]) -> str:
    """The kind of ``e`` (which reads an ArrowDtype column) over fields of dtypes ``schema``:
    the dtype of pandas' result on empty columns of those dtypes (an ArrowDtype result's is
    type-decided), as a ``pa:`` kind or a NumPy one.

    Raises
    ------
    unsupported
        A node that is not row-wise, a column dtype or result dtype not computed here, or
        pandas raising on the empty input (its error is raised again at run time).
    """
    for n in base.walk(e):
        if not isinstance(n, ex.Expr):
            continue
        if not isinstance(n, _ROW_WISE):
            raise unsupported(f"{type(n).__name__} of an ArrowDtype column")
        if isinstance(n, ex.Col):
            dtype = schema.get(str(n.name))
            if isinstance(dtype, pd.ArrowDtype):
                if arrow_kind(dtype) is None:
                    raise unsupported(f"column {n.name!r} of dtype {dtype}")
            elif dtype not in _NUMPY_RESULTS:
                raise unsupported(f"column {n.name!r} of dtype {dtype} beside ArrowDtype ones")
    empty = {name: pd.Series([], dtype=schema[name]) for name in dict.fromkeys(_columns(e))}
    try:
        out = _reference(e, {k: v._values for k, v in empty.items()}, 0)
    except Exception as why:
        raise unsupported(f"{type(e).__name__}: pandas raises {type(why).__name__}") from why
    dtype = getattr(out, "dtype", None)
    kind = arrow_kind(dtype)
    if kind is None:
        kind = _NUMPY_RESULTS.get(dtype)
    if kind is None:
        raise unsupported(f"{type(e).__name__} of ArrowDtype columns gives dtype {dtype}")
    return kind


def _reference(e: ex.Expr, arrays: Mapping[str, Any], length: int) -> Any:
    """pandas' value of ``e`` over the pandas arrays ``arrays`` (a RangeIndex: ``e`` is
    row-wise), as pandas' array."""
    from ...semantics import REFERENCE

    frame = pd.DataFrame(dict(arrays), index=pd.RangeIndex(length), copy=False)
    out = REFERENCE.ev(e, frame)
    return out._values if isinstance(out, pd.Series) else out


def _as_pandas(values: Any, dtype: Any) -> Any:
    """A table's array as pandas' array of its field's dtype (an Arrow array of an ArrowDtype
    field wrapped zero-copy)."""
    from .arrays import is_arrow, to_pandas

    if isinstance(dtype, pd.ArrowDtype) and is_arrow(values):
        if values.type != dtype.pyarrow_dtype:
            values = values.cast(dtype.pyarrow_dtype)
        return pd.arrays.ArrowExtensionArray(values)
    return to_pandas(values, dtype)


def evaluate(e: ex.Expr, columns: Mapping[str, Any], dtypes: Mapping[str, Any], length: int) -> Any:
    """The value of ``e`` (passed :func:`typeof`) over a table's ``columns`` of fields
    ``dtypes`` with ``length`` rows: pandas' ``ArrowExtensionArray`` methods over the Arrow
    arrays. An ArrowDtype result is its Arrow array; a NumPy one its NumPy array."""
    arrays = {name: _as_pandas(columns[name], dtypes[name]) for name in dict.fromkeys(_columns(e))}
    out = _reference(e, arrays, length)
    pa_array = getattr(out, "_pa_array", None)
    if isinstance(out, pd.arrays.ArrowExtensionArray) and pa_array is not None:
        return pa_array
    return out
