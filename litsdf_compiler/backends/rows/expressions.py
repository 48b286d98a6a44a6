"""Row code for scalar expressions: arithmetic, comparisons, ufuncs, fillna, astype, where,
clip, round, between, isin and dict ``map``, each with pandas' semantics for the dtypes
involved, or a :class:`Decline` naming what is not reproduced."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from ...ir import expressions as ex
from ...ir.base import walk
from .values import BOOL, F64, I64, STR, Decline, Val, kind_of

__all__ = ["ExprGen"]

_ARITH = {"add": "+", "sub": "-", "mul": "*"}
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LOGIC = {"and": "&", "or": "|", "xor": "^"}
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

_FLOAT_UFUNCS = {
    "exp": "_exp",
    "expm1": "_expm1",
    "log": "_log",
    "log1p": "_log1p",
    "log2": "_log2",
    "log10": "_log10",
    "sqrt": "_sqrt",
    "sin": "_sin",
    "cos": "_cos",
    "tan": "_tan",
    "arcsin": "_arcsin",
    "arccos": "_arccos",
    "arctan": "_arctan",
    "tanh": "_tanh",
    "floor": "_floor",
    "ceil": "_ceil",
    "trunc": "_trunc",
}
"""Unary ufuncs whose result is float64 for int64 and float64 inputs (the transcendental ones
are NumPy's, called on one value: see ``_runtime``)."""


def _outside_int64(v: Any) -> bool:
    """A Python or NumPy integer (not a bool) that int64 can't hold."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        return False
    return not _I64_MIN <= int(v) <= _I64_MAX


class ExprGen:
    """Emits Python statements computing expressions; mixed into the plan generator.

    ``self.env`` maps the column labels of the relation being evaluated to their values;
    ``self.memo`` holds the values of sub-expressions already emitted on that relation.
    """

    env: dict[Any, Val]
    memo: dict[ex.Expr, tuple[Val, tuple[tuple[Any, Val | None], ...], int]]
    frame_mode: bool
    stage: int

    def emit(self, line: str) -> None:
        raise NotImplementedError

    def tmp(self, code: str) -> str:
        raise NotImplementedError

    def const(self, obj: Any) -> str:
        raise NotImplementedError

    def new_flag(self) -> int:
        raise NotImplementedError

    # entry ------------------------------------------------------------------------------------
    def expr(self, e: ex.Expr) -> Val:
        """The value of ``e`` on the current relation: emitted once, reused while every
        column it reads still has the same value (also across later relations)."""
        if isinstance(e, (ex.Col, ex.Lit)):
            return self.gen_Col(e) if isinstance(e, ex.Col) else self.gen_Lit(e)
        hit = self.memo.get(e)
        if hit is not None:
            val, deps, stage = hit
            # a value-dependent dtype is pandas' over the rows present when it is computed:
            # after a filter the same expression is a new column (computed again)
            same_rows = stage == self.stage or (val.flag is None and val.kind not in "OL")
            if same_rows and all(self.env.get(name) is v for name, v in deps):
                return val
        fn: Callable[[Any], Val] | None = getattr(self, f"gen_{type(e).__name__}", None)
        if fn is None:
            raise Decline(f"rows has no row code for {type(e).__name__}")
        val = fn(e)
        names = {n.name for n in walk(e) if isinstance(n, ex.Col)}
        self.memo[e] = (val, tuple((name, self.env.get(name)) for name in names), self.stage)
        return val

    def static(self, e: ex.Expr, what: str) -> Val:
        """``e``'s value, refusing a dynamic dtype (its operations would depend on it)."""
        v = self.expr(e)
        if v.flag is not None:
            raise Decline(f"rows: {what} of a value whose dtype depends on the data")
        return v

    def dyn(self, code: str, base: Val | None = None, dtype: Any = I64, small: bool = False) -> Val:
        """A dynamic int computed by ``code`` (sharing ``base``'s flag when given)."""
        name = self.tmp(code)
        flag = base.flag if base is not None and base.flag is not None else self.new_flag()
        if self.frame_mode:
            self.emit(f"if {name}.__class__ is float: F[{flag}] = 1")
        return Val(name, "i", dtype, flag=flag, small=small)

    def wrap(self, code: str) -> Val:
        """An int64 result of ``code``, wrapped around like NumPy's on overflow."""
        name = self.tmp(code)
        self.emit(f"if not {_I64_MIN} <= {name} <= {_I64_MAX}: {name} = _wrap({name})")
        return Val(name, "i", I64)

    # leaves -----------------------------------------------------------------------------------
    def gen_Col(self, e: ex.Col) -> Val:
        try:
            return self.env[e.name]
        except KeyError:
            raise Decline(f"rows: unknown column {e.name!r}") from None

    def gen_Lit(self, e: ex.Lit) -> Val:
        return self.literal(e.value)

    def literal(self, v: Any) -> Val:
        if isinstance(v, (bool, np.bool_)):
            return Val(repr(bool(v)), "b", BOOL, literal=bool(v), is_lit=True)
        if isinstance(v, (int, np.integer)):
            if not _I64_MIN <= int(v) <= _I64_MAX or (
                isinstance(v, np.integer) and v.dtype.itemsize > 8
            ):
                raise Decline(f"rows: integer literal {v!r} outside int64")
            return Val(repr(int(v)), "i", I64, literal=int(v), is_lit=True)
        if isinstance(v, (float, np.floating)):
            if isinstance(v, np.floating) and v.dtype not in (F64, np.float32):
                raise Decline(f"rows: {v.dtype} literal {v!r}")  # (float32 is float64 exactly)
            f = float(v)
            code = repr(f) if math.isfinite(f) else ("NAN" if f != f else self.const(f))
            return Val(code, "f", F64, missing=f != f, literal=f, is_lit=True)
        if v is None:
            return Val("NAN", "f", F64, missing=True, literal=None, is_lit=True)
        if isinstance(v, str):
            return Val(repr(str(v)), "s", STR, literal=str(v), is_lit=True)
        if isinstance(v, pd.Timestamp) and v is not pd.NaT and v.tzinfo is None:
            return Val(self.const(v), "M", np.dtype("datetime64[ns]"), literal=v, is_lit=True)
        raise Decline(f"rows: literal {v!r} of type {type(v).__name__}")

    def gen_Alias(self, e: ex.Alias) -> Val:
        return self.expr(e.input)

    # helpers ----------------------------------------------------------------------------------
    @staticmethod
    def as_float(v: Val) -> str:
        if v.kind == "f":
            return v.code
        if v.is_lit:
            return repr(float(v.literal))
        return f"float({v.code})"

    # arithmetic and comparisons ---------------------------------------------------------------
    def gen_BinaryOp(self, e: ex.BinaryOp) -> Val:
        op = e.op
        a, b = self.operands(e)
        if op in _CMP:
            return self.compare(op, a, b)
        if a.flag is not None or b.flag is not None:
            return self.dyn_arith(op, a, b)
        if op in _LOGIC:
            if (a.kind, b.kind) in (("b", "b"), ("i", "i")):
                return Val(self.tmp(f"{a.code} {_LOGIC[op]} {b.code}"), a.kind, a.dtype)
            raise Decline(f"rows: {op} of {a.dtype} and {b.dtype}")
        if a.kind == "s" and b.kind == "s" and op == "add":
            nulls = [v.code for v in (a, b) if not v.is_lit]  # a literal is never missing
            if not nulls:
                raise Decline("rows: concatenation of two literals")
            guard = " or ".join(f"{c} is None" for c in nulls)
            code = f"None if {guard} else {a.code} + {b.code}"
            return Val(self.tmp(code), "s", STR)
        if a.kind not in ("i", "f") or b.kind not in ("i", "f") or (a.missing and b.missing):
            raise Decline(f"rows: {op} of {a.dtype} and {b.dtype}")
        if a.kind == "i" and b.kind == "i":
            return self.int_arith(op, a, b)
        x, y = self.as_float(a), self.as_float(b)
        if op in _ARITH:
            return Val(self.tmp(f"{x} {_ARITH[op]} {y}"), "f", F64)
        if op == "truediv":
            return Val(self.tmp(f"{x} / {y} if {y} else _div0({x}, {y})"), "f", F64)
        helper = {"floordiv": "_ffloordiv", "mod": "_fmod", "pow": "_fpow"}.get(op)
        if helper is None:
            raise Decline(f"rows: operator {op}")
        return Val(self.tmp(f"{helper}({x}, {y})"), "f", F64)

    def operands(self, e: ex.BinaryOp) -> tuple[Val, Val]:
        """Both operands' values. An integer literal outside int64 is taken where NumPy 2
        gives it a meaning in int64/float64 code: compared by value with a number (Python
        compares ints exactly), or converted to float64 next to a float."""
        big = [isinstance(x, ex.Lit) and _outside_int64(x.value) for x in (e.left, e.right)]
        if not any(big) or all(big):
            return self.expr(e.left), self.expr(e.right)
        lit, other_e = (e.left, e.right) if big[0] else (e.right, e.left)
        assert isinstance(lit, ex.Lit)
        other = self.expr(other_e)
        ok = other.flag is None and (other.kind == "f" or (e.op in _CMP and other.kind == "i"))
        if not ok:
            raise Decline(f"rows: integer literal {lit.value!r} outside int64")
        v = int(lit.value)
        value = Val(repr(v), "i", I64, literal=v, is_lit=True)
        return (value, other) if big[0] else (other, value)

    def dyn_arith(self, op: str, a: Val, b: Val) -> Val:
        """Arithmetic on a small dynamic int (a length, a count) where its int and float
        readings agree: with a small int literal (still dynamic) or giving float64."""
        d, o = (a, b) if a.flag is not None else (b, a)
        limit = 2**20 if d.dtype == I64 else 1000  # int32 fields: no int32 overflow
        if d.small and o.flag is None and op in ("add", "sub", "mul", "truediv"):
            x, y = self.as_float(a), self.as_float(b)
            if op == "truediv":
                return Val(self.tmp(f"{x} / {y} if {y} else _div0({x}, {y})"), "f", F64)
            if o.kind == "f":
                return Val(self.tmp(f"{x} {_ARITH[op]} {y}"), "f", F64)
            if o.is_lit and o.kind == "i" and abs(o.literal) <= limit:
                code = f"{a.code} {_ARITH[op]} {b.code}"
                return Val(self.tmp(code), "i", d.dtype, flag=d.flag, small=True)
        raise Decline(f"rows: {op} of a value whose dtype depends on the data")

    def int_arith(self, op: str, a: Val, b: Val) -> Val:
        if op in _ARITH:
            return self.wrap(f"{a.code} {_ARITH[op]} {b.code}")
        if op == "truediv":
            x, y = self.as_float(a), self.as_float(b)
            return Val(self.tmp(f"{x} / {y} if {y} else _div0({x}, {y})"), "f", F64)
        if op == "pow":
            return Val(self.tmp(f"_ipow({a.code}, {b.code})"), "i", I64)
        if op in ("floordiv", "mod"):
            fn = "_ifloordiv" if op == "floordiv" else "_imod"
            if b.is_lit and b.literal != 0:  # a non-zero divisor: int64 for sure
                return Val(self.tmp(f"{fn}({a.code}, {b.code})"), "i", I64)
            return self.dyn(f"{fn}({a.code}, {b.code})")
        raise Decline(f"rows: operator {op}")

    def compare(self, op: str, a: Val, b: Val) -> Val:
        sym = _CMP[op]
        if a.flag is not None or b.flag is not None:
            if all(v.small or (v.flag is None and v.kind in ("i", "f")) for v in (a, b)):
                code = f"{self.as_float(a)} {sym} {self.as_float(b)}"
                return Val(self.tmp(code.replace("float(float(", "float((")), "b", BOOL)
            raise Decline("rows: comparison of a value whose dtype depends on the data")
        ka, kb = a.kind, b.kind
        if ka in ("i", "f") and kb in ("i", "f"):
            if ka == kb:
                return Val(self.tmp(f"{a.code} {sym} {b.code}"), "b", BOOL)
            return Val(self.tmp(f"{self.as_float(a)} {sym} {self.as_float(b)}"), "b", BOOL)
        if ka == kb == "b" and not (a.is_lit and b.is_lit):
            return Val(self.tmp(f"{a.code} {sym} {b.code}"), "b", BOOL)
        if {ka, kb} in ({"b", "i"}, {"b", "f"}) and not (a.is_lit and b.is_lit):
            # NumPy compares a bool with an int in int64 and with a float in float64: Python
            # compares True/False as 1/0 exactly (and converts an int64 to float first)
            x, y = (a.code, b.code) if "f" not in (ka, kb) else (self.as_float(a), self.as_float(b))
            return Val(self.tmp(f"{x} {sym} {y}"), "b", BOOL)
        if ka == kb == "s":
            nulls = [v.code for v in (a, b) if not v.is_lit]
            if not nulls:
                raise Decline("rows: comparison of two literals")
            if op == "ne":
                guard = " or ".join(f"{c} is None" for c in nulls)
                code = f"{guard} or {a.code} != {b.code}"
            else:
                guard = " and ".join(f"{c} is not None" for c in nulls)
                code = f"{guard} and {a.code} {sym} {b.code}"
            return Val(self.tmp(code), "b", BOOL)
        if ka == kb == "M":
            return Val(self.tmp(f"{a.code} {sym} {b.code}"), "b", BOOL)
        raise Decline(f"rows: comparison of {a.dtype} and {b.dtype}")

    def gen_UnaryOp(self, e: ex.UnaryOp) -> Val:
        v = self.static(e.input, e.op)
        if v.kind == "i":
            if e.op == "pos":
                return v
            if e.op == "invert":
                return Val(self.tmp(f"~{v.code}"), "i", I64)
            return self.wrap(f"-{v.code}" if e.op == "neg" else f"abs({v.code})")
        if v.kind == "f" and e.op in ("neg", "pos", "abs"):
            code = {"neg": f"-{v.code}", "pos": v.code, "abs": f"abs({v.code})"}[e.op]
            return Val(self.tmp(code), "f", F64)
        if v.kind == "b" and e.op == "invert":
            return Val(self.tmp(f"not {v.code}"), "b", BOOL)
        raise Decline(f"rows: {e.op} of {v.dtype}")

    def gen_Ufunc(self, e: ex.Ufunc) -> Val:
        if len(e.inputs) != 1:
            raise Decline(f"rows: ufunc {e.name} with {len(e.inputs)} inputs")
        name = e.name
        v = self.expr(e.inputs[0])
        if v.kind not in ("i", "f") or v.is_lit:
            raise Decline(f"rows: ufunc {name} of {v.dtype}")
        if v.flag is not None and name in _FLOAT_UFUNCS:
            x = f"float({v.code})"  # int or float: the float64 result is the same
            return Val(self.tmp(f"{_FLOAT_UFUNCS[name]}({x})"), "f", F64)
        v = self.static(e.inputs[0], f"ufunc {name}")
        if name in _FLOAT_UFUNCS:
            return Val(self.tmp(f"{_FLOAT_UFUNCS[name]}({self.as_float(v)})"), "f", F64)
        if name in ("absolute", "abs", "negative", "positive"):
            op = {"absolute": "abs", "abs": "abs", "negative": "neg", "positive": "pos"}[name]
            return self.gen_UnaryOp(ex.UnaryOp(op, e.inputs[0]))
        if name == "sign":
            fn = "_isign" if v.kind == "i" else "_sign"
            return Val(self.tmp(f"{fn}({v.code})"), v.kind, v.dtype)
        if name in ("isnan", "isfinite", "isinf"):
            if v.kind == "i":
                return Val("False" if name != "isfinite" else "True", "b", BOOL)
            return Val(self.tmp(f"math.{name}({v.code})"), "b", BOOL)
        if name == "square" and v.kind == "f":
            return Val(self.tmp(f"{v.code} * {v.code}"), "f", F64)
        raise Decline(f"rows: ufunc {name}")

    # missing values ---------------------------------------------------------------------------
    def isna_code(self, v: Val) -> str:
        if v.kind in ("f",) or v.flag is not None:
            return f"{v.code} != {v.code}"
        if v.kind in ("s", "L"):
            return f"{v.code} is None"
        if v.kind == "M":
            return f"{v.code} is NaT"
        if v.kind in ("i", "b"):
            return "False"
        raise Decline(f"rows: isna of a value of dtype {v.dtype}")

    def gen_IsNa(self, e: ex.IsNa) -> Val:
        return Val(self.tmp(self.isna_code(self.expr(e.input))), "b", BOOL)

    def gen_NotNa(self, e: ex.NotNa) -> Val:
        return Val(self.tmp(f"not ({self.isna_code(self.expr(e.input))})"), "b", BOOL)

    def gen_FillNa(self, e: ex.FillNa) -> Val:
        v = self.expr(e.input)
        fill = self.expr(e.value)
        if fill.missing:
            return v
        if v.kind in ("i", "b") and v.flag is None:
            if fill.kind not in ("i", "f", "b", "s", "M"):
                raise Decline(f"rows: fillna of {v.dtype} with {fill.dtype}")
            return v  # nothing to fill: pandas keeps the values and the dtype
        if (v.kind == "f" or v.flag is not None) and fill.kind in ("i", "f"):
            if fill.flag is not None:
                raise Decline("rows: fillna with a value whose dtype depends on the data")
            code = f"{v.code} if {v.code} == {v.code} else {self.as_float(fill)}"
            if v.flag is not None:
                small = v.small and fill.is_lit and abs(fill.literal) < 2**53
                return Val(self.tmp(code), "i", v.dtype, flag=v.flag, small=small)
            return Val(self.tmp(code), "f", F64)
        if v.kind == "s" and fill.kind == "s":
            return Val(self.tmp(f"{fill.code} if {v.code} is None else {v.code}"), "s", STR)
        if v.kind == "M" and fill.kind == "M" and fill.is_lit:
            return Val(self.tmp(f"{fill.code} if {v.code} is NaT else {v.code}"), "M", v.dtype)
        raise Decline(f"rows: fillna of {v.dtype} with {fill.dtype}")

    # casts ------------------------------------------------------------------------------------
    def gen_Cast(self, e: ex.Cast) -> Val:
        v = self.static(e.input, "astype")
        try:
            target = pd.api.types.pandas_dtype(e.dtype)
        except TypeError:
            raise Decline(f"rows: astype({e.dtype!r})") from None
        to = kind_of(target)
        if to == v.kind and target == v.dtype:
            return v
        conv = {
            ("i", "f"): "float({})",
            ("b", "f"): "float({})",
            ("b", "i"): "int({})",
            ("i", "b"): "{} != 0",
            ("f", "b"): "bool({})",
            ("f", "i"): "_f2i({})",
            ("i", "s"): "str({})",
            ("b", "s"): "str({})",
            ("f", "s"): "None if {0} != {0} else repr({0})",
        }.get((v.kind, to or ""))
        if conv is None:
            raise Decline(f"rows: astype from {v.dtype} to {target}")
        return Val(self.tmp(conv.format(v.code)), to or "", target)

    # where / clip / round ---------------------------------------------------------------------
    def substitute(self, v: Val, other: Val, what: str) -> tuple[str, Val]:
        """The code of ``other`` replacing values of ``v``, and the result's type."""
        if other.flag is not None:
            raise Decline(f"rows: {what} with a value whose dtype depends on the data")
        if v.kind == "f" and other.kind in ("i", "f"):
            return self.as_float(other), Val("", "f", F64)
        if v.kind == "i" and other.kind == "i":
            return other.code, Val("", "i", I64)
        if v.kind == "i" and other.is_lit and other.kind == "f":
            f = other.literal
            if f is not None and f == f and float(f).is_integer() and abs(f) < 2**63:
                return repr(int(f)), Val("", "i", I64)  # int64 can hold it: no upcast
            return other.code, Val("", "i", I64, flag=-1)  # float64 when used
        if v.kind == "s" and (other.kind == "s" or other.missing):
            return ("None" if other.missing else other.code), Val("", "s", STR)
        if v.kind == "b" and other.kind == "b":
            return other.code, Val("", "b", BOOL)
        raise Decline(f"rows: {what} of {v.dtype} with {other.dtype}")

    def gen_Where(self, e: ex.Where) -> Val:
        v = self.static(e.input, "where")
        cond = self.static(e.cond, "where")
        if cond.kind != "b":
            raise Decline(f"rows: where with a {cond.dtype} condition")
        if isinstance(e.other, ex.Lit) and e.other.value is no_default:
            other = self.literal(None)
        else:
            other = self.expr(e.other)
        sub, out = self.substitute(v, other, "where")
        keep = f"not {cond.code}" if e.mask else cond.code
        code = f"{v.code} if {keep} else {sub}"
        if out.flag is not None:
            return self.dyn(code)
        return Val(self.tmp(code), out.kind, out.dtype)

    def bound(self, e: ex.Expr) -> Val | None:
        b = self.expr(e)
        if b.missing:
            return None
        if not b.is_lit or b.kind not in ("i", "f"):
            raise Decline("rows: clip with bounds that are not numeric literals")
        return b

    def gen_Clip(self, e: ex.Clip) -> Val:
        v = self.static(e.input, "clip")
        if v.kind not in ("i", "f"):
            raise Decline(f"rows: clip of {v.dtype}")
        lo, hi = self.bound(e.lower), self.bound(e.upper)
        if lo is not None and hi is not None and lo.literal > hi.literal:
            raise Decline("rows: clip with lower > upper")
        out = v
        dynamic = False
        for b, cmp in ((lo, "<"), (hi, ">")):
            if b is None:
                continue
            sub, t = self.substitute(v, b, "clip")
            dynamic = dynamic or t.flag is not None
            bound = self.as_float(b) if v.kind == "f" else b.code
            out = Val(self.tmp(f"{sub} if {out.code} {cmp} {bound} else {out.code}"), "", None)
        if dynamic:
            return self.dyn(out.code)
        return Val(out.code, v.kind, v.dtype)

    def gen_Round(self, e: ex.Round) -> Val:
        v = self.static(e.input, "round")
        if v.kind == "i" and e.decimals >= 0:
            return v
        if v.kind == "f":
            return Val(self.tmp(f"_fround({v.code}, {int(e.decimals)})"), "f", F64)
        raise Decline(f"rows: round of {v.dtype} to {e.decimals} decimals")

    # membership -------------------------------------------------------------------------------
    def gen_Between(self, e: ex.Between) -> Val:
        v = self.static(e.input, "between")
        lo, hi = self.expr(e.left), self.expr(e.right)
        ops = {
            "both": (">=", "<="),
            "neither": (">", "<"),
            "left": (">=", "<"),
            "right": (">", "<="),
        }
        if e.inclusive not in ops:
            raise Decline(f"rows: between(inclusive={e.inclusive!r})")
        a = self.compare({">=": "ge", ">": "gt"}[ops[e.inclusive][0]], v, lo)
        b = self.compare({"<=": "le", "<": "lt"}[ops[e.inclusive][1]], v, hi)
        return Val(self.tmp(f"{a.code} and {b.code}"), "b", BOOL)

    def gen_IsIn(self, e: ex.IsIn) -> Val:
        v = self.static(e.input, "isin")
        values = list(e.values)
        ok = {
            "i": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
            "f": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
            "s": lambda x: isinstance(x, str),
            "b": lambda x: isinstance(x, bool),
        }.get(v.kind)
        if ok is None or not all(ok(x) for x in values):
            raise Decline(f"rows: isin of {v.dtype} with {values!r}")
        has_nan = any(isinstance(x, float) and x != x for x in values)
        if v.kind == "i":
            members = frozenset(int(x) for x in values if float(x).is_integer())
        else:
            members = frozenset(x for x in values if not (isinstance(x, float) and x != x))
        code = f"{v.code} in {self.const(members)}"
        if has_nan and v.kind == "f":
            code = f"{code} or {v.code} != {v.code}"
        return Val(self.tmp(code), "b", BOOL)

    def gen_MapDict(self, e: ex.MapDict) -> Val:
        v = self.static(e.input, "map")
        mapping = dict(e.mapping)
        keys_ok = {
            "i": lambda k: isinstance(k, int) and not isinstance(k, bool),
            "s": lambda k: isinstance(k, str),
            "b": lambda k: isinstance(k, bool),
        }.get(v.kind)
        if keys_ok is None or not all(keys_ok(k) for k in mapping):
            raise Decline(f"rows: map of {v.dtype} with keys {list(mapping)!r}")
        vals = list(mapping.values())
        if vals and all(isinstance(x, str) for x in vals):
            kind, dtype, miss = "s", STR, "None"
        elif vals and all(type(x) is float for x in vals):
            kind, dtype, miss = "f", F64, "NAN"
        elif vals and all(type(x) is int and _I64_MIN <= x <= _I64_MAX for x in vals):
            kind, dtype, miss = "i", I64, "NAN"
        else:
            raise Decline(f"rows: map to values {vals!r} (dtype inferred from the data)")
        table = self.const(mapping)
        code = f"{table}.get({v.code}, {miss})"
        if kind == "i":
            if v.kind == "b" and all(k in mapping for k in (True, False)):
                return Val(self.tmp(code), "i", I64)
            return self.dyn(code, small=all(abs(x) < 2**53 for x in vals))
        return Val(self.tmp(code), kind, dtype)
