"""``.loc`` and ``.iloc``: boolean masks, column lists and row slices are traced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litsdf_compiler.ir import relations as rel

from . import _core

if TYPE_CHECKING:
    from .frame import DataFrame
    from .series import Series

__all__ = ["FrameLoc", "FrameILoc", "SeriesLoc", "SeriesILoc"]


def _int_slice(key: Any) -> bool:
    return isinstance(key, slice) and all(
        v is None or isinstance(v, int) for v in (key.start, key.stop, key.step))


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
        return _core.fallback(f"{kind}.{name}[]", lambda o, k: getattr(o, name)[k],
                              self._obj, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        from .frame import DataFrame

        obj = self._obj
        if not isinstance(obj, DataFrame):
            raise NotImplementedError(
                f"litsdf.Series.{self._name}[...] = ... is not supported: assign the whole "
                "column on its DataFrame instead (e.g. with Series.where/mask)")
        name = self._name
        def setter(o: Any, k: Any, v: Any) -> None:
            getattr(o, name)[k] = v

        _core._note_fallback(f"DataFrame.{name}[]=", check=_core.probe(setter, obj, key, value))
        pdf = obj.to_pandas().copy(deep=False)
        getattr(pdf, name)[_core.unwrap(key)] = _core.unwrap(value)
        object.__setattr__(obj, "_plan", _core.source(pdf, f"fallback DataFrame.{name}[]=",
                                                      (obj._plan,)))


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
        if _full_slice(cols):
            return out
        if isinstance(cols, list):
            return out[cols]
        if _core.is_scalar(cols) and cols in df.columns:
            return out[cols]
        return self._fallback(key)


class FrameILoc(_Indexer):
    """``df.iloc[start:stop:step]`` (optionally ``, :``); the rest falls back."""

    __slots__ = ()
    _name = "iloc"

    def __getitem__(self, key: Any) -> Any:
        df: DataFrame = self._obj
        rows, cols = key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None))
        if _int_slice(rows) and _full_slice(cols):
            return df._derive(rel.Slice(df._plan, rows.start, rows.stop, rows.step))
        return self._fallback(key)


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


