"""Row-wise expressions: operators, NumPy ufuncs and elementwise Series/DataFrame methods."""

from __future__ import annotations

import operator

import numpy as np
import pandas
import pytest

import litsdf

from .data import NAN, frame

ARITH = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
BOOL = ["and_", "or_", "xor"]


def _op(name):
    return getattr(operator, name)


# Series op Series (same frame) -----------------------------------------------------------------


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize(
    "cols", [("i", "j"), ("i", "f"), ("f", "g"), ("b", "i"), ("s", "k"), ("s", "i")]
)
def test_arith_series_series(compare, op, cols):
    a, b = cols

    def case(pd):
        df = frame(pd)
        return _op(op)(df[a], df[b])

    compare(case)


@pytest.mark.parametrize("op", COMPARE)
@pytest.mark.parametrize("cols", [("i", "j"), ("f", "g"), ("i", "f"), ("s", "k"), ("b", "b")])
def test_compare_series_series(compare, op, cols):
    a, b = cols

    def case(pd):
        df = frame(pd)
        return _op(op)(df[a], df[b])

    compare(case)


@pytest.mark.parametrize("op", BOOL)
@pytest.mark.parametrize("cols", [("b", "b"), ("i", "j"), ("b", "i")])
def test_bool_series_series(compare, op, cols):
    a, b = cols

    def case(pd):
        df = frame(pd)
        return _op(op)(df[a], df[b])

    compare(case)


@pytest.mark.parametrize("op", BOOL)
def test_bool_of_comparisons(compare, op):
    def case(pd):
        df = frame(pd)
        return _op(op)(df["i"] > 2, df["f"] < 1)

    compare(case)


# Series op scalar / scalar op Series ---------------------------------------------------------

SCALARS = [("i", 3), ("i", 0), ("f", 2.5), ("f", -1), ("b", True), ("s", "x"), ("s", 2)]


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("col_value", SCALARS, ids=lambda cv: f"{cv[0]}-{cv[1]!r}")
def test_arith_series_scalar(compare, op, col_value):
    col, value = col_value
    compare(lambda pd: _op(op)(frame(pd)[col], value))


@pytest.mark.parametrize("op", ARITH)
@pytest.mark.parametrize("col_value", SCALARS, ids=lambda cv: f"{cv[0]}-{cv[1]!r}")
def test_arith_scalar_series(compare, op, col_value):
    col, value = col_value
    compare(lambda pd: _op(op)(value, frame(pd)[col]))


@pytest.mark.parametrize("op", COMPARE)
@pytest.mark.parametrize(
    "col_value",
    [("i", 3), ("f", 0.0), ("s", "banana"), ("b", True), ("k", "b")],
    ids=lambda cv: f"{cv[0]}-{cv[1]!r}",
)
def test_compare_series_scalar(compare, op, col_value):
    col, value = col_value
    compare(lambda pd: _op(op)(frame(pd)[col], value))


@pytest.mark.parametrize("op", ["lt", "ge", "eq"])
def test_compare_scalar_series_reversed(compare, op):
    compare(lambda pd: _op(op)(2.0, frame(pd)["f"]))


def test_compare_str_with_int_raises(compare):
    compare(lambda pd: frame(pd)["s"] < 1)


@pytest.mark.parametrize("op", BOOL)
@pytest.mark.parametrize("value", [True, False])
def test_bool_series_scalar(compare, op, value):
    compare(lambda pd: _op(op)(frame(pd)["b"], value))
    compare(lambda pd: _op(op)(value, frame(pd)["b"]))


def test_named_arith_methods(compare):
    def case(pd):
        df = frame(pd)
        return [
            df["i"].add(df["j"]),
            df["f"].sub(1),
            df["i"].mul(df["f"]),
            df["i"].div(2),
            df["i"].truediv(df["j"]),
        ]

    compare(case)


def test_chained_expression(compare):
    def case(pd):
        df = frame(pd)
        return ((df["i"] * 2 + df["j"]) / (df["f"].fillna(1) - 0.5)) ** 2 % 7

    compare(case)


# unary ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["neg", "pos", "abs", "invert"])
@pytest.mark.parametrize("col", ["i", "f", "b", "s"])
def test_unary(compare, op, col):
    compare(lambda pd: _op(op)(frame(pd)[col]))


def test_abs_method(compare):
    compare(lambda pd: frame(pd)["f"].abs())


# NumPy ufuncs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ufunc", ["log1p", "sqrt", "exp", "abs", "floor", "ceil", "sign", "negative", "isnan"]
)
@pytest.mark.parametrize("col", ["i", "f"])
def test_unary_ufunc(compare, ufunc, col):
    with np.errstate(all="ignore"):
        compare(lambda pd: getattr(np, ufunc)(frame(pd)[col]))


@pytest.mark.parametrize(
    "ufunc", ["maximum", "minimum", "fmax", "add", "multiply", "power", "arctan2"]
)
def test_binary_ufunc_series(compare, ufunc):
    def case(pd):
        df = frame(pd)
        return getattr(np, ufunc)(df["f"], df["g"])

    compare(case)


@pytest.mark.parametrize("args", [("s", 1), ("s", 2.5), (3, "s"), ("i", "s")])
def test_binary_ufunc_scalar(compare, args):
    def case(pd):
        df = frame(pd)
        a, b = (df["i"] if x == "i" else df["f"] if x == "s" else x for x in args)
        return np.add(a, b), np.maximum(a, b), np.subtract(a, b)

    compare(case)


def test_ufunc_on_str_raises(compare):
    compare(lambda pd: np.sqrt(frame(pd)["s"]))


# fillna / isna / notna -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "col_value",
    [("f", 0.0), ("f", -1), ("s", "?"), ("k", "zz"), ("i", 0)],
    ids=lambda cv: f"{cv[0]}-{cv[1]!r}",
)
def test_fillna_scalar(compare, col_value):
    col, value = col_value
    compare(lambda pd: frame(pd)[col].fillna(value))


@pytest.mark.parametrize("cols", [("f", "g"), ("f", "i"), ("s", "k")])
def test_fillna_other_column(compare, cols):
    a, b = cols

    def case(pd):
        df = frame(pd)
        return df[a].fillna(df[b])

    compare(case)


@pytest.mark.parametrize("method", ["isna", "notna", "isnull", "notnull"])
@pytest.mark.parametrize("col", ["i", "f", "s"])
def test_isna_notna(compare, method, col):
    compare(lambda pd: getattr(frame(pd)[col], method)())


# astype ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "col_dtype",
    [
        ("i", "float64"),
        ("i", float),
        ("f", "str"),
        ("f", str),
        ("i", str),
        ("b", "int64"),
        ("b", int),
        ("k", "category"),
        ("i", "category"),
        ("i", object),
        ("s", object),
        ("i", "Int64"),
        ("i", "int32"),
        ("b", "str"),
        ("f", "int64"),
        ("s", "float64"),
        ("f", "Float64"),
    ],
    ids=lambda cd: f"{cd[0]}-{cd[1]}",
)
def test_astype(compare, col_dtype):
    col, dtype = col_dtype
    compare(lambda pd: frame(pd)[col].astype(dtype))


def test_astype_numeric_strings(compare):
    compare(lambda pd: pd.DataFrame({"x": ["1", "2", "30"]})["x"].astype("int64") + 1)


# where / mask ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["where", "mask"])
@pytest.mark.parametrize("col", ["i", "f", "s"])
def test_where_mask_no_other(compare, method, col):
    def case(pd):
        df = frame(pd)
        return getattr(df[col], method)(df["b"])

    compare(case)


@pytest.mark.parametrize("method", ["where", "mask"])
@pytest.mark.parametrize("other", [0, -1.5, "other_col"])
def test_where_mask_other(compare, method, other):
    def case(pd):
        df = frame(pd)
        o = df["j"] if other == "other_col" else other
        return getattr(df["i"], method)(df["i"] > 2, o)

    compare(case)


@pytest.mark.parametrize("method", ["where", "mask"])
def test_where_mask_callable(compare, method):
    compare(lambda pd: getattr(frame(pd)["f"], method)(lambda s: s > 0, lambda s: -s))


def test_where_str_other(compare):
    def case(pd):
        df = frame(pd)
        return df["s"].where(df["b"], "none")

    compare(case)


# clip / round / between / isin --------------------------------------------------------------


@pytest.mark.parametrize("bounds", [(2, None), (None, 5), (2, 5), (-1.0, 1.0), (None, None)])
@pytest.mark.parametrize("col", ["i", "f"])
def test_clip(compare, bounds, col):
    lo, hi = bounds
    compare(lambda pd: frame(pd)[col].clip(lo, hi))
    compare(lambda pd: frame(pd)[col].clip(lower=lo, upper=hi))


def test_clip_by_columns(compare):
    def case(pd):
        df = frame(pd)
        return df["i"].clip(df["j"] - 1, df["j"] + 1)

    compare(case)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
@pytest.mark.parametrize("col", ["i", "f"])
def test_round(compare, decimals, col):
    compare(lambda pd: (frame(pd)[col] * 1.2345).round(decimals))
    compare(lambda pd: frame(pd)[col].round(decimals))


@pytest.mark.parametrize("inclusive", ["both", "neither", "left", "right", "bogus"])
def test_between(compare, inclusive):
    compare(lambda pd: frame(pd)["i"].between(1, 4, inclusive=inclusive))
    compare(lambda pd: frame(pd)["f"].between(0.0, 3.5, inclusive=inclusive))


def test_between_strings_and_columns(compare):
    compare(lambda pd: frame(pd)["s"].between("apple", "date"))

    def case(pd):
        df = frame(pd)
        return df["i"].between(df["j"] - 2, df["j"])

    compare(case)


@pytest.mark.parametrize(
    "col_values",
    [
        ("i", [1, 4, 9]),
        ("i", (2, 3)),
        ("f", [0.0, NAN]),
        ("s", ["fig", "apple", None]),
        ("k", ("a", None)),
        ("k", []),
        ("i", {1, 5}),
        ("s", "fig"),
        ("i", 3),
    ],
    ids=lambda cv: f"{cv[0]}-{cv[1]!r}",
)
def test_isin(compare, col_values):
    col, values = col_values
    compare(lambda pd: frame(pd)[col].isin(values))


# map / replace / rename ----------------------------------------------------------------------


@pytest.mark.parametrize("na_action", [None, "ignore"])
@pytest.mark.parametrize(
    "col_mapping",
    [
        ("k", {"a": 1, "b": 2}),
        ("k", {"a": "x", "b": "y", "c": "z"}),
        ("i", {1: 10.5, 3: 30.0}),
        ("k", {"a": 1, None: -1}),
        ("b", {True: "yes", False: "no"}),
    ],
    ids=lambda cm: f"{cm[0]}-{len(cm[1])}",
)
def test_map_dict(compare, na_action, col_mapping):
    col, mapping = col_mapping
    compare(lambda pd: frame(pd)[col].map(mapping, na_action=na_action))


@pytest.mark.parametrize(
    "col_args",
    [
        ("i", (1, 100)),
        ("i", ([1, 2], 0)),
        ("i", ([1, 2], [10, 20])),
        ("i", ({1: 11, 9: 99},)),
        ("f", (NAN, 0.0)),
        ("s", ("fig", "FIG")),
        ("k", ({"a": "A", "c": None},)),
        ("s", ("apple", 1)),
        ("f", ({1.5: -1.5},)),
    ],
    ids=lambda ca: f"{ca[0]}-{ca[1]!r}",
)
def test_replace(compare, col_args):
    col, args = col_args
    compare(lambda pd: frame(pd)[col].replace(*args))


@pytest.mark.parametrize("args", [(r"^a.*", "A"), (r"(\w)e", r"\1E"), ({r"an": "AN"}, None)])
def test_replace_regex(compare, args):
    compare(lambda pd: frame(pd)["s"].replace(args[0], args[1], regex=True))


@pytest.mark.parametrize("name", ["new", 3, None, ("a", "b")])
def test_series_rename(compare, name):
    compare(lambda pd: frame(pd)["i"].rename(name))
    compare(lambda pd: (frame(pd)["i"] + 1).rename(name) * 2)


def test_name_propagation(compare):
    def case(pd):
        df = frame(pd)
        return [df["i"] + df["j"], df["i"] + df["i"], df["i"] + 1, df["i"].rename("x") + df["j"]]

    compare(case)


# DataFrame-level elementwise -----------------------------------------------------------------


def test_frame_fillna(compare):
    compare(lambda pd: frame(pd)[["i", "f", "g"]].fillna(0))
    compare(lambda pd: frame(pd)[["s", "k"]].fillna("?"))
    compare(lambda pd: frame(pd).fillna({"f": -1.0, "s": "none"}))


@pytest.mark.parametrize("method", ["isna", "notna"])
def test_frame_isna_notna(compare, method):
    compare(lambda pd: getattr(frame(pd), method)())


@pytest.mark.parametrize(
    "dtype", [{"i": "float64"}, {"i": str, "b": "int64"}, {"k": "category"}, "str", {"zz": int}]
)
def test_frame_astype(compare, dtype):
    compare(lambda pd: frame(pd).astype(dtype))


@pytest.mark.parametrize("method", ["abs", "round"])
def test_frame_abs_round(compare, method):
    compare(lambda pd: getattr(frame(pd)[["i", "f", "g"]], method)())


def test_frame_abs_raises_on_strings(compare):
    compare(lambda pd: frame(pd).abs())


def test_frame_round_decimals(compare):
    compare(lambda pd: (frame(pd)[["f", "g"]] / 3).round(2))
    compare(lambda pd: (frame(pd)[["f", "g"]] / 3).round({"f": 1}))


@pytest.mark.parametrize("bounds", [(0, None), (None, 2), (-1, 3)])
def test_frame_clip(compare, bounds):
    compare(lambda pd: frame(pd)[["i", "f", "g"]].clip(*bounds))


@pytest.mark.parametrize("args", [(1, -1), ({"k": {"a": "A"}},), ("a", "z"), ([1, 2], 0)])
def test_frame_replace(compare, args):
    compare(lambda pd: frame(pd).replace(*args))


@pytest.mark.parametrize("op", ARITH + COMPARE)
def test_frame_op_scalar(compare, op):
    compare(lambda pd: _op(op)(frame(pd)[["i", "f"]], 2))


@pytest.mark.parametrize("op", ["add", "mul", "sub", "truediv"])
def test_scalar_op_frame(compare, op):
    compare(lambda pd: _op(op)(3, frame(pd)[["i", "f", "g"]]))


def test_frame_str_concat(compare):
    compare(lambda pd: frame(pd)[["s", "k"]] + "_x")


def test_frame_bad_op_raises(compare):
    compare(lambda pd: frame(pd)[["i", "s"]] * "x")


def test_frame_invert_neg(compare):
    compare(lambda pd: ~frame(pd)[["b"]])
    compare(lambda pd: -frame(pd)[["i", "f"]])


# fallback paths (non-strict) -----------------------------------------------------------------


def test_untraced_forms_fall_back():
    with litsdf.option_context(fallback="warn"):
        with pytest.warns(litsdf.FallbackWarning):
            got = litsdf.DataFrame({"a": [1, None, None]})["a"].fillna(0, limit=1)
        pandas.testing.assert_series_equal(
            got.to_pandas(), pandas.Series([1.0, 0.0, NAN], name="a")
        )


# named operator methods, builtins, in-place forms --------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "add",
        "sub",
        "mul",
        "div",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "radd",
        "rsub",
        "rmul",
        "rdiv",
        "rtruediv",
        "rfloordiv",
        "rmod",
        "rpow",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "subtract",
        "multiply",
        "divide",
    ],
)
def test_named_operator_methods(compare, method):
    def case(pd):
        df = frame(pd)
        return getattr(df["i"], method)(df["f"]), getattr(df["f"], method)(2)

    compare(case)


def test_named_method_fill_value_falls_back():
    df = litsdf.DataFrame({"a": [1.0, None], "b": [None, 2.0]})
    with litsdf.option_context(fallback="warn"), pytest.warns(litsdf.FallbackWarning):
        got = df["a"].add(df["b"], fill_value=0).to_pandas()
    pandas.testing.assert_series_equal(got, pandas.Series([1.0, 2.0]))


@pytest.mark.parametrize("cols", [("i", 3), ("f", 2), ("i", "j"), ("i", 0)])
def test_divmod(compare, cols):
    def case(pd):
        df = frame(pd)
        a, b = df[cols[0]], df[cols[1]] if isinstance(cols[1], str) else cols[1]
        return divmod(a, b), a.divmod(b), divmod(7, a)

    compare(case)


@pytest.mark.parametrize("ndigits", [None, 1, -1])
def test_builtin_round(compare, ndigits):
    compare(
        lambda pd: (
            round(frame(pd)["f"] * 1.37, ndigits)
            if ndigits is not None
            else round(frame(pd)["f"] * 1.37)
        )
    )


def test_numpy_round(compare):
    compare(lambda pd: np.round(frame(pd)["f"] * 1.37, 1))


@pytest.mark.parametrize("decimals", [1.5, "1", True])
def test_round_bad_decimals(compare, decimals):
    compare(lambda pd: frame(pd)["f"].round(decimals))


def test_abs_pos_frame(compare):
    compare(lambda pd: abs(frame(pd)[["i", "f"]]))
    compare(lambda pd: +frame(pd)[["i", "f"]])


def test_name_setter(compare):
    def case(pd):
        s = frame(pd)["i"] * 2
        s.name = "doubled"
        return s

    compare(case)


def test_name_setter_unhashable(compare):
    def case(pd):
        s = frame(pd)["i"]
        s.name = ["x"]
        return s

    compare(case)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, df: s.fillna(0, inplace=True),
        lambda s, df: s.clip(0, 2, inplace=True),
        lambda s, df: s.where(df["b"], -1, inplace=True),
        lambda s, df: s.mask(s > 1, inplace=True),
        lambda s, df: s.replace(0.0, 99.0, inplace=True),
        lambda s, df: s.rename("z", inplace=True),
    ],
    ids=["fillna", "clip", "where", "mask", "replace", "rename"],
)
@pytest.mark.filterwarnings("ignore:The inplace keyword:pandas.errors.Pandas4Warning")
def test_series_inplace(compare, call):
    def case(pd):
        df = frame(pd)
        s = df["f"]
        result = call(s, df)
        return result, s, df

    compare(case)


def test_where_other_none(compare):
    def case(pd):
        df = frame(pd)
        return df["s"].where(df["b"], None), df["f"].mask(df["b"], None)

    compare(case)


@pytest.mark.parametrize("col,value", [("s", 0), ("i", 0.5), ("f", "x"), ("s", "zz")])
@pytest.mark.filterwarnings("ignore:.*fill value:pandas.errors.Pandas4Warning")
def test_inplace_keeps_dtype(compare, col, value):
    """In-place forms never upcast: pandas raises where the ordinary form would upcast."""

    def case(pd):
        df = frame(pd)
        s = df[col]
        s.fillna(value, inplace=True)
        s.mask(s.isna() | s.notna(), value, inplace=True)
        return s

    compare(case)


@pytest.mark.parametrize("value", [0, "none"])
@pytest.mark.filterwarnings("ignore:.*fill value:pandas.errors.Pandas4Warning")
def test_frame_fillna_inplace_keeps_dtype(compare, value):
    def case(pd):
        df = frame(pd)[["s", "f"]]
        assert df.fillna(value, inplace=True) is df
        return df

    compare(case)


# map(dict) of str columns and ufuncs in chains, whole and over row slices -------------------


@pytest.fixture(params=["whole", "sliced"])
def slicing(request):
    """Each case on whole columns, and with the arrow backend's large-input split forced (each
    ``Compute`` over 3 row slices in threads, concatenated; other backends are unaffected)."""
    if request.param == "whole":
        yield
        return
    from litsdf_compiler.backends.arrow.threads import parallelism

    with parallelism(min_rows=1, workers=3):
        yield


@pytest.mark.parametrize("na_action", [None, "ignore"])
@pytest.mark.parametrize(
    "mapping",
    [
        {"a": 1, "b": 2},  # misses ("c", None): float64 with NaN
        {"a": 1, "b": 2, "c": 3},  # every non-missing value found
        {"a": 0.5, "b": 2.0, "c": -1.0},
        {"a": 1, "b": 2.5},  # ints and floats: float64
        {"a": 2**60, "b": 1, "c": 0},  # an int float64 rounds where a value is missing
        {"a": "x", "b": "y"},  # strings: str with NaN
        {"zz": 1},  # nothing found
        {"a": True, "b": False},  # booleans: object with NaN (declined by arrow)
        {"a": None, "b": 1},  # None as a value
    ],
    ids=repr,
)
def test_map_dict_of_str(compare, slicing, na_action, mapping):
    def full(pd):
        df = frame(pd)
        return df[df["k"].notna()]["k"].map(mapping, na_action=na_action)

    compare(lambda pd: frame(pd)["k"].map(mapping, na_action=na_action))
    compare(full)
    compare(lambda pd: frame(pd).assign(m=lambda d: d["k"].map(mapping, na_action=na_action)))


def test_map_dict_of_no_rows_and_in_expressions(compare, slicing):
    """No rows: pandas gives the str dtype; a map inside an expression (its missing values
    compare False) and a map of a filled column."""

    def empty(pd):
        df = frame(pd)
        return df[df["i"] > 100]["k"].map({"a": 1})

    compare(empty)
    compare(lambda pd: frame(pd)["k"].map({"a": 1, "b": 2}) > 1)
    compare(lambda pd: frame(pd)["k"].map({"a": 1, "b": 2}) * 2)
    compare(lambda pd: frame(pd)["k"].fillna("b").map({"a": 1, "b": 2}))


@pytest.mark.parametrize("ufunc", ["log1p", "sqrt", "exp", "sign", "isnan", "negative", "rint"])
def test_ufunc_in_chains(compare, slicing, ufunc):
    """A one-input ufunc of a filled float column, clipped, of an int column and of a
    computed float (NaN and negatives included)."""
    with np.errstate(all="ignore"):
        compare(lambda pd: getattr(np, ufunc)(frame(pd)["f"].fillna(0.0)).clip(0.0, 2.0))
        compare(lambda pd: getattr(np, ufunc)(frame(pd)["i"] - 4))
        compare(lambda pd: frame(pd).pipe(lambda df: getattr(np, ufunc)(df["f"] / df["g"])))


@pytest.mark.parametrize(
    "then",
    [
        lambda df: df.groupby("m")["f"].sum(),
        lambda df: df.sort_values(["m", "i"], kind="stable"),
        lambda df: df.drop_duplicates("m"),
        lambda df: df.nlargest(3, "m"),
        lambda df: df[df["f"] > 0].head(3),
    ],
    ids=["groupby", "sort", "drop_duplicates", "nlargest", "filter-head"],
)
def test_map_dict_feeding_relations(compare, then):
    """A map column whose dtype pandas decides from the values (float64: a key is missing)
    used as a group key, a sort key, ...: the result has pandas' dtypes and groups."""

    def case(pd):
        df = frame(pd)
        df["m"] = df["k"].map({"a": 1, "b": 2})
        return then(df)

    compare(case)


def test_alias_of_a_literal_column_assigned_in_the_same_chain(compare):
    def case(pd):
        df = pd.DataFrame({"s": [None, "a", "b"]})
        df["n0"] = 0
        df["n1"] = 0
        df["n0"] = df["n0"].fillna(0)  # (a no-op: the optimizer leaves an alias of n0)
        return df

    compare(case)
