"""String expression nodes (the ``.str`` accessor)."""

from __future__ import annotations

from typing import Any

from pandas.api.extensions import no_default

from .base import node
from .expressions import Expr

__all__ = [
    "StrCase",
    "StrStrip",
    "StrLen",
    "StrContains",
    "StrStartsWith",
    "StrEndsWith",
    "StrReplace",
    "StrSlice",
    "StrSplit",
    "StrGet",
    "StrCat",
    "STR_CASES",
    "StrMethod",
    "STR_METHODS",
]

STR_CASES = frozenset({"lower", "upper", "title", "capitalize", "swapcase", "casefold"})


@node
class StrCase(Expr):
    """``input.str.<how>()`` for a case conversion (lower, upper, title, ...)."""

    input: Expr
    how: str


@node
class StrStrip(Expr):
    """``input.str.strip/lstrip/rstrip(to_strip)``; ``side`` is "both", "left" or "right"."""

    input: Expr
    side: str = "both"
    to_strip: str | None = None


@node
class StrLen(Expr):
    """``input.str.len()`` (also the length of list elements after ``split``)."""

    input: Expr


@node
class StrContains(Expr):
    """``input.str.contains(pat, case, flags, na, regex)``."""

    input: Expr
    pat: str
    case: bool = True
    flags: int = 0
    na: Any = no_default
    regex: bool = True


@node
class StrStartsWith(Expr):
    """``input.str.startswith(pat, na)``; ``pat`` a string or a tuple of strings."""

    input: Expr
    pat: str | tuple[str, ...]
    na: Any = no_default


@node
class StrEndsWith(Expr):
    """``input.str.endswith(pat, na)``."""

    input: Expr
    pat: str | tuple[str, ...]
    na: Any = no_default


@node
class StrReplace(Expr):
    """``input.str.replace(pat, repl, n, case, flags, regex)``."""

    input: Expr
    pat: str
    repl: str
    n: int = -1
    case: bool | None = None
    flags: int = 0
    regex: bool = False


@node
class StrSlice(Expr):
    """``input.str.slice(start, stop, step)`` (also ``input.str[start:stop:step]``)."""

    input: Expr
    start: int | None = None
    stop: int | None = None
    step: int | None = None


@node
class StrSplit(Expr):
    """``input.str.split(pat, n=n, regex=regex)`` giving a list per row."""

    input: Expr
    pat: str | None = None
    n: int = -1
    regex: bool | None = None


@node
class StrGet(Expr):
    """``input.str.get(i)``: the i-th character or list element."""

    input: Expr
    i: int


@node
class StrCat(Expr):
    """``input.str.cat(others, sep, na_rep)`` with one or more other columns (row-wise).

    With no ``others`` it is the reduction ``input.str.cat(sep=sep, na_rep=na_rep)`` (all
    values joined into one string) and appears only at the root of a ``ScalarResult``.
    """

    input: Expr
    others: tuple[Expr, ...]
    sep: str | None = None
    na_rep: str | None = None


STR_METHODS = frozenset(
    {
        "zfill",
        "pad",
        "center",
        "ljust",
        "rjust",
        "count",
        "find",
        "rfind",
        "repeat",
        "isalpha",
        "isdigit",
        "isnumeric",
        "isalnum",
        "isspace",
        "islower",
        "isupper",
        "istitle",
        "isdecimal",
        "match",
        "fullmatch",
        "removeprefix",
        "removesuffix",
        "slice_replace",
        "normalize",
    }
)
"""Row-wise ``.str`` methods traced generically by :class:`StrMethod`."""


@node
class StrMethod(Expr):
    """``input.str.<method>(*args, **kwargs)`` for one of ``STR_METHODS`` (row-wise)."""

    input: Expr
    method: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
