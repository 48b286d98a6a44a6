"""``.loc``, ``.iloc``, ``.at`` and ``.iat``: boolean masks, column lists and row slices are
traced; other reads fall back to pandas, and assignments run in pandas on a copy that is
written back into the frame or Series."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import relations as rel

from . import _core

if TYPE_CHECKING:
    from .frame import DataFrame
    from .series import Series

__all__ = [
    "FrameLoc",
    "FrameILoc",
    "FrameAt",
    "FrameIAt",
    "SeriesLoc",
    "SeriesILoc",
    "SeriesAt",
    "SeriesIAt",
]


def _int_slice(key: Any) -> bool:
    return isinstance(key, slice) and all(
        v is None or isinstance(v, int) for v in (key.start, key.stop, key.step)
    )


def _full_slice(key: Any) -> bool:
    return isinstance(key, slice) and key == slice(None)


class _Indexer:
    __slots__ = ("_obj",)
    _name = ""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def _fallback(self, key: Any) -> Any:
        name = self._name
        kind = type(self._obj).__name__
        return _core.fallback(f"{kind}.{name}[]", lambda o, k: getattr(o, name)[k], self._obj, key)

    def __getitem__(self, key: Any) -> Any:
        return self._fallback(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Assign in pandas on a copy and write the result back (a Series taken from a frame
        is its own object, as under pandas' copy-on-write: the frame does not change)."""
        name = self._name

        def setter(o: Any, k: Any, v: Any) -> None:
            getattr(o, name)[k] = v

        kind = type(self._obj).__name__
        _core.fallback_inplace(f"{kind}.{name}[]=", self._obj, setter, key, value)


def _pick_columns(df: DataFrame, cols: Any, how: str) -> Any:
    """A function selecting the columns ``cols`` (a ``loc``/``iloc`` column key) from a frame
    derived row-wise from ``df``, or None when that is not traceable. pandas raises its own
    errors (missing labels, out-of-bounds positions) here."""
    from .series import Series

    if _full_slice(cols):
        return lambda out: out
    if isinstance(cols, (Series, tuple)) or not df.columns.is_unique:
        return None
    if not (_core.is_scalar(cols) or isinstance(cols, (slice, list))):
        return None
    picked = getattr(df._meta, how)[:, cols]
    if isinstance(picked, pd.Series):
        label = picked.name
        return lambda out: out[label]
    labels = list(picked.columns)
    if len(set(labels)) != len(labels):
        return None
    return lambda out: out._derive(rel.Project(out._plan, tuple((c, ex.Col(c)) for c in labels)))


class FrameLoc(_Indexer):
    """``df.loc[mask]``, ``df.loc[mask, cols]``, ``df.loc[:, cols]``; the rest falls back."""

    __slots__ = ()
    _name = "loc"

    def __getitem__(self, key: Any) -> Any:
        from .series import Series

        df: DataFrame = self._obj
        rows, cols = key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None))
        if isinstance(rows, Series) and rows._rel == df._plan:
            out = df._derive(rel.Filter(df._plan, rows._expr))
        elif _full_slice(rows):
            out = df
        else:
            return self._fallback(key)
        picked = _pick_columns(df, cols, "loc")
        if picked is None:
            return self._fallback(key)
        return picked(out)


class FrameILoc(_Indexer):
    """``df.iloc[start:stop:step]`` (optionally ``, :``); the rest falls back."""

    __slots__ = ()
    _name = "iloc"

    def __getitem__(self, key: Any) -> Any:
        df: DataFrame = self._obj
        rows, cols = key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None))
        picked = _pick_columns(df, cols, "iloc") if _int_slice(rows) else None
        if picked is None:
            return self._fallback(key)
        return picked(df._derive(rel.Slice(df._plan, rows.start, rows.stop, rows.step)))


class SeriesLoc(_Indexer):
    """``s.loc[mask]``; the rest falls back."""

    __slots__ = ()
    _name = "loc"

    def __getitem__(self, key: Any) -> Any:
        from .series import Series

        s: Series = self._obj
        if isinstance(key, Series) and key._rel == s._rel:
            return Series._make(rel.Filter(s._rel, key._expr), s._expr, s._meta)
        return self._fallback(key)


class SeriesILoc(_Indexer):
    """``s.iloc[start:stop:step]``; the rest falls back."""

    __slots__ = ()
    _name = "iloc"

    def __getitem__(self, key: Any) -> Any:
        s: Series = self._obj
        if _int_slice(key):
            return s.iloc_slice(key)
        return self._fallback(key)


class FrameAt(_Indexer):
    """``df.at[row, col]`` (read or assign) in pandas."""

    __slots__ = ()
    _name = "at"


class FrameIAt(_Indexer):
    """``df.iat[i, j]`` (read or assign) in pandas."""

    __slots__ = ()
    _name = "iat"


class SeriesAt(_Indexer):
    """``s.at[label]`` (read or assign) in pandas."""

    __slots__ = ()
    _name = "at"


class SeriesIAt(_Indexer):
    """``s.iat[i]`` (read or assign) in pandas."""

    __slots__ = ()
    _name = "iat"
