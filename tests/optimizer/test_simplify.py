"""Rule: simplify (golden before/after plans; folds that must happen and folds that must not,
each checked against pandas, exactly: dtype, values, NaN, sign of zero and Series name)."""

# ruff: noqa: B002  (double negation -(-x) is what the rule simplifies)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf as pd
from litsdf_compiler.engine import execute
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir.relations import Filter, Project, ScalarResult, WithColumns
from litsdf_compiler.optimizer.simplify import simplify

from .helpers import check_rule


def _pandas_frame() -> pandas.DataFrame:
    return pandas.DataFrame(
        {
            "i": pandas.Series([3, -1, 0, 7], dtype="int64"),
            "i8": pandas.Series([127, -128, 0, 5], dtype="int8"),
            "u8": pandas.Series([255, 0, 1, 2], dtype="uint8"),
            "f": [1.5, -0.0, np.nan, -np.inf],
            "f32": pandas.Series([1.5, -0.0, np.nan, 2.0], dtype="float32"),
            "b": [True, False, True, False],
            "I": pandas.Series([1, None, -3, 4], dtype="Int64"),
            "F": pandas.Series([1.5, None, -0.0, 4.0], dtype="Float64"),
            "B": pandas.Series([True, None, False, True], dtype="boolean"),
            "o": pandas.Series([1, 2.5, True, 4], dtype=object),
            "s": pandas.Series(["x", None, "z", "w"], dtype="str"),
            "td": pandas.to_timedelta([1, 2, None, 4], unit="D"),
            "dt": pandas.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01"]),
            "c": pandas.Categorical(["p", "q", "p", "r"]),
        }
    )


def _frame(pd_: Any) -> Any:
    return pd_.DataFrame(_pandas_frame())


# cases: (id, expression on the frame, whether simplify must fold something) -------------------

FOLD: list[tuple[str, Callable[[Any], Any]]] = [
    ("int_mul_1", lambda df: df["i"] * 1),
    ("one_mul_int", lambda df: 1 * df["i"]),
    ("int8_mul_1", lambda df: df["i8"] * 1),
    ("uint8_mul_1", lambda df: df["u8"] * 1),
    ("float_mul_1", lambda df: df["f"] * 1),
    ("float_mul_1.0", lambda df: df["f"] * 1.0),
    ("float32_mul_1", lambda df: df["f32"] * 1),
    ("Int64_mul_1", lambda df: df["I"] * 1),
    ("Float64_mul_1", lambda df: df["F"] * 1),
    ("int_add_0", lambda df: df["i"] + 0),
    ("zero_add_int", lambda df: 0 + df["i"]),
    ("int8_add_0", lambda df: df["i8"] + 0),
    ("int8_add_np_int64_stays_int8", lambda df: df["i8"] + np.int64(0)),
    ("int8_mul_np_int64_stays_int8", lambda df: df["i8"] * np.int64(1)),
    ("Int64_add_0", lambda df: df["I"] + 0),
    ("int_sub_0", lambda df: df["i"] - 0),
    ("float_sub_0", lambda df: df["f"] - 0),
    ("float_sub_0.0", lambda df: df["f"] - 0.0),
    ("Float64_sub_0", lambda df: df["F"] - 0),
    ("float_div_1", lambda df: df["f"] / 1),
    ("float32_div_1", lambda df: df["f32"] / 1),
    ("Float64_div_1", lambda df: df["F"] / 1),
    ("bool_invert_twice", lambda df: ~~df["b"]),
    ("int_invert_twice", lambda df: ~~df["i8"]),
    ("boolean_invert_twice", lambda df: ~~df["B"]),
    ("int_neg_twice", lambda df: -(-df["i"])),
    ("int8_neg_twice_wraps", lambda df: -(-df["i8"])),
    ("float_neg_twice", lambda df: -(-df["f"])),
    ("Int64_neg_twice", lambda df: -(-df["I"])),
    ("int_fillna", lambda df: df["i"].fillna(0)),
    ("int_fillna_float", lambda df: df["i"].fillna(0.5)),
    ("uint_fillna", lambda df: df["u8"].fillna(9)),
    ("bool_fillna", lambda df: df["b"].fillna(False)),
    ("int_fillna_column", lambda df: df["i"].fillna(df["f"])),
    ("int_astype_own", lambda df: df["i"].astype("int64")),
    ("int8_astype_own", lambda df: df["i8"].astype("int8")),
    ("float_astype_own", lambda df: df["f"].astype(float)),
    ("str_astype_own", lambda df: df["s"].astype("str")),
    ("bool_astype_own", lambda df: df["b"].astype(bool)),
    ("Int64_astype_own", lambda df: df["I"].astype("Int64")),
    ("datetime_astype_own", lambda df: df["dt"].astype("datetime64[us]")),
    ("nested", lambda df: ((df["i"] * 1) + 0) - 0),
    ("inside_comparison", lambda df: (df["f"] - 0) > 1),
    ("renamed", lambda df: (df["i"] * 1).rename("r")),
    ("in_value_counts", lambda df: (df["i"] * 1).value_counts()),
    ("in_filter", lambda df: df[(df["i"] + 0) > 0]),
    ("in_assignment", lambda df: df.assign(n=df["f"] / 1, m=-(-df["i"]))),
]

NO_FOLD: list[tuple[str, Callable[[Any], Any]]] = [
    ("bool_mul_1_is_int64", lambda df: df["b"] * 1),
    ("int_mul_1.0_is_float64", lambda df: df["i"] * 1.0),
    ("int_mul_true", lambda df: df["i"] * True),
    ("float_add_0_loses_negative_zero", lambda df: df["f"] + 0),
    ("float_add_0.0", lambda df: df["f"] + 0.0),
    ("Float64_add_0", lambda df: df["F"] + 0),
    ("float_sub_negative_zero", lambda df: df["f"] - (-0.0)),
    ("zero_sub_int", lambda df: 0 - df["i"]),
    ("int_div_1_is_float64", lambda df: df["i"] / 1),
    ("Int64_div_1_is_Float64", lambda df: df["I"] / 1),
    ("one_div_float", lambda df: 1 / df["f"]),
    ("bool_add_0_is_int64", lambda df: df["b"] + 0),
    ("int8_mul_float_one_is_float64", lambda df: df["i8"] * np.float64(1)),
    ("object_mul_1", lambda df: df["o"] * 1),
    ("object_add_0", lambda df: df["o"] + 0),
    ("timedelta_mul_1", lambda df: df["td"] * 1),
    ("float_fillna", lambda df: df["f"].fillna(0)),
    ("Int64_fillna", lambda df: df["I"].fillna(0)),
    ("boolean_fillna", lambda df: df["B"].fillna(False)),
    ("datetime_fillna", lambda df: df["dt"].fillna(pandas.Timestamp("2000-01-01"))),
    ("str_fillna", lambda df: df["s"].fillna("q")),
    ("int_astype_int32", lambda df: df["i"].astype("int32")),
    ("int_astype_float", lambda df: df["i"].astype(float)),
    ("float_astype_float32", lambda df: df["f"].astype("float32")),
    ("int_astype_Int64", lambda df: df["i"].astype("Int64")),
    ("datetime_astype_ns", lambda df: df["dt"].astype("datetime64[ns]")),
    ("categorical_astype_category", lambda df: df["c"].astype("category")),
    ("object_astype_object", lambda df: df["o"].astype(object)),
    ("float_invert_raises", lambda df: ~~df["f"]),
    ("bool_neg_twice", lambda df: -(-df["b"])),
    ("str_add_0_raises", lambda df: df["s"] + 0),
    ("single_neg", lambda df: -df["i"]),
]


def _plan(result: Any) -> Any:
    return result._plan


def _run_optimized(fn: Callable[[Any], Any]) -> Any:
    with pd.option_context(backend="pandas", fallback="raise", optimize=True):
        out = fn(_frame(pd))
        return out.to_pandas() if hasattr(out, "to_pandas") else out


def _assert_exact(got: Any, expected: Any) -> None:
    """Exact equality, including the sign of zeros (``assert_same`` compares with a tolerance,
    for which ``0.0 == -0.0``)."""
    if isinstance(expected, pandas.DataFrame):
        pandas.testing.assert_frame_equal(got, expected, check_exact=True)
        for col in expected.columns:
            _assert_exact(got[col], expected[col])
    elif isinstance(expected, pandas.Series):
        pandas.testing.assert_series_equal(got, expected, check_exact=True)
        if expected.dtype.kind == "f":
            values = np.asarray(expected.to_numpy(dtype="float64", na_value=np.nan))
            gvalues = np.asarray(got.to_numpy(dtype="float64", na_value=np.nan))
            np.testing.assert_array_equal(np.signbit(gvalues), np.signbit(values))
    else:
        assert type(got) is type(expected) and (
            got == expected or (got != got and expected != expected)
        )


@pytest.mark.parametrize("fn", [f for _, f in FOLD], ids=[n for n, _ in FOLD])
def test_folds_and_matches_pandas(fn, compare):
    plan = _plan(fn(_frame(pd)))
    assert simplify(plan) is not plan, "expected the expression to be simplified"
    compare(lambda pd_: fn(_frame(pd_)))
    _assert_exact(_run_optimized(fn), fn(_pandas_frame()))


@pytest.mark.parametrize("fn", [f for _, f in NO_FOLD], ids=[n for n, _ in NO_FOLD])
def test_must_not_fold(fn, compare):
    try:
        plan = _plan(fn(_frame(pd)))
    except Exception:  # pandas raises when the expression is built: nothing to fold
        plan = None
    if plan is not None:
        assert simplify(plan) is plan, "this fold would change pandas' result"
    compare(lambda pd_: fn(_frame(pd_)))
    try:
        expected = fn(_pandas_frame())
    except Exception as err:
        with pytest.raises(type(err)):
            _run_optimized(fn)
        return
    _assert_exact(_run_optimized(fn), expected)


def test_negative_zero_survives_sub_zero_but_add_zero_is_kept():
    df = pd.DataFrame({"f": [-0.0, 1.0]})
    kept = (df["f"] + 0).to_pandas()
    folded = (df["f"] - 0).to_pandas()
    assert list(np.signbit(kept)) == [False, False]
    assert list(np.signbit(folded)) == [True, False]


# dtypes that the empty-input metadata cannot know -------------------------------------------


def test_left_merge_int_column_is_float_at_run_time_so_fillna_stays():
    def fn(pd_):
        left = pd_.DataFrame({"k": [1, 2, 3]})
        right = pd_.DataFrame({"k": [1, 2], "v": [10, 20]})
        m = pd_.merge(left, right, how="left", on="k")
        return m["v"].fillna(0) + 0

    plan = fn(pd)._plan
    assert simplify(plan) is plan  # meta says int64, the real column is float64 with NaN
    _assert_exact(_run_optimized(lambda _df: fn(pd)), fn(pandas))


def test_map_result_dtype_is_not_trusted():
    def fn(pd_):
        df = pd_.DataFrame({"a": [1, 2, 3]})
        return (df["a"].map({1: 1, 2: 2, 3: 3}) + 0).fillna(0)

    plan = fn(pd)._plan
    assert simplify(plan) is plan
    _assert_exact(_run_optimized(lambda _df: fn(pd)), fn(pandas))


# golden plans ----------------------------------------------------------------------------


def test_identities_in_assignments_and_filter():
    df = pd.DataFrame({"a": [1, 2, 3], "x": [1.5, -0.0, np.nan]})
    df["y"] = (-(-df["a"])).astype("int64")
    df["z"] = df["a"].fillna(0)
    df["w"] = df["x"] + 0
    out = df[(df["x"] * 1) > 1]
    check_rule(
        simplify,
        out._plan,
        """
        Filter ((x * 1) > 1)
          WithColumns w=(x + 0)
            WithColumns z=fillna(a, 0)
              WithColumns y=cast(--a, dtype=dtype('int64'))
                Source DataFrame 3x2 [a, x]
        """,
        """
        Filter (x > 1)
          WithColumns w=(x + 0)
            WithColumns z=a
              WithColumns y=a
                Source DataFrame 3x2 [a, x]
        """,
    )


def test_literal_arithmetic_folds():
    src = pd.DataFrame({"a": [1, 2, 3]})._plan
    cond = ex.BinaryOp(
        "gt",
        ex.Col("a"),
        ex.BinaryOp("add", ex.Lit(2), ex.BinaryOp("mul", ex.Lit(3), ex.UnaryOp("neg", ex.Lit(1)))),
    )
    check_rule(
        simplify,
        Filter(src, cond),
        """
        Filter (a > (2 + (3 * -1)))
          Source DataFrame 3x1 [a]
        """,
        """
        Filter (a > -1)
          Source DataFrame 3x1 [a]
        """,
    )


def test_literal_folding_that_would_raise_or_warn_is_left_to_run_time():
    src = pd.DataFrame({"a": [1, 2, 3]})._plan
    plan = Project(
        src,
        (
            ("d", ex.BinaryOp("add", ex.Col("a"), ex.BinaryOp("truediv", ex.Lit(1), ex.Lit(0)))),
            ("o", ex.BinaryOp("mul", ex.Lit(np.int8(100)), ex.Lit(np.int8(100)))),
            ("p", ex.BinaryOp("pow", ex.Lit(10), ex.Lit(10**6))),
        ),
    )
    assert simplify(plan) is plan
    with pytest.raises(ZeroDivisionError):
        execute(plan, "pandas", optimize=True)


def test_literal_then_identity_folds_in_one_pass():
    src = pd.DataFrame({"a": [1, 2, 3]})._plan
    plan = WithColumns(
        src, (("b", ex.BinaryOp("mul", ex.Col("a"), ex.BinaryOp("sub", ex.Lit(2), ex.Lit(1)))),)
    )
    check_rule(
        simplify,
        plan,
        """
        WithColumns b=(a * (2 - 1))
          Source DataFrame 3x1 [a]
        """,
        """
        WithColumns b=a
          Source DataFrame 3x1 [a]
        """,
    )


def test_scalar_result_reduction_is_simplified():
    df = pd.DataFrame({"x": [1.5, -0.0, 2.0]})
    s = df["x"] / 1
    plan = ScalarResult(s._rel, ex.Reduce("sum", s._expr))
    check_rule(
        simplify,
        plan,
        """
        ScalarResult expr=reduce(func='sum', (x / 1), kwargs=[])
          Source DataFrame 3x1 [x]
        """,
        """
        ScalarResult expr=reduce(func='sum', x, kwargs=[])
          Source DataFrame 3x1 [x]
        """,
    )


def test_series_name_is_kept():
    df = pd.DataFrame({"s": [1, 2, 2]})
    for value in ((df["s"] * 1), (df["s"] * 1).rename("t"), -(-df["s"])):
        got = value.value_counts().to_pandas()
        expected = value.to_pandas().value_counts()
        pandas.testing.assert_series_equal(got, expected)
        assert value.to_pandas().name == value.name


def test_nothing_to_fold_returns_same_object():
    df = pd.DataFrame({"a": [1, 2], "f": [0.5, -0.0]})
    df["b"] = df["a"] * 2 + df["f"]
    out = df[df["b"] > 0]
    assert simplify(out._plan) is out._plan


def test_fold_that_depends_on_a_dtype_is_not_reused_on_another_input():
    # (x * 1).isna() folds to x.isna() where x is float64, not where x is bool (bool * 1 is
    # int64): the folded inner product must not make the outer expression look foldable
    # everywhere (the fold memo is shared by the nodes of a plan, and the expression objects
    # are shared once equal sub-expressions are merged)
    from litsdf_compiler.optimizer._share import share
    from litsdf_compiler.optimizer.fuse_assignments import fuse_assignments

    floats = pd.DataFrame({"x": [1.5, np.nan]})
    floats = floats.assign(y=floats["x"] * 1, z=(floats["x"] * 1).isna())
    bools = pd.DataFrame({"x": [True, False]})
    bools = bools.assign(z=(bools["x"] * 1).isna())
    # one node folds y, then z (whose inner product it has folded already), then the other
    plan = share(fuse_assignments(pd.concat([floats, bools], ignore_index=True)._plan))
    assert [len(i.expressions) for i in plan.inputs] == [2, 1]
    top, bottom = simplify(plan).inputs
    assert isinstance(top, WithColumns) and isinstance(bottom, WithColumns)
    assert dict(top.expressions)["z"] == ex.IsNa(ex.Col("x"))
    assert dict(bottom.expressions)["z"] == dict(bools._plan.expressions)["z"]  # not folded


# merges: which side's dtypes survive unmatched rows ---------------------------------------


def _merge_frames(pd_: Any) -> tuple[Any, Any]:
    left = pd_.DataFrame(
        {
            "k": pandas.Series([1, 2, 3, 4], dtype="int64"),
            "i": pandas.Series([5, -1, 0, 7], dtype="int64"),
            "f": [1.5, -0.0, np.nan, 2.0],
            "a": pandas.Series([1, 2, 3, 4], dtype="int64"),
        }
    )
    right = pd_.DataFrame(
        {
            "k": pandas.Series([1, 2, 9], dtype="int64"),
            "v": pandas.Series([10, 20, 30], dtype="int64"),
            "w": [0.5, -0.0, 1.0],
            "b": [True, False, True],
            "a": pandas.Series([7, 8, 9], dtype="int64"),
        }
    )
    return left, right


MERGE_FOLD: list[tuple[str, Callable[[Any], Any]]] = [
    ("left_side_of_left_merge", lambda m: m(how="left")["i"] * 1),
    ("left_float_of_left_merge", lambda m: m(how="left")["f"] - 0),
    ("right_float_of_left_merge", lambda m: m(how="left")["w"] * 1),
    ("right_int_of_inner_merge", lambda m: m(how="inner")["v"] + 0),
    ("right_side_of_right_merge", lambda m: m(how="right")["v"] * 1),
    ("key_of_outer_merge", lambda m: m(how="outer")["k"] + 0),
    ("suffixed_left_of_left_merge", lambda m: m(how="left")["a_x"] * 1),
    ("left_side_of_left_anti_merge", lambda m: m(how="left_anti")["i"] * 1),
    ("right_float_of_left_anti_merge", lambda m: m(how="left_anti")["w"] * 1),
]
MERGE_NO_FOLD: list[tuple[str, Callable[[Any], Any]]] = [
    ("right_int_of_left_merge", lambda m: m(how="left")["v"] + 0),
    ("right_int_of_left_anti_merge", lambda m: m(how="left_anti")["v"] + 0),
    ("left_int_of_right_anti_merge", lambda m: m(how="right_anti")["i"] * 1),
    ("suffixed_right_of_left_merge", lambda m: m(how="left")["a_y"] * 1),
    ("left_int_of_right_merge", lambda m: m(how="right")["i"] * 1),
    ("left_int_of_outer_merge", lambda m: m(how="outer")["i"] * 1),
    ("right_int_fillna_of_outer_merge", lambda m: m(how="outer")["v"].fillna(0)),
]


def _merged(pd_: Any, fn: Callable[[Any], Any]) -> Any:
    left, right = _merge_frames(pd_)

    def merge(how: str) -> Any:
        return pd_.merge(left, right, how=how, on="k")

    return fn(merge)


@pytest.mark.parametrize("fn", [f for _, f in MERGE_FOLD], ids=[n for n, _ in MERGE_FOLD])
def test_merge_columns_whose_dtype_survives_fold(fn, compare):
    plan = _merged(pd, fn)._plan
    assert simplify(plan) is not plan, "expected the expression to be simplified"
    compare(lambda pd_: _merged(pd_, fn))
    _assert_exact(_run_optimized(lambda _df: _merged(pd, fn)), _merged(pandas, fn))


@pytest.mark.parametrize("fn", [f for _, f in MERGE_NO_FOLD], ids=[n for n, _ in MERGE_NO_FOLD])
def test_merge_columns_that_unmatched_rows_change_do_not_fold(fn, compare):
    plan = _merged(pd, fn)._plan
    assert simplify(plan) is plan, "this column's dtype changes with unmatched rows"
    compare(lambda pd_: _merged(pd_, fn))
    _assert_exact(_run_optimized(lambda _df: _merged(pd, fn)), _merged(pandas, fn))


def test_merge_key_with_different_dtypes_is_not_exact():
    from litsdf_compiler.optimizer._dtypes import exact_columns

    left = pd.DataFrame({"k": [1, 2], "x": [1, 2]})
    right = pd.DataFrame({"k": [1.0, 3.0], "y": [0.5, 1.5]})
    merged = pd.merge(left, right, how="inner", on="k")
    assert exact_columns(merged._plan) == frozenset({"x", "y"})
    left_merged = pd.merge(left, right, how="left", on="k")
    assert exact_columns(left_merged._plan) == frozenset({"x", "y"})  # y: float holds NaN
    outer = pd.merge(
        left, right.rename(columns={"k": "k2"}), how="outer", left_on="k", right_on="k2"
    )
    assert exact_columns(outer._plan) == frozenset()  # left_on/right_on: not analysed
