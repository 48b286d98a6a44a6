"""Float functions that only NumPy computes exactly as pandas does, evaluated on whole columns
before the loop.

NumPy computes ``log``, ``exp``, the trigonometric functions, ``arctan2`` and float powers
with its own vectorized loops (SIMD, SVML where the CPU has AVX-512); a compiled loop calls
libm, whose results differ from them in the last bit for many inputs (and which loop NumPy
picks depends on the machine). So these are computed here the way pandas computes them — by
the reference kernels, i.e. the very NumPy call on the whole column — and their float results
become inputs of the fused numeric loop, like the string methods of :mod:`.strings`.

Correctly rounded operations (``+ - * /``, ``sqrt``) and NumPy's special scalar powers
(``x ** 2``, ``x ** 0.5``, ...) stay in the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import strings as st
from ...ir import temporal as tm
from ...ir.base import walk
from .emit import Unsupported, is_numeric

__all__ = ["NUMPY_ONLY_UFUNCS", "LOOP_POWERS", "is_numpy_host", "eval_numpy_host"]

NUMPY_ONLY_UFUNCS = frozenset(
    {
        "log",
        "log1p",
        "log2",
        "log10",
        "exp",
        "exp2",
        "expm1",
        "cbrt",
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "arctan2",
        "power",
    }
)
"""Ufuncs whose float results a compiled libm call does not reproduce bit for bit."""

LOOP_POWERS = (2, 0.5, 1, 0, -1)
"""Float exponents NumPy computes as a multiplication, a square root or a division (exact in
the loop); any other float power is NumPy's ``pow`` loop."""

_ELEMENTWISE = (
    ex.Col,
    ex.Lit,
    ex.Alias,
    ex.BinaryOp,
    ex.UnaryOp,
    ex.Ufunc,
    ex.FillNa,
    ex.IsNa,
    ex.NotNa,
    ex.Cast,
    ex.Where,
    ex.Clip,
    ex.Round,
    ex.Between,
    ex.IsIn,
    ex.MapDict,
    ex.Replace,
)
"""Expression nodes computed row by row (a value needs only its own row): the only ones a
host function's argument may hold (a reduction would see the rows a later filter drops)."""


_STR_TEMPORAL = tuple(
    cls
    for mod in (st, tm)
    for cls in vars(mod).values()
    if isinstance(cls, type) and issubclass(cls, ex.Expr) and cls.__module__ == mod.__name__
)
"""String and datetime expression nodes (row by row too)."""


def _numpy_only(e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> bool:
    if isinstance(e, ex.Ufunc):
        return e.name in NUMPY_ONLY_UFUNCS
    if isinstance(e, ex.BinaryOp) and e.op == "pow":
        dtype = typeof(e)
        exponent = e.right.value if isinstance(e.right, ex.Lit) else None
        loop = exponent is not None and not isinstance(exponent, bool) and exponent in LOOP_POWERS
        # (float32 powers stay declined by the loop: pandas' float32 result is NumPy's too,
        # but no caller needs it yet)
        return dtype == np.dtype("float64") and not loop
    return False


def is_numpy_host(e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> bool:
    """Whether ``e`` is a float function computed here by NumPy on whole columns.

    Parameters
    ----------
    e : Expr
        An expression of a stage.
    typeof : callable
        pandas' dtype of a sub-expression.

    Returns
    -------
    bool
        True for a ufunc of ``NUMPY_ONLY_UFUNCS`` or a float64 power that is not one of
        ``LOOP_POWERS``, with a numeric result.

    Raises
    ------
    Unsupported
        Such a function of something other than row-by-row expressions (a reduction, a
        Python function): it can't be computed before the loop and not exactly in it.
    """
    if not _numpy_only(e, typeof):
        return False
    what = f"np.{e.name}" if isinstance(e, ex.Ufunc) else "a float power"
    if not is_numeric(typeof(e)):
        raise Unsupported(f"{what} of dtype {typeof(e)}")
    nodes = list(walk(e))
    if not any(isinstance(x, ex.Col) for x in nodes):
        raise Unsupported(f"{what} of literals only")
    for x in nodes:
        if not isinstance(x, (*_ELEMENTWISE, *_STR_TEMPORAL)):
            raise Unsupported(
                f"{what} of {type(x).__name__}: computed exactly only by NumPy on whole columns "
                "(the compiled libm call differs from NumPy's loop in the last bit)"
            )
    return True


def eval_numpy_host(e: ex.Expr, column: Callable[[Hashable], Any]) -> np.ndarray:
    """The values of host function ``e`` (see :func:`is_numpy_host`), by pandas' reference
    kernels on the columns it reads; ``column(label)`` gives a column's values."""
    from ...semantics import REFERENCE

    labels = list(dict.fromkeys(x.name for x in walk(e) if isinstance(x, ex.Col)))
    frame = pd.DataFrame({i: column(label) for i, label in enumerate(labels)})
    frame.columns = pd.Index(labels, tupleize_cols=False)
    with np.errstate(all="ignore"):  # (rows a later filter drops are computed too)
        value = REFERENCE.ev(e, frame)
    if isinstance(value, pd.Series):
        return value.to_numpy()
    return np.asarray(value)
