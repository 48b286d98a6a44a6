"""Helpers the generated row code calls: pandas/NumPy scalar semantics where plain Python
differs (int64 wraparound, division by zero, domain errors of ``math``), input validation
and the exact (slow) path for non-ASCII strings.

Every helper is bound into the generated code's globals under its own name, so a name used
in generated source must be defined here (or added by the code generator as a constant).
"""

from __future__ import annotations

import copy
import datetime
import math
import operator
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import lib

__all__ = ["MissingColumnError", "RUNTIME"]

NAN = float("nan")
INF = float("inf")
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
NaT = pd.NaT
Timestamp = pd.Timestamp


class MissingColumnError(KeyError, ValueError):
    """A row given to a compiled program lacks a column the program reads."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# int64 ----------------------------------------------------------------------------------------


def _wrap(v: int) -> int:
    """``v`` wrapped to int64 as NumPy integer arithmetic does (two's complement)."""
    return ((v - I64_MIN) & 0xFFFFFFFFFFFFFFFF) + I64_MIN


def _ipow(a: int, b: int) -> int:
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    return _wrap(pow(a, b, 2**64))


# floats ---------------------------------------------------------------------------------------


def _div0(a: float, b: float) -> float:
    """``a / b`` for a zero ``b`` as NumPy gives it (signed inf, or nan for 0/0 and nan/0)."""
    if a != a or a == 0:
        return NAN
    return math.copysign(INF, a) * math.copysign(1.0, b)


def _np2(func: Any, a: float, b: float) -> float:
    with np.errstate(all="ignore"):
        return float(func(np.float64(a), np.float64(b)))


def _ffloordiv(a: float, b: float) -> float:
    if b and math.isfinite(a) and math.isfinite(b):
        return a // b
    return _np2(np.floor_divide, a, b)


def _fmod(a: float, b: float) -> float:
    if b and math.isfinite(a) and math.isfinite(b):
        return a % b
    return _np2(np.remainder, a, b)


def _fpow(a: float, b: float) -> float:
    """NumPy's float64 power (its loop, not libm's pow: they differ in the last bit)."""
    if a == 0:  # (0 ** negative: NumPy warns)
        return _np2(np.power, a, b)
    try:
        math.pow(a, b)  # (only to find the other cases where NumPy warns)
    except (ValueError, OverflowError, ZeroDivisionError):
        return _np2(np.power, a, b)
    return float(np.power(a, b))


def _ifloordiv(a: int, b: int) -> Any:
    """int64 ``a // b``; a zero divisor gives pandas' float (inf, -inf or nan)."""
    if b == 0:
        return INF if a > 0 else (-INF if a < 0 else NAN)
    return _wrap(a // b)


def _imod(a: int, b: int) -> Any:
    return NAN if b == 0 else a % b


def _np1(func: Any, x: float) -> float:
    with np.errstate(all="ignore"):
        return float(func(np.float64(x)))


# The transcendental functions are NumPy's (called on one value they give what its vectorized
# loop gives pandas; libm's differ in the last bit), guarded where NumPy would warn.
_EXP_MAX = 709.782712893384
"""The largest float64 whose exp (and expm1) is finite."""


def _exp(x: float) -> float:
    return INF if x > _EXP_MAX else float(np.exp(x))


def _expm1(x: float) -> float:
    return INF if x > _EXP_MAX else float(np.expm1(x))


def _log(x: float) -> float:
    return float(np.log(x)) if x > 0 else (-INF if x == 0 else NAN)


def _log2(x: float) -> float:
    return float(np.log2(x)) if x > 0 else (-INF if x == 0 else NAN)


def _log10(x: float) -> float:
    return float(np.log10(x)) if x > 0 else (-INF if x == 0 else NAN)


def _log1p(x: float) -> float:
    return float(np.log1p(x)) if x > -1 else (-INF if x == -1 else NAN)


def _arctan(x: float) -> float:
    return float(np.arctan(x))


def _tanh(x: float) -> float:
    return float(np.tanh(x))


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _trig(func: Any, low: float = -INF, high: float = INF) -> Any:
    """NumPy's ``func`` on finite values in [low, high]; NaN elsewhere (where NumPy warns)."""

    def f(x: float) -> float:
        return float(func(x)) if low <= x <= high and x - x == 0 else NAN

    return f


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _ceil(x: float) -> float:
    return math.copysign(float(math.ceil(x)), x) if math.isfinite(x) else x


def _trunc(x: float) -> float:
    return math.copysign(float(math.trunc(x)), x) if math.isfinite(x) else x


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else x)  # 0.0, -0.0 and nan stay


def _isign(x: int) -> int:
    return 1 if x > 0 else (-1 if x < 0 else 0)


def _fround(x: float, d: int) -> float:
    if d == 0:
        return round(x, 0) if math.isfinite(x) else x
    return float(np.round(np.float64(x), d))


def _f2i(x: float) -> int:
    """``astype("int64")`` of one float: pandas refuses nan and inf."""
    if not math.isfinite(x):
        from pandas.errors import IntCastingNaNError

        raise IntCastingNaNError("Cannot convert non-finite values (NA or inf) to integer")
    return _wrap(int(x))


# strings --------------------------------------------------------------------------------------

_STR = pd.StringDtype(na_value=np.nan)


def _pdstr(method: str, s: str, *args: Any) -> Any:
    """``Series([s], dtype="str").str.<method>(*args)[0]``: the exact (slow) path that the
    generated code takes for non-ASCII text, where Python and Arrow may differ."""
    out = getattr(pd.Series([s], dtype=_STR).str, method)(*args).iloc[0]
    if isinstance(out, float) and out != out:
        return None
    if isinstance(out, np.generic):
        return out.item()
    return out


def _scalar1(v: Any, name: str) -> Any:
    """``Series.apply(func)``'s value for one element: pandas expands a Series result into a
    DataFrame, which a compiled plan refuses (as the pandas backend does)."""
    if isinstance(v, pd.Series):
        raise NotImplementedError(
            f"Series.apply({name}) returned a Series per element (pandas expands that into a "
            "DataFrame); a compiled plan needs one scalar per element: call "
            ".to_pandas().apply(...) for the expanding form"
        )
    return v


def _infer1(v: Any) -> Any:
    """The value ``v`` as ``to_dict`` gives it back from a one-row column that pandas built
    from ``[v]`` by inference (``Series.map(func)`` on one row)."""
    cls = v.__class__
    if cls is str or cls is float or cls is bool or v is None:
        return v
    if cls is int and I64_MIN <= v <= I64_MAX:
        return v
    if cls is np.float64 or cls is np.int64 or cls is np.bool_:
        return v.item()  # an int64/float64/bool column gives the Python scalar back
    arr = np.empty(1, dtype=object)
    arr[0] = v
    out = pd.Series(lib.maybe_convert_objects(arr)).iloc[0]
    return out.item() if isinstance(out, np.generic) else out


# rows of df.apply(func, axis=1) ---------------------------------------------------------------


class _RowSpec:
    """What every row of one ``df.apply(func, axis=1)`` shares: the labels (pandas' row
    index), the dtype pandas interleaves the columns to, and how a value is boxed."""

    __slots__ = ("attrs", "box", "dtype", "index", "pos")

    def __init__(self, labels: tuple[Any, ...], dtype: Any) -> None:
        self.index = pd.Index(list(labels))
        self.dtype = dtype
        self.box: Any = {"int64": np.int64, "float64": np.float64, "bool": np.bool_}.get(str(dtype))
        """np.int64 / np.float64 / np.bool_ for a numpy row (``row[k]`` is a NumPy scalar
        there, iteration gives Python scalars); None: the values are passed as they are."""
        self.pos = {k: i for i, k in enumerate(labels) if k.__class__ in (str, int)}
        """Label -> position for the keys ``row[k]`` reads without pandas."""
        probe = pd.Series(index=self.index, dtype=dtype)
        self.attrs: dict[str, int] = {}
        """Labels that ``row.<label>`` reads (pandas' ``NDFrame.__getattr__``): not a Series
        attribute, and a label the index can hold as an identifier."""
        for k, i in self.pos.items():
            if k.__class__ is not str or k in self.attrs:
                continue
            try:
                object.__getattribute__(probe, k)
            except AttributeError:
                if (
                    k not in pd.Series._internal_names_set
                    and k not in pd.Series._metadata
                    and k not in pd.Series._accessors
                    and self.index._can_hold_identifiers_and_holds_name(k)
                ):
                    self.attrs[k] = i


class _Row:
    """The row that ``df.apply(func, axis=1)`` passes to ``func``, without building a Series.

    ``row[k]``, ``row.<label>``, ``row.name``, ``row.get``, ``row.index``, ``row.keys()``,
    ``row.items()``, ``len``, iteration (over the values) and ``in`` (over the labels) are
    answered here with the scalars pandas gives; anything else (``row.sum()``, ``row * 2``,
    ``row.values``, ``repr``, ``row[["a", "b"]]``, assignment) builds the pandas Series of the
    row once and delegates to it, so it cannot differ from pandas. ``isinstance(row,
    pandas.Series)`` holds (``__class__``).
    """

    __slots__ = ("_litsdf_s", "_litsdf_spec", "_litsdf_vals", "name")

    def __init__(self, spec: _RowSpec, values: tuple[Any, ...], name: Any) -> None:
        self._litsdf_spec = spec
        self._litsdf_vals = values
        """Python values (as iterating the Series gives them)."""
        self._litsdf_s: Any = None
        self.name = name

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(row, pandas.Series), as for pandas' row
        return pd.Series

    def _series(self) -> Any:
        s = self._litsdf_s
        if s is None:
            spec = self._litsdf_spec
            s = self._litsdf_s = pd.Series(
                list(self._litsdf_vals), index=spec.index, dtype=spec.dtype, name=self.name
            )
        return s

    def __getitem__(self, key: Any) -> Any:
        if key.__class__ in (str, int) and self._litsdf_s is None:
            spec = self._litsdf_spec
            i = spec.pos.get(key)
            if i is not None:
                v = self._litsdf_vals[i]
                return v if spec.box is None else spec.box(v)
        return self._series()[key]

    def __getattr__(self, name: str) -> Any:
        spec = self._litsdf_spec
        i = spec.attrs.get(name)
        if i is not None and self._litsdf_s is None:
            v = self._litsdf_vals[i]
            return v if spec.box is None else spec.box(v)
        return getattr(self._series(), name)

    def get(self, key: Any, default: Any = None) -> Any:
        if key.__class__ in (str, int) and self._litsdf_s is None:
            spec = self._litsdf_spec
            i = spec.pos.get(key)
            if i is not None:
                v = self._litsdf_vals[i]
                return v if spec.box is None else spec.box(v)
        return self._series().get(key, default)

    @property
    def index(self) -> Any:
        return self._litsdf_spec.index if self._litsdf_s is None else self._litsdf_s.index

    def keys(self) -> Any:
        return self.index

    def items(self) -> Any:
        return zip(iter(self.index), iter(self), strict=False)

    def __len__(self) -> int:
        return len(self._litsdf_vals) if self._litsdf_s is None else len(self._litsdf_s)

    def __iter__(self) -> Any:
        return iter(self._litsdf_vals) if self._litsdf_s is None else iter(self._litsdf_s)

    def __contains__(self, key: Any) -> bool:
        return key in self.index

    def __setitem__(self, key: Any, value: Any) -> None:
        self._series()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._series()[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self._series().__array__(dtype, copy)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        inputs = tuple(_unrow(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_unrow(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __copy__(self) -> Any:
        return copy.copy(self._series())

    def __deepcopy__(self, memo: Any) -> Any:
        return copy.deepcopy(self._series(), memo)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._series().__reduce_ex__(protocol)

    def __repr__(self) -> str:
        return repr(self._series())

    def __str__(self) -> str:
        return str(self._series())

    def __dir__(self) -> Any:
        return dir(self._series())

    def __hash__(self) -> int:
        return hash(self._series())  # TypeError, as for a Series

    def __bool__(self) -> bool:
        return bool(self._series())  # ValueError, as for a Series

    def __float__(self) -> float:
        return float(self._series())

    def __int__(self) -> int:
        return int(self._series())

    def __round__(self, ndigits: Any = None) -> Any:
        return round(self._series(), ndigits)


def _unrow(x: Any) -> Any:
    return x._series() if type(x) is _Row else x


def _delegate(op: Any, reflected: bool) -> Any:
    if reflected:

        def method(self: _Row, other: Any) -> Any:
            return op(_unrow(other), self._series())
    else:

        def method(self: _Row, other: Any) -> Any:
            return op(self._series(), _unrow(other))

    return method


_BINARY = {
    **{op: getattr(operator, op) for op in ("add", "sub", "mul", "truediv", "floordiv")},
    **{op: getattr(operator, op) for op in ("mod", "pow", "matmul")},
    **{"and": operator.and_, "or": operator.or_, "xor": operator.xor, "divmod": divmod},
}
for _op, _f in _BINARY.items():
    setattr(_Row, f"__{_op}__", _delegate(_f, False))
    setattr(_Row, f"__r{_op}__", _delegate(_f, True))
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):  # Python reflects these itself
    setattr(_Row, f"__{_op}__", _delegate(getattr(operator, _op), False))


def _unary(op: Any) -> Any:
    def method(self: _Row) -> Any:
        return op(self._series())

    return method


for _op in ("neg", "pos", "abs", "invert"):
    setattr(_Row, f"__{_op}__", _unary(getattr(operator, _op)))
del _op, _f


def _as_unit(v: Any, unit: str) -> Any:
    """A Timestamp in ``unit`` (the datetime64 unit pandas stores and gives back)."""
    return v if v is NaT or v.unit == unit else v.as_unit(unit)


def _row1(v: Any, name: str) -> Any:
    """``df.apply(func, axis=1)``'s value for a one-row frame, as ``to_dict`` gives it."""
    if isinstance(v, pd.Series):  # also a _Row returned as is
        raise _expanding(name)
    return _infer1(v)


def _expanding(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"DataFrame.apply({name}, axis=1) returned a Series/list per row (pandas expands "
        "that into columns); a compiled plan needs one scalar per row: call "
        ".to_pandas().apply(..., axis=1) for the expanding form"
    )


# validation -----------------------------------------------------------------------------------


def _missing(name: Any, dtype: Any) -> MissingColumnError:
    return MissingColumnError(f"row is missing column {name!r} ({dtype})")


def _bad(name: Any, dtype: Any, v: Any, want: str) -> TypeError:
    return TypeError(f"column {name!r} ({dtype}) expects {want}, got {type(v).__name__}: {v!r}")


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is NaT or (isinstance(v, float) and v != v)


def _chk_int(v: Any, name: Any, dtype: Any) -> int:
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        out = int(v)
        if not I64_MIN <= out <= I64_MAX:
            raise OverflowError(f"column {name!r} ({dtype}): {out} is out of the int64 range")
        return out
    if _is_missing(v):
        raise TypeError(f"column {name!r} is {dtype}, which cannot hold a missing value ({v!r})")
    raise _bad(name, dtype, v, "an int")


def _chk_float(v: Any, name: Any, dtype: Any) -> float:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return float(v)
    if v is None or v is pd.NA:
        return NAN
    raise _bad(name, dtype, v, "a float, an int or None")


def _chk_str(v: Any, name: Any, dtype: Any) -> Any:
    if isinstance(v, str):
        return str(v)
    if _is_missing(v):
        return None
    raise _bad(name, dtype, v, "a str or None")


def _chk_bool(v: Any, name: Any, dtype: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if _is_missing(v):
        raise TypeError(f"column {name!r} is {dtype}, which cannot hold a missing value ({v!r})")
    raise _bad(name, dtype, v, "a bool")


def _chk_dt(v: Any, name: Any, dtype: Any) -> Any:
    if _is_missing(v) or (isinstance(v, np.datetime64) and np.isnat(v)):
        return NaT
    if isinstance(v, (datetime.datetime, np.datetime64)):
        out = Timestamp(v)
        if out.tzinfo is not None:
            raise _bad(name, dtype, v, "a naive datetime (this column has no time zone)")
        return out
    raise _bad(name, dtype, v, "a datetime, pandas.Timestamp, numpy.datetime64 or None")


RUNTIME: dict[str, Any] = {
    k: v
    for k, v in dict(globals()).items()
    if k.startswith("_") and callable(v) and not k.startswith("__")
}
RUNTIME.update(
    NAN=NAN,
    INF=INF,
    NaT=NaT,
    Timestamp=Timestamp,
    math=math,
    MissingColumnError=MissingColumnError,
    _sin=_trig(np.sin),
    _cos=_trig(np.cos),
    _tan=_trig(np.tan),
    _arcsin=_trig(np.arcsin, -1.0, 1.0),
    _arccos=_trig(np.arccos, -1.0, 1.0),
)
"""Names visible to generated code."""
