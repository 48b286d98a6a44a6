"""Helpers the generated row code calls: pandas/NumPy scalar semantics where plain Python
differs (int64 wraparound, division by zero, domain errors of ``math``), input validation
and the exact (slow) path for non-ASCII strings.

Every helper is bound into the generated code's globals under its own name, so a name used
in generated source must be defined here (or added by the code generator as a constant).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pandas as pd

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
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return _np2(np.power, a, b)


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


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return INF


def _log(x: float) -> float:
    return math.log(x) if x > 0 else (-INF if x == 0 else NAN)


def _log2(x: float) -> float:
    return math.log2(x) if x > 0 else (-INF if x == 0 else NAN)


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else (-INF if x == 0 else NAN)


def _log1p(x: float) -> float:
    return math.log1p(x) if x > -1 else (-INF if x == -1 else NAN)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _trig(func: Any) -> Any:
    def f(x: float) -> float:
        try:
            return float(func(x))
        except ValueError:
            return NAN

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
    from pandas._libs import lib

    arr = np.empty(1, dtype=object)
    arr[0] = v
    out = pd.Series(lib.maybe_convert_objects(arr)).iloc[0]
    return out.item() if isinstance(out, np.generic) else out


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
    _sin=_trig(math.sin),
    _cos=_trig(math.cos),
    _tan=_trig(math.tan),
    _arcsin=_trig(math.asin),
    _arccos=_trig(math.acos),
)
"""Names visible to generated code."""
