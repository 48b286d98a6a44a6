"""Python functions in a plan: ``Series.map`` / ``apply`` (:class:`MapFunc`) and
``DataFrame.apply(axis=1)`` (:class:`RowApply`).

A :class:`MapFunc` on a numeric value whose function numba can type is called inside the
loop, when its result is the dtype pandas infers from the Python values: every return value
is a float (float64, ints mixed in allowed) or every one a bool. Otherwise (``None``,
strings, other types, and integer results: Python ints don't wrap at 2**63 as numba's do)
the function runs per element in Python before the loop, through pandas' own
``Series.map`` / ``Series.apply`` (its dtype inference included); so does every
:class:`RowApply`, with a pandas Series per row (exact, slow). A non-finite result from a
finite input is NOT checked: where Python's ``math`` raises (``math.log(0)``) numba gives
-inf.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import udf
from ...ir.base import walk
from .emit import is_numeric

__all__ = ["typed", "eval_udf", "is_udf", "columns_of"]

_TYPED: dict[tuple[udf.PyFunc, str, str | None], tuple[Any, np.dtype] | None] = {}
_I64, _F64, _BOOL = np.dtype("int64"), np.dtype("float64"), np.dtype("bool")


def is_udf(e: ex.Expr) -> bool:
    """A Python function node."""
    return isinstance(e, (udf.MapFunc, udf.RowApply))


def _numba_arg(dtype: np.dtype) -> Any:
    """The numba type of the Python scalar pandas passes (``astype(object)``)."""
    from numba import types

    if dtype.kind == "b":
        return types.boolean
    return types.int64 if dtype.kind in "iu" else types.float64


def _result_dtype(dispatcher: Any, sig: Any) -> np.dtype | None:
    """pandas' dtype for the function's Python results, from numba's typed IR: the types of
    the values each ``return`` casts (before numba unifies them)."""
    import numba
    from numba.core import ir, types

    cres = dispatcher.overloads[sig]
    typemap = cres.type_annotation.typemap
    defs: dict[str, list[Any]] = {}
    for block in cres.type_annotation.blocks.values():
        for stmt in block.body:
            if isinstance(stmt, ir.Assign):
                defs.setdefault(stmt.target.name, []).append(stmt.value)
    kinds: set[str] = set()

    def kind(t: Any) -> str | None:
        if isinstance(t, types.Boolean):
            return "b"
        if isinstance(t, types.Integer) and t == types.int64:
            return "i"
        if isinstance(t, types.Float) and t.bitwidth == 64:
            return "f"
        return None

    def sources(name: str, depth: int = 0) -> list[Any]:
        """The types of the values assigned to variable ``name`` (through copies)."""
        out = []
        for value in defs.get(name, []):
            if isinstance(value, ir.Var) and depth < 20:
                out += sources(value.name, depth + 1)
            elif isinstance(value, ir.Const):
                out.append(numba.typeof(value.value))
            else:
                out.append(typemap[name])
        return out or [typemap[name]]

    for block in cres.type_annotation.blocks.values():
        for stmt in block.body:
            cast = isinstance(stmt, ir.Assign) and isinstance(stmt.value, ir.Expr)
            if cast and stmt.value.op == "cast":
                for t in sources(stmt.value.value.name):
                    k = kind(t)
                    if k is None:
                        return None
                    kinds.add(k)
    if kinds in ({"b"}, {"i"}):
        return _BOOL if kinds == {"b"} else _I64
    if kinds and kinds <= {"i", "f"}:
        return _F64
    return None


def typed(e: udf.MapFunc, in_dtype: Any) -> tuple[Any, np.dtype] | None:
    """(jitted function, result dtype) when the loop can call ``e``'s function, else None."""
    if not is_numeric(in_dtype) or e.func.args or e.func.kwargs:
        return None
    if e.na_action == "ignore" and in_dtype.kind == "f":
        na: str | None = "ignore"
    else:
        na = None
    key = (e.func, in_dtype.kind if in_dtype.kind != "u" else "i", na)
    if key in _TYPED:
        return _TYPED[key]
    hit = None
    try:
        import numba

        dispatcher = numba.njit(e.func.func)
        arg = _numba_arg(in_dtype)
        dispatcher.compile((arg,))
        (sig,) = [s for s in dispatcher.overloads if s == (arg,)]
        out = _result_dtype(dispatcher, sig)
        # Python ints don't wrap at 2**63 (per element); NaN kept by na_action: bools -> object
        if out is not None and out != _I64 and not (na == "ignore" and out != _F64):
            hit = (dispatcher, out)
    except Exception:  # numba can't type it (or the function isn't plain Python)
        hit = None
    _TYPED[key] = hit
    return hit


def columns_of(e: ex.Expr) -> set[Hashable]:
    """The column labels ``e`` reads."""
    return {c.name for c in walk(e) if isinstance(c, ex.Col)}


def eval_udf(e: ex.Expr, column: Callable[[Hashable], Any], index: pd.Index) -> Any:
    """Run ``e`` (a :class:`MapFunc` or :class:`RowApply`) per element/row in Python, through
    pandas itself: the values of its result."""
    from ..pandas import BACKEND as PANDAS

    def value(x: ex.Expr) -> pd.Series:
        labels = columns_of(x)
        frame = pd.DataFrame({label: column(label) for label in labels}, index=index)
        if not labels:
            frame = pd.DataFrame(index=index)
        out = PANDAS.ev(x, frame, {})
        if not isinstance(out, pd.Series):
            out = pd.Series(out, index=index)
        return out

    if isinstance(e, udf.MapFunc):
        result = PANDAS.visit_MapFunc(e, value(e.input))
    else:
        assert isinstance(e, udf.RowApply)
        result = PANDAS.visit_RowApply(e, *(value(x) for x in e.inputs))
    return result.to_numpy() if isinstance(result.dtype, np.dtype) else result.array
