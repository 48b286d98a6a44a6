"""Python functions in the plan: ``Series.map(func)``, ``Series.apply(func)``,
``DataFrame.apply(func, axis=1)`` — traced as UDF nodes, never a fallback (strict mode)."""

from __future__ import annotations

import math

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.ir import serde
from litsdf_compiler.ir.udf import MapFunc, PyFunc, RowApply

from .data import frame


def _double(x):
    return x * 2


def _label(x):
    return "big" if x > 3 else "small"


def _safe_len(x):
    return len(x) if isinstance(x, str) else -1


def _add(x, k, scale=1):
    return (x + k) * scale


FUNCS = {
    "double": ("i", _double, None),
    "double_float": ("f", _double, None),
    "to_float": ("i", lambda x: x / 4, None),
    "to_bool": ("i", lambda x: x % 2 == 0, None),
    "to_str": ("i", _label, None),
    "str_len": ("s", _safe_len, None),
    "str_upper_ignore": ("s", str.upper, "ignore"),
    "float_isnan": ("f", math.isnan, None),
    "float_ignore": ("f", lambda x: round(x), "ignore"),
    "bool_not": ("b", lambda x: not x, None),
    "dt_year": ("t", lambda x: x.year, None),
    "mixed_none": ("i", lambda x: None if x == 1 else x, None),
    "builtin_str": ("i", str, None),
    "numpy_ufunc": ("f", np.abs, None),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_series_map_function(compare, name):
    col, func, na_action = FUNCS[name]
    compare(lambda pd: frame(pd)[col].map(func, na_action=na_action))


@pytest.mark.parametrize("name", sorted(n for n, (_, _, na) in FUNCS.items() if na is None))
def test_series_apply_function(compare, name):
    col, func, _ = FUNCS[name]
    compare(lambda pd: frame(pd)[col].apply(func))


def test_series_apply_args_kwargs(compare):
    compare(lambda pd: frame(pd)["i"].apply(_add, args=(10,), scale=3))


def test_map_result_assigned_filtered_and_used(compare):
    def case(pd):
        df = frame(pd)
        df["label"] = df["i"].map(_label)
        df["n"] = df["s"].map(_safe_len) + df["i"]
        return df[df["label"] == "big"][["label", "n", "f"]]

    compare(case)


def test_map_result_string_methods(compare):
    compare(lambda pd: frame(pd)["i"].map(_label).str.upper())


def test_map_after_filter_keeps_index(compare):
    def case(pd):
        df = frame(pd)
        return df[df["f"] > 0]["i"].map(_double)

    compare(case)


def test_map_on_empty_result(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 100]["i"].map(_double)

    compare(case)


ROW_FUNCS = {
    "sum_two": lambda r: r["i"] + r["j"],
    "mixed": lambda r: f"{r['k']}-{r['i']}",
    "uses_name": lambda r: r.name * 10 + r["i"],
    "float_nan": lambda r: r["f"] * r["i"],
    "attribute": lambda r: r.i > r.j,
}


@pytest.mark.parametrize("name", sorted(ROW_FUNCS))
def test_dataframe_apply_axis1(compare, name):
    func = ROW_FUNCS[name]
    compare(lambda pd: frame(pd)[["i", "j", "f", "k"]].apply(func, axis=1))


def test_dataframe_apply_axis1_assigned(compare):
    def case(pd):
        df = frame(pd)[["i", "j", "f"]]
        df["r"] = df.apply(lambda r: r["i"] - r["j"], axis=1)
        df["q"] = df["r"] * 2 + df.apply(lambda r: r["f"], axis=1)
        return df

    compare(case)


def test_dataframe_apply_axis1_args(compare):
    def rowf(r, k, scale=1):
        return (r["i"] + k) * scale

    compare(lambda pd: frame(pd)[["i", "j"]].apply(rowf, axis=1, args=(5,), scale=2))


def test_udfs_are_plan_nodes_not_fallbacks():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    with litsdf.option_context(fallback="raise"):
        s = df["a"].map(_double)
        r = df.apply(lambda row: row["a"] + 1, axis=1)
        assert s.tolist() == [2, 4, 6]
        assert r.tolist() == [2, 3, 4]
    assert isinstance(s._expr, MapFunc)
    assert isinstance(r._expr, RowApply)
    assert "mapfunc(a, func=" in df.assign(x=s).explain(stage="logical")


def test_expanding_apply_is_a_clear_error():
    df = litsdf.DataFrame({"a": [1, 2]})
    with pytest.raises(NotImplementedError, match="one scalar per row"):
        df.apply(lambda r: pandas.Series({"x": r["a"], "y": 1}), axis=1).to_pandas()
    with pytest.raises(NotImplementedError, match="one scalar per element"):
        df["a"].apply(lambda x: pandas.Series([x, x])).to_pandas()


def test_pyfunc_identity_and_display():
    assert PyFunc(_double) == PyFunc(_double)
    assert PyFunc(_double) != PyFunc(lambda x: x * 2)
    assert PyFunc(_add, (1,), {"scale": 2}) != PyFunc(_add, (2,), {"scale": 2})
    assert (
        repr(PyFunc(_add, (1,), {"scale": 2})) == "tests.differential.test_udf._add(x, 1, scale=2)"
    )
    with pytest.raises(TypeError, match="expected a callable"):
        PyFunc(3)  # type: ignore[arg-type]


def test_udf_plan_json_needs_allow_pickle():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    text = serde.to_json(df["a"].map(lambda x: x + 1)._plan)
    assert '"$pyfunc"' in text
    with pytest.raises(serde.PlanFormatError, match="allow_pickle=True"):
        serde.from_json(text)
    plan = serde.from_json(text, allow_pickle=True)
    from litsdf_compiler.engine import execute

    result, _ = execute(plan, "pandas")
    assert result.iloc[:, 0].tolist() == [2, 3, 4]
    broken = text.replace('"python": "3.', '"python": "2.')
    with pytest.raises(serde.PlanFormatError, match="pickled by Python 2"):
        serde.from_json(broken, allow_pickle=True)


def _types(r):
    """The row as pandas passes it: each value's type and value, the iteration types."""
    got = [f"{k}={type(r[k]).__name__}:{r[k]}" for k in r.index]
    return f"{r.name}|{'/'.join(got)}|{[type(v).__name__ for v in r]}|{r.dtype}"


ROW_DTYPES = {
    "int_only": ["i", "j"],  # np.int64 values, int iteration
    "int_float": ["i", "f"],  # interleaved to float64: the ints become np.float64
    "float_only": ["f", "g"],
    "bool_only": ["b"],  # np.bool_
    "bool_int": ["b", "i"],  # object: Python bool and int
    "str_present": ["k", "i", "f"],  # object: str / nan, int, float
    "str_only": ["s", "k"],  # pandas' str extension row: str / nan
    "datetime_only": ["t"],  # Timestamps / NaT
    "datetime_int": ["t", "i", "s"],  # object with Timestamps
}


@pytest.mark.parametrize("name", sorted(ROW_DTYPES))
def test_dataframe_apply_axis1_row_values(compare, name):
    cols = ROW_DTYPES[name]
    compare(lambda pd: frame(pd)[cols].apply(_types, axis=1))


@pytest.mark.parametrize("name", sorted(ROW_DTYPES))
def test_dataframe_apply_axis1_first_value(compare, name):
    cols = ROW_DTYPES[name]
    compare(lambda pd: frame(pd)[cols].apply(lambda r: r[cols[0]], axis=1))


def test_dataframe_apply_axis1_name_after_filter(compare):
    def case(pd):
        df = frame(pd)
        return df[df["f"] > 0][["i", "j"]].apply(lambda r: r.name * 100 + r["i"], axis=1)

    compare(case)


def test_dataframe_apply_axis1_filtered_to_nothing(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 100][["i", "j"]].apply(lambda r: r["i"] + r["j"], axis=1)

    compare(case)


ROW_SERIES_FUNCS = {
    "sum": lambda r: r.sum(),
    "mean": lambda r: r.mean(),
    "times_two": lambda r: (r * 2)["i"] + (2 * r)["j"],
    "compare": lambda r: bool((r > 2).any()),
    "ufunc": lambda r: np.sqrt(r)["i"],
    "np_sum": lambda r: np.sum(r),
    "values": lambda r: r.values.sum(),
    "to_numpy": lambda r: r.to_numpy()[0],
    "subset": lambda r: r[["i", "f"]].max(),
    "isinstance": lambda r: isinstance(r, pandas.Series),
    "len_in": lambda r: len(r) * 10 + ("j" in r) + ("zz" in r),
    "get": lambda r: r.get("i", -1) + r.get("zz", -1),
    "items": lambda r: ",".join(f"{k}:{type(v).__name__}" for k, v in r.items()),
    "keys": lambda r: "".join(r.keys()),
    "repr": lambda r: repr(r),
    "index": lambda r: r.index.tolist() == ["i", "j", "f"],
    "setitem": lambda r: r.__setitem__("i", 100) or r["i"] + r["j"],
    "isna": lambda r: pandas.isna(r).sum(),
}


@pytest.mark.parametrize("name", sorted(ROW_SERIES_FUNCS))
def test_dataframe_apply_axis1_series_methods(compare, name):
    func = ROW_SERIES_FUNCS[name]
    compare(lambda pd: frame(pd)[["i", "j", "f"]].apply(func, axis=1))


def test_dataframe_apply_axis1_labels_that_are_series_attributes(compare):
    def case(pd):
        df = pd.DataFrame({"name": [1, 2], "sum": [3, 4], "x": [5, 6]})
        return df.apply(lambda r: r.name * 1000 + r["name"] * 100 + r["sum"] * 10 + r.x, axis=1)

    compare(case)
