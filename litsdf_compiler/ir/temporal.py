"""Datetime expression nodes (the ``.dt`` accessor).

Arithmetic with ``Timedelta`` literals is an ordinary :class:`~.expressions.BinaryOp`.
"""

from __future__ import annotations

from .base import node
from .expressions import Expr

__all__ = ["DtField", "DT_FIELDS", "DtNormalize"]

DT_FIELDS = frozenset(
    "year month day hour minute second microsecond nanosecond day_of_week dayofweek weekday "
    "day_of_year dayofyear quarter days_in_month is_month_start is_month_end date time "
    "days seconds".split()
)


@node
class DtField(Expr):
    """``input.dt.<field>``: a calendar component of a datetime (or timedelta) column."""

    input: Expr
    field: str


@node
class DtNormalize(Expr):
    """``input.dt.normalize()``: the datetime floored to midnight."""

    input: Expr
