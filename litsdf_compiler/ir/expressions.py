"""Scalar expression nodes: column references, literals, arithmetic and elementwise methods.

Every expression is *row-wise*: its value for a row depends only on that row, so expressions
commute with filters, limits and sorts of the relation they are evaluated on. Reductions to a
single value (:class:`Reduce`) only appear at the root of a :class:`~.relations.ScalarResult`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from .base import Interned, Node, node

__all__ = [
    "Expr",
    "Col",
    "Lit",
    "Alias",
    "BinaryOp",
    "UnaryOp",
    "Ufunc",
    "FillNa",
    "IsNa",
    "NotNa",
    "Cast",
    "Where",
    "Clip",
    "Round",
    "Between",
    "IsIn",
    "MapDict",
    "Replace",
    "Reduce",
    "InplaceCall",
    "BINARY_OPS",
    "UNARY_OPS",
    "REDUCTIONS",
    "COLUMN_REDUCTIONS",
]

BINARY_OPS = frozenset(
    {
        "add",
        "sub",
        "mul",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "and",
        "or",
        "xor",
    }
)
"""Binary operators, named after Python's ``operator`` module."""

UNARY_OPS = frozenset({"neg", "pos", "invert", "abs"})

COLUMN_REDUCTIONS = (
    "sum",
    "mean",
    "min",
    "max",
    "count",
    "std",
    "var",
    "median",
    "nunique",
    "any",
    "all",
    "prod",
    "sem",
    "skew",
    "kurt",
)
"""Reductions that Series and DataFrame both offer (a DataFrame gives one per column)."""

REDUCTIONS = frozenset({*COLUMN_REDUCTIONS, "size", "idxmax", "idxmin", "quantile"})
"""Every ``Reduce.func`` a backend may meet."""


class Expr(Node, metaclass=Interned):
    """Base of expression nodes (interned: building an expression equal to a live one returns
    that one; see :class:`~.base.Interned`)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # unpickling and copying go through the constructor, so they intern too
        return (type(self), tuple(getattr(self, f) for f in self.__match_args__))


@node
class Col(Expr):
    """A column of the relation the expression is evaluated on: ``df["name"]``."""

    name: Hashable


@node
class Lit(Expr):
    """A scalar literal (Python, NumPy or pandas scalar; hashable)."""

    value: Any


@node
class Alias(Expr):
    """``input`` renamed: the Series name of the result is ``name``."""

    input: Expr
    name: Hashable


@node
class BinaryOp(Expr):
    """``left <op> right`` with pandas' alignment-free elementwise semantics."""

    op: str
    left: Expr
    right: Expr


@node
class UnaryOp(Expr):
    """``-x``, ``+x``, ``~x`` or ``abs(x)``."""

    op: str
    input: Expr


@node
class Ufunc(Expr):
    """A NumPy ufunc applied elementwise: ``np.<name>(*inputs)``."""

    name: str
    inputs: tuple[Expr, ...]


@node
class FillNa(Expr):
    """``input.fillna(value)``; ``value`` is a literal or another column."""

    input: Expr
    value: Expr


@node
class IsNa(Expr):
    """``input.isna()``."""

    input: Expr


@node
class NotNa(Expr):
    """``input.notna()``."""

    input: Expr


@node
class Cast(Expr):
    """``input.astype(dtype)``; ``dtype`` is a normalized dtype (hashable)."""

    input: Expr
    dtype: Any


@node
class Where(Expr):
    """``input.where(cond, other)``, or ``input.mask(cond, other)`` when ``mask``.

    ``other`` is ``Lit(pandas.api.extensions.no_default)`` when the caller gave none.
    """

    input: Expr
    cond: Expr
    other: Expr
    mask: bool = False


@node
class Clip(Expr):
    """``input.clip(lower, upper)``; a bound of ``Lit(None)`` is open."""

    input: Expr
    lower: Expr
    upper: Expr


@node
class Round(Expr):
    """``input.round(decimals)``."""

    input: Expr
    decimals: int = 0


@node
class Between(Expr):
    """``input.between(left, right, inclusive)``."""

    input: Expr
    left: Expr
    right: Expr
    inclusive: str = "both"


@node
class IsIn(Expr):
    """``input.isin(values)``."""

    input: Expr
    values: tuple[Any, ...]


@node
class MapDict(Expr):
    """``input.map(dict(mapping), na_action=na_action)``."""

    input: Expr
    mapping: tuple[tuple[Any, Any], ...]
    na_action: str | None = None


@node
class Replace(Expr):
    """``input.replace(to_replace, value, regex=regex)``.

    ``to_replace`` and ``value`` are tagged: ``("scalar", v)``, ``("list", (v, ...))`` or
    ``("dict", ((k, v), ...))``, so list/dict arguments survive hashing; ``("default", None)``
    is pandas' ``no_default`` (``value`` not given).
    """

    input: Expr
    to_replace: tuple[str, Any]
    value: tuple[str, Any]
    regex: bool = False


@node
class Reduce(Expr):
    """A reduction of ``input`` to one value: ``input.<func>(**kwargs)``."""

    func: str
    input: Expr
    kwargs: tuple[tuple[str, Any], ...] = ()


@node
class InplaceCall(Expr):
    """``input.<method>(*args, **dict(zip(kwnames, kwvalues)), inplace=True)`` on a copy.

    In-place pandas methods keep the dtype (pandas raises rather than upcast), unlike their
    ordinary forms, so they are their own node.
    """

    input: Expr
    method: str
    args: tuple[Expr, ...] = ()
    kwnames: tuple[str, ...] = ()
    kwvalues: tuple[Expr, ...] = ()
