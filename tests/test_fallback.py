"""The fallback path: pandas API that litsdf does not trace runs in pandas on materialized data.

Under ``options.fallback``: ``"warn"`` emits :class:`litsdf.FallbackWarning` naming the method,
``"raise"`` raises :class:`litsdf.FallbackError` (a ``NotImplementedError``), ``"silent"`` runs
quietly. Either way the result is a litsdf object equal to pandas' result, the fallback is
counted, and ``explain()`` lists it. (pyproject turns stray FallbackWarnings into errors, so
every test that expects one says so with ``pytest.warns``.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf

from .conftest import assert_same, to_pandas
from .differential.data import frame

CASES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "pivot_table": (
        "DataFrame.pivot_table",
        lambda pd: frame(pd).pivot_table(index="k", values="i", aggfunc="sum"),
    ),
    "melt": ("DataFrame.melt", lambda pd: frame(pd)[["i", "k"]].melt(id_vars="k")),
    "cumsum": ("Series.cumsum", lambda pd: frame(pd)["i"].cumsum()),
    "transpose": ("DataFrame.T", lambda pd: frame(pd)[["i", "j"]].T),
    "apply_columns": (  # a function per column (axis=0); axis=1 scalars are traced UDFs
        "DataFrame.apply",
        lambda pd: frame(pd)[["i", "j"]].apply(lambda c: c.max() - c.min()),
    ),
    "apply_expand": (
        "DataFrame.apply",
        lambda pd: frame(pd).apply(lambda r: [r["i"], r["j"]], axis=1, result_type="expand"),
    ),
    "map_series": ("Series.map", lambda pd: frame(pd)["k"].map(pandas.Series({"a": 1, "b": 2}))),
    "to_datetime": ("pandas.to_datetime", lambda pd: pd.to_datetime(frame(pd)["t"].astype(str))),
    "get_dummies": ("pandas.get_dummies", lambda pd: pd.get_dummies(frame(pd)[["k", "i"]])),
    "shift": ("Series.shift", lambda pd: frame(pd)["f"].shift(2)),
    "rolling_frame": ("DataFrame.rolling", lambda pd: frame(pd)[["i", "f"]].rolling(2).sum()),
}


@pytest.fixture(autouse=True)
def _clean_counts():
    litsdf.reset_fallback_counts()
    yield
    litsdf.reset_fallback_counts()


@pytest.mark.parametrize("key", sorted(CASES))
def test_warn_mode(key):
    what, fn = CASES[key]
    expected = fn(pandas)
    with litsdf.option_context(fallback="warn"), pytest.warns(litsdf.FallbackWarning) as record:
        got = fn(litsdf)
    messages = [str(w.message) for w in record if w.category is litsdf.FallbackWarning]
    assert any(what in m for m in messages), messages
    assert isinstance(got, (litsdf.DataFrame, litsdf.Series))
    assert_same(to_pandas(got), expected)
    assert litsdf.fallback_counts().get(what, 0) >= 1
    falls = got.explain(format="dict")["fallbacks"]
    assert any(f == what or f.startswith(what + ".") for f in falls), falls
    assert what in got.explain(stage="fallbacks")
    assert what in got.explain()


@pytest.mark.parametrize("key", sorted(CASES))
def test_raise_mode(key):
    what, fn = CASES[key]
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=what.replace(".", r"\.")) as info,
    ):
        fn(litsdf)
    assert isinstance(info.value, NotImplementedError)
    assert "fallback" in str(info.value)
    assert what not in litsdf.fallback_counts()


@pytest.mark.parametrize("key", sorted(CASES))
def test_silent_mode(key):
    what, fn = CASES[key]
    expected = fn(pandas)
    with litsdf.option_context(fallback="silent"), warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning at all fails
        got = fn(litsdf)
        assert_same(to_pandas(got), expected)
    assert litsdf.fallback_counts().get(what, 0) >= 1


def test_fallback_error_is_not_implemented_error():
    assert issubclass(litsdf.FallbackError, NotImplementedError)
    assert issubclass(litsdf.FallbackWarning, UserWarning)


def test_warning_points_at_user_code():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    with litsdf.option_context(fallback="warn"):
        with pytest.warns(litsdf.FallbackWarning) as record:
            df["a"].cumsum()
        with pytest.warns(litsdf.FallbackWarning) as record2:
            df.melt()
    assert record[0].filename == __file__
    assert record2[0].filename == __file__


def test_counts_accumulate_and_reset():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    with litsdf.option_context(fallback="silent"):
        df["a"].cumsum()
        df["a"].cumsum()
        df["a"].cummax()
    counts = litsdf.fallback_counts()
    assert counts["Series.cumsum"] == 2
    assert counts["Series.cummax"] == 1
    counts["Series.cumsum"] = 99  # a copy: the registry is not changed from outside
    assert litsdf.fallback_counts()["Series.cumsum"] == 2
    litsdf.reset_fallback_counts()
    assert litsdf.fallback_counts() == {}


def test_traced_code_is_not_counted():
    with litsdf.option_context(fallback="raise"):
        df = litsdf.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
        out = df[df["a"] > 1].assign(c=lambda d: d["a"] * d["b"])
        out.to_pandas()
    assert litsdf.fallback_counts() == {}
    assert out.explain(format="dict")["fallbacks"] == []
    assert "== fallbacks ==\n  none" in out.explain()


def test_fallback_result_keeps_tracing():
    """A fallback result is a plan source: later operations are traced again, and explain
    shows the fallback as part of the lineage."""
    with litsdf.option_context(fallback="silent"):
        melted = frame(litsdf)[["i", "k"]].melt(id_vars="k")
    with litsdf.option_context(fallback="raise"):
        out = melted[melted["value"] > 2].sort_values(["k", "value"])
        got = out.to_pandas()
    pm = frame(pandas)[["i", "k"]].melt(id_vars="k")
    assert_same(got, pm[pm["value"] > 2].sort_values(["k", "value"]))
    assert out.explain(format="dict")["fallbacks"] == ["DataFrame.melt"]
    text = out.explain(stage="logical")
    assert "fallback DataFrame.melt" in text


def test_nested_fallbacks_listed_in_explain():
    with litsdf.option_context(fallback="silent"):
        df = litsdf.DataFrame({"a": [3, 1, 2]})
        out = df["a"].cumsum().to_frame().melt()
    falls = out.explain(format="dict")["fallbacks"]
    assert "DataFrame.melt" in falls and "Series.cumsum" in falls


def test_fallback_with_litsdf_arguments():
    """litsdf handles passed as arguments are materialized for pandas."""
    left = {"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}
    expected = pandas.DataFrame(left).combine_first(pandas.DataFrame({"c": [7, 8, 9]}))
    with litsdf.option_context(fallback="silent"):
        got = litsdf.DataFrame(left).combine_first(litsdf.DataFrame({"c": [7, 8, 9]}))
    assert_same(got.to_pandas(), expected)


def test_untraced_property_falls_back():
    pdf = frame(pandas)
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"DataFrame.T"),
    ):
        got = litsdf.DataFrame(pdf).T
    assert_same(got.to_pandas(), pdf.T)
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"DataFrame.T"),
    ):
        litsdf.DataFrame(pdf).T


def test_intermediate_pandas_objects_stay_wrapped():
    """groupby with a function key / rolling return pandas intermediates: their results are
    litsdf objects again."""
    pdf = frame(pandas)
    with litsdf.option_context(fallback="silent"):
        df = litsdf.DataFrame(pdf)
        g = df.groupby(lambda i: i % 2)["i"].sum()
        r = df["f"].rolling(3, min_periods=1).mean()
    assert isinstance(g, litsdf.Series) and isinstance(r, litsdf.Series)
    assert_same(g.to_pandas(), pdf.groupby(lambda i: i % 2)["i"].sum())
    assert_same(r.to_pandas(), pdf["f"].rolling(3, min_periods=1).mean())


def test_accessor_fallback():
    pdf = frame(pandas)
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"Series.str.get_dummies"),
    ):
        got = litsdf.DataFrame(pdf)["k"].str.get_dummies()
    assert_same(got.to_pandas(), pdf["k"].str.get_dummies())


# module-level names ---------------------------------------------------------------------------


def test_module_names_resolve_to_pandas():
    assert litsdf.Timestamp is pandas.Timestamp
    assert litsdf.Timedelta is pandas.Timedelta
    assert litsdf.NA is pandas.NA
    assert litsdf.NaT is pandas.NaT
    assert litsdf.api is pandas.api
    assert litsdf.testing is pandas.testing
    assert litsdf.Index is pandas.Index
    assert litsdf.CategoricalDtype is pandas.CategoricalDtype
    assert litsdf.NamedAgg is pandas.NamedAgg
    with pytest.raises(AttributeError, match="no_such_thing"):
        litsdf.no_such_thing


def test_module_function_fallback():
    s = pandas.Series(["1", "2", "x"])
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"pandas.to_numeric"),
    ):
        got = litsdf.to_numeric(litsdf.Series(s), errors="coerce")
    assert isinstance(got, litsdf.Series)
    assert_same(got.to_pandas(), pandas.to_numeric(s, errors="coerce"))
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"pandas.to_numeric"),
    ):
        litsdf.to_numeric(litsdf.Series(s), errors="coerce")


def test_module_function_with_scalar_result_is_unwrapped():
    with litsdf.option_context(fallback="silent"):
        assert litsdf.isna(np.nan) is True
        assert litsdf.to_datetime("2024-01-02") == pandas.Timestamp("2024-01-02")


# in-place fallbacks ---------------------------------------------------------------------------


def test_inplace_fallback_never_mutates_user_frame():
    pdf = pandas.DataFrame({"a": [1, 2, 3], "c": [0, 0, 0]})
    original = pdf.copy()
    df = litsdf.DataFrame(pdf)
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"DataFrame\.loc\[\]="),
    ):
        df.loc[df["a"] > 1, "c"] = 1
    pandas.testing.assert_frame_equal(pdf, original)
    expected = original.copy()
    expected.loc[expected["a"] > 1, "c"] = 1
    assert_same(df.to_pandas(), expected)
    assert "DataFrame.loc[]=" in df.explain(format="dict")["fallbacks"]
    assert litsdf.fallback_counts()["DataFrame.loc[]="] == 1


def test_inplace_fallback_does_not_change_other_handles():
    pdf = pandas.DataFrame({"a": [1, 2, 3], "c": [0, 0, 0]})
    df = litsdf.DataFrame(pdf)
    snapshot = df.copy()
    before = df.to_pandas()  # materialized before the mutation
    with litsdf.option_context(fallback="silent"):
        df.iloc[0, 1] = 5
    assert df.to_pandas()["c"].tolist() == [5, 0, 0]
    assert snapshot.to_pandas()["c"].tolist() == [0, 0, 0]
    assert before["c"].tolist() == [0, 0, 0]
    assert pdf["c"].tolist() == [0, 0, 0]


def test_inplace_fallback_raise_mode_leaves_frame_unchanged():
    pdf = pandas.DataFrame({"a": [1, 2, 3], "c": [0, 0, 0]})
    df = litsdf.DataFrame(pdf)
    plan = df._plan
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"loc\[\]="),
    ):
        df.loc[df["a"] > 1, "c"] = 1
    assert df._plan is plan
    assert_same(df.to_pandas(), pdf)


def test_inplace_method_fallback():
    pdf = pandas.DataFrame({"a": [1, 2, 3]}, index=["x", "y", "z"])
    df = litsdf.DataFrame(pdf)
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"DataFrame.drop"),
    ):
        assert df.drop(index=["y"], inplace=True) is None
    assert_same(df.to_pandas(), pdf.drop(index=["y"]))
    assert pdf.index.tolist() == ["x", "y", "z"]


def test_user_frame_mutation_after_construction_does_not_leak():
    pdf = pandas.DataFrame({"a": [1, 2, 3]})
    df = litsdf.DataFrame(pdf)
    pdf.loc[0, "a"] = 100
    assert df.to_pandas()["a"].tolist() == [1, 2, 3]


def test_mutating_a_result_does_not_change_the_frame():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    out = df.to_pandas()
    out.loc[0, "a"] = 100
    assert df.to_pandas()["a"].tolist() == [1, 2, 3]


# backend decline --------------------------------------------------------------------------------


def test_backend_decline_is_reported(monkeypatch):
    """A requested backend that declines a plan raises in strict mode, naming the reason, and
    explain() says why."""
    from litsdf_compiler import engine
    from litsdf_compiler.backends import registry
    from litsdf_compiler.backends.base import Verdict

    backend = registry()["pandas"]
    monkeypatch.setattr(
        type(backend), "check_Filter", lambda self, n: Verdict(False, "test says no"), raising=False
    )
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    out = df[df["a"] > 1]
    with litsdf.option_context(backend="pandas", fallback="raise"):
        with pytest.raises(engine.BackendDeclined, match="test says no"):
            out.to_pandas()
        assert "test says no" in out.explain(stage="backend")
    assert df.to_pandas()["a"].tolist() == [1, 2, 3]  # plans without a Filter still run


def test_setitem_callable_is_stored_as_pandas_does():
    """``df["x"] = func`` stores the function itself in pandas (only ``assign`` calls it)."""

    def func(d):
        return d["a"] * 2

    expected = pandas.DataFrame({"a": [1, 2]})
    expected["x"] = func
    got = litsdf.DataFrame({"a": [1, 2]})
    with pytest.warns(litsdf.FallbackWarning, match="__setitem__"):
        got["x"] = func
    assert_same(got.to_pandas(), expected)
