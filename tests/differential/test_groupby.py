"""groupby + aggregation: methods, agg forms, keys, as_index/sort/dropna, selections."""

from __future__ import annotations

import pandas
import pytest

import litsdf

from .data import frame

METHODS = [
    "sum",
    "mean",
    "count",
    "min",
    "max",
    "std",
    "nunique",
    "first",
    "last",
    "median",
    "var",
    "size",
]


def _num(pd):
    """The standard frame without the string/datetime columns that numeric reductions reject."""
    return frame(pd)[["i", "j", "f", "g", "k", "b"]]


@pytest.mark.parametrize("method", METHODS)
def test_method_one_key(compare, method):
    compare(lambda pd: getattr(_num(pd).groupby("k"), method)())


@pytest.mark.parametrize("method", ["sum", "mean", "min", "max", "count", "size", "first"])
def test_method_two_keys(compare, method):
    compare(lambda pd: getattr(_num(pd).groupby(["k", "b"]), method)())


@pytest.mark.parametrize("method", ["sum", "count", "max", "nunique", "size"])
def test_method_as_index_false(compare, method):
    compare(lambda pd: getattr(_num(pd).groupby("k", as_index=False), method)())


@pytest.mark.parametrize("method", ["sum", "mean", "size", "last"])
def test_method_sort_false(compare, method):
    compare(lambda pd: getattr(_num(pd).groupby("k", sort=False), method)())


@pytest.mark.parametrize("method", ["sum", "count", "size", "min"])
def test_method_dropna_false(compare, method):
    compare(lambda pd: getattr(_num(pd).groupby("k", dropna=False), method)())


def test_two_keys_dropna_false_as_index_false(compare):
    compare(lambda pd: _num(pd).groupby(["k", "b"], dropna=False, as_index=False).sum())


def test_key_list_of_one(compare):
    compare(lambda pd: _num(pd).groupby(["k"]).sum())


@pytest.mark.parametrize("key", ["k", "b", "j", "s"])
def test_key_dtypes(compare, key):
    compare(lambda pd: frame(pd).groupby(key)[["i", "f"]].sum())


def test_string_column_first_last(compare):
    compare(lambda pd: frame(pd).groupby("j")[["s", "t"]].first())


def test_numeric_only(compare):
    compare(lambda pd: frame(pd).groupby("k").mean(numeric_only=True))


def test_mean_on_strings_raises(compare):
    compare(lambda pd: frame(pd).groupby("k").mean())


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_ddof(compare, ddof):
    compare(lambda pd: _num(pd).groupby("k").std(ddof=ddof))


# selections -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sum", "mean", "max", "count", "nunique", "size"])
def test_series_selection(compare, method):
    compare(lambda pd: getattr(frame(pd).groupby("k")["f"], method)())


def test_series_selection_as_index_false(compare):
    compare(lambda pd: frame(pd).groupby("k", as_index=False)["f"].sum())


def test_frame_selection(compare):
    compare(lambda pd: frame(pd).groupby("k")[["f", "g"]].mean())


def test_frame_selection_two_keys(compare):
    compare(lambda pd: frame(pd).groupby(["k", "b"])[["i", "f"]].max())


def test_attribute_selection(compare):
    compare(lambda pd: frame(pd).groupby("k").i.sum())


def test_unknown_selection_raises(compare):
    compare(lambda pd: frame(pd).groupby("k")["nope"])


def test_unknown_key_raises(compare):
    compare(lambda pd: frame(pd).groupby("nope"))


# agg forms ------------------------------------------------------------------------------------

AGGS = {
    "str": "sum",
    "list": ["sum", "mean"],
    "list_minmax": ["min", "max", "count"],
    "dict": {"f": "sum"},
    "dict_two": {"f": "sum", "i": "max"},
    "dict_list": {"f": ["min", "max"]},
    "dict_mixed": {"f": ["min", "max"], "g": "mean", "i": "nunique"},
}


@pytest.mark.parametrize("spec", AGGS.values(), ids=AGGS.keys())
def test_agg(compare, spec):
    compare(lambda pd: _num(pd).groupby("k").agg(spec))


@pytest.mark.parametrize(
    "spec", ["sum", ["sum", "mean"], {"f": "sum"}, {"f": ["min", "max"]}], ids=str
)
def test_agg_two_keys(compare, spec):
    compare(lambda pd: _num(pd).groupby(["k", "b"]).agg(spec))


@pytest.mark.parametrize("spec", ["sum", {"f": "sum", "g": "max"}], ids=str)
def test_agg_as_index_false(compare, spec):
    compare(lambda pd: _num(pd).groupby("k", as_index=False).agg(spec))


def test_agg_dropna_false(compare):
    compare(lambda pd: _num(pd).groupby("k", dropna=False).agg({"f": ["sum", "count"]}))


def test_agg_sort_false(compare):
    compare(lambda pd: _num(pd).groupby("k", sort=False).agg(["min", "max"]))


def test_aggregate_alias(compare):
    compare(lambda pd: _num(pd).groupby("k").aggregate({"i": "sum"}))


def test_named_agg(compare):
    compare(
        lambda pd: frame(pd).groupby("k").agg(total=("f", "sum"), n=("i", "count"), hi=("g", "max"))
    )


def test_named_agg_namedagg(compare):
    compare(
        lambda pd: (
            frame(pd)
            .groupby("k")
            .agg(total=pd.NamedAgg(column="f", aggfunc="sum"), lo=pd.NamedAgg("i", "min"))
        )
    )


def test_named_agg_two_keys_as_index_false(compare):
    compare(
        lambda pd: (
            frame(pd)
            .groupby(["k", "b"], as_index=False)
            .agg(total=("f", "sum"), mean_i=("i", "mean"))
        )
    )


def test_named_agg_dropna_false(compare):
    compare(
        lambda pd: (
            frame(pd)
            .groupby("k", dropna=False, sort=False)
            .agg(n=("s", "count"), first=("s", "first"))
        )
    )


@pytest.mark.parametrize("spec", ["sum", ["sum", "max"], "mean"], ids=str)
def test_series_agg(compare, spec):
    compare(lambda pd: frame(pd).groupby("k")["f"].agg(spec))


def test_frame_selection_agg(compare):
    compare(lambda pd: frame(pd).groupby("k")[["f", "g"]].agg(["sum", "mean"]))


def test_agg_unknown_column_raises(compare):
    compare(lambda pd: _num(pd).groupby("k").agg({"nope": "sum"}))


def test_groupby_then_filter_sort(compare):
    def case(pd):
        out = _num(pd).groupby("k", as_index=False).agg(total=("f", "sum"))
        return out[out["total"] > 0].sort_values("total")

    compare(case)


def test_groupby_after_filter(compare):
    def case(pd):
        df = _num(pd)
        return df[df["i"] > 1].groupby("b")["j"].sum()

    compare(case)


def test_groupby_result_column_arith(compare):
    compare(lambda pd: frame(pd).groupby("k")["f"].sum() * 2)


# fallback forms (callables are not traced) ----------------------------------------------------


def test_agg_callable_falls_back():
    expected = frame(pandas).groupby("k")["i"].agg(lambda s: s.max() - s.min())
    with pytest.warns(litsdf.FallbackWarning):
        got = frame(litsdf).groupby("k")["i"].agg(lambda s: s.max() - s.min())
    pandas.testing.assert_series_equal(got.to_pandas(), expected)


def test_agg_callable_strict_raises():
    with litsdf.option_context(fallback="raise"), pytest.raises(litsdf.FallbackError):
        frame(litsdf).groupby("k").agg(lambda s: s.sum())


def test_series_named_agg(compare):
    compare(lambda pd: frame(pd).groupby("k")["f"].agg(lo="min", hi="max"))


def test_series_named_agg_tuple_raises(compare):
    compare(lambda pd: frame(pd).groupby("k")["f"].agg(lo=("f", "min")))


def test_iteration_falls_back():
    expected = [(k, g) for k, g in _num(pandas).groupby("k")]
    with pytest.warns(litsdf.FallbackWarning):
        got = list(_num(litsdf).groupby("k"))
    assert [k for k, _ in got] == [k for k, _ in expected]
    for (_, g), (_, e) in zip(got, expected):
        pandas.testing.assert_frame_equal(g.to_pandas(), e)


def test_ngroups_and_len_fall_back():
    gb = _num(litsdf).groupby("k", dropna=False)
    with pytest.warns(litsdf.FallbackWarning):
        assert gb.ngroups == _num(pandas).groupby("k", dropna=False).ngroups
    with pytest.warns(litsdf.FallbackWarning):
        assert len(gb) == 4
