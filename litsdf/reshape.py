"""``merge`` and ``concat`` as plan nodes."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd
from pandas.api.extensions import no_default

from litsdf_compiler.ir.relations import SERIES, Concat, Join, Project
from litsdf_compiler.meta import meta_of

from ._core import fallback, is_scalar
from .frame import DataFrame, _labels
from .series import Series

__all__ = ["merge", "concat"]


def _opt_labels(value: Any) -> tuple[Hashable, ...] | None:
    return None if value is None else _labels(value)


def merge(
    left: Any,
    right: Any,
    how: str = "inner",
    on: Any = None,
    left_on: Any = None,
    right_on: Any = None,
    left_index: bool = False,
    right_index: bool = False,
    sort: bool = False,
    suffixes: Any = ("_x", "_y"),
    indicator: Any = False,
    validate: str | None = None,
    **kwargs: Any,
) -> DataFrame:
    """Database-style join of two DataFrames (``pandas.merge``).

    Examples
    --------
    >>> import litsdf as pd
    >>> a = pd.DataFrame({"k": [1, 2], "x": [10, 20]})
    >>> b = pd.DataFrame({"k": [2, 3], "y": [5, 6]})
    >>> pd.merge(a, b, on="k", how="inner").to_pandas().to_dict("list")
    {'k': [2], 'x': [20], 'y': [5]}
    """
    left = DataFrame(left) if isinstance(left, pd.DataFrame) else left
    right = DataFrame(right) if isinstance(right, pd.DataFrame) else right
    keys = (on, left_on, right_on)
    if (
        kwargs
        or not isinstance(left, DataFrame)
        or not isinstance(right, DataFrame)
        or any(k is not None and not all(is_scalar(x) for x in _labels(k)) for k in keys)
        or not isinstance(suffixes, (list, tuple))
        or how == "cross"
    ):
        return fallback(
            "merge",
            pd.merge,
            left,
            right,
            how=how,
            on=on,
            left_on=left_on,  # type: ignore[no-any-return]
            right_on=right_on,
            left_index=left_index,
            right_index=right_index,
            sort=sort,
            suffixes=suffixes,
            indicator=indicator,
            validate=validate,
            **kwargs,
        )
    plan = Join(
        left._plan,
        right._plan,
        how,
        _opt_labels(on),
        _opt_labels(left_on),
        _opt_labels(right_on),
        left_index,
        right_index,
        tuple(suffixes),
        sort,
        indicator,
        validate,
    )
    return left._derive(plan)


def concat(
    objs: Any,
    *,
    axis: Any = 0,
    join: str = "outer",
    ignore_index: bool = False,
    sort: Any = no_default,
    **kwargs: Any,
) -> Any:
    """Stack DataFrames or Series (``pandas.concat``).

    Examples
    --------
    >>> import litsdf as pd
    >>> a = pd.DataFrame({"x": [1]})
    >>> len(pd.concat([a, a], ignore_index=True))
    2
    """
    if isinstance(objs, (DataFrame, Series, pd.DataFrame, pd.Series, str)):
        return fallback(
            "concat",
            pd.concat,
            objs,
            axis=axis,
            join=join,
            ignore_index=ignore_index,
            sort=sort,
            **kwargs,
        )
    items = list(objs.values()) if isinstance(objs, dict) else list(objs)
    ax = {"index": 0, "rows": 0, "columns": 1}.get(axis, axis)
    items = [DataFrame(o) if isinstance(o, pd.DataFrame) else o for o in items]
    items = [Series(o) if isinstance(o, pd.Series) else o for o in items]
    if (
        isinstance(objs, dict)
        or kwargs
        or ax not in (0, 1)
        or not items
        or not all(isinstance(o, (DataFrame, Series)) for o in items)
        or not isinstance(sort, (bool, type(no_default)))
    ):
        return fallback(
            "concat",
            pd.concat,
            objs if isinstance(objs, dict) else items,
            axis=axis,
            join=join,
            ignore_index=ignore_index,
            sort=sort,
            **kwargs,
        )
    if all(isinstance(o, Series) for o in items) and ax == 0:
        names = {o.name for o in items}
        framed = tuple(Project(o._rel, ((SERIES, o._expr),)) for o in items)
        name = items[0].name if len(names) == 1 else None
        node = Concat(framed, 0, join, ignore_index, sort)
        meta_of(node)
        return Series._from_relation(node, name)
    if all(isinstance(o, DataFrame) or o.name is not None for o in items):
        # a named Series among frames (or along columns) concatenates as its ``to_frame()``
        plans = tuple(
            o._plan if isinstance(o, DataFrame) else Project(o._rel, ((o.name, o._expr),))
            for o in items
        )
        return DataFrame._from_plan(plans[0])._derive(Concat(plans, ax, join, ignore_index, sort))
    return fallback(
        "concat",
        pd.concat,
        items,
        axis=axis,
        join=join,
        ignore_index=ignore_index,
        sort=sort,
        **kwargs,
    )
