"""The ``.str`` and ``.dt`` accessors of :class:`litsdf.Series` (traced), and the accessor
namespaces litsdf does not trace (``.cat``, ``.plot``, ``.sparse``, ...), run in pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.api.extensions import no_default

from litsdf_compiler.ir import strings as st
from litsdf_compiler.ir import temporal as tm
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.expressions import Expr

if TYPE_CHECKING:
    from .series import Series

__all__ = ["StringMethods", "DatetimeMethods", "PandasAccessor"]


class _Accessor:
    __slots__ = ("_s",)
    _kind = ""

    def __init__(self, s: Series) -> None:
        self._s = s
        # pandas raises AttributeError for a wrong dtype when the accessor is taken
        getattr(s._meta, self._kind)

    def _node(self, node: Expr) -> Series:
        return self._s._with(node)

    def _generic(self, name: str, node_cls: Any) -> Any:
        """``name(*args, **kwargs)`` traced as ``node_cls`` (untraceable arguments fall back)."""

        def method(*args: Any, **kwargs: Any) -> Any:
            from .frame import DataFrame
            from .series import Series

            if any(
                isinstance(a, (Series, DataFrame, pd.Series, pd.DataFrame, pd.Index))
                for a in (*args, *kwargs.values())
            ):
                return self._fallback(name, *args, **kwargs)
            try:
                frozen_args = tuple(freeze(a) for a in args)
                frozen_kwargs = tuple((k, freeze(v)) for k, v in kwargs.items())
                hash((frozen_args, frozen_kwargs))
            except TypeError:
                return self._fallback(name, *args, **kwargs)
            return self._node(node_cls(self._s._expr, name, frozen_args, frozen_kwargs))

        method.__name__ = name
        return method

    def _fallback(self, name: str, *args: Any, **kwargs: Any) -> Any:
        from ._core import fallback

        kind = self._kind
        return fallback(
            f"Series.{kind}.{name}",
            lambda s, *a, **k: getattr(getattr(s, kind), name)(*a, **k),
            self._s,
            *args,
            **kwargs,
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(getattr(self._s._meta, self._kind), name)  # AttributeError as pandas
        if callable(attr):
            return lambda *a, **k: self._fallback(name, *a, **k)
        from ._core import _note_fallback, wrap

        _note_fallback(f"Series.{self._kind}.{name}")
        return wrap(getattr(getattr(self._s.to_pandas(), self._kind), name))


class StringMethods(_Accessor):
    """Vectorized string methods traced into the plan (``Series.str``)."""

    __slots__ = ()
    _kind = "str"

    def __getattr__(self, name: str) -> Any:
        if name in st.STR_METHODS:
            return self._generic(name, st.StrMethod)
        return super().__getattr__(name)

    def _case(self, how: str) -> Series:
        return self._node(st.StrCase(self._s._expr, how))

    def lower(self) -> Series:
        """Lowercase."""
        return self._case("lower")

    def upper(self) -> Series:
        """Uppercase."""
        return self._case("upper")

    def title(self) -> Series:
        """Titlecase."""
        return self._case("title")

    def capitalize(self) -> Series:
        """First character upper, the rest lower."""
        return self._case("capitalize")

    def swapcase(self) -> Series:
        """Swap case."""
        return self._case("swapcase")

    def casefold(self) -> Series:
        """Casefold."""
        return self._case("casefold")

    def strip(self, to_strip: str | None = None) -> Series:
        """Remove leading and trailing characters (whitespace by default)."""
        return self._node(st.StrStrip(self._s._expr, "both", to_strip))

    def lstrip(self, to_strip: str | None = None) -> Series:
        """Remove leading characters."""
        return self._node(st.StrStrip(self._s._expr, "left", to_strip))

    def rstrip(self, to_strip: str | None = None) -> Series:
        """Remove trailing characters."""
        return self._node(st.StrStrip(self._s._expr, "right", to_strip))

    def len(self) -> Series:
        """Length of each string (or list, after ``split``)."""
        return self._node(st.StrLen(self._s._expr))

    def contains(
        self, pat: Any, case: bool = True, flags: int = 0, na: Any = no_default, regex: bool = True
    ) -> Series:
        """Whether each string contains ``pat`` (a regex unless ``regex=False``)."""
        if not isinstance(pat, str):
            return self._fallback("contains", pat, case=case, flags=flags, na=na, regex=regex)
        return self._node(st.StrContains(self._s._expr, pat, case, int(flags), na, regex))

    def startswith(self, pat: Any, na: Any = no_default) -> Series:
        """Whether each string starts with ``pat`` (a string or tuple of strings)."""
        if not isinstance(pat, (str, tuple)):
            return self._fallback("startswith", pat, na=na)
        return self._node(st.StrStartsWith(self._s._expr, pat, na))

    def endswith(self, pat: Any, na: Any = no_default) -> Series:
        """Whether each string ends with ``pat``."""
        if not isinstance(pat, (str, tuple)):
            return self._fallback("endswith", pat, na=na)
        return self._node(st.StrEndsWith(self._s._expr, pat, na))

    def replace(
        self,
        pat: Any,
        repl: Any,
        n: int = -1,
        case: bool | None = None,
        flags: int = 0,
        regex: bool = False,
    ) -> Series:
        """Replace occurrences of ``pat`` with ``repl`` (literal unless ``regex=True``)."""
        if not isinstance(pat, str) or not isinstance(repl, str):
            return self._fallback("replace", pat, repl, n=n, case=case, flags=flags, regex=regex)
        return self._node(st.StrReplace(self._s._expr, pat, repl, n, case, int(flags), regex))

    def slice(
        self, start: int | None = None, stop: int | None = None, step: int | None = None
    ) -> Series:
        """Substring by position."""
        return self._node(st.StrSlice(self._s._expr, start, stop, step))

    def __getitem__(self, key: Any) -> Series:
        if isinstance(key, slice):
            return self.slice(key.start, key.stop, key.step)
        if isinstance(key, int):
            return self.get(key)
        return self._fallback("__getitem__", key)

    def split(
        self,
        pat: str | None = None,
        *,
        n: int = -1,
        expand: bool = False,
        regex: bool | None = None,
    ) -> Any:
        """Split each string into a list (``expand=True`` falls back to pandas)."""
        if expand or (pat is not None and not isinstance(pat, str)):
            return self._fallback("split", pat, n=n, expand=expand, regex=regex)
        return self._node(st.StrSplit(self._s._expr, pat, n, regex))

    def get(self, i: int) -> Series:
        """The ``i``-th character or list element."""
        return self._node(st.StrGet(self._s._expr, int(i)))

    def cat(
        self,
        others: Any = None,
        sep: str | None = None,
        na_rep: str | None = None,
        join: str = "left",
    ) -> Any:
        """Concatenate with other columns; without ``others`` joins all values to one string."""
        from .series import Series

        if others is None:  # all values joined into one string: a scalar result
            from litsdf_compiler.ir.relations import ScalarResult

            from ._core import materialize

            reduce = ScalarResult(self._s._rel, st.StrCat(self._s._expr, (), sep, na_rep))
            return materialize(reduce)
        items = others if isinstance(others, (list, tuple)) else [others]
        if join != "left" or not all(
            isinstance(o, Series) and o._rel == self._s._rel for o in items
        ):
            return self._fallback("cat", others, sep=sep, na_rep=na_rep, join=join)
        node = st.StrCat(self._s._expr, tuple(o._expr for o in items), sep, na_rep)
        return Series._from_expr(self._s._rel, node, self._s._known(*items))


class DatetimeMethods(_Accessor):
    """Datetime properties traced into the plan (``Series.dt``)."""

    __slots__ = ()
    _kind = "dt"

    def __getattr__(self, name: str) -> Any:
        if name in tm.DT_FIELDS:
            getattr(self._s._meta.dt, name)  # AttributeError as pandas for wrong kinds
            return self._node(tm.DtField(self._s._expr, name))
        if name in tm.DT_METHODS:
            getattr(self._s._meta.dt, name)  # AttributeError as pandas for wrong kinds
            return self._generic(name, tm.DtMethod)
        return super().__getattr__(name)

    def normalize(self) -> Series:
        """Datetimes floored to midnight."""
        return self._node(tm.DtNormalize(self._s._expr))


class PandasAccessor:
    """A pandas accessor namespace that litsdf does not trace (``s.cat``, ``df.plot``,
    ``s.sparse``, ``s.list``, ``s.struct``, registered extension accessors): its attributes,
    its methods and the namespace itself when it is callable (``df.plot(...)``) run on the
    materialized pandas object through the fallback path (counted, warned or raised), and
    their results are litsdf objects again (a plot returns matplotlib's Axes)."""

    __slots__ = ("_name", "_obj")

    def __init__(self, obj: Any, name: str) -> None:
        self._obj, self._name = obj, name

    def _what(self, attr: str | None = None) -> str:
        where = f"{type(self._obj).__name__}.{self._name}"
        return where if attr is None else f"{where}.{attr}"

    def __getattr__(self, attr: str) -> Any:
        from ._core import fallback

        if attr.startswith("__"):
            raise AttributeError(attr)
        name = self._name
        # pandas' AttributeError for an unknown name; what is a method and what a property
        member = getattr(getattr(self._obj._meta, name), attr)
        if callable(member) and not isinstance(member, (pd.Series, pd.DataFrame, pd.Index)):

            def method(*args: Any, **kwargs: Any) -> Any:
                return fallback(
                    self._what(attr),
                    lambda o, *a, **k: getattr(getattr(o, name), attr)(*a, **k),
                    self._obj,
                    *args,
                    **kwargs,
                )

            method.__name__ = attr
            return method
        return fallback(self._what(attr), lambda o: getattr(getattr(o, name), attr), self._obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ._core import fallback

        name = self._name
        return fallback(
            self._what(), lambda o, *a, **k: getattr(o, name)(*a, **k), self._obj, *args, **kwargs
        )

    def __dir__(self) -> list[str]:
        return dir(getattr(self._obj._meta, self._name))

    def __repr__(self) -> str:
        return f"<litsdf {self._what()} accessor (runs in pandas)>"
