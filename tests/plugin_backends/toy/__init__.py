"""``toy``: a small backend defined in the test suite, outside the source tree.

It shows that a backend is one folder: with ``LITSDF_BACKEND_PATH=tests/plugin_backends`` the
registry discovers it (no file of litsdf is edited), ``litsdf.backends()`` lists it, the
differential suite runs on it (``tests/test_plugin_backends.py``) and ``backend="auto"`` picks
it for the input sizes its preference names.

It runs the physical nodes Scan / Compute / Filter / Select (``litsdf_compiler.lower``) over
simple numeric expressions (columns of int64, float64 and bool; int and float literals;
``+ - * /``, comparisons, ``& |``, unary minus) with NumPy arrays on the base's driver, and
declines every other plan with the reason. It is not registered in the normal test run (it
would run the whole suite once more).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from litsdf_compiler.backends.base import Backend, Verdict
from litsdf_compiler.backends.preference import Preference, Setting, Settings
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.ir.base import Node
from litsdf_compiler.lower import Compute, Filter, Physical, Scan, Select, Table

__all__ = ["BACKEND", "ToyBackend"]

_NUMBERS = (np.dtype("int64"), np.dtype("float64"))
_BOOL = np.dtype("bool")
_ARITHMETIC = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.divide}
_COMPARISONS = {
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
}
_LOGIC = {"and": np.logical_and, "or": np.logical_or}
_INT64 = (-(2**63), 2**63 - 1)


class _Declined(Exception):
    """An expression the toy does not run exactly as pandas would (the message says why)."""


def _dtype(e: ex.Expr, schema: pd.Series) -> Any:
    """The dtype (or ``"int"``/``"float"`` for a literal) of ``e`` as NumPy computes it."""
    if isinstance(e, ex.Col):
        if e.name not in schema.index:
            raise _Declined(f"no column {e.name!r}")
        dtype = schema[e.name]
        if dtype not in (*_NUMBERS, _BOOL):
            raise _Declined(f"column {e.name!r} has dtype {dtype} (int64, float64, bool only)")
        return dtype
    if isinstance(e, ex.Lit):
        if type(e.value) is float:
            return "float"
        if type(e.value) is int and _INT64[0] <= e.value <= _INT64[1]:
            return "int"
        raise _Declined(f"literal {e.value!r} (int64-sized int or float only)")
    if isinstance(e, ex.Alias):
        return _dtype(e.input, schema)
    if isinstance(e, ex.UnaryOp) and e.op == "neg":
        inner = _dtype(e.input, schema)
        if inner not in _NUMBERS:
            raise _Declined(f"neg of {inner}")
        return inner
    if isinstance(e, ex.BinaryOp):
        left, right = _dtype(e.left, schema), _dtype(e.right, schema)
        if isinstance(left, str) and isinstance(right, str):
            raise _Declined(f"{e.op} of two literals")
        if e.op in _LOGIC:
            if left != _BOOL or right != _BOOL:
                raise _Declined(f"{e.op} of {left} and {right} (two bool columns only)")
            return _BOOL
        numeric = (*_NUMBERS, "int", "float")
        if e.op not in _ARITHMETIC and e.op not in _COMPARISONS:
            raise _Declined(f"operator {e.op}")
        if left not in numeric or right not in numeric:
            raise _Declined(f"{e.op} of {left} and {right} (numbers only)")
        if e.op in _COMPARISONS:
            return _BOOL
        if e.op == "truediv" or np.dtype("float64") in (left, right) or "float" in (left, right):
            return np.dtype("float64")
        return np.dtype("int64")
    raise _Declined(f"expression {type(e).__name__}")


def _evaluate(e: ex.Expr, t: Table) -> Any:
    """``e`` on the table ``t`` (``Col`` names are internal names) with NumPy: an array (or a
    literal's scalar)."""
    if isinstance(e, ex.Col):
        return np.asarray(t.columns[e.name])
    if isinstance(e, ex.Lit):
        return e.value
    if isinstance(e, ex.Alias):
        return _evaluate(e.input, t)
    if isinstance(e, ex.UnaryOp):
        return np.negative(_evaluate(e.input, t))
    assert isinstance(e, ex.BinaryOp)
    ufunc = {**_ARITHMETIC, **_COMPARISONS, **_LOGIC}[e.op]
    with np.errstate(all="ignore"):  # (x / 0 is inf or nan, silently, as in pandas)
        return ufunc(_evaluate(e.left, t), _evaluate(e.right, t))


def _schema(n: Physical) -> pd.Series:
    """A physical node's field dtypes by internal name."""
    return pd.Series({f.name: f.dtype for f in n.schema}, dtype=object)


class ToyBackend(Backend):
    """NumPy over the columns of one frame; prefers inputs of ``min_rows``..``max_rows`` rows."""

    name = "toy"
    priority = 90
    settings = (
        Setting("min_rows", 2_000, "the smallest input the toy prefers"),
        Setting("max_rows", 5_000, "the largest input the toy prefers"),
    )

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        low, high = settings["min_rows"], settings["max_rows"]
        if rows is None or not low <= rows <= high:
            return None
        return Preference(
            f"{rows} rows in toy_min_rows..toy_max_rows={low}..{high} (settings: {settings.source})"
        )

    # what it accepts (over the physical plan: internal names, each node's schema) ----------
    def check_Scan(self, n: Scan) -> Verdict:
        if not isinstance(n.source, rel.Source) or not isinstance(n.source.data.data, pd.DataFrame):
            return Verdict(False, f"toy reads in-memory DataFrames, not {type(n.source).__name__}")
        return Verdict(True)

    def check_Compute(self, n: Compute) -> Verdict:
        schema, out = _schema(n.input), _schema(n)
        for name, e in n.expressions:
            if isinstance(e, ex.Col):
                continue  # a column as it is: its array, any dtype
            try:
                got = _dtype(e, schema)
            except _Declined as why:
                return Verdict(False, f"toy declines Compute: {why}")
            if isinstance(got, str):
                return Verdict(False, f"toy: {name!r} is a literal alone (a broadcast)")
            if got != out[name]:
                return Verdict(False, f"toy: {name!r} would be {got}, pandas gives {out[name]}")
        return Verdict(True)

    def check_Filter(self, n: Filter) -> Verdict:
        try:
            got = _dtype(n.condition, _schema(n.input))
        except _Declined as why:
            return Verdict(False, f"toy declines Filter: {why}")
        if got != _BOOL:
            return Verdict(False, f"toy: a filter condition of dtype {got}")
        return Verdict(True)

    # how it runs them: Tables of NumPy arrays; the base's driver walks the plan and its
    # shared finalize builds pandas' object (labels, index, dtypes) ---------------------------
    visit_Scan = Backend.scan_table

    def visit_Compute(self, n: Compute, t: Table) -> Table:
        cols = dict(t.columns)
        for name, e in n.expressions:
            cols[name] = t.columns[e.name] if isinstance(e, ex.Col) else _evaluate(e, t)
        return Table({name: cols[name] for name in n.names()}, t.rows)

    def visit_Filter(self, n: Filter, t: Table) -> Table:
        return t.take(np.flatnonzero(_evaluate(n.condition, t)).astype(np.intp))

    def visit_Select(self, n: Select, t: Table) -> Table:
        return t.select(n.names())


BACKEND = ToyBackend()
