"""Expression code generation: one numeric expression tree -> scalar code in a row loop.

Every sub-expression is typed by pandas itself (``expr_meta`` on the empty input frame), and
the generated code casts each operand to the dtype NumPy computes in, so the loop reproduces
pandas' dtypes, NaN propagation and integer wrap-around. Literals become kernel arguments,
never source text, so expressions of the same *shape* share one compiled kernel. Anything
whose result (or dtype) pandas decides from the values is :class:`Unsupported`.

A literal is typed as NumPy 2 types a scalar operand (NEP 50) and converted on the host, by
NumPy, to the dtype the operation computes in (:func:`literal_arg`): a Python ``int`` goes
to ``float32`` through ``float64`` as NumPy converts it, never by a cast inside the loop.
An integer column compared with an integer literal is compared by value, as NumPy 2 does:
a literal outside the column's range gives the same answer on every row (``uint8 > -1`` is
all True, ``int8 == 300`` all False), so the comparison is that constant.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from pandas.api.extensions import no_default

from ...ir import expressions as ex
from ...ir.base import Node

__all__ = ["Unsupported", "Emitter", "Scope", "is_numeric", "is_number", "literal_arg"]

_F32 = np.dtype("float32")
_F64 = np.dtype("float64")
_I64 = np.dtype("int64")
_BOOL = np.dtype("bool")

_ARITH = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%"}
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_PY_CMP: dict[str, Callable[[Any, Any], bool]] = {op: getattr(operator, op) for op in _CMP}
_LOGIC = {"and": "&", "or": "|", "xor": "^"}

_FLOAT_UFUNCS = frozenset({"sqrt", "deg2rad", "rad2deg"})
"""Float ufuncs computed in the loop: correctly rounded (sqrt) or one multiplication, as in
NumPy (float64 only: NumPy's float32 loops differ by ULPs). The others are NumPy's own
vectorized loops, which libm does not reproduce bit for bit: :mod:`.numpy_host` computes them
before the loop."""
_EXACT_UFUNCS = frozenset(
    {"floor", "ceil", "trunc", "rint", "fabs", "absolute", "abs", "negative", "positive"}
)
_BINARY_UFUNCS = {"maximum", "minimum", "fmax", "fmin", "hypot"}
_PREDICATES = {"isnan": "({x} != {x})", "isfinite": "np.isfinite({x})", "isinf": "np.isinf({x})"}

HELPERS = {
    "_ipow": """
@njit(cache=True, nogil=True)
def _ipow(x, k):
    r = np.int64(1)
    b = np.int64(x)
    while k > 0:
        if k & 1:
            r = r * b
        b = b * b
        k >>= 1
    return r
""",
    "_isin": """
@njit(cache=True, nogil=True)
def _isin(x, values, match_nan):
    if x != x:
        return match_nan
    for v in values:
        if x == v:
            return True
    return False
""",
}


class Unsupported(Exception):
    """The expression can't be compiled with pandas' exact semantics (the reason)."""


def is_numeric(dtype: Any) -> bool:
    """A NumPy bool, integer or float32/float64 dtype (values without a missing marker
    other than NaN)."""
    return isinstance(dtype, np.dtype) and (dtype.kind in "biu" or dtype in (_F32, _F64))


def is_number(value: Any) -> bool:
    """A Python or NumPy bool, integer or float32/float64 scalar (a literal numba can take)."""
    if isinstance(value, np.generic):
        return is_numeric(value.dtype)
    return isinstance(value, (bool, int, float))


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def literal_arg(value: Any, dtype: np.dtype) -> Any:
    """``value`` as the NumPy scalar of ``dtype`` passed to a kernel (its numba type is the
    kernel's shape), converted by NumPy as it converts a scalar operand: a float target
    rounds as NumPy does (``1e300`` in ``float32`` is ``inf``, a Python ``int`` goes through
    ``float64``); an integer or bool target must hold the value exactly.

    Raises
    ------
    Unsupported
        When ``value`` is not a number numba takes, or ``dtype`` can't hold it.
    """
    if not is_number(value):
        raise Unsupported(f"literal {value!r} of type {type(value).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow to inf, as NumPy casts
            out = dtype.type(value)
    except (OverflowError, ValueError, TypeError) as err:
        raise Unsupported(f"literal {value!r} as {dtype}: {err}") from err
    if dtype.kind in "iub" and not out == value:
        raise Unsupported(f"literal {value!r} is not exactly a {dtype}")
    return out


def _holds(dtype: np.dtype, value: Any) -> bool:
    """Whether ``value`` is stored in ``dtype`` exactly (pandas then keeps the dtype)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(dtype.kind == "b")
    if dtype.kind == "b" or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    if dtype.kind in "iu" and not (isinstance(value, (int, np.integer))):
        return False
    try:
        with np.errstate(all="ignore"):
            cast = dtype.type(value)
    except (OverflowError, ValueError):
        return False
    return bool(cast == value or (value != value and dtype.kind == "f"))


def cast(code: str, src: np.dtype | None, dst: np.dtype) -> str:
    """Scalar code converting ``code`` (of dtype ``src``) to ``dst``."""
    if src == dst:
        return code
    if dst.kind == "b":
        return f"({code} != 0)"
    return f"np.{dst.name}({code})"


class Scope:
    """The columns an expression may reference: ``env`` maps a label to a reader returning
    ``(code, dtype)``; ``typeof`` gives pandas' dtype of a sub-expression (None: a literal)."""

    def __init__(
        self,
        env: dict[Hashable, Callable[[], tuple[str, np.dtype]]],
        typeof: Callable[[ex.Expr], Any],
        host: Callable[[ex.Expr], tuple[str, np.dtype] | None] | None = None,
    ) -> None:
        self.env = env
        self.typeof = typeof
        self.host = host
        """Loads a value computed outside the loop (a string method), or None."""
        self.memo: dict[Node, tuple[str, Any]] = {}
        self.udfs: dict[Node, tuple[Any, np.dtype]] = {}
        """Python functions numba typed: (jitted function, result dtype) by MapFunc node."""


class Emitter:
    """Accumulates the loop body of one kernel: temporaries, literal arguments, helpers."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lits: list[Any] = []
        self.helpers: set[str] = set()
        self.arrays: list[Any] = []  # extra array arguments (isin value sets)
        self.udfs: list[Any] = []  # jitted Python functions (arguments U0, U1, ...)
        self._n = 0

    def tmp(self, code: str) -> str:
        """Assign ``code`` to a fresh temporary; return its name."""
        name = f"t{self._n}"
        self._n += 1
        self.lines.append(f"{name} = {code}")
        return name

    def lit(self, value: Any, dtype: np.dtype) -> str:
        """A literal argument of ``dtype`` (see :func:`literal_arg`): its name."""
        self.lits.append(literal_arg(value, dtype))
        return f"L{len(self.lits) - 1}"

    def array(self, values: np.ndarray) -> str:
        self.arrays.append(values)
        return f"A{len(self.arrays) - 1}"

    def udf(self, func: Any) -> str:
        for k, f in enumerate(self.udfs):
            if f is func:
                return f"U{k}"
        self.udfs.append(func)
        return f"U{len(self.udfs) - 1}"

    # ------------------------------------------------------------------------------------
    def emit(self, e: ex.Expr, scope: Scope) -> tuple[str, np.dtype]:
        """Code (a temporary's name) and dtype of numeric expression ``e``."""
        hit = scope.memo.get(e)
        if hit is not None:
            return hit
        if isinstance(e, ex.Col):
            reader = scope.env.get(e.name)
            if reader is None:
                raise Unsupported(f"column {e.name!r} is not numeric")
            out = reader()
        elif isinstance(e, ex.Lit):
            raise Unsupported("a bare literal has no row dtype")
        elif scope.host is not None and (loaded := scope.host(e)) is not None:
            out = loaded
        else:
            method = getattr(self, f"_e_{type(e).__name__}", None)
            if method is None:
                raise Unsupported(f"no numba lowering for {type(e).__name__}")
            dtype = scope.typeof(e)
            if not is_numeric(dtype):
                raise Unsupported(f"{type(e).__name__} gives dtype {dtype}")
            code = method(e, scope, dtype)
            out = (self.tmp(code), dtype)
        scope.memo[e] = out
        return out

    def operand(self, e: ex.Expr, scope: Scope, to: np.dtype) -> str:
        """``e`` converted to ``to`` (a literal is converted on the host, by NumPy)."""
        if isinstance(e, ex.Lit):
            return self.lit(e.value, to)
        code, dtype = self.emit(e, scope)
        return cast(code, dtype, to)

    def _weak(self, e: ex.Expr, scope: Scope) -> Any:
        """The dtype of ``e``, or the literal value itself (NumPy's weak scalar)."""
        if isinstance(e, ex.Lit):
            if not is_number(e.value):
                raise Unsupported(f"literal {e.value!r} of type {type(e.value).__name__}")
            return e.value
        dtype = scope.typeof(e)
        if not is_numeric(dtype):
            raise Unsupported(f"operand of dtype {dtype}")
        return dtype

    # ------------------------------------------------------------------------------------
    def _e_Alias(self, e: ex.Alias, scope: Scope, dtype: np.dtype) -> str:
        return self.operand(e.input, scope, dtype)

    def _e_BinaryOp(self, e: ex.BinaryOp, scope: Scope, dtype: np.dtype) -> str:
        a, b = self._weak(e.left, scope), self._weak(e.right, scope)
        kinds = {
            np.asarray(x).dtype.kind if not isinstance(x, np.dtype) else x.kind for x in (a, b)
        }
        if e.op in _CMP:
            return self._compare(e.op, e.left, e.right, a, b, scope)
        if e.op in _LOGIC:
            if not (
                (dtype.kind == "b" and kinds == {"b"})
                or (dtype.kind in "iu" and kinds <= {"i", "u"})
            ):
                raise Unsupported(f"logical {e.op} on mixed dtypes")
            x, y = self.operand(e.left, scope, dtype), self.operand(e.right, scope, dtype)
            return f"({x} {_LOGIC[e.op]} {y})"
        if kinds == {"b"} or dtype.kind == "b":
            raise Unsupported(f"{e.op} on booleans")
        if e.op == "pow":
            return self._pow(e, scope, dtype)
        if e.op in ("floordiv", "mod"):
            right = e.right
            ok = (
                dtype.kind == "i"
                and isinstance(right, ex.Lit)
                and isinstance(right.value, (int, np.integer))
                and not isinstance(right.value, bool)
                and right.value not in (0, -1)
            )
            if not ok:
                raise Unsupported(f"{e.op} other than integer by a literal")
        x, y = self.operand(e.left, scope, dtype), self.operand(e.right, scope, dtype)
        return f"np.{dtype.name}({x} {_ARITH[e.op]} {y})"

    def _compare(self, op: str, left: ex.Expr, right: ex.Expr, a: Any, b: Any, scope: Scope) -> str:
        da = a if isinstance(a, np.dtype) else None
        db = b if isinstance(b, np.dtype) else None
        if da is not None and db is not None and {da.kind, db.kind} == {"i", "u"}:
            raise Unsupported("comparison of signed and unsigned integers")
        col, value, flipped = (da, b, False) if da is not None else (db, a, True)
        if col is not None and col.kind in "iu" and _is_integer(value):
            # by value (NumPy 2): an integer literal outside the column's range compares alike
            # with every row (any value of the column stands for all), else exactly in place
            info = np.iinfo(col)
            if not info.min <= int(value) <= info.max:
                v, any_row = int(value), int(info.min)
                return repr(_PY_CMP[op](v, any_row) if flipped else _PY_CMP[op](any_row, v))
            common = col
        else:
            try:
                common = np.result_type(a, b)
            except (OverflowError, TypeError) as err:
                raise Unsupported(f"comparison types: {err}") from err
        if not is_numeric(common):
            raise Unsupported(f"comparison in {common}")
        if common.kind == "b" and op not in ("eq", "ne"):
            common = _I64
        x, y = self.operand(left, scope, common), self.operand(right, scope, common)
        return f"({x} {_CMP[op]} {y})"

    def _pow(self, e: ex.BinaryOp, scope: Scope, dtype: np.dtype) -> str:
        right = e.right
        if dtype.kind == "f":
            x = self.operand(e.left, scope, dtype)
            if isinstance(right, ex.Lit) and not isinstance(right.value, bool):
                special = {2: f"({x} * {x})", 0.5: f"np.sqrt({x})", 1: x, 0: f"np.{dtype}(1)"}
                special[-1] = f"(np.{dtype}(1) / {x})"
                for k, code in special.items():
                    if right.value == k:  # NumPy's fast scalar powers
                        return code
            if dtype != _F64:
                raise Unsupported("float32 power (NumPy's float32 loop differs by ULPs)")
            raise Unsupported("a float power in the loop (libm's pow is not NumPy's loop)")
        if (
            isinstance(right, ex.Lit)
            and isinstance(right.value, (int, np.integer))
            and not isinstance(right.value, bool)
            and 0 <= right.value < 2**63
        ):
            self.helpers.add("_ipow")
            x = self.operand(e.left, scope, _I64)
            y = self.operand(right, scope, _I64)
            return f"np.{dtype.name}(_ipow({x}, {y}))"
        raise Unsupported("integer power other than by a non-negative literal")

    def _e_MapFunc(self, e: Any, scope: Scope, dtype: np.dtype) -> str:
        hit = scope.udfs.get(e)
        if hit is None:
            raise Unsupported("a Python function numba can't type")
        func, out = hit
        if out != dtype:
            raise Unsupported("UDF result dtype")
        x, src = self.emit(e.input, scope)
        arg = x if src.kind == "b" else cast(x, src, _I64 if src.kind in "iu" else _F64)
        name = self.udf(func)
        if e.na_action == "ignore" and src.kind == "f":
            return f"({name}({arg}) if {x} == {x} else np.nan)"
        return f"{name}({arg})"

    def _e_UnaryOp(self, e: ex.UnaryOp, scope: Scope, dtype: np.dtype) -> str:
        x = self.operand(e.input, scope, dtype)
        if e.op == "pos":
            return x
        if e.op == "invert":
            if dtype.kind == "f":
                raise Unsupported("~ on floats (pandas raises)")
            return f"(not {x})" if dtype.kind == "b" else f"np.{dtype.name}(~{x})"
        if dtype.kind == "b":
            raise Unsupported(f"{e.op} on booleans")
        return f"np.{dtype.name}(-{x})" if e.op == "neg" else f"np.{dtype.name}(abs({x}))"

    def _e_Ufunc(self, e: ex.Ufunc, scope: Scope, dtype: np.dtype) -> str:
        name = e.name
        if len(e.inputs) == 2 and name in _BINARY_UFUNCS:
            if dtype.kind != "f" and name == "hypot":
                raise Unsupported(f"{name} in {dtype}")
            x, y = (self.operand(i, scope, dtype) for i in e.inputs)
            if name == "maximum":
                return f"({x} if ({x} >= {y} or {x} != {x}) else {y})"
            if name == "minimum":
                return f"({x} if ({x} <= {y} or {x} != {x}) else {y})"
            if name == "fmax":
                return f"({x} if ({x} >= {y} or {y} != {y}) else {y})"
            if name == "fmin":
                return f"({x} if ({x} <= {y} or {y} != {y}) else {y})"
            return f"np.{name}({x}, {y})"
        if len(e.inputs) != 1:
            raise Unsupported(f"ufunc {name} with {len(e.inputs)} inputs")
        (arg,) = e.inputs
        if name in _PREDICATES:
            src = self._weak(arg, scope)
            if not isinstance(src, np.dtype) or src.kind != "f":
                raise Unsupported(f"{name} on {src}")
            return _PREDICATES[name].format(x=self.operand(arg, scope, src))
        if name in _FLOAT_UFUNCS:
            if dtype != _F64:
                raise Unsupported(f"{name} in {dtype}")
            return f"np.{name}({self.operand(arg, scope, dtype)})"
        if name in _EXACT_UFUNCS:
            src = self._weak(arg, scope)
            if not isinstance(src, np.dtype) or src.kind == "b":
                raise Unsupported(f"{name} on {src}")
            x = self.operand(arg, scope, dtype)
            if name in ("absolute", "abs", "fabs"):
                return f"np.{dtype.name}(abs({x}))"
            if name == "negative":
                return f"np.{dtype.name}(-{x})"
            if name == "positive" or dtype.kind in "iu":
                return x  # floor/ceil/trunc/rint of an integer keep it (NumPy 2)
            return f"np.{name}({x})"
        if name == "sign":
            x = self.operand(arg, scope, dtype)
            one, zero = f"np.{dtype.name}(1)", f"np.{dtype.name}(0)"
            return f"({one} if {x} > 0 else (-{one} if {x} < 0 else ({zero} if {x} == 0 else {x})))"
        if name == "square":
            x = self.operand(arg, scope, dtype)
            return f"np.{dtype.name}({x} * {x})"
        raise Unsupported(f"ufunc {name}")

    def _e_FillNa(self, e: ex.FillNa, scope: Scope, dtype: np.dtype) -> str:
        src = self._weak(e.input, scope)
        if src != dtype:
            raise Unsupported("fillna changes the dtype")
        x = self.operand(e.input, scope, dtype)
        if dtype.kind != "f":
            return x  # nothing is missing in a bool/int column: pandas returns it as is
        if not isinstance(e.value, ex.Lit) or not _holds(dtype, e.value.value):
            raise Unsupported("fillna with a value that is not a number the column holds")
        v = self.operand(e.value, scope, dtype)
        return f"({x} if {x} == {x} else {v})"

    def _e_IsNa(self, e: ex.IsNa, scope: Scope, dtype: np.dtype) -> str:
        code, src = self.emit(e.input, scope)
        return f"({code} != {code})" if src.kind == "f" else "False"

    def _e_NotNa(self, e: ex.NotNa, scope: Scope, dtype: np.dtype) -> str:
        code, src = self.emit(e.input, scope)
        return f"({code} == {code})" if src.kind == "f" else "True"

    def _e_Cast(self, e: ex.Cast, scope: Scope, dtype: np.dtype) -> str:
        code, src = self.emit(e.input, scope)
        if src.kind == "f" and dtype.kind in "iu":
            raise Unsupported("float to integer cast (pandas raises on NaN)")
        return cast(code, src, dtype)

    def _e_Where(self, e: ex.Where, scope: Scope, dtype: np.dtype) -> str:
        src = self._weak(e.input, scope)
        if src != dtype:
            raise Unsupported("where changes the dtype (decided by the values)")
        cond, cdt = self.emit(e.cond, scope)
        if cdt.kind != "b":
            raise Unsupported("where with a non-boolean condition")
        x = self.operand(e.input, scope, dtype)
        other = e.other
        if isinstance(other, ex.Lit) and other.value is no_default:
            if dtype.kind != "f":
                raise Unsupported("where without other on a non-float column")
            y = "np.nan"
        elif isinstance(other, ex.Lit):
            if not _holds(dtype, other.value):
                raise Unsupported("where with a value the column can't hold")
            y = self.operand(other, scope, dtype)
        elif scope.typeof(other) == dtype:
            y = self.operand(other, scope, dtype)
        else:
            raise Unsupported("where with another column of a different dtype")
        if e.mask:
            return f"({y} if {cond} else {x})"
        return f"({x} if {cond} else {y})"

    def _e_Clip(self, e: ex.Clip, scope: Scope, dtype: np.dtype) -> str:
        src = self._weak(e.input, scope)
        if src != dtype or dtype.kind == "b":
            raise Unsupported("clip changes the dtype")
        bounds: list[Any] = []
        for b in (e.lower, e.upper):
            if not isinstance(b, ex.Lit):
                raise Unsupported("clip with a column bound")
            v = b.value
            if v is None or (isinstance(v, float) and v != v):
                bounds.append(None)
            elif _holds(dtype, v):
                bounds.append(v)
            else:
                raise Unsupported("clip bound the column can't hold")
        lo, hi = bounds
        if lo is not None and hi is not None and hi < lo:
            lo, hi = hi, lo  # pandas swaps reversed scalar bounds
        x = self.operand(e.input, scope, dtype)
        if lo is not None:
            lname = self.operand(ex.Lit(lo), scope, dtype)
            x = self.tmp(f"({x} if ({x} >= {lname} or {x} != {x}) else {lname})")
        if hi is not None:
            hname = self.operand(ex.Lit(hi), scope, dtype)
            x = self.tmp(f"({x} if ({x} <= {hname} or {x} != {x}) else {hname})")
        return x

    def _e_Round(self, e: ex.Round, scope: Scope, dtype: np.dtype) -> str:
        src = self._weak(e.input, scope)
        if src != dtype or dtype.kind == "b":
            raise Unsupported("round of booleans")
        x = self.operand(e.input, scope, dtype)
        if dtype.kind in "iu":
            if e.decimals < 0:
                raise Unsupported("integer round to negative decimals")
            return x
        f = self.operand(ex.Lit(float(10.0 ** abs(e.decimals))), scope, dtype)
        if e.decimals >= 0:
            return f"(np.rint({x} * {f}) / {f})"
        return f"(np.rint({x} / {f}) * {f})"

    def _e_Between(self, e: ex.Between, scope: Scope, dtype: np.dtype) -> str:
        ops = {"both": ("ge", "le"), "left": ("ge", "lt"), "right": ("gt", "le")}
        ops["neither"] = ("gt", "lt")
        if e.inclusive not in ops:
            raise Unsupported(f"between inclusive={e.inclusive!r}")
        lop, rop = ops[e.inclusive]
        a = self._weak(e.input, scope)
        left = self._compare(lop, e.input, e.left, a, self._weak(e.left, scope), scope)
        right = self._compare(rop, e.input, e.right, a, self._weak(e.right, scope), scope)
        return f"({left} and {right})"

    def _e_IsIn(self, e: ex.IsIn, scope: Scope, dtype: np.dtype) -> str:
        src = self._weak(e.input, scope)
        vals = list(e.values)
        if not isinstance(src, np.dtype) or src.kind == "u":
            raise Unsupported("isin on this dtype")
        is_bool = [isinstance(v, (bool, np.bool_)) for v in vals]
        work: np.dtype[Any]
        is_num = [isinstance(v, (int, float, np.integer, np.floating)) for v in vals]
        if src.kind == "b":
            if not all(is_bool):
                raise Unsupported("isin on booleans with non-boolean values")
            arr, work = np.array(vals, dtype=np.int64), np.dtype(np.int64)
        else:
            if any(is_bool) or not all(is_num):
                raise Unsupported("isin with non-numeric values")
            ints = all(isinstance(v, (int, np.integer)) for v in vals)
            if src.kind == "i" and ints:
                if any(not -(2**63) <= int(v) < 2**63 for v in vals):
                    raise Unsupported("isin value outside int64")
                arr, work = np.array(vals, dtype=np.int64), _I64
            else:
                arr, work = np.array(vals, dtype=np.float64), np.dtype(np.float64)
        has_nan = bool(work.kind == "f" and np.isnan(arr).any() and src.kind == "f")
        self.helpers.add("_isin")
        name = self.array(arr)
        x = self.operand(e.input, scope, work)
        return f"_isin({x}, {name}, {has_nan})"
