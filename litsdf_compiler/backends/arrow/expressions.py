"""Expressions of ``Compute`` / ``Filter`` nodes by ``pyarrow.compute``, with pandas' semantics.

:func:`typeof` is the check: the kind of every sub-expression from the node's input schema,
raising :class:`Unsupported` (with the reason) for anything whose pandas semantics are not
reproduced exactly here. :func:`evaluate` computes an expression over a table's columns.

How pandas' semantics are kept:

* a float64 NaN is a *value* (arrays come from NumPy with ``from_pandas=False``); a null
  that an Arrow kernel produces in a float result is a missing value too (it becomes NaN
  in pandas' array), and every predicate treats both as pandas treats NaN: comparisons
  are False (``!=`` True), ``isna`` is True;
* every boolean array here has no nulls (predicates fill them as pandas does), so ``&`` /
  ``|`` / ``~`` are plain boolean logic, never Kleene's;
* integer arithmetic is Arrow's unchecked kernels: int64 wraps on overflow, as NumPy does;
  true division casts to float64 first (``x / 0`` is ``inf`` or ``nan``, as in NumPy);
* integers that may carry a missing value (``str.len``, ``dt`` fields of a ``NaT``) are
  kinds with a ``?``: pandas makes them float64 with NaN, which only comparisons, ``isna``
  and arithmetic preserve exactly here (``fillna`` / ``where`` of them are declined);
* ``str`` methods run pandas' own ``str`` accessor over the Arrow array (pandas 3's ``str``
  dtype is implemented by these same pyarrow kernels): exact by construction.

An expression reading an ArrowDtype column is :mod:`.arrowdtype`'s (pandas' own Arrow kernels:
nulls, Kleene logic and checked arithmetic as pandas has them).

Declined: floordiv, mod and pow (sign rules and integer powers), float -> int casts, casts
to or from strings other than int -> str, ``round``, NumPy ufuncs of several inputs (Arrow's
libm differs in the last bit: one-input ufuncs run by NumPy itself, :mod:`.elementwise`),
``replace``, ``map`` other than a dict of a ``str`` column, object and categorical columns,
int32 arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from ...ir import expressions as ex
from ...ir import strings as st
from ...ir import temporal as tm
from . import arrowdtype, elementwise
from .arrays import STR, kind_of, to_arrow, to_pandas
from .strings import fast_kernel

__all__ = ["Unsupported", "typeof", "evaluate", "DTYPES", "check_output"]

NUMERIC = {"int64", "int64?", "float64", "lit:int", "lit:float"}
_SMALL_INTS = {"int32", "int16", "int8", "uint32", "uint16", "uint8"}
_ORDERED = {"int64", "int64?", "int32?", "float64", "lit:int", "lit:float", *_SMALL_INTS}
"""Kinds that compare by value (Arrow casts to a common type that holds both sides; NumPy
2 compares a Python int with a narrow integer by value too)."""
DTYPES = {
    "int64": np.dtype("int64"),
    "int64?": np.dtype("int64"),
    "int32": np.dtype("int32"),
    "int32?": np.dtype("int32"),
    "float64": np.dtype("float64"),
    "bool": np.dtype("bool"),
    "datetime": np.dtype("datetime64[ns]"),
    "str": STR,
    "lit:int": np.dtype("int64"),
    "lit:float": np.dtype("float64"),
    "lit:bool": np.dtype("bool"),
    "lit:str": STR,
}
"""The pandas dtype of each kind (a literal alone broadcasts to it)."""
_CMP = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal"}
_CMP |= {"gt": "greater", "ge": "greater_equal"}
_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply"}
_LOGIC = {"and": "and_", "or": "or_", "xor": "xor"}
_DT = {
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "minute": "minute",
    "second": "second",
    "day_of_week": "day_of_week",
    "dayofweek": "day_of_week",
    "weekday": "day_of_week",
    "day_of_year": "day_of_year",
    "dayofyear": "day_of_year",
    "quarter": "quarter",
}
_KERNEL_NODES = (
    st.StrCase,
    st.StrStrip,
    st.StrLen,
    st.StrContains,
    st.StrStartsWith,
    st.StrEndsWith,
    st.StrReplace,
    st.StrSlice,
    st.StrGet,
    st.StrMethod,
    tm.DtField,
    tm.DtMethod,
    tm.DtNormalize,
)
"""One-input ``str`` / ``dt`` expressions run by pandas' own kernel over the column (for
the ``str`` dtype pandas 3 runs pyarrow's kernels itself)."""
_INT64 = (-(2**63), 2**63 - 1)


class Unsupported(Exception):
    """An expression the arrow backend does not compute exactly as pandas (the message says
    why)."""


def _base(kind: str) -> str:
    return kind.removeprefix("lit:").rstrip("?")


def _lit_kind(value: Any) -> str:
    if type(value) is bool:
        return "lit:bool"
    if type(value) is int:
        if not _INT64[0] <= value <= _INT64[1]:
            raise Unsupported(f"integer literal {value} outside int64")
        return "lit:bigint" if abs(value) > 2**53 else "lit:int"
    if type(value) is float:
        return "lit:float"
    if type(value) is str:
        return "lit:str"
    if type(value) is pd.Timestamp and value.tz is None:
        return "lit:ts"
    raise Unsupported(f"literal {value!r} of type {type(value).__name__}")


def typeof(e: ex.Expr, schema: Mapping[str, Any]) -> str:
    """The kind of ``e``'s values over fields of dtypes ``schema`` (internal name -> dtype).

    Raises
    ------
    Unsupported
        ``e`` (or a part of it) is not computed here exactly as pandas computes it.
    """
    if arrowdtype.involves(e, schema):  # (ArrowDtype columns: pandas' own Arrow kernels)
        return arrowdtype.typeof(e, schema, Unsupported)
    if isinstance(e, ex.Col):
        dtype = schema.get(str(e.name)) if isinstance(e.name, str) else None
        kind = kind_of(dtype)
        if kind is None:
            raise Unsupported(f"column {e.name!r} of dtype {dtype}")
        return kind
    if isinstance(e, ex.Lit):
        return _lit_kind(e.value)
    if isinstance(e, ex.Alias):
        return typeof(e.input, schema)
    if isinstance(e, ex.BinaryOp):
        return _binary(e, typeof(e.left, schema), typeof(e.right, schema))
    if isinstance(e, ex.UnaryOp):
        return _unary(e, typeof(e.input, schema))
    if isinstance(e, (ex.IsNa, ex.NotNa)):
        typeof(e.input, schema)
        return "bool"
    if isinstance(e, ex.FillNa):
        return _fillna(typeof(e.input, schema), typeof(e.value, schema))
    if isinstance(e, ex.Cast):
        return _cast(typeof(e.input, schema), e.dtype)
    if isinstance(e, ex.Where):
        other = e.other
        if isinstance(other, ex.Lit) and other.value is no_default:
            return _where(typeof(e.input, schema), typeof(e.cond, schema), "lit:missing")
        return _where(typeof(e.input, schema), typeof(e.cond, schema), typeof(other, schema))
    if isinstance(e, ex.Clip):
        return _clip(e, typeof(e.input, schema), schema)
    if isinstance(e, ex.Between):
        kinds = [typeof(x, schema) for x in (e.input, e.left, e.right)]
        if e.inclusive not in ("both", "neither", "left", "right"):
            raise Unsupported(f"between(inclusive={e.inclusive!r})")
        _binary(ex.BinaryOp("ge", e.input, e.left), kinds[0], kinds[1])
        _binary(ex.BinaryOp("le", e.input, e.right), kinds[0], kinds[2])
        return "bool"
    if isinstance(e, ex.IsIn):
        return _isin(typeof(e.input, schema), e.values)
    if isinstance(e, tm.DtField) and e.field in _DT:
        if typeof(e.input, schema) != "datetime":
            raise Unsupported(f"dt.{e.field} of {typeof(e.input, schema)}")
        return "int32?"
    if isinstance(e, _KERNEL_NODES):
        return _kernel_kind(e, typeof(e.input, schema))
    if isinstance(e, ex.Ufunc):
        return elementwise.ufunc_kind(e, [typeof(x, schema) for x in e.inputs])
    if isinstance(e, ex.MapDict):
        return elementwise.map_kind(e, typeof(e.input, schema))
    raise Unsupported(f"expression {type(e).__name__}")


def _binary(e: ex.BinaryOp, left: str, right: str) -> str:
    if "lit:bigint" in (left, right):  # (an int literal a float64 cannot hold exactly)
        if "float64" in (left, right) or "lit:float" in (left, right):
            raise Unsupported(f"{e.op} of a float and an integer literal beyond 2**53")
        left, right = (("lit:int" if k == "lit:bigint" else k) for k in (left, right))
    if left.startswith("lit:") and right.startswith("lit:"):
        raise Unsupported(f"{e.op} of two literals")
    if e.op in _ARITH or e.op == "truediv":
        if left not in NUMERIC or right not in NUMERIC:
            raise Unsupported(f"{e.op} of {left} and {right} (int64/float64 only)")
        if e.op == "truediv" or "float64" in (left, right) or "lit:float" in (left, right):
            return "float64"
        return "int64?" if "int64?" in (left, right) else "int64"
    if e.op in _CMP:
        if left in _ORDERED and right in _ORDERED:
            return "bool"
        pair = {_base(left), _base(right)}
        if pair in ({"str"}, {"datetime", "ts"}, {"datetime"}) or (
            pair == {"bool"} and e.op in ("eq", "ne")
        ):
            return "bool"
        raise Unsupported(f"{e.op} of {left} and {right}")
    if e.op in _LOGIC:
        if _base(left) != "bool" or _base(right) != "bool":
            raise Unsupported(f"{e.op} of {left} and {right} (booleans only)")
        return "bool"
    raise Unsupported(f"operator {e.op} (floordiv, mod and pow are not reproduced exactly)")


def _unary(e: ex.UnaryOp, kind: str) -> str:
    if e.op in ("neg", "abs", "pos") and kind in ("int64", "int64?", "float64"):
        return kind
    if e.op == "invert" and kind in ("bool", "int64"):
        return kind
    raise Unsupported(f"{e.op} of {kind}")


def _fillna(kind: str, value: str) -> str:
    if kind == "float64" and value in ("lit:int", "lit:float"):
        return "float64"
    if kind == "str" and value == "lit:str":
        return "str"
    raise Unsupported(f"fillna of {kind} with {value}")


def _cast(kind: str, dtype: Any) -> str:
    try:
        target = pd.api.types.pandas_dtype(dtype)
    except TypeError as why:
        raise Unsupported(f"astype({dtype!r})") from why
    to = kind_of(target)
    if to == _base(kind) and not kind.endswith("?"):
        return to
    allowed = {
        "float64": {"int64", "int32", "bool", "float64"},
        "int64": {"int32", "bool"},
        "str": {"int64", "int32"},
    }
    if to is None or kind not in allowed.get(to, ()):
        raise Unsupported(f"astype({target}) of {kind}")
    return to


def _where(kind: str, cond: str, other: str) -> str:
    if cond != "bool":
        raise Unsupported(f"where with a condition of {cond}")
    if other == "lit:missing" and kind in ("float64", "str"):
        return kind  # (no other: NaN)
    same = {"float64": {"float64", "lit:float", "lit:int"}, "int64": {"int64", "lit:int"}}
    same |= {"str": {"str", "lit:str"}, "bool": {"bool", "lit:bool"}}
    if kind in same and other in same[kind]:
        return kind
    raise Unsupported(f"where of {kind} with other of {other} (a dtype pandas may change)")


def _clip(e: ex.Clip, kind: str, schema: Mapping[str, Any]) -> str:
    if kind not in ("int64", "float64"):
        raise Unsupported(f"clip of {kind}")
    for bound in (e.lower, e.upper):
        if isinstance(bound, ex.Lit) and bound.value is None:
            continue
        if not isinstance(bound, ex.Lit):
            raise Unsupported("clip by a column (pandas aligns it)")
        b = _lit_kind(bound.value)
        if b not in ("lit:int", "lit:float") or (kind == "int64" and b != "lit:int"):
            raise Unsupported(f"clip of {kind} by {b}")
    return kind


def _isin(kind: str, values: tuple[Any, ...]) -> str:
    types = {"int64": (int,), "float64": (int, float), "str": (str,), "bool": (bool,)}
    allowed = types.get(kind)
    if allowed is None or not all(type(v) in allowed for v in values):
        raise Unsupported(f"isin of {kind} with values {list(values)[:5]!r}")
    if kind == "float64" and any(v != v for v in values):
        raise Unsupported("isin with NaN")
    if kind == "int64" and not all(_INT64[0] <= v <= _INT64[1] for v in values):
        raise Unsupported("isin with integers outside int64")
    return "bool"


_KERNEL_KINDS = {
    np.dtype("bool"): "bool",
    np.dtype("int64"): "int64?",
    np.dtype("int32"): "int32?",
    np.dtype("float64"): "float64",
    np.dtype("datetime64[ns]"): "datetime",
}


def _kernel_kind(e: ex.Expr, kind: str) -> str:
    """The kind of a ``str`` / ``dt`` method run by pandas' own kernel: the dtype pandas
    gives on an empty input (an integer may be float64 with NaN on a missing value: a kind
    with ``?``); other result dtypes (object lists, ...) are declined."""
    if kind not in ("str", "datetime"):
        raise Unsupported(f"{type(e).__name__} of {kind} (str and datetime64[ns] only)")
    na = getattr(e, "na", no_default)
    if na is not no_default and type(na) is not bool:
        raise Unsupported(f"{type(e).__name__} with na={na!r}")
    try:
        result = _run_kernel(e, pd.Series([], dtype=DTYPES[kind]))
    except Exception as why:
        raise Unsupported(f"{type(e).__name__}: pandas raises {type(why).__name__}") from why
    dtype = result.dtype
    if dtype == STR:
        return "str"
    if dtype not in _KERNEL_KINDS:
        raise Unsupported(f"{type(e).__name__} gives dtype {dtype}")
    return _KERNEL_KINDS[dtype]


def _run_kernel(e: ex.Expr, series: pd.Series) -> pd.Series:
    """pandas' reference kernel of the one-input expression ``e`` on ``series``."""
    from ...semantics import REFERENCE

    holder = "__arrow_input__"
    frame = pd.DataFrame({holder: series}, copy=False)
    node = type(e)(ex.Col(holder), *(getattr(e, f) for f in e.__match_args__[1:]))  # type: ignore[call-arg]
    out = REFERENCE.ev(node, frame)
    return out if isinstance(out, pd.Series) else pd.Series(out, copy=False)


def check_output(kind: str, dtype: Any) -> str | None:
    """Why the values of ``kind`` would not finalize to the field's pandas ``dtype``
    (``None`` when they do)."""
    if kind.startswith(arrowdtype.PREFIX):
        expected = arrowdtype.dtype_of(kind)
        return None if expected == dtype else f"values of {expected} for a field of dtype {dtype}"
    if kind == "lit:ts" or DTYPES.get(kind) != dtype:
        return f"values of {kind} for a field of dtype {dtype}"
    return None


# evaluation -----------------------------------------------------------------------------------
def evaluate(e: ex.Expr, column: Callable[[str], Any], length: int) -> Any:
    """The Arrow array of ``e`` (or a literal's Python value) over columns ``column(name)``
    (Arrow arrays) of ``length`` rows; ``e`` passed :func:`typeof`."""
    import pyarrow.compute as pc

    if isinstance(e, ex.Col):
        return column(str(e.name))
    if isinstance(e, ex.Lit):
        return e.value
    if isinstance(e, ex.Alias):
        return evaluate(e.input, column, length)
    if isinstance(e, ex.BinaryOp):
        left, right = evaluate(e.left, column, length), evaluate(e.right, column, length)
        return _eval_binary(e.op, left, right)
    if isinstance(e, ex.Ufunc):
        return elementwise.eval_ufunc(e, evaluate(e.inputs[0], column, length))
    x = evaluate(e.input, column, length)  # type: ignore[attr-defined]
    if isinstance(e, ex.MapDict):
        return elementwise.eval_map(e, x)
    if isinstance(e, ex.UnaryOp):
        if e.op == "pos":
            return x
        if e.op == "invert":
            return pc.invert(x) if x.type.id == _bool_id() else pc.bit_wise_not(x)
        return pc.negate(x) if e.op == "neg" else pc.abs(x)
    if isinstance(e, (ex.IsNa, ex.NotNa)):
        na = _missing(x)
        return na if isinstance(e, ex.IsNa) else pc.invert(na)
    if isinstance(e, ex.FillNa):
        value = evaluate(e.value, column, length)
        return pc.if_else(_missing(x), _scalar(value, x.type), x)
    if isinstance(e, ex.Cast):
        target = kind_of(pd.api.types.pandas_dtype(e.dtype))
        # (unchecked: int64 -> float64 rounds as NumPy does beyond 2**53)
        return x.cast({"str": "large_string"}.get(target or "", target), safe=False)
    if isinstance(e, ex.Where):
        cond = evaluate(e.cond, column, length)
        other = evaluate(e.other, column, length)
        other = None if other is no_default else other
        if e.mask:
            cond = pc.invert(cond)
        return pc.if_else(cond, x, _scalar(other, x.type))
    if isinstance(e, ex.Clip):
        out = x
        if not (isinstance(e.lower, ex.Lit) and e.lower.value is None):
            out = pc.max_element_wise(out, _scalar(e.lower.value, x.type))  # type: ignore[attr-defined]
        if not (isinstance(e.upper, ex.Lit) and e.upper.value is None):
            out = pc.min_element_wise(out, _scalar(e.upper.value, x.type))  # type: ignore[attr-defined]
        return pc.if_else(_missing(x), x, out)  # (NaN stays NaN, as in pandas)
    if isinstance(e, ex.Between):
        low_op = "ge" if e.inclusive in ("both", "left") else "gt"
        high_op = "le" if e.inclusive in ("both", "right") else "lt"
        low = _eval_binary(low_op, x, evaluate(e.left, column, length))
        high = _eval_binary(high_op, x, evaluate(e.right, column, length))
        return pc.and_(low, high)
    if isinstance(e, ex.IsIn):
        import pyarrow as pa

        values = pa.array(list(e.values), type=x.type)
        return pc.is_in(x, value_set=values, skip_nulls=True).fill_null(False)
    if isinstance(e, tm.DtField) and e.field in _DT:
        return getattr(pc, _DT[e.field])(x)
    if isinstance(e, _KERNEL_NODES):
        return _eval_kernel(e, x)
    raise Unsupported(f"expression {type(e).__name__}")


def _bool_id() -> int:
    import pyarrow as pa

    return pa.bool_().id


def _scalar(value: Any, type_: Any) -> Any:
    import pyarrow as pa

    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value if value.type == type_ else value.cast(type_)
    return pa.scalar(value, type=type_)


def _missing(x: Any) -> Any:
    """pandas' ``isna`` of ``x``: nulls, and NaN in a float array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.is_null(x, nan_is_null=pa.types.is_floating(x.type))


def _eval_binary(op: str, left: Any, right: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if op in _LOGIC:
        return getattr(pc, _LOGIC[op])(left, right)
    if op == "truediv":
        return pc.divide(_as_float(left), _as_float(right))
    left, right = _numeric_pair(left, right)
    if op in _ARITH:
        return getattr(pc, _ARITH[op])(left, right)
    out = getattr(pc, _CMP[op])(left, right)
    if out.null_count:  # (a missing value compares False, != True: pandas' NaN)
        out = out.fill_null(op == "ne")
    return out if isinstance(out, (pa.Array, pa.ChunkedArray)) else pa.array([out.as_py()])


def _as_float(x: Any) -> Any:
    if isinstance(x, (int, float)):
        return float(x)
    return x.cast("float64", safe=False)  # (rounds as NumPy does beyond 2**53)


def _numeric_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """An integer side of a float operation as float64, rounded as NumPy converts it
    (Arrow's implicit cast refuses integers beyond 2**53)."""
    import pyarrow as pa

    def floating(x: Any) -> bool:
        if isinstance(x, float):
            return True
        return hasattr(x, "type") and pa.types.is_floating(x.type)

    def integer(x: Any) -> bool:
        if isinstance(x, int) and not isinstance(x, bool):
            return True
        return hasattr(x, "type") and pa.types.is_integer(x.type)

    if floating(left) and integer(right):
        return left, _as_float(right)
    if floating(right) and integer(left):
        return _as_float(left), right
    return left, right


def _eval_kernel(e: ex.Expr, x: Any) -> Any:
    """pandas' own ``str`` / ``dt`` method over the Arrow array ``x`` (as pandas' array:
    zero-copy for ``str``), back as an Arrow array."""
    import pyarrow as pa

    fast = fast_kernel(e, x)
    if fast is not None:
        return fast
    dtype = STR if pa.types.is_string(x.type) or pa.types.is_large_string(x.type) else None
    series = pd.Series(to_pandas(x, dtype if dtype is not None else DTYPES["datetime"]))
    return to_arrow(_run_kernel(e, series)._values)
