"""concat, value_counts, describe, copy, to_dict, frame properties and repr."""

from __future__ import annotations

import pandas
import pytest

import litsdf

from .data import NAN, frame, keyed

# concat ---------------------------------------------------------------------------------------


def _parts(pd):
    df = frame(pd)
    return df.head(3), df.tail(4)


@pytest.mark.parametrize("ignore_index", [False, True])
def test_concat_rows(compare, ignore_index):
    compare(lambda pd: pd.concat(list(_parts(pd)), ignore_index=ignore_index))


def test_concat_rows_different_columns(compare):
    def case(pd):
        a, b = _parts(pd)
        return pd.concat([a[["i", "f", "s"]], b[["i", "g", "k"]]])

    compare(case)


def test_concat_rows_inner(compare):
    def case(pd):
        a, b = _parts(pd)
        return pd.concat([a[["i", "f", "s"]], b[["s", "g", "i"]]], join="inner", ignore_index=True)

    compare(case)


def test_concat_three_with_filter(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[df["b"]], df[~df["b"]], df.head(1)], axis="index")

    compare(case)


def test_concat_columns(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["i", "j"]], df[["s"]]], axis=1)

    compare(case)


def test_concat_columns_misaligned(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["i"]].head(5), df[["f"]].tail(5)], axis=1)

    compare(case)


def test_concat_columns_inner(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["i"]].head(5), df[["f"]].tail(5)], axis=1, join="inner")

    compare(case)


def test_concat_named_series_axis1(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df["i"], df["f"] * 2, df["s"]], axis=1)

    compare(case)


def test_concat_series(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df["i"], df["j"]])

    compare(case)


def test_concat_series_ignore_index(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df["f"].head(2), df["f"].tail(2)], ignore_index=True)

    compare(case)


@pytest.mark.parametrize(
    "values",
    [([1.5, 2.0], [True, False]), ([1, 2], [True, None]), ([1, 2], [0.5]), (["a"], [1])],
)
def test_concat_series_of_mixed_dtypes(compare, values):
    # pandas stacks Series of float and bool as object, one-column frames as float64
    left, right = values
    compare(lambda pd: pd.concat([pd.Series(left), pd.Series(right)]))
    compare(lambda pd: pd.concat([pd.Series(left).to_frame("x"), pd.Series(right).to_frame("x")]))


def test_concat_series_from_constructor(compare):
    compare(lambda pd: pd.concat([pd.Series([1, 2], name="a"), pd.Series([3], name="a")]))


def test_concat_pandas_and_litsdf(compare):
    def case(pd):
        left, _ = keyed(pd)
        return pd.concat([left, keyed(pandas)[1]], ignore_index=True)

    compare(case)


def test_concat_empty_list_raises(compare):
    compare(lambda pd: pd.concat([]))


def test_concat_keys_falls_back():
    a, b = _parts(pandas)
    expected = pandas.concat([a, b], keys=["x", "y"])
    la, lb = _parts(litsdf)
    with pytest.warns(litsdf.FallbackWarning):
        got = litsdf.concat([la, lb], keys=["x", "y"])
    pandas.testing.assert_frame_equal(got.to_pandas(), expected)


# value_counts ---------------------------------------------------------------------------------

SERIES_VC = [
    {},
    {"normalize": True},
    {"dropna": False},
    {"ascending": True},
    {"sort": False},
    {"normalize": True, "dropna": False},
]


@pytest.mark.parametrize("kwargs", SERIES_VC, ids=str)
@pytest.mark.parametrize("col", ["k", "j", "b"])
def test_series_value_counts(compare, col, kwargs):
    compare(lambda pd: frame(pd)[col].value_counts(**kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"subset": ["k"]},
        {"subset": ["k", "b"]},
        {"subset": ["k", "b"], "normalize": True},
        {"subset": ["k"], "dropna": False},
        {"subset": "j", "ascending": True},
    ],
    ids=str,
)
def test_frame_value_counts(compare, kwargs):
    compare(lambda pd: frame(pd)[["k", "b", "j"]].value_counts(**kwargs))


# describe -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"include": "all"},
        {"percentiles": [0.1, 0.9]},
        {"include": ["object", "str"]},
        {"exclude": ["number"]},
    ],
    ids=str,
)
def test_describe(compare, kwargs):
    compare(lambda pd: frame(pd).describe(**kwargs))


def test_describe_series(compare):
    compare(lambda pd: frame(pd)["f"].describe())


def test_describe_after_filter(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 1][["i", "f"]].describe()

    compare(case)


# copy, to_dict, properties --------------------------------------------------------------------


def test_copy_independent(compare):
    def case(pd):
        df = frame(pd)
        other = df.copy()
        other["i"] = other["i"] + 100
        df["new"] = 1
        return other

    compare(case)


@pytest.mark.parametrize("orient", ["dict", "list", "records", "index"])
def test_to_dict(compare, orient):
    compare(lambda pd: frame(pd)[["i", "f", "k"]].head(4).to_dict(orient=orient))


def test_to_dict_default(compare):
    compare(lambda pd: pd.DataFrame({"a": [1, 2], "b": ["x", None]}).to_dict())


def test_dtypes(compare):
    compare(lambda pd: frame(pd).dtypes)


def test_dtypes_after_ops(compare):
    def case(pd):
        df = frame(pd)
        df["r"] = df["i"] / 2
        return df.drop(columns=["s"]).dtypes

    compare(case)


def test_shape(compare):
    compare(lambda pd: frame(pd).shape)


def test_shape_filtered(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 2].shape

    compare(case)


def test_columns(compare):
    compare(lambda pd: frame(pd).rename(columns={"i": "x"}).columns)


def test_index(compare):
    def case(pd):
        df = frame(pd)
        return df[df["b"]].index

    compare(case)


def test_len(compare):
    def case(pd):
        df = frame(pd)
        return len(df), len(df[df["j"] == 8]), len(df.head(0))

    compare(case)


# repr -----------------------------------------------------------------------------------------

REPRS = {
    "frame": lambda pd: frame(pd),
    "filtered": lambda pd: (lambda d: d[d["i"] > 2][["i", "f", "s"]])(frame(pd)),
    "grouped": lambda pd: frame(pd).groupby("k").agg(total=("f", "sum")),
    "series": lambda pd: frame(pd)["s"],
    "empty": lambda pd: frame(pd).head(0),
    "wide": lambda pd: pd.DataFrame({f"c{i}": range(70) for i in range(30)}),
}


@pytest.mark.parametrize("make", REPRS.values(), ids=REPRS.keys())
def test_repr(make):
    assert repr(make(litsdf)) == repr(make(pandas))


@pytest.mark.parametrize("name", ["frame", "filtered", "grouped", "empty", "wide"])
def test_repr_html(name):
    make = REPRS[name]
    assert make(litsdf)._repr_html_() == make(pandas)._repr_html_()


def test_repr_nan_frame():
    data = {"a": [NAN, 1.0], "b": [None, "x"]}
    assert repr(litsdf.DataFrame(data)) == repr(pandas.DataFrame(data))


@pytest.mark.parametrize("axis", [0, 1])
def test_concat_frame_and_named_series(compare, axis):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["i", "j"]], df["f"].rename("j")], axis=axis)

    compare(case)


@pytest.mark.parametrize("ignore_index", [False, True])
def test_concat_series_same_name_axis1(compare, ignore_index):
    def case(pd):
        df = frame(pd)
        return pd.concat([df["i"], df["i"] * 2], axis=1, ignore_index=ignore_index)

    compare(case)


@pytest.mark.parametrize("sort", [True, False])
def test_concat_sort(compare, sort):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["j", "i"]].head(3), df[["i", "f"]].tail(3)], sort=sort)

    compare(case)


def test_concat_axis1_sort(compare):
    def case(pd):
        df = frame(pd)
        return pd.concat([df[["i"]].iloc[::-1], df[["f"]].head(4)], axis=1, sort=True)

    compare(case)


@pytest.mark.parametrize("bins", [3, [0, 3, 10]], ids=str)
def test_series_value_counts_bins(compare, bins):
    compare(lambda pd: frame(pd)["i"].value_counts(bins=bins, sort=False))
