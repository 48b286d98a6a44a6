"""``toy``: a small backend defined in the test suite, outside the source tree.

It shows that a backend is one folder: with ``LITSDF_BACKEND_PATH=tests/plugin_backends`` the
registry discovers it (no file of litsdf is edited), ``litsdf.backends()`` lists it, the
differential suite runs on it (``tests/test_plugin_backends.py``) and ``backend="auto"`` picks
it for the input sizes its preference names.

It runs Source / Filter / Project / WithColumns over simple numeric expressions (columns of
int64, float64 and bool; int and float literals; ``+ - * /``, comparisons, ``& |``, unary
minus) with NumPy arrays, and declines every other plan with the reason. It is not registered
in the normal test run (it would run the whole suite once more).
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
from litsdf_compiler.meta import meta_of

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


def _column(e: ex.Expr, frame: pd.DataFrame) -> Any:
    """The value of an output column: a column as it is (the pandas Series, any dtype), or
    the NumPy array of an expression."""
    return frame[e.name] if isinstance(e, ex.Col) else _evaluate(e, frame)


def _evaluate(e: ex.Expr, frame: pd.DataFrame) -> Any:
    """``e`` on ``frame`` with NumPy: an array (or a literal's scalar)."""
    if isinstance(e, ex.Col):
        return frame[e.name].to_numpy()
    if isinstance(e, ex.Lit):
        return e.value
    if isinstance(e, ex.Alias):
        return _evaluate(e.input, frame)
    if isinstance(e, ex.UnaryOp):
        return np.negative(_evaluate(e.input, frame))
    assert isinstance(e, ex.BinaryOp)
    ufunc = {**_ARITHMETIC, **_COMPARISONS, **_LOGIC}[e.op]
    with np.errstate(all="ignore"):  # (x / 0 is inf or nan, silently, as in pandas)
        return ufunc(_evaluate(e.left, frame), _evaluate(e.right, frame))


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

    # what it accepts ------------------------------------------------------------------------
    def _check(self, n: Any, expressions: tuple[tuple[Any, ex.Expr], ...]) -> Verdict:
        schema = meta_of(n.input).dtypes
        if not schema.index.is_unique or isinstance(schema.index, pd.MultiIndex):
            return Verdict(False, "toy: the input's column labels are not unique and flat")
        out = meta_of(n)
        for label, e in expressions:
            if isinstance(e, ex.Col) and e.name in schema.index:
                continue  # a column as it is: pandas copies it (any dtype)
            try:
                got = _dtype(e, schema)
            except _Declined as why:
                return Verdict(False, f"toy declines {type(n).__name__}: {why}")
            if isinstance(got, str):
                return Verdict(False, f"toy: {label!r} is a literal alone (a broadcast)")
            want = out[label].dtype
            if got != want:
                return Verdict(False, f"toy: {label!r} would be {got}, pandas gives {want}")
        return Verdict(True)

    def check_Source(self, n: rel.Source) -> Verdict:
        if not isinstance(n.data.data, pd.DataFrame):
            return Verdict(False, "toy: a Source that is not a DataFrame")
        return Verdict(True)

    def check_Project(self, n: rel.Project) -> Verdict:
        return self._check(n, n.expressions)

    def check_WithColumns(self, n: rel.WithColumns) -> Verdict:
        return self._check(n, n.expressions)

    def check_Filter(self, n: rel.Filter) -> Verdict:
        schema = meta_of(n.input).dtypes
        try:
            got = _dtype(n.condition, schema)
        except _Declined as why:
            return Verdict(False, f"toy declines Filter: {why}")
        if got != _BOOL:
            return Verdict(False, f"toy: a filter condition of dtype {got}")
        return self._check(n, ())

    # how it runs them (an expression is evaluated by its relation) --------------------------
    def visit_Source(self, n: rel.Source) -> pd.DataFrame:
        return n.data.data

    def visit_Project(self, n: rel.Project, df: pd.DataFrame) -> pd.DataFrame:
        if all(isinstance(e, ex.Col) and e.name == label for label, e in n.expressions):
            return df[[label for label, _ in n.expressions]]
        out = df[[]]
        for label, e in n.expressions:
            out[label] = _column(e, df)
        return out

    def visit_WithColumns(self, n: rel.WithColumns, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for label, e in n.expressions:
            out[label] = _column(e, df)
        return out

    def visit_Filter(self, n: rel.Filter, df: pd.DataFrame) -> pd.DataFrame:
        return df[_evaluate(n.condition, df)]

    def _in_relation(self, n: Node, *args: Any) -> Any:
        raise NotImplementedError(f"{type(n).__name__} is evaluated by its relation")

    visit_Col = visit_Lit = visit_Alias = visit_BinaryOp = visit_UnaryOp = _in_relation

    def execute(self, plan: Node) -> Any:
        memo: dict[int, Any] = {}

        def run(n: Node) -> Any:
            if id(n) not in memo:
                kernel = getattr(self, f"visit_{type(n).__name__}")
                inputs = [] if isinstance(n, rel.Source) else [run(n.input)]  # type: ignore[attr-defined]
                memo[id(n)] = kernel(n, *inputs)
            return memo[id(n)]

        return run(plan)


BACKEND = ToyBackend()
