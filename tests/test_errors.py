"""Error paths: litsdf raises pandas' exception type, with a message that names the problem.

Each case is run with real pandas and with litsdf (strict mode: a fallback would be an error)
and both must raise the same type, matching ``match``. Errors about labels and dtypes are
raised when the call is made (the plan is checked against its schema), not later when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends.pandas import BACKEND
from litsdf_compiler.engine import BackendDeclined

from .conftest import BACKENDS, assert_same
from .differential.data import frame, keyed


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if any plan is executed (only schema inference may run)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a plan was executed: the error must be raised at the call")

    monkeypatch.setattr(engine, "execute", refuse)
    monkeypatch.setattr(BACKEND, "execute", refuse)
    yield


def both_raise(
    fn: Callable[[Any], Any], exc: type[BaseException], match: str, backend: str = "pandas"
) -> None:
    """``fn(pandas)`` and ``fn(litsdf)`` raise exactly the same type, ``exc`` or a subclass,
    with a message matching ``match`` (litsdf results are materialized)."""
    with pytest.raises(exc, match=match) as expected:
        fn(pandas)
    with (
        litsdf.option_context(backend=backend, fallback="raise"),
        pytest.raises(exc, match=match) as got,
    ):
        out = fn(litsdf)
        if isinstance(out, (litsdf.DataFrame, litsdf.Series)):
            out.to_pandas()
    assert type(got.value) is type(expected.value), (got.value, expected.value)


def raises_at_call(fn: Callable[[Any], Any], exc: type[BaseException], match: str) -> None:
    """Like :func:`both_raise`, but litsdf must raise inside ``fn`` itself, before running."""
    with pytest.raises(exc, match=match) as expected:
        fn(pandas)
    with litsdf.option_context(fallback="raise"), pytest.raises(exc, match=match) as got:
        fn(litsdf)  # no materialization: the call itself raises
    assert type(got.value) is type(expected.value), (got.value, expected.value)


# unknown columns -----------------------------------------------------------------------------


def test_getitem_unknown_column_raises_at_call_without_execution(no_execution):
    df = litsdf.DataFrame({"a": [1, 2]})
    with pytest.raises(KeyError, match="nope") as info:
        df["nope"]
    assert info.value.args == ("nope",)
    with pytest.raises(KeyError) as real:
        pandas.DataFrame({"a": [1, 2]})["nope"]
    assert info.value.args == real.value.args


@pytest.mark.parametrize(
    "case, match",
    [
        (lambda pd: frame(pd)["nope"], "nope"),
        (lambda pd: frame(pd)[["i", "nope"]], r"\['nope'\] not in index"),
        (lambda pd: frame(pd).sort_values("nope"), "nope"),
        (lambda pd: frame(pd).sort_values(["i", "nope"]), "nope"),
        (lambda pd: frame(pd).drop(columns=["nope"]), r"\['nope'\] not found in axis"),
        (lambda pd: frame(pd).drop(columns="nope"), r"\['nope'\] not found in axis"),
        (lambda pd: frame(pd).groupby("nope"), "nope"),
        (lambda pd: frame(pd).groupby(["k", "nope"]), "nope"),
        (lambda pd: frame(pd).groupby("k")["nope"], "nope"),
        (lambda pd: frame(pd).groupby("k").agg({"nope": "sum"}), "nope"),
        (lambda pd: frame(pd).groupby("k").agg(x=("nope", "sum")), "nope"),
        (lambda pd: frame(pd).dropna(subset=["nope"]), "nope"),
        (lambda pd: frame(pd).set_index("nope"), "nope"),
        (lambda pd: frame(pd).nlargest(2, "nope"), "nope"),
        (lambda pd: frame(pd).astype({"nope": float}), "nope"),
        (lambda pd: pd.merge(*keyed(pd), on="nope"), "nope"),
        (lambda pd: pd.merge(*keyed(pd), left_on="nope", right_on="k"), "nope"),
        (lambda pd: pd.merge(*keyed(pd), left_on="k", right_on="nope"), "nope"),
        (lambda pd: keyed(pd)[0].merge(keyed(pd)[1], on="x"), "x"),
    ],
)
def test_unknown_column_raises_at_call(case, match, no_execution):
    with pytest.raises(KeyError, match=match):
        case(pandas)
    with litsdf.option_context(fallback="raise"), pytest.raises(KeyError, match=match):
        case(litsdf)


@pytest.mark.parametrize(
    "case",
    [
        lambda pd: frame(pd).drop_duplicates(subset=["nope"]),
        lambda pd: frame(pd)[["i", "k"]].drop_duplicates(subset=["i", "nope"]),
    ],
)
def test_unknown_column_checked_on_data_like_pandas(case):
    # pandas checks the subset only when the frame has rows, so litsdf checks it when the
    # plan runs: an empty frame must not raise
    both_raise(case, KeyError, "nope")
    empty = lambda pd: case(_Rows0(pd))
    for mod in (pandas, litsdf):
        out = empty(mod)
        assert len(out.to_pandas() if mod is litsdf else out) == 0


class _Rows0:
    """``pd`` whose DataFrame constructor keeps no rows (the same columns and dtypes)."""

    def __init__(self, pd: Any) -> None:
        self._pd = pd

    def DataFrame(self, data: Any) -> Any:
        return self._pd.DataFrame(pandas.DataFrame(data).iloc[:0])


def test_unknown_attribute():
    raises_at_call(lambda pd: frame(pd).nope, AttributeError, "has no attribute 'nope'")
    raises_at_call(lambda pd: frame(pd)["i"].nope, AttributeError, "has no attribute 'nope'")


def test_rename_unknown_column_is_lenient_like_pandas(compare):
    compare(lambda pd: frame(pd).rename(columns={"nope": "x", "i": "ii"}))


def test_rename_unknown_column_errors_raise():
    both_raise(lambda pd: frame(pd).rename(columns={"nope": "x"}, errors="raise"), KeyError, "nope")


# incompatible dtypes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, exc, match",
    [
        (lambda pd: frame(pd)["s"] + 1, TypeError, "add"),
        (lambda pd: 1 + frame(pd)["s"], TypeError, "add"),
        (lambda pd: frame(pd)["s"] - "a", TypeError, "sub"),
        (lambda pd: frame(pd)["s"] * frame(pd)["s"], TypeError, "mul"),
        (lambda pd: frame(pd)["s"] < 1, TypeError, "Invalid comparison"),
        (lambda pd: frame(pd)["t"] + 1, TypeError, "integer"),
        (lambda pd: frame(pd)["s"].mean(), TypeError, "mean"),
        (lambda pd: frame(pd).sum(), TypeError, "sum"),
        (lambda pd: frame(pd)["s"].clip(0, 1), TypeError, "comparison"),
        (lambda pd: frame(pd).nlargest(2, "s"), TypeError, "nlargest"),
        (
            lambda pd: (lambda d: d["i"].where(d["s"]))(frame(pd)),
            TypeError,
            "Boolean array expected",
        ),
    ],
)
def test_incompatible_dtypes(case, exc, match):
    both_raise(case, exc, match)


def test_incompatible_dtype_raises_at_call(no_execution):
    raises_at_call(lambda pd: frame(pd)["s"] + 1, TypeError, "add")


@pytest.mark.parametrize(
    "case, match",
    [
        (lambda pd: frame(pd)["i"].str, r"\.str accessor"),
        (lambda pd: frame(pd)["i"].str.lower(), r"\.str accessor"),
        (lambda pd: frame(pd)["f"].str.len(), r"\.str accessor"),
        (lambda pd: frame(pd)["i"].dt, r"\.dt accessor"),
        (lambda pd: frame(pd)["i"].dt.year, r"\.dt accessor"),
        (lambda pd: frame(pd)["s"].dt.month, r"\.dt accessor"),
    ],
)
def test_wrong_accessor(case, match, no_execution):
    raises_at_call(case, AttributeError, match)


def test_value_error_is_reported_before_dtype_error_like_pandas():
    # pandas casts column by column: the string column fails (ValueError) before it reaches
    # the datetime column (TypeError); litsdf must report the same first problem
    both_raise(lambda pd: frame(pd).astype(float), ValueError, "could not convert string")


def test_value_dependent_cast_error():
    both_raise(lambda pd: frame(pd)["s"].astype(float), ValueError, "could not convert")
    both_raise(lambda pd: frame(pd)["f"].astype(int), ValueError, "NA|non-finite")


# files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reader, name", [("read_csv", "missing.csv"), ("read_parquet", "missing.parquet")]
)
def test_missing_file_raises_at_call(reader, name, tmp_path, no_execution):
    path = str(tmp_path / name)
    with pytest.raises(FileNotFoundError, match=re.escape(path)):
        getattr(pandas, reader)(path)
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(FileNotFoundError, match=re.escape(path)),
    ):
        getattr(litsdf, reader)(path)


def test_missing_file_pathlike(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope.csv"):
        litsdf.read_csv(path)


# unsupported argument values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, exc, match",
    [
        (lambda pd: frame(pd)["i"].between(1, 3, inclusive="bad"), ValueError, "Inclusive"),
        (lambda pd: frame(pd).sort_values("i", na_position="middle"), ValueError, "na_position"),
        (lambda pd: frame(pd)["f"].sort_values(na_position="middle"), ValueError, "na_position"),
        (lambda pd: frame(pd).sort_values("i", kind="bad"), ValueError, "sort kind"),
        (lambda pd: frame(pd).sort_values("i", ascending="x"), ValueError, "ascending"),
        (lambda pd: frame(pd).head("x"), TypeError, "indexers|positional"),
        (lambda pd: frame(pd).head(2.5), TypeError, "indexers|positional"),
        (lambda pd: frame(pd)["i"].head("x"), TypeError, "indexers|positional"),
        (lambda pd: frame(pd).tail("x"), TypeError, "str"),
        (lambda pd: pd.merge(*keyed(pd), on="k", how="bad"), ValueError, "not a valid Merge type"),
        (lambda pd: frame(pd).astype("notatype"), TypeError, "notatype"),
        (lambda pd: frame(pd)["i"].astype("notatype"), TypeError, "notatype"),
        (lambda pd: frame(pd).dropna(how="bad"), ValueError, "invalid how option"),
        (lambda pd: frame(pd).drop_duplicates(keep="bad"), ValueError, "keep must be"),
        (lambda pd: frame(pd)["i"].isin(1), TypeError, "only list-like"),
        (lambda pd: frame(pd).fillna(), TypeError, "value"),
        (lambda pd: frame(pd)["f"].fillna(), TypeError, "value"),
        (lambda pd: frame(pd).groupby("k").agg(x=("i", "nope")), AttributeError, "nope"),
        (lambda pd: pd.concat([1, 2]), TypeError, "cannot concatenate"),
        (lambda pd: pd.concat([frame(pd), frame(pd)], axis=5), ValueError, "No axis named 5"),
        (lambda pd: frame(pd).query("nope > 1"), NameError, "nope"),
        (lambda pd: frame(pd).loc[:, "nope"], KeyError, "nope"),
        (lambda pd: frame(pd).iloc[:, 99], IndexError, "out-of-bounds"),
    ],
)
def test_bad_argument(case, exc, match):
    both_raise(case, exc, match)


def test_bad_backend_option_lists_backends():
    before = litsdf.options.backend
    with pytest.raises(ValueError, match="nope") as info:
        litsdf.options.backend = "nope"
    for b in litsdf.backends():
        assert b.name in str(info.value)
    assert "auto" in str(info.value)
    assert litsdf.options.backend == before


def test_bad_fallback_option():
    before = litsdf.options.fallback
    with pytest.raises(ValueError, match="loud") as info:
        litsdf.options.fallback = "loud"
    for mode in ("warn", "raise", "silent"):
        assert mode in str(info.value)
    assert litsdf.options.fallback == before


def test_bad_option_in_context_restores():
    before = (litsdf.options.backend, litsdf.options.fallback)
    with (
        pytest.raises(ValueError, match="loud"),
        litsdf.option_context(backend="pandas", fallback="loud"),
    ):
        pass
    assert (litsdf.options.backend, litsdf.options.fallback) == before
    with pytest.raises(AttributeError, match="colour"), litsdf.option_context(colour="red"):
        pass
    assert (litsdf.options.backend, litsdf.options.fallback) == before


def test_collect_unknown_backend():
    df = litsdf.DataFrame({"a": [1, 2]})
    with pytest.raises(ValueError, match="nope") as info:
        df.collect(backend="nope")
    assert "pandas" in str(info.value)
    with pytest.raises(ValueError, match="nope"):
        df["a"].collect(backend="nope")


# failed operations leave the frame unchanged --------------------------------------------------


def test_failed_setitem_leaves_frame_unchanged():
    df = litsdf.DataFrame(frame(pandas))
    before = df.to_pandas().copy()
    with pytest.raises(TypeError):
        df["x"] = df["s"] + 1
    assert_same(df.to_pandas(), before)
    with pytest.raises(TypeError):
        df["i"] = df["s"] - 1
    assert_same(df.to_pandas(), before)
    assert list(df.columns) == list(before.columns)


def test_failed_inplace_method_leaves_frame_unchanged():
    df = litsdf.DataFrame(frame(pandas))
    before = df.to_pandas().copy()
    with pytest.raises(KeyError):
        df.sort_values("nope", inplace=True)
    with pytest.raises(KeyError):
        df.drop(columns=["nope"], inplace=True)
    with pytest.raises(ValueError):
        df.dropna(how="bad", inplace=True)
    with pytest.raises(KeyError):
        del df["nope"]
    assert_same(df.to_pandas(), before)


def test_failed_columns_assignment_leaves_frame_unchanged():
    df = litsdf.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(ValueError, match="Length mismatch"):
        df.columns = ["x"]
    with pytest.raises(ValueError, match="Length mismatch"):
        pandas.DataFrame({"a": [1], "b": [2]}).columns = ["x"]
    assert list(df.columns) == ["a", "b"]


def test_setitem_wrong_length_warn_mode():
    def case(pd: Any) -> Any:
        df = frame(pd)
        df["x"] = [1, 2]
        return df

    with pytest.raises(ValueError, match="Length of values"):
        case(pandas)
    with (
        litsdf.option_context(fallback="silent"),
        pytest.raises(ValueError, match=r"Length of values \(2\).*\(8\)"),
    ):
        case(litsdf)


@pytest.mark.xfail(
    strict=True,
    reason="strict mode checks fallbacks on the empty metadata "
    "only; pandas accepts a list of any length on an empty frame, so the "
    "length error is only found by running the fallback",
)
def test_setitem_wrong_length_strict_mode():
    def case(pd: Any) -> Any:
        df = frame(pd)
        df["x"] = [1, 2]
        return df

    both_raise(case, ValueError, "Length of values")


# strict mode: a fallback that pandas would reject raises pandas' error -----------------------


def test_strict_mode_reports_pandas_error_not_fallback_error():
    s = litsdf.DataFrame({"a": ["x", "y"]})["a"]
    other = litsdf.DataFrame({"a": ["x", "y"]})["a"]  # another frame: needs alignment
    with litsdf.option_context(fallback="raise"), pytest.raises(TypeError, match="sub") as info:
        s - other
    assert not isinstance(info.value, litsdf.FallbackError)
    with (
        litsdf.option_context(fallback="raise"),
        pytest.raises(litsdf.FallbackError, match=r"Series.__add__"),
    ):
        s + other  # valid in pandas: only untraced


def test_strict_mode_row_label_error_checked_on_data():
    # .loc[label] is a KeyError on the empty metadata, but the label exists in the data
    df = litsdf.DataFrame({"a": [1, 2]}, index=["r1", "r2"])
    with litsdf.option_context(fallback="raise"):
        with pytest.raises(litsdf.FallbackError):
            df.loc["r1"]
        with pytest.raises(KeyError, match="r9"):
            df.loc["r9"]


EVERY_BACKEND_ERRORS = {
    "astype": (lambda pd: frame(pd)["s"].astype(float), ValueError, "could not convert"),
    "sort_key": (lambda pd: frame(pd).sort_values("nope"), KeyError, "nope"),
}


@pytest.mark.parametrize("case", sorted(EVERY_BACKEND_ERRORS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_on_every_backend(backend, case):
    fn, exc, match = EVERY_BACKEND_ERRORS[case]
    try:
        both_raise(fn, exc, match, backend=backend)
    except BackendDeclined as why:  # a compiled backend may decline (never answer wrongly)
        assert backend != "pandas"
        pytest.skip(f"{backend} declined: {why}")


def test_nan_scalar_sanity():
    # guard: the error helpers compare types, so a pandas *success* must not pass
    with pytest.raises(pytest.fail.Exception):
        both_raise(lambda pd: frame(pd)["f"] + np.nan, TypeError, "add")
