"""Datetime expression nodes (the ``.dt`` accessor).

Arithmetic with ``Timedelta`` literals is an ordinary :class:`~.expressions.BinaryOp`.
"""

from __future__ import annotations

from typing import Any

from .base import node
from .expressions import Expr

__all__ = ["DtField", "DT_FIELDS", "DT_ALIASES", "DtNormalize", "DtMethod", "DT_METHODS"]

DT_FIELDS = frozenset(
    {
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "microsecond",
        "nanosecond",
        "day_of_week",
        "dayofweek",
        "weekday",
        "day_of_year",
        "dayofyear",
        "quarter",
        "days_in_month",
        "is_month_start",
        "is_month_end",
        "date",
        "time",
        "days",
        "seconds",
    }
)

DT_ALIASES = {"dayofweek": "day_of_week", "weekday": "day_of_week", "dayofyear": "day_of_year"}
"""Deprecated field names (pandas 3) and the equivalent field that kernels compute."""


@node
class DtField(Expr):
    """``input.dt.<field>``: a calendar component of a datetime (or timedelta) column."""

    input: Expr
    field: str


@node
class DtNormalize(Expr):
    """``input.dt.normalize()``: the datetime floored to midnight."""

    input: Expr


DT_METHODS = frozenset(
    {
        "floor",
        "ceil",
        "round",
        "strftime",
        "day_name",
        "month_name",
        "total_seconds",
        "tz_localize",
        "tz_convert",
        "as_unit",
    }
)
"""Row-wise ``.dt`` methods traced generically by :class:`DtMethod`."""


@node
class DtMethod(Expr):
    """``input.dt.<method>(*args, **kwargs)`` for one of ``DT_METHODS`` (row-wise)."""

    input: Expr
    method: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
