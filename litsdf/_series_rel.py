"""The relational methods of :class:`litsdf.Series` (sort, value_counts, describe,
drop_duplicates, dropna, nlargest/nsmallest, reset_index, to_frame): each one a
``SeriesMethod`` plan node (a mixin, so that ``series.py`` stays a readable size)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pandas as pd

from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.relations import SERIES_METHODS, Relation, SeriesMethod
from litsdf_compiler.meta import meta_of

if TYPE_CHECKING:
    from .frame import DataFrame
    from .series import Series

__all__ = ["SeriesRelMethods"]

_NO_DEFAULT: Any = pd.api.extensions.no_default


def _inplace_none(method: Any) -> Any:
    """Give ``method`` pandas' ``inplace=True`` form: rebind the Series to the result and
    return None, as pandas does (a result that is not a Series, e.g. ``reset_index()``
    without ``drop``, or a non-bool ``inplace``, runs in pandas for pandas' own error)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, inplace: Any = False, **kwargs: Any) -> Any:
        if inplace is False or inplace is _NO_DEFAULT:
            return method(self, *args, **kwargs)
        from .series import Series

        out = method(self, *args, **kwargs) if inplace is True else None
        if not isinstance(out, Series):
            return self._fallback(method.__name__, *args, inplace=inplace, **kwargs)
        self._assign(out)
        return None

    return wrapper


class SeriesRelMethods:
    """Methods building ``SeriesMethod`` relations (``self`` is a :class:`litsdf.Series`)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by Series
        _rel: Relation
        _expr: ex.Expr

        def _fallback(self, what: str, *args: Any, **kwargs: Any) -> Any: ...

        def _assign(self, other: Series) -> None: ...

    def _series_method(self, method: str, **kwargs: Any) -> Any:
        assert method in SERIES_METHODS
        try:
            frozen = tuple((k, freeze(v)) for k, v in kwargs.items())
        except TypeError:
            return self._fallback(method, **kwargs)
        node = SeriesMethod(self._rel, self._expr, method, frozen)
        m = meta_of(node)
        from .frame import DataFrame
        from .series import Series

        if isinstance(m, pd.DataFrame):
            return DataFrame._from_plan(node)
        return Series._from_relation(node, m.name)

    @_inplace_none
    def sort_values(
        self,
        *,
        ascending: bool = True,
        kind: str = "quicksort",
        na_position: str = "last",
        ignore_index: bool = False,
    ) -> Series:
        """Sort by value."""
        return self._series_method(
            "sort_values",
            ascending=ascending,
            kind=kind,
            na_position=na_position,
            ignore_index=ignore_index,
        )

    @_inplace_none
    def sort_index(self, *, ascending: bool = True, ignore_index: bool = False) -> Series:
        """Sort by index label."""
        return self._series_method("sort_index", ascending=ascending, ignore_index=ignore_index)

    def value_counts(
        self,
        normalize: bool = False,
        sort: bool = True,
        ascending: bool = False,
        bins: Any = None,
        dropna: bool = True,
    ) -> Series:
        """Counts of unique values (``bins``: an int, or a list of edges)."""
        return self._series_method(
            "value_counts",
            normalize=normalize,
            sort=sort,
            ascending=ascending,
            bins=bins,
            dropna=dropna,
        )

    def describe(self, percentiles: Any = None) -> Series:
        """Summary statistics."""
        return self._series_method("describe", percentiles=percentiles)

    @_inplace_none
    def drop_duplicates(self, *, keep: Any = "first", ignore_index: bool = False) -> Series:
        """Values with duplicates removed."""
        return self._series_method("drop_duplicates", keep=keep, ignore_index=ignore_index)

    @_inplace_none
    def dropna(self, *, ignore_index: bool = False) -> Series:
        """Values that are not missing."""
        return self._series_method("dropna", ignore_index=ignore_index)

    def nlargest(self, n: int = 5, keep: str = "first") -> Series:
        """The ``n`` largest values."""
        return self._series_method("nlargest", n=n, keep=keep)

    def nsmallest(self, n: int = 5, keep: str = "first") -> Series:
        """The ``n`` smallest values."""
        return self._series_method("nsmallest", n=n, keep=keep)

    @_inplace_none
    def reset_index(self, *, drop: bool = False, name: Any = None) -> Any:
        """Move the index into a column (a DataFrame), or drop it (a Series)."""
        kwargs: dict[str, Any] = {"drop": drop}
        if name is not None:
            kwargs["name"] = name
        return self._series_method("reset_index", **kwargs)

    def to_frame(self, name: Any = None) -> DataFrame:
        """A one-column DataFrame."""
        return self._series_method("to_frame", **({} if name is None else {"name": name}))
