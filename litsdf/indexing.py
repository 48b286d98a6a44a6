"""``.loc`` and ``.iloc``: boolean masks, column lists and row slices are traced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import relations as rel

from . import _core

if TYPE_CHECKING:
    from .frame import DataFrame
    from .series import Series

__all__ = ["FrameLoc", "FrameILoc", "SeriesLoc", "SeriesILoc"]


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

    def __setitem__(self, key: Any, value: Any) -> None:
        from .frame import DataFrame

        obj = self._obj
        if not isinstance(obj, DataFrame):
            raise NotImplementedError(
                f"litsdf.Series.{self._name}[...] = ... is not supported: assign the whole "
                "column on its DataFrame instead (e.g. with Series.where/mask)"
            )
        name = self._name

        def setter(o: Any, k: Any, v: Any) -> None:
            getattr(o, name)[k] = v

        _core._note_fallback(f"DataFrame.{name}[]=", check=_core.probe(setter, obj, key, value))
        pdf = obj.to_pandas().copy(deep=False)
        getattr(pdf, name)[_core.unwrap(key)] = _core.unwrap(value)
        object.__setattr__(
            obj, "_plan", _core.source(pdf, f"fallback DataFrame.{name}[]=", (obj._plan,))
        )


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
