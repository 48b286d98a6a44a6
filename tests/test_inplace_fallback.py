"""In-place pandas calls that litsdf does not trace run through the fallback path on a
materialized copy, and the copy is written back into the handle: the change is never lost.

Each case does the in-place call on a frame (or Series) of module ``pd`` and returns the
object afterwards together with what the call returned; it runs with pandas and with litsdf
on every backend (fallbacks allowed, silently) and the two are compared with
``pandas.testing``. If pandas raises, litsdf raises the same type and leaves the handle as it
was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf

from .conftest import BACKENDS, assert_same, to_pandas
from .differential.data import frame

# pandas 3.1 deprecates ``inplace`` (PDEP-8) but still honours it: litsdf must match meanwhile
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def _small(pd: Any) -> Any:
    return pd.DataFrame(
        {"a": [1.0, np.nan, 3.0, np.nan], "b": [4, 5, 6, 7], "k": ["x", None, "y", "z"]},
        index=[10, 20, 30, 40],
    )


def _numeric(pd: Any) -> Any:
    return _small(pd)[["a", "b"]]


def _series(pd: Any) -> Any:
    return pd.Series([1.0, np.nan, 3.0, np.nan], index=list("pqrs"), name="v")


@pytest.fixture(params=BACKENDS)
def check(request: pytest.FixtureRequest) -> Callable[[Callable[[Any], Any]], None]:
    """``check(case)``: ``case(pd)`` gives the same result with pandas and with litsdf on this
    backend (fallbacks allowed); if pandas raises, litsdf raises the same type."""

    def run(case: Callable[[Any], Any]) -> None:
        try:
            expected = case(pandas)
        except Exception as err:
            with (
                litsdf.option_context(backend=request.param, fallback="silent"),
                pytest.raises(type(err)),
            ):
                case(litsdf)
            return
        with litsdf.option_context(backend=request.param, fallback="silent"):
            got = to_pandas(case(litsdf))
        assert_same(got, expected)

    return run


def _returned(out: Any, obj: Any) -> Any:
    """What an in-place call returned, comparable across pandas and litsdf."""
    return "itself" if out is obj else out


FRAME_CALLS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = {
    "insert": (_small, lambda pd, df: df.insert(1, "z", [7, 8, 9, 10])),
    "insert_series": (_small, lambda pd, df: df.insert(0, "c", df["b"] * 2)),
    "pop": (_small, lambda pd, df: df.pop("b")),
    "update": (_small, lambda pd, df: df.update(pd.DataFrame({"b": [0, 1]}, index=[20, 40]))),
    "setitem_mask": (_small, lambda pd, df: df.__setitem__(df[["b"]] > 5, 0)),
    "ffill": (_small, lambda pd, df: df.ffill(inplace=True)),
    "bfill": (_small, lambda pd, df: df.bfill(inplace=True)),
    "fillna_limit": (_numeric, lambda pd, df: df.fillna(0.0, limit=1, inplace=True)),
    "mask": (_numeric, lambda pd, df: df.mask(df > 4, 0, inplace=True)),
    "where": (_numeric, lambda pd, df: df.where(df > 4, -1, inplace=True)),
    "clip": (_numeric, lambda pd, df: df.clip(2, 6, inplace=True)),
    "interpolate": (_numeric, lambda pd, df: df.interpolate(inplace=True)),
    "eval": (_small, lambda pd, df: df.eval("c = a + b", inplace=True)),
    "replace_regex": (_small, lambda pd, df: df.replace("^x$", "X", regex=True, inplace=True)),
    "rename_axis": (_small, lambda pd, df: df.rename_axis("idx", inplace=True)),
    "rename_index": (_small, lambda pd, df: df.rename(index={10: 11}, inplace=True)),
    "drop_index": (_small, lambda pd, df: df.drop(index=[20], inplace=True)),
    "dropna_columns": (_small, lambda pd, df: df.dropna(axis=1, inplace=True)),
    "set_index_verified": (
        _small,
        lambda pd, df: df.set_index("b", verify_integrity=True, inplace=True),
    ),
    "reset_index_level": (
        lambda pd: _small(pd).set_index(["b", "k"]),
        lambda pd, df: df.reset_index(level="k", inplace=True),
    ),
    "sort_values_key": (_small, lambda pd, df: df.sort_values("b", key=lambda c: -c, inplace=True)),
    "sort_index_axis1": (_small, lambda pd, df: df.sort_index(axis=1, inplace=True)),
    "fillna_column_of_frame": (  # copy-on-write: the frame does not change
        _small,
        lambda pd, df: df["a"].fillna(0.0, limit=1, inplace=True),
    ),
}


@pytest.mark.parametrize("key", sorted(FRAME_CALLS))
def test_frame_inplace_call_lands(check, key):
    make, call = FRAME_CALLS[key]

    def case(pd):
        df = make(pd)
        out = call(pd, df)
        return df, _returned(out, df)

    check(case)


FRAME_ASSIGNMENTS: dict[str, Callable[[Any], None]] = {
    "at": lambda df: df.at.__setitem__((20, "b"), 100),
    "at_new_row": lambda df: df.at.__setitem__((50, "b"), 1),
    "iat": lambda df: df.iat.__setitem__((1, 1), 100),
    "loc_cell": lambda df: df.loc.__setitem__((30, "k"), "w"),
    "iloc_row": lambda df: df.iloc.__setitem__(0, [0.5, 1, "q"]),
    "index": lambda df: setattr(df, "index", ["p", "q", "r", "s"]),
    "index_name": lambda df: setattr(df.index, "name", "idx"),
    "columns_name": lambda df: setattr(df.columns, "name", "cols"),
    "columns_with_names": lambda df: setattr(df, "columns", pandas.Index(list("ABC"), name="n")),
}


@pytest.mark.parametrize("key", sorted(FRAME_ASSIGNMENTS))
def test_frame_assignment_lands(check, key):
    assign = FRAME_ASSIGNMENTS[key]

    def case(pd):
        df = _small(pd)
        assign(df)
        return df

    check(case)


def test_multiindex_names_land(check):
    def case(pd):
        df = _small(pd).set_index(["b", "k"])
        df.index.names = ["B", "K"]
        return df, df.reset_index()

    check(case)


def test_index_name_change_then_more_operations(check):
    def case(pd):
        df = _small(pd)
        idx = df.index
        idx.name = "idx"
        df["c"] = df["b"] + 1
        return df[df["b"] > 4]

    check(case)


SERIES_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "update": lambda pd, s: s.update(pd.Series([9.0, np.nan], index=["p", "q"])),
    "ffill": lambda pd, s: s.ffill(inplace=True),
    "bfill": lambda pd, s: s.bfill(inplace=True),
    "interpolate": lambda pd, s: s.interpolate(inplace=True),
    "fillna_limit": lambda pd, s: s.fillna(0.0, limit=1, inplace=True),
    "rename_axis": lambda pd, s: s.rename_axis("idx", inplace=True),
    "drop": lambda pd, s: s.drop(["q"], inplace=True),
    "pop": lambda pd, s: s.pop("r"),
    "setitem": lambda pd, s: s.__setitem__("q", 5.0),
    "setitem_mask": lambda pd, s: s.__setitem__(s.isna(), -1.0),
    "delitem": lambda pd, s: s.__delitem__("p"),
    "loc": lambda pd, s: s.loc.__setitem__("s", 8.0),
    "iloc": lambda pd, s: s.iloc.__setitem__(slice(0, 2), 0.0),
    "at": lambda pd, s: s.at.__setitem__("p", 2.0),
    "iat": lambda pd, s: s.iat.__setitem__(3, 4.0),
    "index": lambda pd, s: setattr(s, "index", [1, 2, 3, 4]),
    "index_name": lambda pd, s: setattr(s.index, "name", "idx"),
    "name": lambda pd, s: setattr(s, "name", "w"),
}


@pytest.mark.parametrize("key", sorted(SERIES_CALLS))
def test_series_inplace_call_lands(check, key):
    call = SERIES_CALLS[key]

    def case(pd):
        s = _series(pd)
        out = call(pd, s)
        return s, _returned(out, s)

    check(case)


def test_series_of_a_frame_changes_alone(check):
    """Under copy-on-write a column taken from a frame is its own object: assigning into it
    changes it, never the frame."""

    def case(pd):
        df = _small(pd)
        col = df["a"]
        col.iat[0] = 100.0
        col.update(pd.Series([7.0], index=[20]))
        return df, col

    check(case)


# attrs ------------------------------------------------------------------------------------------


def test_attrs_land_and_propagate(check):
    def case(pd):
        df = _small(pd)
        df.attrs["source"] = "sensor"
        out = df[df["b"] > 4][["a", "b"]] * 2
        return df.attrs, out.attrs, df["a"].attrs, df.head(2), out

    check(case)


def test_attrs_assignment(check):
    def case(pd):
        s = _series(pd)
        s.attrs = {"unit": "m"}
        df = _small(pd)
        df.attrs = {"k": [1, 2]}
        df.attrs["k"].append(3)  # a nested change lands too
        return s.attrs, (s + 1).attrs, df.attrs, df.assign(z=1).attrs

    check(case)


# failures leave the data as it was ---------------------------------------------------------------

FAILING: dict[str, Callable[[Any], Any]] = {
    "insert_duplicate": lambda df: df.insert(0, "a", 1),
    "insert_bad_position": lambda df: df.insert(10, "z", 1),
    "pop_missing": lambda df: df.pop("missing"),
    "update_not_a_frame": lambda df: df.update(5),
    "iat_out_of_bounds": lambda df: df.iat.__setitem__((10, 0), 1),
    "ffill_inplace_not_bool": lambda df: df.ffill(inplace="yes"),
    "eval_bad_expression": lambda df: df.eval("c = nothere + 1", inplace=True),
    "index_wrong_length": lambda df: setattr(df, "index", [1, 2]),
    "set_index_duplicates": lambda df: df.set_index("k", verify_integrity=True, inplace=True),
}


VALUE_DEPENDENT = {"set_index_duplicates"}
"""Errors that only the values show: strict mode checks a fallback on the empty metadata, so
it refuses these calls with FallbackError rather than pandas' error (the frame is unchanged
either way)."""


@pytest.mark.parametrize("mode", ["silent", "raise"])
@pytest.mark.parametrize("key", sorted(FAILING))
def test_failed_inplace_call_leaves_frame_unchanged(key, mode):
    call = FAILING[key]
    pdf = _small(pandas).assign(k=["x", "x", "y", "z"])
    with pytest.raises(Exception) as expected:
        call(pdf.copy())
    df = litsdf.DataFrame(pdf)
    plan = df._plan
    error = litsdf.FallbackError if mode == "raise" and key in VALUE_DEPENDENT else None
    with litsdf.option_context(fallback=mode), pytest.raises(error or type(expected.value)):
        call(df)  # strict mode raises pandas' own error, not FallbackError
    assert df._plan is plan
    assert_same(df.to_pandas(), pdf)


# the fallback path: counted, warned, raised ------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_counts():
    litsdf.reset_fallback_counts()
    yield
    litsdf.reset_fallback_counts()


def test_warn_mode_names_the_inplace_call():
    df = litsdf.DataFrame(_small(pandas))
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"DataFrame\.insert") as record,
    ):
        assert df.insert(0, "z", 1) is None
    assert record[0].filename == __file__
    assert litsdf.fallback_counts()["DataFrame.insert"] == 1
    assert "DataFrame.insert" in df.explain(format="dict")["fallbacks"]
    assert list(df.columns) == ["z", "a", "b", "k"]


def test_raise_mode_refuses_and_leaves_frame_unchanged():
    pdf = _small(pandas)
    df = litsdf.DataFrame(pdf)
    plan = df._plan
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"DataFrame\.ffill"),
    ):
        df.ffill(inplace=True)
    assert df._plan is plan
    assert "DataFrame.ffill" not in litsdf.fallback_counts()


def test_raise_mode_lent_index_change_is_refused_once():
    """Changing the name of ``df.index`` needs a fallback: strict mode says so at the frame's
    next use (never silently drops it), and the frame stays as it was."""
    pdf = _small(pandas)
    df = litsdf.DataFrame(pdf)
    with litsdf.option_context(fallback="raise"):
        df.index.name = "idx"
        with pytest.raises(litsdf.FallbackError, match=r"DataFrame\.index\.names="):
            len(df)
        assert_same(df.to_pandas(), pdf)


def test_other_handles_and_results_do_not_change():
    pdf = _small(pandas)
    df = litsdf.DataFrame(pdf)
    snapshot = df.copy()
    before = df.to_pandas()
    derived = df[["a", "b"]]
    with litsdf.option_context(fallback="silent"):
        df.insert(0, "z", 1)
        df.at[10, "b"] = 99
        df.index.name = "idx"
        df.columns.name = "cols"
        df.attrs["k"] = 1
        got = df.to_pandas()
    assert got.loc[10, "b"] == 99 and got.index.name == "idx" and got.columns.name == "cols"
    assert got.attrs == {"k": 1}
    for other in (snapshot.to_pandas(), before, pdf):
        assert_same(other, _small(pandas))
    assert_same(derived.to_pandas(), _small(pandas)[["a", "b"]])
    assert snapshot.columns.name is None and snapshot.attrs == {}


def test_inplace_fallback_while_compiling_is_a_trace_error():
    def step(df):
        df.insert(0, "z", 1)
        return df

    with pytest.raises(litsdf.TraceError, match=r"DataFrame\.insert"):
        litsdf.compile(step, example=litsdf.DataFrame(_small(pandas)))


# accessor namespaces litsdf does not trace -------------------------------------------------------


def _cat(pd: Any) -> Any:
    return frame(pd)["k"].astype("category")


ACCESSOR_CASES: dict[str, Callable[[Any], Any]] = {
    "codes": lambda pd: _cat(pd).cat.codes,
    "categories": lambda pd: _cat(pd).cat.categories,
    "ordered": lambda pd: _cat(pd).cat.ordered,
    "rename_categories": lambda pd: _cat(pd).cat.rename_categories(["A", "B", "C"]),
    "as_ordered_then_traced": lambda pd: _cat(pd).cat.as_ordered().cat.codes + 1,
    "not_category": lambda pd: frame(pd)["i"].cat.codes,  # pandas' AttributeError
    "unknown_member": lambda pd: _cat(pd).cat.no_such_member,
    "sparse_density": lambda pd: pd.Series([0, 0, 1], dtype="Sparse[int64]").sparse.density,
    "frame_sparse": lambda pd: pd.DataFrame(
        {"a": pd.Series([0, 1], dtype="Sparse[int64]")}
    ).sparse.to_dense(),
}


@pytest.mark.parametrize("key", sorted(ACCESSOR_CASES))
def test_untraced_accessor(check, key):
    check(ACCESSOR_CASES[key])


def test_accessor_fallback_is_counted_and_warned():
    with (
        litsdf.option_context(fallback="warn"),
        pytest.warns(litsdf.FallbackWarning, match=r"Series\.cat\.codes"),
    ):
        got = _cat(litsdf).cat.codes
    assert isinstance(got, litsdf.Series)
    assert litsdf.fallback_counts()["Series.cat.codes"] == 1
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"Series\.cat\.categories"),
    ):
        _cat(litsdf).cat.categories


@pytest.fixture
def agg_backend():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


PLOTS: dict[str, Callable[[Any], Any]] = {
    "frame_bar": lambda pd: _numeric(pd).fillna(0).plot.bar(),
    "frame_call": lambda pd: _numeric(pd).plot(kind="line"),
    "series_hist": lambda pd: frame(pd)["i"].plot.hist(bins=3),
    "series_call": lambda pd: frame(pd)["f"].plot(),
}


@pytest.mark.parametrize("key", sorted(PLOTS))
def test_plot_accessor(agg_backend, key):
    def summary(ax: Any) -> Any:
        lines = [line.get_ydata().tolist() for line in ax.get_lines()]
        bars = [p.get_height() for p in ax.patches]
        return type(ax).__name__, [str(t.get_text()) for t in ax.get_xticklabels()], lines, bars

    expected = summary(PLOTS[key](pandas))
    agg_backend.close("all")
    with litsdf.option_context(fallback="silent"):
        got = summary(PLOTS[key](litsdf))
    assert got == expected


def test_style_runs_on_the_materialized_frame():
    pytest.importorskip("jinja2")
    pdf = _numeric(pandas)
    with litsdf.option_context(fallback="silent"):
        styler = litsdf.DataFrame(pdf).style
    assert isinstance(styler, pandas.io.formats.style.Styler)
    assert_same(styler.data, pdf)
