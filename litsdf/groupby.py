"""``DataFrame.groupby``: aggregations traced as :class:`~litsdf_compiler.ir.Aggregate`."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import pandas as pd

from litsdf_compiler.ir.aggregate import aggregate
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.relations import GROUP_REDUCTIONS
from litsdf_compiler.ir.trust import AGG_FUNCS
from litsdf_compiler.meta import meta_of

from ._core import fallback

if TYPE_CHECKING:
    from .frame import DataFrame

__all__ = ["DataFrameGroupBy"]

_METHODS = GROUP_REDUCTIONS


class DataFrameGroupBy:
    """Grouped frame; aggregations become plan nodes, other methods fall back to pandas."""

    __slots__ = ("_as_index", "_df", "_dropna", "_key_list", "_keys", "_selection", "_sort")

    def __init__(
        self,
        df: DataFrame,
        keys: tuple[Hashable, ...],
        key_list: bool,
        as_index: bool,
        sort: bool,
        dropna: bool,
        selection: Any = None,
    ) -> None:
        self._df, self._keys, self._key_list = df, keys, key_list
        self._as_index, self._sort, self._dropna = as_index, sort, dropna
        self._selection = selection

    def _pandas(self, df: pd.DataFrame) -> Any:
        keys = list(self._keys) if self._key_list else self._keys[0]
        gb = df.groupby(keys, as_index=self._as_index, sort=self._sort, dropna=self._dropna)
        if self._selection is not None:
            kind, labels = self._selection
            gb = gb[labels] if kind == "series" else gb[list(labels)]
        return gb

    def __getitem__(self, key: Any) -> DataFrameGroupBy:
        if isinstance(key, list):
            sel: Any = ("frame", tuple(key))
        else:
            sel = ("series", key)
        out = DataFrameGroupBy(
            self._df, self._keys, self._key_list, self._as_index, self._sort, self._dropna, sel
        )
        out._pandas(self._df._meta)  # KeyError for an unknown column, as pandas
        return out

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._df.columns and name not in self._keys:
            return self[name]
        cls = (
            pd.core.groupby.SeriesGroupBy
            if self._selection is not None and self._selection[0] == "series"
            else pd.core.groupby.DataFrameGroupBy
        )
        if not hasattr(cls, name):
            raise AttributeError(f"'{cls.__name__}' object has no attribute {name!r}")
        if not callable(getattr(cls, name)):  # a property (ngroups, groups, ...)
            return fallback(f"GroupBy.{name}", lambda d: getattr(self._pandas(d), name), self._df)
        return lambda *a, **k: self._fallback(name, *a, **k)

    def __iter__(self) -> Any:
        """``(key, group)`` pairs (run in pandas)."""
        from ._core import wrap

        pairs = self._fallback("__iter__")
        return iter([(k, wrap(g)) for k, g in pairs])

    def __len__(self) -> int:
        return self._fallback("__len__")  # type: ignore[no-any-return]

    def _fallback(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return fallback(
            f"GroupBy.{name}",
            lambda d, *a, **k: getattr(self._pandas(d), name)(*a, **k),
            self._df,
            *args,
            **kwargs,
        )

    def _node(self, **call: Any) -> Any:
        """The Aggregate node of this groupby with ``call`` (``method=`` and ``arguments=``,
        ``func=`` or ``named=``; see :func:`litsdf_compiler.ir.aggregate.aggregate`)."""
        from .frame import DataFrame
        from .series import Series

        plan = aggregate(
            self._df._plan,
            self._df._meta,
            self._keys,
            **call,
            selection=self._selection,
            key_list=self._key_list,
            as_index=self._as_index,
            sort=self._sort,
            dropna=self._dropna,
        )
        m = meta_of(plan)
        if isinstance(m, pd.Series):
            return Series._from_relation(plan, m.name)
        return DataFrame._from_plan(plan)

    def agg(self, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Aggregate with a function name, a list of names, a dict, or named aggregations."""
        if args:
            return self._fallback("agg", func, *args, **kwargs)
        try:
            if func is None and kwargs:
                named: dict[str, Any] = {}
                series = self._selection is not None and self._selection[0] == "series"
                for out, spec in kwargs.items():
                    if series:  # SeriesGroupBy.agg(out=func)
                        if not isinstance(spec, str):
                            raise _NotTraceable("named aggregation of a Series")
                        named[out] = spec
                        continue
                    if isinstance(spec, pd.NamedAgg):
                        col, how = spec.column, spec.aggfunc
                    elif isinstance(spec, tuple) and len(spec) == 2:
                        col, how = spec
                    else:
                        raise _NotTraceable("not a (column, func) pair")
                    named[out] = (col, _fname(how))
                return self._node(named=named)
            if kwargs:
                return self._fallback("agg", func, **kwargs)
            if isinstance(func, dict):
                return self._node(func={c: _fnames(f) for c, f in func.items()})
            if isinstance(func, (str, list)):
                return self._node(func=_fnames(func))
        except (TypeError, ValueError) as err:
            if isinstance(err, _NotTraceable):
                return self._fallback("agg", func, **kwargs)
            raise
        return self._fallback("agg", func, **kwargs)

    aggregate = agg

    def size(self) -> Any:
        """Number of rows per group."""
        return self._node(method="size")


class _NotTraceable(TypeError):
    pass


def _fname(f: Any) -> str:
    if isinstance(f, str) and f in AGG_FUNCS:
        return f
    # (another name runs in pandas, which gives its result or its error)
    raise _NotTraceable("aggregation functions must be names of traced aggregations")


def _fnames(f: Any) -> Any:
    if isinstance(f, (list, tuple)):
        return [_fname(x) for x in f]
    return _fname(f)


def _method(name: str) -> Any:
    def method(self: DataFrameGroupBy, *args: Any, **kwargs: Any) -> Any:
        if args:
            return self._fallback(name, *args, **kwargs)
        try:
            frozen = tuple((k, freeze(v)) for k, v in kwargs.items())
        except TypeError:
            return self._fallback(name, **kwargs)
        return self._node(method=name, arguments=frozen)

    method.__name__ = name
    method.__doc__ = f"``GroupBy.{name}`` per group (a plan node)."
    return method


for _m in _METHODS:
    if _m != "size":
        setattr(DataFrameGroupBy, _m, _method(_m))
