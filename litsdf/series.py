"""``litsdf.Series``: a handle on a relation plus a row-wise expression evaluated on it."""

from __future__ import annotations

import contextlib
import copy
import functools
import warnings
from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import udf
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.relations import (
    SERIES,
    Filter,
    Head,
    Project,
    Relation,
    ScalarResult,
    Slice,
    Tail,
)
from litsdf_compiler.meta import expr_meta

from . import _core
from ._core import is_scalar, materialize
from ._series_rel import SeriesRelMethods
from .accessors import DatetimeMethods, StringMethods

__all__ = ["Series"]

_REDUCTIONS = (*ex.COLUMN_REDUCTIONS, "idxmax", "idxmin")


def _is_udf(func: Any) -> bool:
    """A Python function (or callable object) to call per value, not a mapping or a Series."""
    return callable(func) and not isinstance(func, (Series, pd.Series, pd.Index, dict))


def _binop(op: str, reverse: bool = False) -> Any:
    def method(self: Series, other: Any) -> Any:
        return self._binary(op, other, reverse)

    method.__name__ = f"__{'r' if reverse else ''}{op}__"
    return method


_NO_DEFAULT: Any = pd.api.extensions.no_default


def _default_axis(kwargs: dict[str, Any]) -> bool:
    """Whether ``kwargs`` only holds default ``axis``/``level`` (row-wise as traced); pops them."""
    if kwargs.get("axis") in (None, 0, "index") and kwargs.get("level") is None:
        kwargs.pop("axis", None)
        kwargs.pop("level", None)
    return not kwargs


def _inplace_aware(method: Any) -> Any:
    """Give ``method`` pandas' ``inplace=True`` form: rebind the handle to the result and
    return it (pandas >= 3.1 returns the object itself)."""

    @functools.wraps(method)
    def wrapper(self: Series, *args: Any, inplace: Any = False, **kwargs: Any) -> Any:
        if inplace is False or inplace is _NO_DEFAULT:
            return method(self, *args, **kwargs)
        if inplace is not True:  # pandas' ValueError for a non-bool
            return self._fallback(method.__name__, *args, inplace=inplace, **kwargs)
        if method.__name__ == "rename":
            warnings.warn(
                "The inplace keyword in Series.rename is deprecated and will be removed in a "
                "future version (PDEP-8).",
                pd.errors.Pandas4Warning,
                stacklevel=2,
            )
        if method.__name__ == "rename":  # only renames: no values change
            self._assign(method(self, *args, **kwargs))
            return self
        lifted = [self._lift(a) for a in args]
        kwlifted = {k: self._lift(v) for k, v in kwargs.items()}
        pos = [e for e in lifted if e is not None]
        kw = {k: e for k, e in kwlifted.items() if e is not None}
        if len(pos) < len(lifted) or len(kw) < len(kwlifted):
            return self._fallback(method.__name__, *args, inplace=True, **kwargs)
        node = ex.InplaceCall(
            self._expr, method.__name__, tuple(pos), tuple(kw), tuple(kw.values())
        )
        self._assign(Series._from_expr(self._rel, node, self._known(*args, *kwargs.values())))
        return self

    return wrapper


class Series(SeriesRelMethods):
    """A pandas-compatible Series whose values are computed lazily by a plan.

    Examples
    --------
    >>> import litsdf as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3]})
    >>> (df["a"] * 2).sum()
    np.int64(12)
    """

    __slots__ = ("__weakref__", "_expr", "_meta", "_rel", "_root")
    _rel: Relation
    _expr: ex.Expr
    _meta: pd.Series
    _root: Relation | None
    __array_priority__ = 1000

    def __init__(
        self,
        data: Any = None,
        index: Any = None,
        dtype: Any = None,
        name: Any = None,
        copy: bool | None = None,
    ) -> None:
        pdata = pd.Series(_core.unwrap(data), index=index, dtype=dtype, name=name, copy=copy)
        other = Series._from_pandas(pdata, "Series")
        self._rel, self._expr, self._meta, self._root = (other._rel, other._expr, other._meta, None)

    # construction ----------------------------------------------------------------------------
    @classmethod
    def _make(cls, rel: Relation, expr: ex.Expr, meta: pd.Series) -> Series:
        obj = cls.__new__(cls)
        obj._rel, obj._expr, obj._meta, obj._root = rel, expr, meta, None
        return obj

    @classmethod
    def _from_expr(cls, rel: Relation, expr: ex.Expr, known: dict[ex.Expr, Any]) -> Series:
        from .frame import _frame_meta

        meta = expr_meta(expr, _frame_meta(rel), known)
        if not isinstance(meta, pd.Series):
            raise TypeError(f"expression {expr!r} is not a column expression")
        return cls._make(rel, expr, meta)

    @classmethod
    def _from_relation(cls, rel: Relation, name: Hashable) -> Series:
        """A Series whose values are the ``SERIES`` column of ``rel``, named ``name``."""
        return cls._from_expr(rel, ex.Alias(ex.Col(SERIES), name), {})

    @classmethod
    def _from_pandas(
        cls, s: pd.Series, origin: str = "Series", lineage: tuple[Relation, ...] = ()
    ) -> Series:
        src = _core.source(s.to_frame(SERIES), origin, lineage)
        return cls._from_relation(src, s.name)

    def _with(self, expr: ex.Expr) -> Series:
        return Series._from_expr(self._rel, expr, {self._expr: self._meta})

    def _lift(self, other: Any) -> ex.Expr | None:
        """``other`` as an expression on this Series' relation, or None if it needs alignment."""
        if isinstance(other, Series):
            return other._expr if other._rel == self._rel else None
        if is_scalar(other):
            return ex.Lit(other)
        return None

    def _known(self, *others: Any) -> dict[ex.Expr, Any]:
        known = {self._expr: self._meta}
        for o in others:
            if isinstance(o, Series):
                known[o._expr] = o._meta
        return known

    def _fallback(self, what: str, *args: Any, **kwargs: Any) -> Any:
        """pandas' ``what`` method through the fallback path (a mutating call, e.g. with
        ``inplace=True`` or ``update``, writes its result back into this handle)."""
        return _core.call_method(self, "Series", what, *args, **kwargs)

    def _write_back(self, s: pd.Series, origin: str, lineage: tuple[Relation, ...]) -> None:
        """Rebind this handle to the pandas Series ``s`` (the result of an in-place call)."""
        self._assign(Series._from_pandas(s, origin, lineage))

    def _set_attribute(self, name: str, value: Any) -> None:
        """``pandas_s.<name> = value`` on a copy, written back (``index``, ``attrs``)."""
        _core.fallback_inplace(f"Series.{name}=", self, lambda s, v: setattr(s, name, v), value)

    # materialization -------------------------------------------------------------------------
    @property
    def _plan(self) -> Relation:
        root = self._root
        if root is None:
            root = self._root = Project(self._rel, ((SERIES, self._expr),))
        return root

    def to_pandas(self) -> pd.Series:
        """Execute the plan and return a real ``pandas.Series``."""
        s = materialize(self._plan)[SERIES].rename(self._meta.name).copy(deep=False)
        attrs = self._frame_attrs()
        if attrs:
            s.attrs = copy.deepcopy(attrs)
        return s

    def collect(self, backend: str | None = None) -> Series:
        """Execute now (optionally on ``backend``) and return a Series backed by the result."""
        from ._config import option_context

        with option_context(backend=backend or _core.options.backend):
            return Series._from_pandas(self.to_pandas(), "collected Series")

    def explain(self, stage: str | None = None, format: str = "text") -> Any:
        """The plan that computes this Series; see :meth:`litsdf.DataFrame.explain`."""
        from .explain import explain

        return explain(self._plan, stage=stage, format=format)

    def __repr__(self) -> str:
        return repr(self.to_pandas())

    def _repr_html_(self) -> str | None:
        fn = getattr(self.to_pandas(), "_repr_html_", None)
        return fn() if fn else None

    def __len__(self) -> int:
        return len(self.to_pandas())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_pandas())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.to_pandas(), dtype=dtype)

    def __bool__(self) -> bool:
        raise ValueError(
            "The truth value of a Series is ambiguous. Use a.empty, a.bool(), a.item(), "
            "a.any() or a.all()."
        )

    def __contains__(self, key: Any) -> bool:
        return key in self.to_pandas()

    def to_numpy(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Execute and return the values as a NumPy array (``pandas.Series.to_numpy``)."""
        return self.to_pandas().to_numpy(*args, **kwargs)

    @property
    def values(self) -> Any:
        return self.to_pandas().values

    def tolist(self) -> list[Any]:
        """Execute and return the values as a list."""
        return self.to_pandas().tolist()

    to_list = tolist

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        """Execute and return ``{index: value}``."""
        return self.to_pandas().to_dict(*args, **kwargs)

    def unique(self) -> Any:
        """Execute and return the unique values (``pandas.Series.unique``)."""
        return self.to_pandas().unique()

    @property
    def name(self) -> Hashable:
        return self._meta.name

    @name.setter
    def name(self, value: Hashable) -> None:
        if not pd.api.types.is_hashable(value):
            raise TypeError("Series.name must be a hashable type")
        self._assign(self.rename(value))

    @property
    def ndim(self) -> int:
        return 1

    def _assign(self, other: Series) -> None:
        """Rebind this handle to ``other``'s plan (the in-place forms of methods)."""
        self._rel, self._expr, self._meta, self._root = (
            other._rel,
            other._expr,
            other._meta,
            other._root,
        )

    @property
    def dtype(self) -> Any:
        return self.to_pandas().dtype

    dtypes = dtype

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def size(self) -> int:
        return len(self)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    @property
    def index(self) -> pd.Index:
        """The labels (setting their ``name``/``names`` changes this Series)."""
        return _core.lend(self, "index.names", self.to_pandas().index, _core.set_names("index"))

    @index.setter
    def index(self, value: Any) -> None:
        self._set_attribute("index", value)

    @property
    def attrs(self) -> dict[Hashable, Any]:
        """pandas' ``attrs`` dict (changes to it land in this Series)."""
        attrs = copy.deepcopy(self._frame_attrs())
        return _core.lend(self, "attrs", attrs, _core.set_attrs)  # type: ignore[no-any-return]

    @attrs.setter
    def attrs(self, value: Any) -> None:
        self._set_attribute("attrs", value)

    def _frame_attrs(self) -> dict[Hashable, Any]:
        """The ``attrs`` of the relation the values are computed on (pandas propagates a
        frame's attrs to its columns and to what is computed from them; the relation's
        metadata is computed by pandas, while an expression's is memoized by schema)."""
        from .frame import _frame_meta

        return _frame_meta(self._rel).attrs

    @property
    def dt(self) -> DatetimeMethods:
        return DatetimeMethods(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or not hasattr(pd.Series, name):
            raise AttributeError(f"'Series' object has no attribute {name!r}")
        if _core.is_accessor(pd.Series, name):  # .cat, .plot, .sparse, ...: pandas' namespace
            from .accessors import PandasAccessor

            getattr(self._meta, name)  # pandas' AttributeError for the wrong dtype
            return PandasAccessor(self, name)
        attr = getattr(pd.Series, name)
        if callable(attr):
            return lambda *a, **k: self._fallback(name, *a, **k)
        _core._note_fallback(f"Series.{name}")
        return _core.wrap(getattr(self.to_pandas(), name), f"fallback Series.{name}")

    # operators ---------------------------------------------------------------------------------
    def _binary(self, op: str, other: Any, reverse: bool = False) -> Any:
        rhs = self._lift(other)
        if rhs is None:
            method = f"__{'r' if reverse else ''}{op}__"
            return self._fallback(method, other)
        left, right = (rhs, self._expr) if reverse else (self._expr, rhs)
        try:
            return Series._from_expr(self._rel, ex.BinaryOp(op, left, right), self._known(other))
        except OverflowError:  # (on the metadata's dtype; the values' may differ: pandas')
            return self._fallback(f"__{'r' if reverse else ''}{op}__", other)

    __add__, __radd__ = _binop("add"), _binop("add", True)
    __sub__, __rsub__ = _binop("sub"), _binop("sub", True)
    __mul__, __rmul__ = _binop("mul"), _binop("mul", True)
    __truediv__, __rtruediv__ = _binop("truediv"), _binop("truediv", True)
    __floordiv__, __rfloordiv__ = _binop("floordiv"), _binop("floordiv", True)
    __mod__, __rmod__ = _binop("mod"), _binop("mod", True)
    __pow__, __rpow__ = _binop("pow"), _binop("pow", True)
    __and__, __rand__ = _binop("and"), _binop("and", True)
    __or__, __ror__ = _binop("or"), _binop("or", True)
    __xor__, __rxor__ = _binop("xor"), _binop("xor", True)
    __eq__ = _binop("eq")  # type: ignore[assignment]
    __ne__ = _binop("ne")  # type: ignore[assignment]
    __lt__, __le__ = _binop("lt"), _binop("le")
    __gt__, __ge__ = _binop("gt"), _binop("ge")
    __hash__ = None  # type: ignore[assignment]

    def __divmod__(self, other: Any) -> tuple[Series, Series]:
        return self // other, self % other

    def __rdivmod__(self, other: Any) -> tuple[Series, Series]:
        return other // self, other % self

    def __matmul__(self, other: Any) -> Any:
        return self._fallback("__matmul__", other)

    def __rmatmul__(self, other: Any) -> Any:
        return self._fallback("__rmatmul__", other)

    def divmod(self, other: Any, level: Any = None, fill_value: Any = None, axis: Any = 0) -> Any:
        """``(self // other, self % other)``."""
        if level is None and fill_value is None and axis in (0, "index"):
            return divmod(self, other)
        return self._fallback("divmod", other, level=level, fill_value=fill_value, axis=axis)

    def _unary(self, op: str) -> Series:
        return self._with(ex.UnaryOp(op, self._expr))

    def __neg__(self) -> Series:
        return self._unary("neg")

    def __pos__(self) -> Series:
        return self._unary("pos")

    def __invert__(self) -> Series:
        return self._unary("invert")

    def __abs__(self) -> Series:
        return self._unary("abs")

    def abs(self) -> Series:
        """Elementwise absolute value."""
        return self._unary("abs")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        exprs = [self._lift(x) for x in inputs]
        if method == "__call__" and not kwargs and ufunc.nout == 1 and None not in exprs:
            node = ex.Ufunc(ufunc.__name__, tuple(e for e in exprs if e is not None))
            return Series._from_expr(self._rel, node, self._known(*inputs))
        _core._note_fallback(f"numpy.{ufunc.__name__} on a Series")
        args = _core.unwrap(list(inputs))
        return _core.wrap(getattr(ufunc, method)(*args, **kwargs), f"fallback {ufunc.__name__}")

    # selection -------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Series) and key._rel == self._rel:
            return Series._make(Filter(self._rel, key._expr), self._expr, self._meta)
        if isinstance(key, slice) and all(
            v is None or isinstance(v, int) for v in (key.start, key.stop, key.step)
        ):
            return self.iloc_slice(key)
        return self._fallback("__getitem__", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._fallback("__setitem__", key, value)

    def __delitem__(self, key: Any) -> None:
        self._fallback("__delitem__", key)

    def iloc_slice(self, key: slice) -> Series:
        """``self.iloc[start:stop:step]`` as a plan node."""
        return Series._make(Slice(self._rel, key.start, key.stop, key.step), self._expr, self._meta)

    def head(self, n: int = 5) -> Series:
        """The first ``n`` values."""
        return Series._make(Head(self._rel, n), self._expr, self._meta)

    def tail(self, n: int = 5) -> Series:
        """The last ``n`` values."""
        return Series._make(Tail(self._rel, n), self._expr, self._meta)

    @property
    def iloc(self) -> Any:
        from .indexing import SeriesILoc

        return SeriesILoc(self)

    @property
    def loc(self) -> Any:
        from .indexing import SeriesLoc

        return SeriesLoc(self)

    @property
    def at(self) -> Any:
        from .indexing import SeriesAt

        return SeriesAt(self)

    @property
    def iat(self) -> Any:
        from .indexing import SeriesIAt

        return SeriesIAt(self)

    # elementwise methods ---------------------------------------------------------------------
    @_inplace_aware
    def rename(self, index: Any = None, **kwargs: Any) -> Series:
        """Set the Series name (a scalar ``index``); mappings fall back to pandas."""
        if kwargs or callable(index) or pd.api.types.is_dict_like(index):
            return self._fallback("rename", index, **kwargs)
        return self._with(ex.Alias(self._expr, index))

    def _elementwise(self, what: str, node_fn: Any, args: tuple[Any, ...]) -> Any:
        lifted = [self._lift(a) for a in args]
        if any(v is None for v in lifted):
            return None
        node = node_fn(*lifted)
        return Series._from_expr(self._rel, node, self._known(*args))

    @_inplace_aware
    def fillna(self, value: Any = pd.api.extensions.no_default, **kwargs: Any) -> Series:
        """Replace missing values with ``value`` (a scalar or a Series of the same frame)."""
        if value is pd.api.extensions.no_default:  # pandas' TypeError: value is required
            return self._fallback("fillna", **kwargs)
        if _default_axis(kwargs) and value is not None:
            out = self._elementwise("fillna", lambda v: ex.FillNa(self._expr, v), (value,))
            if out is not None:
                return out
        return self._fallback("fillna", value, **kwargs)

    def isna(self) -> Series:
        """Boolean mask of missing values."""
        return self._with(ex.IsNa(self._expr))

    isnull = isna

    def notna(self) -> Series:
        """Boolean mask of present values."""
        return self._with(ex.NotNa(self._expr))

    notnull = notna

    def astype(self, dtype: Any, copy: bool | None = None, errors: str = "raise") -> Series:
        """Cast to ``dtype``."""
        try:
            norm = _normalize_dtype(dtype)
        except TypeError:
            norm = None
        if norm is None or errors != "raise":
            return self._fallback("astype", dtype, errors=errors)
        return self._with(ex.Cast(self._expr, norm))

    def _where(self, cond: Any, other: Any, mask: bool) -> Series:
        from pandas.api.extensions import no_default

        if callable(cond):
            cond = cond(self)
        if callable(other):
            other = other(self)
        other_arg = ex.Lit(no_default) if other is no_default else self._lift(other)
        c = self._lift(cond)
        if c is None or other_arg is None or isinstance(cond, (bool, np.bool_)):
            return self._fallback("mask" if mask else "where", cond, other)
        node = ex.Where(self._expr, c, other_arg, mask)
        return Series._from_expr(self._rel, node, self._known(cond, other))

    @_inplace_aware
    def where(self, cond: Any, other: Any = _NO_DEFAULT, **kwargs: Any) -> Series:
        """Keep values where ``cond`` is true, else ``other`` (NaN by default)."""
        if not _default_axis(kwargs):
            return self._fallback("where", cond, other, **kwargs)
        return self._where(cond, other, False)

    @_inplace_aware
    def mask(self, cond: Any, other: Any = _NO_DEFAULT, **kwargs: Any) -> Series:
        """Replace values where ``cond`` is true with ``other`` (NaN by default)."""
        if not _default_axis(kwargs):
            return self._fallback("mask", cond, other, **kwargs)
        return self._where(cond, other, True)

    @_inplace_aware
    def clip(self, lower: Any = None, upper: Any = None, **kwargs: Any) -> Series:
        """Bound values to ``[lower, upper]``."""
        if _default_axis(kwargs):
            out = self._elementwise(
                "clip", lambda lo, hi: ex.Clip(self._expr, lo, hi), (lower, upper)
            )
            if out is not None:
                return out
        return self._fallback("clip", lower, upper, **kwargs)

    def round(self, decimals: int = 0, *args: Any, **kwargs: Any) -> Series:
        """Round to ``decimals`` places."""
        if (
            args
            or any(k != "out" or v is not None for k, v in kwargs.items())
            or not isinstance(decimals, (int, np.integer))
        ):
            pd.Series([0.5]).round(decimals, *args, **kwargs)  # pandas' error for the arguments
            return self._fallback("round", decimals, *args, **kwargs)
        return self._with(ex.Round(self._expr, int(decimals)))

    def __round__(self, ndigits: int = 0) -> Series:
        return self.round(ndigits)

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        """Boolean mask of ``left <= self <= right`` (bounds per ``inclusive``)."""
        if inclusive not in ("both", "neither", "left", "right"):
            raise ValueError(
                "Inclusive has to be either string of 'both','left', 'right', or 'neither'."
            )
        out = self._elementwise(
            "between", lambda lo, hi: ex.Between(self._expr, lo, hi, inclusive), (left, right)
        )
        return out if out is not None else self._fallback("between", left, right, inclusive)

    def isin(self, values: Any) -> Series:
        """Boolean mask of membership in ``values``."""
        if isinstance(values, (str, bytes)) or not pd.api.types.is_list_like(values):
            raise TypeError(
                "only list-like objects are allowed to be passed to isin(), you passed a "
                f"`{type(values).__name__}`"
            )
        if isinstance(values, (Series, pd.Series, pd.Index)) or pd.api.types.is_dict_like(values):
            return self._fallback("isin", values)
        try:
            vals = tuple(freeze(v) for v in values)
        except TypeError:
            return self._fallback("isin", values)
        return self._with(ex.IsIn(self._expr, vals))

    def map(self, arg: Any, na_action: str | None = None) -> Series:
        """Map values through a dict or a Python function (both traced into the plan).

        A function stays in the plan as a UDF node: compiled backends inline it (the ``rows``
        kernel) or compile it (``numba``); Series and dict subclasses fall back to pandas.

        Examples
        --------
        >>> import litsdf as pd
        >>> pd.Series([1, 2]).map(lambda x: x * 10).tolist()
        [10, 20]
        """
        if type(arg) is dict:
            try:
                pairs = tuple((freeze(k), freeze(v)) for k, v in arg.items())
            except TypeError:
                return self._fallback("map", arg, na_action)
            return self._with(ex.MapDict(self._expr, pairs, na_action))
        if _is_udf(arg) and na_action in (None, "ignore"):
            return self._udf(udf.MapFunc(self._expr, udf.PyFunc(arg), na_action))
        return self._fallback("map", arg, na_action)

    def apply(
        self,
        func: Any,
        convert_dtype: Any = _NO_DEFAULT,
        args: tuple[Any, ...] = (),
        *,
        by_row: Any = "compat",
        **kwargs: Any,
    ) -> Any:
        """``func`` on every element, traced as a UDF node (see :meth:`map`); ufuncs, names
        and lists of functions fall back to pandas."""
        if (
            _is_udf(func)
            and not isinstance(func, np.ufunc)
            and convert_dtype is _NO_DEFAULT
            and by_row == "compat"
            and isinstance(args, tuple)
        ):
            return self._udf(udf.MapFunc(self._expr, udf.PyFunc(func, args, kwargs), None, "apply"))
        if isinstance(func, np.ufunc) and not args and not kwargs and by_row == "compat":
            return func(self)  # pandas calls a ufunc on the whole Series: traced as one
        if convert_dtype is not _NO_DEFAULT:
            kwargs["convert_dtype"] = convert_dtype
        return self._fallback("apply", func, args=args, by_row=by_row, **kwargs)

    def _udf(self, expr: ex.Expr) -> Series:
        """A Series computed by a Python function: its dtype depends on what the function
        returns, so the metadata says ``object`` (which permits ``.str``; the real dtype is
        the one pandas infers from the values when the plan runs)."""
        out = self._with(expr)
        return Series._make(out._rel, out._expr, out._meta.astype(object))

    @_inplace_aware
    def replace(
        self,
        to_replace: Any = None,
        value: Any = pd.api.extensions.no_default,
        *,
        regex: bool = False,
        **kwargs: Any,
    ) -> Series:
        """Replace values (scalar, list or dict forms)."""
        try:
            tr, val = _tag(to_replace), _tag(value)
        except TypeError:
            return self._fallback("replace", to_replace, value, regex=regex, **kwargs)
        if kwargs:
            return self._fallback("replace", to_replace, value, regex=regex, **kwargs)
        return self._with(ex.Replace(self._expr, tr, val, bool(regex)))

    def copy(self, deep: bool = True) -> Series:
        """A new handle on the same (immutable) plan."""
        return Series._make(self._rel, self._expr, self._meta)

    # reductions --------------------------------------------------------------------------------
    def _reduce(self, func: str, kwargs: dict[str, Any]) -> Any:
        try:
            frozen = tuple(sorted((k, freeze(v)) for k, v in kwargs.items()))
        except TypeError:
            return self._fallback(func, **kwargs)
        # pandas validates the arguments (and dtypes) on the empty meta; an error there may be
        # spurious (idxmax of nothing): running on the real data raises pandas' own error
        with contextlib.suppress(Exception):
            getattr(self._meta, func)(**kwargs)
        plan = ScalarResult(self._rel, ex.Reduce(func, self._expr, frozen))
        return materialize(plan)

    def agg(self, func: Any = None, axis: Any = 0, *args: Any, **kwargs: Any) -> Any:
        """``func`` by name (a reduction) is traced; other forms fall back to pandas."""
        if isinstance(func, str) and func in _REDUCTIONS and axis in (0, "index") and not args:
            return self._reduce(func, kwargs)
        return self._fallback("agg", func, axis, *args, **kwargs)

    aggregate = agg

    def quantile(self, q: Any = 0.5, interpolation: str = "linear") -> Any:
        """The ``q``-th quantile (a scalar ``q`` is traced; a list of them falls back)."""
        if is_scalar(q) and not isinstance(q, str):
            return self._reduce("quantile", {"q": q, "interpolation": interpolation})
        return self._fallback("quantile", q, interpolation=interpolation)


def _named_binop(name: str, op: str, reverse: bool = False) -> Any:
    def method(
        self: Series, other: Any, level: Any = None, fill_value: Any = None, axis: Any = 0
    ) -> Any:
        if level is None and fill_value is None and axis in (0, "index"):
            return self._binary(op, other, reverse)
        return self._fallback(name, other, level=level, fill_value=fill_value, axis=axis)

    method.__name__ = name
    method.__doc__ = f"``pandas.Series.{name}``: elementwise ``{op}``" + (
        " with the operands reversed." if reverse else "."
    )
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(Series, _op, _named_binop(_op, _op))
    setattr(Series, f"r{_op}", _named_binop(f"r{_op}", _op, True))
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Series, _op, _named_binop(_op, _op))
Series.div = Series.divide = Series.truediv  # type: ignore[attr-defined]
Series.rdiv = Series.rtruediv  # type: ignore[attr-defined]
Series.subtract = Series.sub  # type: ignore[attr-defined]
Series.multiply = Series.mul  # type: ignore[attr-defined]


def _reduction(func: str) -> Any:
    def method(self: Series, *args: Any, **kwargs: Any) -> Any:
        if args:
            return self._fallback(func, *args, **kwargs)
        return self._reduce(func, kwargs)

    method.__name__ = func
    method.__doc__ = f"``pandas.Series.{func}``: executes the plan and returns a scalar."
    return method


for _f in _REDUCTIONS:
    setattr(Series, _f, _reduction(_f))


def _tag(value: Any) -> tuple[str, Any]:
    if value is pd.api.extensions.no_default:
        return ("default", None)
    if isinstance(value, dict):
        return ("dict", freeze(value))
    if isinstance(value, list):
        return ("list", freeze(value))
    if is_scalar(value):
        return ("scalar", value)
    raise TypeError("unsupported replace argument")


def _normalize_dtype(dtype: Any) -> Any:
    """A hashable dtype for ``astype``: pandas' parsed dtype, or the string for ``"str"``."""
    if isinstance(dtype, dict):
        raise TypeError("dict dtype")
    if dtype is str or dtype == "str":
        return "str"
    return pd.api.types.pandas_dtype(dtype)


for _slot in ("_rel", "_expr", "_meta", "_root"):  # reads first write back lent changes
    setattr(Series, _slot, _core.LentSlot(Series.__dict__[_slot]))


def _str_accessor(self: Series) -> StringMethods:
    return StringMethods(self)


# Set after the class body so the builtin ``str`` stays usable in the class's annotations.
Series.str = property(_str_accessor, doc="Vectorized string methods (``Series.str``).")  # type: ignore[attr-defined]
