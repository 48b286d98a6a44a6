"""``litsdf.DataFrame``: a pandas-compatible handle on a lazily executed plan."""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.ir import udf
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.frames import as_frame
from litsdf_compiler.meta import meta_of

from . import _core
from ._core import is_scalar, materialize
from ._frame_rows import RowMethods, _labels
from .series import Series

__all__ = ["DataFrame"]


def _frame_meta(plan: rel.Relation) -> pd.DataFrame:
    return as_frame(meta_of(plan))


class DataFrame(RowMethods):
    """A pandas-compatible DataFrame whose operations are recorded into a plan.

    Construct it like ``pandas.DataFrame`` (dict, list of dicts, NumPy array, pandas object);
    nothing runs until a value is needed (``repr``, ``len``, ``to_pandas()``, ...).

    Examples
    --------
    >>> import litsdf as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3], "b": [10.0, 20.0, 30.0]})
    >>> df["c"] = df["a"] * df["b"]
    >>> df[df["c"] > 15]["c"].tolist()
    [40.0, 90.0]
    """

    __slots__ = ("__weakref__", "_plan")

    def __init__(
        self,
        data: Any = None,
        index: Any = None,
        columns: Any = None,
        dtype: Any = None,
        copy: bool | None = None,
    ) -> None:
        if isinstance(data, DataFrame) and index is None and columns is None and dtype is None:
            object.__setattr__(self, "_plan", data._plan)
            return
        if isinstance(data, pd.DataFrame) and index is None and columns is None and (dtype is None):
            pdf = data.copy(deep=bool(copy))
        else:
            pdf = pd.DataFrame(
                _core.unwrap(data), index=index, columns=columns, dtype=dtype, copy=copy
            )
        object.__setattr__(self, "_plan", _core.source(pdf))

    @classmethod
    def _from_plan(cls, plan: rel.Relation) -> DataFrame:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_plan", plan)
        return obj

    def _ensure_schema(self) -> DataFrame:
        meta_of(self._plan)
        return self

    def _derive(self, plan: rel.Relation) -> DataFrame:
        meta_of(plan)  # infer the schema now: pandas raises its own errors here
        return DataFrame._from_plan(plan)

    def _set_plan(self, plan: rel.Relation) -> None:
        meta_of(plan)
        object.__setattr__(self, "_plan", plan)

    @property
    def _meta(self) -> pd.DataFrame:
        return _frame_meta(self._plan)

    def _fallback(self, what: str, *args: Any, **kwargs: Any) -> Any:
        """pandas' ``what`` method through the fallback path (a mutating call, e.g. with
        ``inplace=True``, writes its result back into this handle)."""
        return _core.call_method(self, "DataFrame", what, *args, **kwargs)

    def _fallback_inplace(self, what: str, *args: Any, **kwargs: Any) -> Any:
        """Run the mutating pandas method ``what`` on a copy and rebind this handle to it."""
        return _core.fallback_inplace(
            f"DataFrame.{what}", self, lambda d, *a, **k: getattr(d, what)(*a, **k), *args, **kwargs
        )

    def _set_attribute(self, name: str, value: Any) -> None:
        """``pandas_df.<name> = value`` on a copy, written back (``index``, ``attrs``, ...)."""
        _core.fallback_inplace(f"DataFrame.{name}=", self, lambda d, v: setattr(d, name, v), value)

    def _write_back(
        self, pdf: pd.DataFrame, origin: str, lineage: tuple[rel.Relation, ...]
    ) -> None:
        """Rebind this handle to the pandas frame ``pdf`` (the result of an in-place call)."""
        object.__setattr__(self, "_plan", _core.source(pdf, origin, lineage))

    # materialization ---------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """Execute the plan and return a real ``pandas.DataFrame``."""
        out = as_frame(materialize(self._plan)).copy(deep=False)
        attrs = self._meta.attrs  # pandas' own propagation, computed on the metadata
        if attrs:
            out.attrs = copy.deepcopy(attrs)
        return out

    def collect(self, backend: str | None = None) -> DataFrame:
        """Execute now, on ``backend`` if given, and return a DataFrame backed by the result.

        Examples
        --------
        >>> import litsdf as pd
        >>> pd.DataFrame({"a": [1]}).collect(backend="pandas").to_pandas().shape
        (1, 1)
        """
        from ._config import option_context

        with option_context(backend=backend or _core.options.backend):
            return DataFrame._from_plan(_core.source(self.to_pandas(), "collected DataFrame"))

    def explain(self, stage: str | None = None, format: str = "text") -> Any:
        """The plan, the backend that runs it and why, and the fallbacks in it.

        Parameters
        ----------
        stage : {None, "logical", "optimized", "physical", "backend", "fallbacks"}
            Only that part; all parts when None (``"physical"``: the lowered plan, each
            node with its schema, and the finalize step that builds pandas' object).
        format : {"text", "dict", "json"}
            Readable text, a dict for tools, or the versioned JSON form of the plan.
        """
        from .explain import explain

        return explain(self._plan, stage=stage, format=format)

    def __repr__(self) -> str:
        return repr(self.to_pandas())

    def _repr_html_(self) -> str | None:
        return self.to_pandas()._repr_html_()

    def __len__(self) -> int:
        return len(self.to_pandas())

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._meta.columns)

    def __contains__(self, key: Any) -> bool:
        return key in self._meta.columns

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.to_pandas(), dtype=dtype)

    def __bool__(self) -> bool:
        raise ValueError(
            "The truth value of a DataFrame is ambiguous. Use a.empty, a.bool(), a.item(), "
            "a.any() or a.all()."
        )

    __hash__ = None  # type: ignore[assignment]

    def to_numpy(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Execute and return the values as a NumPy array."""
        return self.to_pandas().to_numpy(*args, **kwargs)

    @property
    def values(self) -> np.ndarray:
        return self.to_pandas().values

    def to_dict(self, *args: Any, **kwargs: Any) -> Any:
        """Execute and return a dict (``pandas.DataFrame.to_dict``)."""
        return self.to_pandas().to_dict(*args, **kwargs)

    def to_csv(self, path_or_buf: Any = None, **kwargs: Any) -> Any:
        """Execute and write CSV (``pandas.DataFrame.to_csv``)."""
        return self.to_pandas().to_csv(path_or_buf, **kwargs)

    def to_parquet(self, path: Any = None, **kwargs: Any) -> Any:
        """Execute and write Parquet (``pandas.DataFrame.to_parquet``)."""
        return self.to_pandas().to_parquet(path, **kwargs)

    @property
    def columns(self) -> pd.Index:
        """The column labels (setting their ``name``/``names`` changes this frame)."""
        return _core.lend(
            self, "columns.names", self._meta.columns.copy(), _core.set_names("columns")
        )

    @columns.setter
    def columns(self, value: Any) -> None:
        if isinstance(value, pd.Index) and value.names != [None] * value.nlevels:
            self._set_attribute("columns", value)  # labels with names (or levels)
            return
        labels = list(value)
        width = len(self._meta.columns)
        if len(labels) != width:
            raise ValueError(
                f"Length mismatch: Expected axis has {width} elements, new values "
                f"have {len(labels)} elements"
            )
        if len(set(labels)) == len(labels) and self._meta.columns.is_unique:
            mapping = tuple(zip(self._meta.columns, labels, strict=True))
            self._set_plan(rel.Rename(self._plan, mapping))
        else:
            self._set_attribute("columns", labels)

    @property
    def dtypes(self) -> pd.Series:
        return self.to_pandas().dtypes

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), len(self._meta.columns))

    @property
    def size(self) -> int:
        return len(self) * len(self._meta.columns)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def empty(self) -> bool:
        return len(self) == 0 or len(self._meta.columns) == 0

    @property
    def index(self) -> pd.Index:
        """The row labels (setting their ``name``/``names`` changes this frame)."""
        return _core.lend(self, "index.names", self.to_pandas().index, _core.set_names("index"))

    @index.setter
    def index(self, value: Any) -> None:
        self._set_attribute("index", value)

    @property
    def attrs(self) -> dict[Hashable, Any]:
        """pandas' ``attrs`` dict (changes to it land in this frame)."""
        return _core.lend(self, "attrs", copy.deepcopy(self._meta.attrs), _core.set_attrs)  # type: ignore[no-any-return]

    @attrs.setter
    def attrs(self, value: Any) -> None:
        self._set_attribute("attrs", value)

    @property
    def at(self) -> Any:
        from .indexing import FrameAt

        return FrameAt(self)

    @property
    def iat(self) -> Any:
        from .indexing import FrameIAt

        return FrameIAt(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_plan":
            raise AttributeError(name)
        if _core.is_accessor(pd.DataFrame, name):  # .plot, .sparse: pandas' namespace
            from .accessors import PandasAccessor

            return PandasAccessor(self, name)
        if hasattr(pd.DataFrame, name):
            attr = getattr(pd.DataFrame, name)
            if callable(attr):
                return lambda *a, **k: self._fallback(name, *a, **k)
            _core._note_fallback(f"DataFrame.{name}")
            return _core.wrap(
                getattr(self.to_pandas(), name), f"fallback DataFrame.{name}", (self._plan,)
            )
        if name in self._meta.columns:
            return self[name]
        raise AttributeError(f"'DataFrame' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("columns", "index", "attrs"):
            object.__setattr__(self, name, value)
        elif not name.startswith("_") and name in self._meta.columns:
            self[name] = value
        else:
            raise AttributeError(
                f"litsdf.DataFrame has no attribute {name!r} to set; use df[{name!r}] = ..."
            )

    # selection -------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Series):
            if key._rel == self._plan:
                return self._derive(rel.Filter(self._plan, key._expr))
            return self._fallback("__getitem__", key)
        if isinstance(key, slice):
            if all(v is None or isinstance(v, int) for v in (key.start, key.stop, key.step)):
                return self._derive(rel.Slice(self._plan, key.start, key.stop, key.step))
            return self._fallback("__getitem__", key)
        if isinstance(key, (list, pd.Index, np.ndarray)):
            labels = list(key)
            if labels and all(isinstance(v, (bool, np.bool_)) for v in labels):
                return self._fallback("__getitem__", key)
            self._meta[labels]  # KeyError as pandas: "[...] not in index"
            if len(set(labels)) != len(labels) or not self._meta.columns.is_unique:
                return self._fallback("__getitem__", key)
            return self._derive(rel.Project(self._plan, tuple((c, ex.Col(c)) for c in labels)))
        if isinstance(key, DataFrame) or callable(key):
            if callable(key) and not isinstance(key, DataFrame):
                return self[key(self)]
            return self._fallback("__getitem__", key)
        meta = self._meta
        col = meta[key]  # KeyError(key) as pandas
        if isinstance(col, pd.DataFrame):
            return self._fallback("__getitem__", key)
        return Series._from_expr(self._plan, ex.Col(key), {ex.Col(key): col})

    def _expr_for(self, value: Any) -> ex.Expr | None:
        if isinstance(value, Series):
            return value._expr if value._rel == self._plan else None
        if is_scalar(value):
            return ex.Lit(value)
        return None

    def __setitem__(self, key: Any, value: Any) -> None:
        e = self._expr_for(value)
        if e is not None and is_scalar(key) and self._meta.columns.is_unique:
            self._set_plan(rel.WithColumns(self._plan, ((key, e),)))
            return
        self._fallback_inplace("__setitem__", key, value)

    def __delitem__(self, key: Any) -> None:
        self._set_plan(rel.Drop(self._plan, (key,)))

    def assign(self, **kwargs: Any) -> DataFrame:
        """New columns; callables get the frame so far (later ones see earlier ones)."""
        from litsdf_compiler.ir.base import walk

        out = self.copy()
        assigned: set[Hashable] = set()
        for k, v in kwargs.items():
            if callable(v):
                v = v(out)
            elif isinstance(v, Series) and v._rel == self._plan and out._plan != self._plan:
                # a column of this frame, computed before the assign: it is the same
                # expression on ``out`` (same rows) unless it reads a column assigned here
                used = {n.name for n in walk(v._expr) if isinstance(n, ex.Col)}
                if not used & assigned:
                    v = Series._make(out._plan, v._expr, v._meta)
            out[k] = v
            assigned.add(k)
        return out

    def apply(
        self,
        func: Any,
        axis: Any = 0,
        raw: bool = False,
        result_type: Any = None,
        args: tuple[Any, ...] = (),
        by_row: Any = "compat",
        engine: Any = None,
        engine_kwargs: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``df.apply(func, axis=1)`` with a Python function returning one value per row is
        traced as a UDF node (the row reaches ``func`` as a Series, as in pandas); every
        other form falls back to pandas."""
        columns = list(self._meta.columns)
        if (
            axis in (1, "columns")
            and callable(func)
            and not isinstance(func, np.ufunc)
            and raw is False
            and result_type is None
            and by_row == "compat"
            and engine is None
            and engine_kwargs is None
            and isinstance(args, tuple)
            and columns
        ):
            node = udf.RowApply(
                tuple(ex.Col(c) for c in columns),
                freeze(tuple(columns)),
                udf.PyFunc(func, args, kwargs),
            )
            out = Series._from_expr(self._plan, node, {})
            return Series._make(out._rel, out._expr, out._meta.astype(object).rename(None))
        extra = {"engine": engine, "engine_kwargs": engine_kwargs} if engine is not None else {}
        return self._fallback(
            "apply",
            func,
            axis=axis,
            raw=raw,
            result_type=result_type,
            args=args,
            by_row=by_row,
            **extra,
            **kwargs,
        )

    def pipe(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """``func(self, *args, **kwargs)``; ``(func, "kw")`` passes the frame as ``kw``."""
        if isinstance(func, tuple):
            func, target = func
            kwargs[target] = self
            return func(*args, **kwargs)
        return func(self, *args, **kwargs)

    def copy(self, deep: bool = True) -> DataFrame:
        """A new handle on the same (immutable) plan."""
        return DataFrame._from_plan(self._plan)

    def head(self, n: int = 5) -> DataFrame:
        """The first ``n`` rows."""
        if not pd.api.types.is_integer(n):
            self._meta.head(n)  # pandas' TypeError for a non-integer n
            return self._fallback("head", n)
        return self._derive(rel.Head(self._plan, int(n)))

    def tail(self, n: int = 5) -> DataFrame:
        """The last ``n`` rows."""
        if not pd.api.types.is_integer(n):
            self._meta.tail(n)  # pandas' TypeError for a non-integer n
            return self._fallback("tail", n)
        return self._derive(rel.Tail(self._plan, int(n)))

    @property
    def loc(self) -> Any:
        from .indexing import FrameLoc

        return FrameLoc(self)

    @property
    def iloc(self) -> Any:
        from .indexing import FrameILoc

        return FrameILoc(self)

    def query(self, expr: str, **kwargs: Any) -> DataFrame:
        """Rows where the boolean expression ``expr`` holds (``@name`` reads a variable)."""
        from .query import parse_query

        if kwargs.get("inplace"):
            kwargs.pop("inplace")
            self._set_plan(self.query(expr, **kwargs)._plan)
            return None  # type: ignore[return-value]
        cond = parse_query(expr, self, level=kwargs.pop("level", 0) + 1, **kwargs)
        if cond is None:
            return self._fallback("query", expr, **kwargs)
        return self._derive(rel.Filter(self._plan, cond))

    # operators ---------------------------------------------------------------------------------
    def _binary(self, op: str, other: Any, reverse: bool = False) -> Any:
        meta = self._meta
        if is_scalar(other) and meta.columns.is_unique:
            lit = ex.Lit(other)
            exprs = tuple(
                (c, ex.BinaryOp(op, lit, ex.Col(c)) if reverse else ex.BinaryOp(op, ex.Col(c), lit))
                for c in meta.columns
            )
            return self._derive(rel.Project(self._plan, exprs))
        name = f"__{'r' if reverse else ''}{op}__"
        return self._fallback(name, other)

    def __invert__(self) -> DataFrame:
        exprs = tuple((c, ex.UnaryOp("invert", ex.Col(c))) for c in self._meta.columns)
        return self._derive(rel.Project(self._plan, exprs))

    def __neg__(self) -> DataFrame:
        exprs = tuple((c, ex.UnaryOp("neg", ex.Col(c))) for c in self._meta.columns)
        return self._derive(rel.Project(self._plan, exprs))

    def __pos__(self) -> DataFrame:
        exprs = tuple((c, ex.UnaryOp("pos", ex.Col(c))) for c in self._meta.columns)
        return self._derive(rel.Project(self._plan, exprs))

    def __abs__(self) -> DataFrame:
        return self.abs()

    # column/row methods ------------------------------------------------------------------------
    def _elementwise(self, method: str, **kwargs: Any) -> DataFrame:
        try:
            frozen = tuple((k, freeze(v)) for k, v in kwargs.items())
        except TypeError:
            return self._fallback(method, **kwargs)
        if any(isinstance(v, (Series, DataFrame)) for v in kwargs.values()):
            return self._fallback(method, **kwargs)
        return self._derive(rel.FrameElementwise(self._plan, method, frozen))

    def fillna(self, value: Any = no_default, **kwargs: Any) -> Any:
        """Fill missing values with a scalar or a ``{column: value}`` dict."""
        if value is no_default:  # pandas' TypeError: the value is required
            return self._fallback("fillna", **kwargs)
        if kwargs.get("inplace") is True and set(kwargs) == {"inplace"} and value is not None:
            self._set_plan(self._elementwise("fillna", value=value, inplace=True)._plan)
            return self  # pandas 3.1 returns the frame itself
        if value is None or kwargs:
            return self._fallback("fillna", value, **kwargs)
        return self._elementwise("fillna", value=value)

    def isna(self) -> DataFrame:
        """Boolean frame of missing values."""
        return self._elementwise("isna")

    isnull = isna

    def notna(self) -> DataFrame:
        """Boolean frame of present values."""
        return self._elementwise("notna")

    notnull = notna

    def astype(self, dtype: Any, copy: bool | None = None, errors: str = "raise") -> DataFrame:
        """Cast every column (or the columns of a dict) to ``dtype``."""
        if isinstance(dtype, dict):
            missing = [k for k in dtype if k not in self._meta.columns]
            if missing:
                raise KeyError(
                    "Only a column name can be used for the key in a dtype "
                    "mappings argument. "
                    f"'{missing[0]}' not found in columns."
                )
        return self._elementwise("astype", dtype=dtype, errors=errors)

    def abs(self) -> DataFrame:
        """Elementwise absolute value."""
        return self._elementwise("abs")

    def round(self, decimals: Any = 0) -> DataFrame:
        """Round every numeric column."""
        return self._elementwise("round", decimals=decimals)

    def clip(self, lower: Any = None, upper: Any = None, **kwargs: Any) -> DataFrame:
        """Bound values to ``[lower, upper]``."""
        if kwargs:
            return self._fallback("clip", lower, upper, **kwargs)
        return self._elementwise("clip", lower=lower, upper=upper)

    def replace(self, to_replace: Any = None, value: Any = no_default, **kwargs: Any) -> Any:
        """Replace values (scalar, list or dict forms)."""
        if kwargs.get("inplace") is True:
            self._set_plan(
                self._elementwise("replace", to_replace=to_replace, value=value, **kwargs)._plan
            )
            return self  # pandas 3.1 returns the frame itself
        return self._elementwise("replace", to_replace=to_replace, value=value, **kwargs)

    def where(self, cond: Any, other: Any = no_default, **kwargs: Any) -> DataFrame:
        """Keep values where ``cond`` holds (a frame-wide mask falls back to pandas)."""
        return self._fallback("where", cond, other, **kwargs)

    def mask(self, cond: Any, other: Any = no_default, **kwargs: Any) -> DataFrame:
        """Replace values where ``cond`` holds (a frame-wide mask falls back to pandas)."""
        return self._fallback("mask", cond, other, **kwargs)

    def describe(
        self, percentiles: Any = None, include: Any = None, exclude: Any = None
    ) -> DataFrame:
        """Summary statistics per column."""
        try:
            plan = rel.Describe(
                self._plan,
                None if percentiles is None else tuple(percentiles),
                freeze(include),
                freeze(exclude),
            )
        except TypeError:
            return self._fallback("describe", percentiles, include, exclude)
        return self._derive(plan)

    def _frame_reduce(self, func: str, kwargs: dict[str, Any]) -> Series:
        try:
            frozen = tuple((k, freeze(v)) for k, v in kwargs.items())
        except TypeError:
            return self._fallback(func, **kwargs)  # type: ignore[no-any-return]
        plan = rel.FrameReduce(self._plan, func, frozen)
        m = meta_of(plan)
        if not isinstance(m, pd.Series):
            return self._fallback(func, **kwargs)  # type: ignore[no-any-return]
        return Series._from_relation(plan, m.name)

    def value_counts(
        self,
        subset: Any = None,
        normalize: bool = False,
        sort: bool = True,
        ascending: bool = False,
        dropna: bool = True,
    ) -> Series:
        """Counts of unique rows."""
        return self._frame_reduce(
            "value_counts",
            {
                "subset": list(subset) if isinstance(subset, pd.Index) else subset,
                "normalize": normalize,
                "sort": sort,
                "ascending": ascending,
                "dropna": dropna,
            },
        )

    # groupby / joins ---------------------------------------------------------------------------
    def groupby(
        self,
        by: Any = None,
        *,
        as_index: bool = True,
        sort: bool = True,
        dropna: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Group rows by column(s); see :class:`litsdf.groupby.DataFrameGroupBy`."""
        from .groupby import DataFrameGroupBy

        labels = _labels(by) if by is not None else ()
        simple = (
            labels
            and not kwargs
            and all(is_scalar(k) for k in labels)
            and all(k in self._meta.columns for k in labels)
        )
        if not simple:
            if labels and not kwargs and all(is_scalar(k) for k in labels):
                # pandas' own KeyError for an unknown key (an index level name is fine)
                self._meta.groupby(by, as_index=as_index, sort=sort, dropna=dropna)
            return self._fallback(
                "groupby", by, as_index=as_index, sort=sort, dropna=dropna, **kwargs
            )
        return DataFrameGroupBy(self, labels, isinstance(by, (list, tuple)), as_index, sort, dropna)

    def merge(
        self,
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
        """Database-style join (``pandas.merge``)."""
        from .reshape import merge

        return merge(
            self,
            right,
            how=how,
            on=on,
            left_on=left_on,
            right_on=right_on,
            left_index=left_index,
            right_index=right_index,
            sort=sort,
            suffixes=suffixes,
            indicator=indicator,
            validate=validate,
            **kwargs,
        )

    def join(
        self,
        other: Any,
        on: Any = None,
        how: str = "left",
        lsuffix: Any = no_default,
        rsuffix: Any = no_default,
        sort: bool = False,
        validate: str | None = None,
        **kwargs: Any,
    ) -> DataFrame:
        """Join on the index of ``other`` (``pandas.DataFrame.join``)."""
        if isinstance(other, pd.DataFrame):
            other = DataFrame(other)
        given = {
            k: v for k, v in (("lsuffix", lsuffix), ("rsuffix", rsuffix)) if v is not no_default
        }
        suffixes = kwargs.pop("suffixes", no_default)
        if suffixes is not no_default and not isinstance(suffixes, (list, tuple)):
            kwargs["suffixes"] = suffixes
        if (
            kwargs
            or not isinstance(other, DataFrame)
            or (on is not None and not all(is_scalar(k) for k in _labels(on)))
        ):
            if suffixes is not no_default:
                kwargs["suffixes"] = suffixes
            return self._fallback(
                "join", other, on=on, how=how, sort=sort, validate=validate, **given, **kwargs
            )
        plan = rel.IndexJoin(
            self._plan,
            other._plan,
            None if on is None else _labels(on),
            how,
            lsuffix,
            rsuffix,
            sort,
            validate,
            suffixes if suffixes is no_default else tuple(suffixes),
        )
        return self._derive(plan)

    def items(self) -> Iterator[tuple[Hashable, Series]]:
        """``(label, column)`` pairs."""
        for c in self._meta.columns:
            yield c, self[c]


DataFrame._plan = _core.LentSlot(DataFrame.__dict__["_plan"])  # type: ignore[misc,assignment]


def _frame_binop(op: str, reverse: bool = False) -> Callable[..., Any]:
    def method(self: DataFrame, other: Any) -> Any:
        return self._binary(op, other, reverse)

    method.__name__ = f"__{'r' if reverse else ''}{op}__"
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"):
    setattr(DataFrame, f"__{_op}__", _frame_binop(_op))
    setattr(DataFrame, f"__r{_op}__", _frame_binop(_op, True))
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(DataFrame, f"__{_op}__", _frame_binop(_op))


def _frame_reduction(func: str) -> Callable[..., Any]:
    def method(self: DataFrame, *args: Any, **kwargs: Any) -> Any:
        if args:
            return self._fallback(func, *args, **kwargs)
        return self._frame_reduce(func, kwargs)

    method.__name__ = func
    method.__doc__ = f"``pandas.DataFrame.{func}``: a Series with one value per column."
    return method


for _f in ex.COLUMN_REDUCTIONS:
    setattr(DataFrame, _f, _frame_reduction(_f))
