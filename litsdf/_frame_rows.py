"""Row-selecting and reshaping methods of ``litsdf.DataFrame``: dropna, drop_duplicates, drop,
rename, set_index, reset_index, sort_values, sort_index, nlargest, nsmallest (a mixin, so that
``frame.py`` stays a readable size)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from litsdf_compiler.ir import relations as rel

from ._core import is_scalar

if TYPE_CHECKING:
    from .frame import DataFrame

__all__ = ["RowMethods", "_labels"]


def _inplace(inplace: Any) -> dict[str, Any]:
    """``inplace`` as a keyword for a pandas fallback: given only when set (pandas deprecates
    passing it for some methods), so a mutating call writes back into the handle."""
    return {} if inplace is False or inplace is no_default else {"inplace": inplace}


def _labels(value: Any) -> tuple[Hashable, ...]:
    if isinstance(value, (list, tuple, pd.Index, np.ndarray)):
        return tuple(value)
    return (value,)


class RowMethods:
    """Methods building row-wise relations (``self`` is a :class:`litsdf.DataFrame`)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by DataFrame
        _plan: rel.Relation

        @property
        def _meta(self) -> pd.DataFrame: ...

        def _derive(self, plan: rel.Relation) -> DataFrame: ...

        def _set_plan(self, plan: rel.Relation) -> None: ...

        def _fallback(self, what: str, *args: Any, **kwargs: Any) -> Any: ...

    def dropna(
        self,
        *,
        axis: Any = 0,
        how: Any = no_default,
        thresh: Any = no_default,
        subset: Any = None,
        inplace: bool = False,
        ignore_index: bool = False,
    ) -> Any:
        """Rows without missing values (in ``subset``)."""
        if axis not in (0, "index"):
            return self._fallback(
                "dropna", axis=axis, how=how, thresh=thresh, subset=subset, **_inplace(inplace)
            )
        sub = None if subset is None else _labels(subset)
        plan = rel.DropNa(self._plan, how, thresh, sub, ignore_index)
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def drop_duplicates(
        self,
        subset: Any = None,
        *,
        keep: Any = "first",
        inplace: bool = False,
        ignore_index: bool = False,
    ) -> Any:
        """Rows with duplicates (in ``subset``) removed."""
        sub = None if subset is None else _labels(subset)
        plan = rel.DropDuplicates(self._plan, sub, keep, ignore_index)
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def drop(
        self,
        labels: Any = None,
        *,
        axis: Any = 0,
        index: Any = None,
        columns: Any = None,
        errors: str = "raise",
        inplace: bool = False,
    ) -> Any:
        """Drop columns (row labels fall back to pandas)."""
        if labels is not None and axis in (1, "columns"):
            columns, labels = labels, None
        if (
            columns is not None
            and labels is None
            and index is None
            and errors == "ignore"
            and self._meta.columns.is_unique
        ):
            columns = [c for c in _labels(columns) if c in self._meta.columns]
            errors = "raise"
        if labels is not None or index is not None or columns is None or errors != "raise":
            return self._fallback(
                "drop",
                labels,
                axis=axis,
                index=index,
                columns=columns,
                errors=errors,
                **_inplace(inplace),
            )
        plan = rel.Drop(self._plan, _labels(columns))
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def rename(
        self, mapper: Any = None, *, columns: Any = None, inplace: bool = False, **kwargs: Any
    ) -> Any:
        """Rename columns with a dict (index renames fall back to pandas)."""
        if mapper is not None and kwargs.get("axis") in (1, "columns"):
            columns, mapper = mapper, None
            kwargs.pop("axis")
        if mapper is not None or kwargs or not isinstance(columns, dict):
            return self._fallback("rename", mapper, columns=columns, **kwargs, **_inplace(inplace))
        plan = rel.Rename(self._plan, tuple(columns.items()))
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def set_index(
        self,
        keys: Any,
        *,
        drop: bool = True,
        append: bool = False,
        inplace: bool = False,
        verify_integrity: bool = False,
    ) -> Any:
        """Use column(s) as the index."""
        labels = _labels(keys)
        if verify_integrity or any(not is_scalar(k) for k in labels):
            return self._fallback(
                "set_index",
                keys,
                drop=drop,
                append=append,
                verify_integrity=verify_integrity,
                **_inplace(inplace),
            )
        plan = rel.SetIndex(self._plan, labels, drop, append)
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def reset_index(
        self,
        level: Any = None,
        *,
        drop: bool = False,
        inplace: bool = False,
        names: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Move the index into columns (or drop it)."""
        if level is not None or kwargs:
            return self._fallback(
                "reset_index", level, drop=drop, names=names, **kwargs, **_inplace(inplace)
            )
        plan = rel.ResetIndex(self._plan, drop, None if names is None else _labels(names))
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def sort_values(
        self,
        by: Any,
        *,
        axis: Any = 0,
        ascending: Any = True,
        inplace: bool = False,
        kind: str = "quicksort",
        na_position: str = "last",
        ignore_index: bool = False,
        key: Any = None,
    ) -> Any:
        """Sort rows by column(s)."""
        if axis not in (0, "index") or key is not None:
            return self._fallback(
                "sort_values",
                by,
                axis=axis,
                ascending=ascending,
                kind=kind,
                na_position=na_position,
                ignore_index=ignore_index,
                key=key,
                **_inplace(inplace),
            )
        asc = (
            tuple(bool(a) for a in ascending)
            if isinstance(ascending, (list, tuple))
            else (ascending)
        )
        plan = rel.Sort(self._plan, _labels(by), asc, kind, na_position, ignore_index)
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def sort_index(
        self,
        *,
        axis: Any = 0,
        ascending: bool = True,
        inplace: bool = False,
        kind: str = "quicksort",
        na_position: str = "last",
        ignore_index: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Sort rows by index label."""
        if axis not in (0, "index") or kwargs or not isinstance(ascending, bool):
            return self._fallback(
                "sort_index",
                axis=axis,
                ascending=ascending,
                kind=kind,
                na_position=na_position,
                ignore_index=ignore_index,
                **kwargs,
                **_inplace(inplace),
            )
        plan = rel.SortIndex(self._plan, ascending, kind, na_position, ignore_index)
        if inplace:
            self._set_plan(plan)
            return None
        return self._derive(plan)

    def nlargest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        """The ``n`` rows with the largest values in ``columns``."""
        return self._derive(rel.TopK(self._plan, int(n), _labels(columns), keep, True))

    def nsmallest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        """The ``n`` rows with the smallest values in ``columns``."""
        return self._derive(rel.TopK(self._plan, int(n), _labels(columns), keep, False))
