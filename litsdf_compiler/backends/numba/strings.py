"""String (and other non-numeric) expressions, evaluated on whole columns with pyarrow.compute.

Only pandas 3's default ``str`` dtype (pyarrow storage, NaN as the missing value) is accepted;
for it pandas itself calls these pyarrow kernels, and the conversions of their results
(null -> False for predicates, float64 lengths when a value is missing) are reproduced here.
Numeric results (lengths, predicates) become inputs of the fused numeric loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from ...ir import expressions as ex
from ...ir import strings as st
from .emit import Unsupported, is_numeric
from .numpy_host import eval_numpy_host, is_numpy_host

__all__ = ["is_host", "eval_host", "STR"]

STR = pd.StringDtype("pyarrow", na_value=np.nan)
_CMP = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal"}
_CMP |= {"gt": "greater", "ge": "greater_equal"}
_HOST = (
    st.StrCase,
    st.StrStrip,
    st.StrLen,
    st.StrContains,
    st.StrStartsWith,
    st.StrEndsWith,
    st.StrReplace,
)


def _literal_pattern(pat: Any) -> bool:
    return isinstance(pat, str) and pat != "" and re.escape(pat) == pat


def is_host(e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> bool:
    """Whether ``e`` is computed here on whole columns (a non-numeric tree); raises
    :class:`Unsupported` for non-numeric expressions that can't be matched exactly."""
    if isinstance(e, ex.Alias):
        return is_host(e.input, typeof)
    if is_numpy_host(e, typeof):  # (a float function only NumPy computes as pandas does)
        return True
    if isinstance(e, ex.Col):
        return not is_numeric(typeof(e))
    if isinstance(e, (ex.IsNa, ex.NotNa)):
        dtype = typeof(e.input)
        if is_numeric(dtype):
            return False
        if dtype != STR and not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
            raise Unsupported(f"isna on dtype {dtype}")
        return _host_input(e.input, typeof)
    if isinstance(e, ex.BinaryOp) and e.op in _CMP and _is_str(e.left, typeof):
        if not (isinstance(e.right, ex.Lit) and isinstance(e.right.value, str)):
            raise Unsupported("string comparison with something other than a literal")
        return _host_input(e.left, typeof)
    if isinstance(e, ex.FillNa) and _is_str(e.input, typeof):
        if not (isinstance(e.value, ex.Lit) and isinstance(e.value.value, str)):
            raise Unsupported("fillna of strings with a non-string")
        return _host_input(e.input, typeof)
    if isinstance(e, _HOST):
        if typeof(e.input) != STR:
            raise Unsupported(f"{type(e).__name__} on dtype {typeof(e.input)}")
        _check_str_method(e)
        return _host_input(e.input, typeof)
    if not is_numeric(typeof(e)):
        raise Unsupported(f"{type(e).__name__} of dtype {typeof(e)}")
    return False


def _is_str(e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> bool:
    return not isinstance(e, ex.Lit) and typeof(e) == STR


def _host_input(e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> bool:
    if not is_host(e, typeof):
        raise Unsupported("a string method on a computed numeric value")
    return True


def _check_str_method(e: ex.Expr) -> None:
    if isinstance(e, st.StrCase) and e.how not in ("lower", "upper"):
        raise Unsupported(f"str.{e.how}")
    if isinstance(e, st.StrStrip) and e.side not in ("both", "left", "right"):
        raise Unsupported(f"strip side {e.side}")
    if isinstance(e, st.StrContains) and not (
        e.case and not e.flags and e.na is no_default and isinstance(e.pat, str)
    ):
        raise Unsupported("str.contains with case/flags/na")
    if isinstance(e, st.StrContains) and e.regex and not _literal_pattern(e.pat):
        raise Unsupported("str.contains with a regular expression")
    if isinstance(e, (st.StrStartsWith, st.StrEndsWith)) and not (
        isinstance(e.pat, str) and e.na is no_default
    ):
        raise Unsupported("startswith/endswith with a tuple or na")
    if isinstance(e, st.StrReplace) and not (
        e.n == -1
        and e.case in (None, True)
        and not e.flags
        and isinstance(e.pat, str)
        and isinstance(e.repl, str)
        and e.pat != ""
        and (not e.regex or (_literal_pattern(e.pat) and "\\" not in e.repl))
    ):
        raise Unsupported("str.replace other than a literal")


def eval_host(e: ex.Expr, column: Callable[[Hashable], Any]) -> Any:
    """Values (NumPy array or pandas ExtensionArray) of host expression ``e``;
    ``column(label)`` gives a column's values."""
    import pyarrow.compute as pc

    if isinstance(e, ex.Alias):
        return eval_host(e.input, column)
    if isinstance(e, ex.Col):
        return column(e.name)
    if isinstance(e, ex.Ufunc) or (isinstance(e, ex.BinaryOp) and e.op == "pow"):
        return eval_numpy_host(e, column)
    arr = eval_host(e.left if isinstance(e, ex.BinaryOp) else e.input, column)  # type: ignore[attr-defined]
    if isinstance(e, (ex.IsNa, ex.NotNa)):
        if isinstance(arr, np.ndarray):
            na = np.isnat(arr)
        else:
            na = pc.is_null(arr._pa_array).to_numpy()
        return na if isinstance(e, ex.IsNa) else ~na
    pa_arr = arr._pa_array
    if isinstance(e, ex.BinaryOp):
        res = getattr(pc, _CMP[e.op])(pa_arr, e.right.value)  # type: ignore[attr-defined]
        return _bool(res.fill_null(e.op == "ne"))
    if isinstance(e, ex.FillNa):
        return arr._from_pyarrow_array(pc.fill_null(pa_arr, e.value.value))  # type: ignore[attr-defined]
    if isinstance(e, st.StrCase):
        fn = pc.utf8_lower if e.how == "lower" else pc.utf8_upper
        return arr._from_pyarrow_array(fn(pa_arr))
    if isinstance(e, st.StrStrip):
        side = {"both": "", "left": "l", "right": "r"}[e.side]
        if e.to_strip is None:
            res = getattr(pc, f"utf8_{side}trim_whitespace")(pa_arr)
        else:
            res = getattr(pc, f"utf8_{side}trim")(pa_arr, characters=e.to_strip)
        return arr._from_pyarrow_array(res)
    if isinstance(e, st.StrLen):
        res = pc.utf8_length(pa_arr).cast("int64")
        return res.to_numpy()  # float64 with NaN when a value is missing (as pandas)
    if isinstance(e, st.StrContains):
        return _bool(pc.match_substring(pa_arr, pattern=e.pat).fill_null(False))
    if isinstance(e, st.StrStartsWith):
        return _bool(pc.starts_with(pa_arr, pattern=e.pat).fill_null(False))
    if isinstance(e, st.StrEndsWith):
        return _bool(pc.ends_with(pa_arr, pattern=e.pat).fill_null(False))
    if isinstance(e, st.StrReplace):
        res = pc.replace_substring(pa_arr, pattern=e.pat, replacement=e.repl)
        return arr._from_pyarrow_array(res)
    raise Unsupported(f"no host kernel for {type(e).__name__}")


def _bool(res: Any) -> np.ndarray:
    out: np.ndarray = res.to_numpy()
    return out.astype(bool, copy=False)
