"""pandas kernels for expression nodes: each replays the pandas call the node records."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandas.api.extensions import no_default

from ..ir import expressions as ex
from ..ir import strings as st
from ..ir import temporal as tm
from ..ir import udf
from ..ir.base import thaw
from ..ir.operators import BINARY, UNARY
from ..ir.trust import INPLACE_METHODS, UFUNCS, check_dispatch

__all__ = ["ExpressionKernels"]


def _tagged(arg: tuple[str, Any]) -> Any:
    kind, value = arg
    if kind == "default":
        return no_default
    return thaw(value) if kind != "scalar" else value


class ExpressionKernels:
    """``visit_<Expr>(node, *evaluated_children)`` for every expression node."""

    def visit_Col(self, n: ex.Col, frame: Any) -> Any:
        return frame[n.name]

    def visit_Lit(self, n: ex.Lit) -> Any:
        return n.value

    def visit_Alias(self, n: ex.Alias, s: Any) -> Any:
        return s.rename(n.name)

    def visit_BinaryOp(self, n: ex.BinaryOp, left: Any, right: Any) -> Any:
        return BINARY[n.op](left, right)

    def visit_UnaryOp(self, n: ex.UnaryOp, s: Any) -> Any:
        fn: Any = UNARY[n.op]
        return fn(s)

    def visit_Ufunc(self, n: ex.Ufunc, *args: Any) -> Any:
        if n.name not in UFUNCS:  # a NumPy ufunc, never any other numpy function
            check_dispatch(n, "name", UFUNCS)
        return UFUNCS[n.name](*args)

    def visit_FillNa(self, n: ex.FillNa, s: Any, value: Any) -> Any:
        return s.fillna(value)

    def visit_IsNa(self, n: ex.IsNa, s: Any) -> Any:
        return s.isna()

    def visit_NotNa(self, n: ex.NotNa, s: Any) -> Any:
        return s.notna()

    def visit_Cast(self, n: ex.Cast, s: Any) -> Any:
        return s.astype(n.dtype)

    def visit_Where(self, n: ex.Where, s: Any, cond: Any, other: Any) -> Any:
        return (s.mask if n.mask else s.where)(cond, other)

    def visit_Clip(self, n: ex.Clip, s: Any, lower: Any, upper: Any) -> Any:
        return s.clip(lower, upper)

    def visit_Round(self, n: ex.Round, s: Any) -> Any:
        return s.round(n.decimals)

    def visit_Between(self, n: ex.Between, s: Any, left: Any, right: Any) -> Any:
        return s.between(left, right, inclusive=n.inclusive)

    def visit_IsIn(self, n: ex.IsIn, s: Any) -> Any:
        return s.isin(list(n.values))

    def visit_MapDict(self, n: ex.MapDict, s: Any) -> Any:
        return s.map(dict(n.mapping), na_action=n.na_action)

    def visit_MapFunc(self, n: udf.MapFunc, s: Any) -> Any:
        if n.method == "map":
            return s.map(n.func.bound(), na_action=n.na_action)
        out = s.apply(n.func.func, args=n.func.args, **dict(n.func.kwargs))
        if not isinstance(out, pd.Series):
            raise NotImplementedError(
                f"Series.apply({n.func.name}) returned a Series per element (pandas expands "
                "that into a DataFrame); a compiled plan needs one scalar per element: "
                "call .to_pandas().apply(...) for the expanding form"
            )
        return out

    def visit_RowApply(self, n: udf.RowApply, *columns: Any) -> Any:
        frame = pd.concat(columns, axis=1)
        frame.columns = pd.Index(n.labels) if n.labels else frame.columns
        out = frame.apply(n.func.func, axis=1, args=n.func.args, **dict(n.func.kwargs))
        if len(frame) == 0 and not isinstance(out, pd.Series):
            # no rows: pandas probes func on an empty row and, when that fails, returns the
            # frame itself; as a column that is an empty column of unknown type
            return pd.Series([], index=frame.index, dtype=object)
        if not isinstance(out, pd.Series):
            raise NotImplementedError(
                f"DataFrame.apply({n.func.name}, axis=1) returned a Series/list per row "
                "(pandas expands that into columns); a compiled plan needs one scalar per "
                "row: call .to_pandas().apply(..., axis=1) for the expanding form"
            )
        return out

    def visit_Replace(self, n: ex.Replace, s: Any) -> Any:
        return s.replace(_tagged(n.to_replace), _tagged(n.value), regex=n.regex)

    def visit_InplaceCall(self, n: ex.InplaceCall, s: Any, *values: Any) -> Any:
        out = s.copy(deep=False)  # copy-on-write: the input is never modified
        args, kwvalues = values[: len(n.args)], values[len(n.args) :]
        if n.method not in INPLACE_METHODS:
            check_dispatch(n, "method", INPLACE_METHODS)
        getattr(out, n.method)(*args, **dict(zip(n.kwnames, kwvalues, strict=True)), inplace=True)
        return out

    def visit_Reduce(self, n: ex.Reduce, s: Any) -> Any:
        if n.func not in ex.REDUCTIONS:
            check_dispatch(n, "func", ex.REDUCTIONS)
        return getattr(s, n.func)(**thaw(dict(n.kwargs)))

    # strings ---------------------------------------------------------------------------
    def visit_StrCase(self, n: st.StrCase, s: Any) -> Any:
        if n.how not in st.STR_CASES:
            check_dispatch(n, "how", st.STR_CASES)
        return getattr(s.str, n.how)()

    def visit_StrStrip(self, n: st.StrStrip, s: Any) -> Any:
        method = {"both": "strip", "left": "lstrip", "right": "rstrip"}[n.side]
        return getattr(s.str, method)(n.to_strip)

    def visit_StrLen(self, n: st.StrLen, s: Any) -> Any:
        return s.str.len()

    def visit_StrContains(self, n: st.StrContains, s: Any) -> Any:
        return s.str.contains(n.pat, case=n.case, flags=n.flags, na=n.na, regex=n.regex)

    def visit_StrStartsWith(self, n: st.StrStartsWith, s: Any) -> Any:
        return s.str.startswith(n.pat, na=n.na)

    def visit_StrEndsWith(self, n: st.StrEndsWith, s: Any) -> Any:
        return s.str.endswith(n.pat, na=n.na)

    def visit_StrReplace(self, n: st.StrReplace, s: Any) -> Any:
        return s.str.replace(n.pat, n.repl, n=n.n, case=n.case, flags=n.flags, regex=n.regex)

    def visit_StrSlice(self, n: st.StrSlice, s: Any) -> Any:
        return s.str.slice(n.start, n.stop, n.step)

    def visit_StrSplit(self, n: st.StrSplit, s: Any) -> Any:
        return s.str.split(n.pat, n=n.n, regex=n.regex)

    def visit_StrGet(self, n: st.StrGet, s: Any) -> Any:
        return s.str.get(n.i)

    def visit_StrCat(self, n: st.StrCat, s: Any, *others: Any) -> Any:
        if not others:  # the reduction form: one string
            return s.str.cat(sep=n.sep, na_rep=n.na_rep)
        return s.str.cat(list(others), sep=n.sep, na_rep=n.na_rep)

    def visit_StrMethod(self, n: st.StrMethod, s: Any) -> Any:
        if n.method not in st.STR_METHODS:
            check_dispatch(n, "method", st.STR_METHODS)
        return getattr(s.str, n.method)(*thaw(n.args), **thaw(dict(n.kwargs)))

    # temporal --------------------------------------------------------------------------
    def visit_DtField(self, n: tm.DtField, s: Any) -> Any:
        # deprecated aliases: the front end warned (as pandas) when the node was built
        if n.field not in tm.DT_FIELDS:
            check_dispatch(n, "field", tm.DT_FIELDS)
        return getattr(s.dt, tm.DT_ALIASES.get(n.field, n.field))

    def visit_DtNormalize(self, n: tm.DtNormalize, s: Any) -> Any:
        return s.dt.normalize()

    def visit_DtMethod(self, n: tm.DtMethod, s: Any) -> Any:
        if n.method not in tm.DT_METHODS:
            check_dispatch(n, "method", tm.DT_METHODS)
        return getattr(s.dt, n.method)(*thaw(n.args), **thaw(dict(n.kwargs)))
