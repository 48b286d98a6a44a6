"""The table a physical node evaluates to, and the ONE step that builds pandas' exact result.

A backend's ``visit_<Node>`` methods return a :class:`Table`: arrays by internal name (NumPy
arrays, pandas arrays or pyarrow arrays) and the row identity (:class:`Rows`: the index pandas
carries, as the steps pandas applies to it). :func:`finalize` turns a table into the pandas
object a :class:`~litsdf_compiler.lower.nodes.Finalize` node describes: labels, index, Series
or frame, scalar. Dtypes are the arrays' own (a backend computes value-dependent dtypes);
Arrow arrays are converted to the field's pandas dtype.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .nodes import Field, Finalize

__all__ = ["Rows", "Table", "finalize", "table_from_pandas", "to_pandas_array"]

try:  # pandas' internal frame constructor (skips eager block consolidation)
    from pandas.core.internals.construction import arrays_to_mgr as _arrays_to_mgr
except ImportError:  # pragma: no cover - another pandas layout
    _arrays_to_mgr = None


@dataclasses.dataclass(frozen=True, slots=True)
class Rows:
    """The row identity of a table: pandas' index ``base`` after ``steps``, each a take
    (an ``intp`` array of positions: ``index.take``) or a ``slice`` (``index[s]``), applied
    in order, exactly as pandas applies them (a ``RangeIndex`` stays one where pandas keeps
    it). ``base`` is ``None`` for a table with no index of its own (a fresh ``RangeIndex``)."""

    base: pd.Index | None
    length: int
    steps: tuple[Any, ...] = ()

    def take(self, positions: np.ndarray) -> Rows:
        """The rows at ``positions`` (``intp``), pandas' ``take``."""
        return Rows(self._base(), len(positions), (*self.steps, positions))

    def slice(self, s: slice) -> Rows:
        """The rows ``[s]`` (a positional slice)."""
        return Rows(self._base(), len(range(*s.indices(self.length))), (*self.steps, s))

    def reset(self) -> Rows:
        """A fresh ``RangeIndex`` for these rows (``ignore_index=True``)."""
        return Rows(None, self.length)

    def _base(self) -> pd.Index:
        if self.base is None:
            assert not self.steps
            return pd.RangeIndex(self.length)
        return self.base

    def index(self) -> pd.Index:
        """The pandas index of these rows."""
        index = pd.RangeIndex(self.length) if self.base is None else self.base
        if self.base is None:
            return index
        for step in self.steps:
            index = index[step] if isinstance(step, slice) else index.take(step)
        return index


@dataclasses.dataclass(slots=True)
class Table:
    """Arrays by internal name, all of one length, and their row identity.

    ``origin`` is the pandas object the table was made from, while it is unchanged (a
    :class:`Finalize` of exactly that object returns it instead of rebuilding it).
    """

    columns: dict[str, Any]
    rows: Rows
    origin: Any = None

    def __len__(self) -> int:
        return self.rows.length

    def take(self, positions: np.ndarray) -> Table:
        """The rows at ``positions`` of every column (pandas' ``take`` of the index too)."""
        cols = {k: _take(v, positions) for k, v in self.columns.items()}
        return Table(cols, self.rows.take(positions))

    def slice(self, s: slice) -> Table:
        """The rows ``[s]`` of every column and of the row identity."""
        return Table({k: v[s] for k, v in self.columns.items()}, self.rows.slice(s))

    def select(self, names: tuple[str, ...]) -> Table:
        """The columns ``names``, in that order (same rows)."""
        return Table({k: self.columns[k] for k in names}, self.rows)


def _take(values: Any, positions: np.ndarray) -> Any:
    if hasattr(values, "take"):
        return values.take(positions)
    return values[positions]


def table_from_pandas(value: Any, schema: tuple[Field, ...]) -> Table:
    """The table of a pandas value (frame, Series or scalar) for fields ``schema``: a frame's
    columns by position, a Series' values, a scalar as a one-element object array."""
    names = [f.name for f in schema]
    if isinstance(value, pd.DataFrame):
        if value.shape[1] != len(names):
            raise ValueError(
                f"a pandas result with {value.shape[1]} columns for fields {names} "
                "(its schema says otherwise)"
            )
        get = value._get_column_array
        cols = {name: get(i) for i, name in enumerate(names)}
        return Table(cols, Rows(value.index, len(value)), origin=value)
    if isinstance(value, pd.Series):
        (name,) = names
        return Table({name: value._values}, Rows(value.index, len(value)), origin=value)
    (name,) = names
    holder = np.empty(1, dtype=object)
    holder[0] = value
    return Table({name: holder}, Rows(None, 1), origin=None)


def to_pandas_array(values: Any, dtype: Any) -> Any:
    """``values`` as a NumPy/pandas array: pyarrow arrays converted to ``dtype``; NumPy and
    pandas arrays as they are (their dtype is the backend's answer)."""
    if isinstance(values, (np.ndarray, pd.api.extensions.ExtensionArray)):
        return values
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        series = values.to_pandas()
        if series.dtype != dtype:
            series = series.astype(dtype)
        return series._values
    return np.asarray(values)


def finalize(spec: Finalize, table: Table) -> Any:
    """pandas' exact result for ``table`` as ``spec`` describes it.

    Parameters
    ----------
    spec : Finalize
        The terminal step computed at lowering (labels, index, kind).
    table : Table
        The value of ``spec.input`` (arrays by internal name).

    Returns
    -------
    Any
        A DataFrame, a Series or a scalar.
    """
    if spec.kind == "scalar":
        return table.columns[spec.fields[0]][0]
    origin = table.origin
    if origin is not None and spec.index == ("rows",) and _is_origin(spec, table, origin):
        return origin
    dtypes = {f.name: f.dtype for f in spec.schema}
    arrays = [to_pandas_array(table.columns[name], dtypes.get(name)) for name in spec.fields]
    index = _index(spec, table, dtypes)
    if spec.kind == "series":
        return pd.Series(arrays[0], index=index, name=spec.name, copy=False)
    assert spec.columns is not None
    return _frame(arrays, spec.columns.index, index)


def _is_origin(spec: Finalize, table: Table, origin: Any) -> bool:
    if tuple(table.columns) != spec.fields:
        return False
    if spec.kind == "series":
        return isinstance(origin, pd.Series) and _same_label(origin.name, spec.name)
    if not isinstance(origin, pd.DataFrame) or spec.columns is None:
        return False
    cols = spec.columns.index
    return (
        type(origin.columns) is type(cols)
        and origin.columns.dtype == cols.dtype
        and origin.columns.names == cols.names
        and origin.columns.equals(cols)
        and all(_same_label(a, b) for a, b in zip(origin.columns, cols, strict=True))
    )


def _same_label(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _index(spec: Finalize, table: Table, dtypes: dict[str, Any]) -> pd.Index:
    kind = spec.index[0]
    if kind == "rows":
        return table.rows.index()
    if kind == "range":
        return pd.RangeIndex(len(table))
    _, fields, names = spec.index
    levels = [to_pandas_array(table.columns[f], dtypes.get(f)) for f in fields]
    if len(levels) == 1:
        return pd.Index(levels[0], name=names[0], copy=False)
    return pd.MultiIndex.from_arrays(levels, names=list(names))


def _frame(arrays: list[Any], columns: pd.Index, index: pd.Index) -> pd.DataFrame:
    """The DataFrame of ``arrays`` without consolidating its blocks first (pandas
    consolidates lazily when an operation needs it); ~10 us less on a one-row result."""
    if _arrays_to_mgr is not None:
        try:
            mgr = _arrays_to_mgr(arrays, columns, index, verify_integrity=False, consolidate=False)
            return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
        except (TypeError, AttributeError):  # pragma: no cover - another pandas layout
            pass
    return pd.DataFrame._from_arrays(arrays, columns=columns, index=index, verify_integrity=False)
