"""Scalar reductions of a Series and per-column reductions of a DataFrame."""

from __future__ import annotations

import numpy as np
import pandas
import pytest

import litsdf

from .data import frame

NUMERIC = [
    "sum",
    "mean",
    "min",
    "max",
    "count",
    "std",
    "var",
    "median",
    "nunique",
    "any",
    "all",
    "prod",
]


@pytest.mark.parametrize("col", ["i", "f", "b"])
@pytest.mark.parametrize("func", NUMERIC)
def test_series_reduction(compare, col, func):
    compare(lambda pd: getattr(frame(pd)[col], func)())


@pytest.mark.parametrize("col", ["i", "f", "b"])
@pytest.mark.parametrize(
    "func", ["sum", "mean", "min", "max", "std", "var", "median", "prod", "any", "all"]
)
def test_series_reduction_skipna_false(compare, col, func):
    compare(lambda pd: getattr(frame(pd)[col], func)(skipna=False))


@pytest.mark.parametrize("col", ["s", "k"])
@pytest.mark.parametrize("func", NUMERIC)
def test_str_reduction(compare, col, func):
    # min/max/count/nunique work on strings; sum concatenates (None skipped); mean/std raise
    compare(lambda pd: getattr(frame(pd)[col], func)())


@pytest.mark.parametrize("func", ["min", "max", "sum"])
def test_str_reduction_skipna_false(compare, func):
    compare(lambda pd: getattr(frame(pd)["s"], func)(skipna=False))


@pytest.mark.parametrize("func", ["min", "max", "count", "nunique", "median", "mean"])
def test_datetime_reduction(compare, func):
    compare(lambda pd: getattr(frame(pd)["t"], func)())


def test_datetime_sum_raises(compare):
    compare(lambda pd: frame(pd)["t"].sum())


@pytest.mark.parametrize("kwargs", [{"ddof": 0}, {"ddof": 2}])
@pytest.mark.parametrize("func", ["std", "var"])
def test_ddof(compare, func, kwargs):
    compare(lambda pd: getattr(frame(pd)["f"], func)(**kwargs))


def test_nunique_dropna(compare):
    compare(lambda pd: frame(pd)["f"].nunique(dropna=False))
    compare(lambda pd: frame(pd)["k"].nunique(dropna=False))


@pytest.mark.parametrize("min_count", [0, 7, 8])
def test_sum_prod_min_count(compare, min_count):
    compare(lambda pd: frame(pd)["f"].sum(min_count=min_count))
    compare(lambda pd: frame(pd)["f"].prod(min_count=min_count))


def test_reduction_of_expression(compare):
    def case(pd):
        df = frame(pd)
        return [
            (df["i"] * df["f"]).sum(),
            (df["f"] > 0).mean(),
            df["s"].str.len().max(),
            (df["i"] - df["j"]).abs().median(),
            df["f"].isna().sum(),
        ]

    compare(case)


def test_reduction_after_filter(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 2]["f"].mean(), df[df["b"]]["s"].count()

    compare(case)


def test_reduction_of_empty(compare):
    def case(pd):
        df = frame(pd)
        e = df[df["i"] > 100]
        return [
            e["i"].sum(),
            e["f"].mean(),
            e["f"].max(),
            e["i"].count(),
            e["b"].all(),
            e["b"].any(),
            e["i"].prod(),
        ]

    compare(case)


def test_reduction_result_in_expression(compare):
    def case(pd):
        df = frame(pd)
        return (df["f"] - df["f"].mean()) / df["f"].std()

    compare(case)


def test_reduction_bad_kwarg_raises(compare):
    compare(lambda pd: frame(pd)["i"].sum(bogus=1))


# DataFrame reductions ------------------------------------------------------------------------


@pytest.mark.parametrize("func", NUMERIC)
def test_frame_reduction(compare, func):
    compare(lambda pd: getattr(frame(pd)[["i", "f", "g"]], func)())


@pytest.mark.parametrize("func", ["sum", "mean", "min", "max", "std", "median", "prod"])
def test_frame_reduction_skipna_false(compare, func):
    compare(lambda pd: getattr(frame(pd)[["i", "f", "g"]], func)(skipna=False))


@pytest.mark.parametrize("func", ["sum", "mean", "min", "max", "std", "var", "median", "prod"])
def test_frame_reduction_numeric_only(compare, func):
    compare(lambda pd: getattr(frame(pd), func)(numeric_only=True))


@pytest.mark.parametrize("func", ["mean", "std", "median"])
def test_frame_reduction_mixed_raises(compare, func):
    compare(lambda pd: getattr(frame(pd), func)())


@pytest.mark.parametrize("func", ["count", "nunique", "min", "max"])
def test_frame_reduction_full_frame(compare, func):
    compare(lambda pd: getattr(frame(pd), func)())


def test_frame_reduction_of_derived(compare):
    compare(lambda pd: (frame(pd)[["i", "f"]] * 2).sum())
    compare(lambda pd: frame(pd)[["f", "g"]].isna().sum())
    compare(lambda pd: frame(pd)[["i", "j"]].nunique(dropna=False))


def test_untraced_reduction_form_falls_back():
    with litsdf.option_context(fallback="warn"):
        with pytest.warns(litsdf.FallbackWarning):
            got = litsdf.DataFrame({"a": [1, 2], "b": [3, 4]})["a"].cumsum()
        pandas.testing.assert_series_equal(
            got.to_pandas(), pandas.DataFrame({"a": [1, 2], "b": [3, 4]})["a"].cumsum()
        )
    assert isinstance(got, litsdf.Series)
    assert np.isscalar(litsdf.Series([1, 2]).sum())


@pytest.mark.parametrize("func", ["sum", "mean", "max", "nunique", "idxmax", "std"])
def test_agg_by_name(compare, func):
    compare(lambda pd: frame(pd)["f"].agg(func))
    compare(lambda pd: frame(pd)["i"].aggregate(func))


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.9, 1.0, 1.5])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "nearest"])
def test_quantile(compare, q, interpolation):
    compare(lambda pd: frame(pd)["f"].quantile(q, interpolation=interpolation))
    compare(lambda pd: frame(pd)["i"].quantile(q, interpolation=interpolation))


@pytest.mark.parametrize("col", ["i", "f", "s", "t"])
@pytest.mark.parametrize("func", ["idxmax", "idxmin"])
def test_idxmax_idxmin(compare, col, func):
    compare(lambda pd: getattr(frame(pd)[col], func)())
    compare(lambda pd: getattr(frame(pd)[col], func)(skipna=False))


def test_idxmax_after_filter(compare):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 3]["f"].idxmax()

    compare(case)
