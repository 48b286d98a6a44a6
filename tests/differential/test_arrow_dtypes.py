"""ArrowDtype columns (``pd.ArrowDtype``; what ``dtype_backend="pyarrow"`` reads): expressions,
filters, sorts, group-bys, joins, top-k, duplicates, concat, and parquet round trips, each with
missing values (nulls) where pandas' ArrowDtype semantics differ from NumPy's (nulls propagate,
Kleene logic, checked integer arithmetic, ``bool[pyarrow]`` masks with nulls, the result dtypes
of group reductions)."""

from __future__ import annotations

import datetime

import pandas
import pyarrow as pa
import pytest

NULL = None

_DATA = {
    "i": (pa.int64(), [3, 1, None, 1, 5, 9, 2, None]),
    "j": (pa.int64(), [2, 7, 1, 8, None, 8, 1, 8]),
    "n": (pa.int32(), [4, None, 4, 1, 1, 2, 2, 3]),
    "f": (pa.float64(), [1.5, None, -2.25, 0.0, 3.5, None, 10.0, -0.5]),
    "g": (pa.float64(), [0.5, 2.0, None, 4.0, -1.0, 6.5, 7.0, None]),
    "s": (pa.string(), [" Apple ", "banana", None, "Cherry pie", "apple", "date ", "Elder", "fig"]),
    "k": (pa.string(), ["a", "b", "a", "c", "b", "a", None, "c"]),
    "b": (pa.bool_(), [True, False, None, True, False, None, True, False]),
    "t": (
        pa.timestamp("us"),
        [
            datetime.datetime(2024, 1, 5, 10, 30),
            datetime.datetime(2024, 2, 29, 23, 59),
            None,
            datetime.datetime(2024, 7, 4, 12, 0),
            datetime.datetime(2024, 3, 10, 6, 15),
            datetime.datetime(2025, 1, 1),
            datetime.datetime(2024, 11, 11, 11, 11),
            datetime.datetime(2024, 6, 30, 18, 45),
        ],
    ),
    "x": (pa.float64(), [1.0, float("nan"), 2.0, None, 1.0, 2.0, float("nan"), 3.0]),
}
"""Columns by name: (Arrow type, values); ``x`` holds NaN *values* beside a null (a parquet file
may store them; pandas' ArrowDtype keeps them apart from missing values)."""


def _pandas_frame() -> pandas.DataFrame:
    columns = {
        name: pandas.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(v, type=t)]))
        for name, (t, v) in _DATA.items()
    }
    return pandas.DataFrame(columns)


def frame(pd):
    """The ArrowDtype test frame as a DataFrame of module ``pd``."""
    return pd.DataFrame(_pandas_frame())


def _other(pd):
    """A second ArrowDtype frame for joins: an int64 key ``i``, a string key ``k``."""
    data = {
        "i": (pa.int64(), [1, 2, 3, 3, 9, 10]),
        "k": (pa.string(), ["a", "c", "c", "d", "a", "b"]),
        "v": (pa.float64(), [10.0, 20.0, None, 40.0, 50.0, 60.0]),
    }
    columns = {
        name: pandas.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(v, type=t)]))
        for name, (t, v) in data.items()
    }
    return pd.DataFrame(pandas.DataFrame(columns))


# expressions ---------------------------------------------------------------------------------
EXPRESSIONS = {
    "add": lambda d: d["i"] + d["j"],
    "int_times_literal": lambda d: d["i"] * 3,
    "int_minus_float": lambda d: d["i"] - d["f"],
    "literal_minus_float": lambda d: 1 - d["f"],
    "int_truediv": lambda d: d["i"] / d["j"],
    "float_truediv_zero": lambda d: d["f"] / 0.0,
    "floordiv_negative": lambda d: (d["i"] - 4) // d["j"],
    "narrow_plus_wide": lambda d: d["n"] + d["i"],
    "neg": lambda d: -d["f"],
    "abs": lambda d: (d["i"] - 4).abs(),
    "gt_with_nulls": lambda d: d["i"] > 2,
    "float_ne": lambda d: d["f"] != d["g"],
    "str_eq": lambda d: d["k"] == "a",
    "timestamp_ge": lambda d: d["t"] >= datetime.datetime(2024, 3, 1),
    "kleene_and": lambda d: (d["i"] > 2) & (d["f"] < 4),
    "kleene_or": lambda d: (d["i"] > 2) | d["b"],
    "xor": lambda d: d["b"] ^ (d["j"] > 2),
    "invert": lambda d: ~d["b"],
    "isna": lambda d: d["f"].isna(),
    "notna_str": lambda d: d["k"].notna(),
    "isna_nan_value": lambda d: d["x"].isna(),
    "fillna_literal": lambda d: d["i"].fillna(0),
    "fillna_column": lambda d: d["f"].fillna(d["g"]),
    "fillna_str": lambda d: d["k"].fillna("z"),
    "isin": lambda d: d["k"].isin(["a", "c"]),
    "isin_int": lambda d: d["i"].isin([1, 9]),
    "between": lambda d: d["f"].between(0, 4),
    "between_neither": lambda d: d["i"].between(1, 5, inclusive="neither"),
    "where": lambda d: d["f"].where(d["i"] > 1, 0.0),
    "where_no_other": lambda d: d["i"].where(d["b"]),
    "mask": lambda d: d["f"].mask(d["g"] > 1, -1.0),
    "clip": lambda d: d["i"].clip(2, 5),
    "round": lambda d: (d["f"] / 3).round(2),
    "astype_float": lambda d: d["i"].astype("double[pyarrow]"),
    "astype_numpy_bool_to_int": lambda d: d["k"].isin(["a"]).astype("int64"),
    "astype_arrow_string": lambda d: d["j"].astype(pandas.ArrowDtype(pa.string())),
    "astype_string_dtype": lambda d: d["j"].astype("string[pyarrow]"),
    "str_upper": lambda d: d["s"].str.upper(),
    "str_strip": lambda d: d["s"].str.strip(),
    "str_len": lambda d: d["s"].str.len(),
    "str_contains": lambda d: d["s"].str.contains("an"),
    "str_contains_regex": lambda d: d["s"].str.contains("^[Aa]p+", regex=True),
    "str_startswith": lambda d: d["s"].str.startswith("C"),
    "str_slice": lambda d: d["s"].str.slice(1, 3),
    "str_replace": lambda d: d["s"].str.replace("a", "A"),
    "dt_year": lambda d: d["t"].dt.year,
    "dt_month": lambda d: d["t"].dt.month,
    "dt_day_of_week": lambda d: d["t"].dt.day_of_week,
    "dt_normalize": lambda d: d["t"].dt.normalize(),
    "mixed_with_numpy": lambda d: d["i"] + d["i"].isna().astype("int64"),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_expression(compare, name):
    fn = EXPRESSIONS[name]

    def case(pd):
        d = frame(pd)
        return d.assign(out=fn(d))

    compare(case)


def test_overflow_raises(compare):
    def case(pd):
        d = frame(pd)
        return d.assign(out=d["j"].fillna(1) * (2**62))

    compare(case)


def test_integer_division_by_zero_raises(compare):
    def case(pd):
        d = frame(pd)
        return d.assign(out=d["i"] // (d["j"] - d["j"]))

    compare(case)


# filters --------------------------------------------------------------------------------------
def test_filter_mask_with_nulls(compare):
    def case(pd):
        d = frame(pd)
        return d[(d["i"] > 1) & (d["f"] < 5)]

    compare(case)


def test_filter_string_and_date_range(compare):
    def case(pd):
        d = frame(pd)
        m = d["k"].isin(["a", "b"]) & (d["t"] < datetime.datetime(2024, 12, 1))
        return d[m & ~d["s"].str.contains("pie")][["i", "k", "t"]]

    compare(case)


def test_filter_then_compute(compare):
    def case(pd):
        d = frame(pd)
        d = d[d["g"].notna()]
        return d.assign(r=d["f"] * (1 - d["g"]), y=d["t"].dt.year)

    compare(case)


# sorts ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("na_position", ["last", "first"])
@pytest.mark.parametrize("key", ["i", "f", "k", "t", "b", "n"])
def test_sort_one_key(compare, key, na_position):
    compare(lambda pd: frame(pd).sort_values(key, kind="stable", na_position=na_position))


@pytest.mark.parametrize("ascending", [[True, False], [False, True], [False, False]])
def test_sort_two_keys(compare, ascending):
    compare(lambda pd: frame(pd).sort_values(["k", "f"], ascending=ascending))


def test_sort_key_with_nan_values(compare):
    compare(lambda pd: frame(pd).sort_values(["x", "i"], na_position="first"))


def test_sort_ignore_index(compare):
    compare(lambda pd: frame(pd).sort_values(["t", "i"], ignore_index=True))


# group-bys ------------------------------------------------------------------------------------
MEASURES = ["sum", "mean", "min", "max", "count", "std", "var", "nunique", "first", "median"]


@pytest.mark.parametrize("method", MEASURES)
def test_groupby_method(compare, method):
    compare(lambda pd: getattr(frame(pd)[["k", "i", "n", "f", "b"]].groupby("k"), method)())


@pytest.mark.parametrize("method", ["min", "max", "count", "nunique", "first"])
def test_groupby_method_strings_and_timestamps(compare, method):
    compare(lambda pd: getattr(frame(pd)[["i", "s", "t"]].groupby("i"), method)())


def test_groupby_size(compare):
    compare(lambda pd: frame(pd).groupby("k").size())


def test_groupby_size_as_index_false(compare):
    compare(lambda pd: frame(pd).groupby("k", as_index=False).size())


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("dropna", [True, False])
def test_groupby_null_keys(compare, sort, dropna):
    compare(lambda pd: frame(pd).groupby("k", sort=sort, dropna=dropna)[["i", "f"]].sum())


@pytest.mark.parametrize("key", ["t", "b", "n"])
def test_groupby_key_types(compare, key):
    compare(lambda pd: frame(pd).groupby(key)[["i", "f"]].agg(["sum", "mean", "count"]))


def test_groupby_two_keys(compare):
    compare(lambda pd: frame(pd).groupby(["k", "b"])[["i", "f"]].sum())


def test_groupby_named_aggregations(compare):
    def case(pd):
        return (
            frame(pd)
            .groupby("k", as_index=False)
            .agg(
                total=("f", "sum"),
                mean_i=("i", "mean"),
                rows=("i", "size"),
                seen=("i", "count"),
                kinds=("s", "nunique"),
                last_t=("t", "max"),
            )
        )

    compare(case)


def test_groupby_all_null_group(compare):
    def case(pd):
        d = frame(pd)
        d = d.assign(z=d["f"].where(d["k"] != "a"))
        return d.groupby("k")[["z"]].agg(["sum", "mean", "min", "std", "count"])

    compare(case)


def test_groupby_nan_values(compare):
    compare(lambda pd: frame(pd).groupby("k")["x"].agg(["sum", "mean", "max"]))


def test_groupby_computed_then_sorted(compare):
    def case(pd):
        d = frame(pd)
        d = d.assign(rev=d["f"] * (1 - d["g"]))
        out = d.groupby(["k", "b"], as_index=False)["rev"].sum()
        return out.sort_values(["rev", "k"], ascending=[False, True])

    compare(case)


# joins, top-k, duplicates, concat ------------------------------------------------------------
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_merge_int_key(compare, how):
    compare(lambda pd: frame(pd)[["i", "f", "k"]].merge(_other(pd)[["i", "v"]], on="i", how=how))


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_merge_keys_without_nulls(compare, how):
    """Keys without a missing value: Acero's pairs and Arrow's takes (nulls for a side without
    a row; the ``on`` key coalesced)."""

    def case(pd):
        d = frame(pd)
        d = d[d["i"].notna()]
        return d[["i", "f", "s", "t"]].merge(_other(pd), on="i", how=how, suffixes=("_l", "_r"))

    compare(case)


@pytest.mark.parametrize("how", ["inner", "outer"])
def test_merge_string_keys_without_nulls_sorted(compare, how):
    def case(pd):
        d = frame(pd)
        d = d.assign(k=d["k"].fillna("z"))
        right = _other(pd).rename(columns={"k": "key"})
        return d[["k", "j"]].merge(right, left_on="k", right_on="key", how=how, sort=True)

    compare(case)


@pytest.mark.parametrize("how", ["inner", "left"])
def test_merge_string_key_left_on_right_on(compare, how):
    def case(pd):
        right = _other(pd).rename(columns={"k": "key", "i": "ri"})
        return frame(pd)[["k", "j", "t"]].merge(right, left_on="k", right_on="key", how=how)

    compare(case)


def test_merge_two_keys_then_groupby(compare):
    def case(pd):
        j = frame(pd).merge(_other(pd), on=["i", "k"], how="inner")
        return j.groupby("k")["v"].sum()

    compare(case)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("key", ["f", "i", "x"])
def test_top_k(compare, key, largest):
    def case(pd):
        d = frame(pd)
        return d.nlargest(3, key) if largest else d.nsmallest(5, key)

    compare(case)


@pytest.mark.parametrize("keep", ["first", "last", False])
def test_drop_duplicates_with_nulls(compare, keep):
    compare(lambda pd: frame(pd).drop_duplicates(["k", "b"], keep=keep))


def test_concat(compare):
    compare(lambda pd: pd.concat([frame(pd), frame(pd).head(3)], ignore_index=True))


def test_head_tail(compare):
    compare(lambda pd: frame(pd).sort_values(["i", "k"]).head(4).tail(2))


# parquet round trips (dtype_backend="pyarrow") -----------------------------------------------
@pytest.fixture
def parquet_path(tmp_path):
    path = tmp_path / "arrow.parquet"
    _pandas_frame().to_parquet(path)
    return str(path)


@pytest.mark.parametrize("columns", [None, ["i", "s", "t"]], ids=str)
def test_read_parquet_pyarrow(compare, parquet_path, columns):
    compare(lambda pd: pd.read_parquet(parquet_path, columns=columns, dtype_backend="pyarrow"))


def test_read_parquet_pyarrow_numpy_file(compare, tmp_path):
    path = tmp_path / "numpy.parquet"
    pandas.DataFrame({"a": [1, 2, 3], "s": ["x", None, "z"], "f": [0.5, None, 2.0]}).to_parquet(
        path
    )
    compare(lambda pd: pd.read_parquet(path, dtype_backend="pyarrow"))


def test_read_parquet_pyarrow_query(compare, parquet_path):
    def case(pd):
        d = pd.read_parquet(parquet_path, dtype_backend="pyarrow")
        d = d[(d["t"] >= datetime.datetime(2024, 2, 1)) & d["k"].notna()]
        d = d.assign(rev=d["f"] * (1 - d["g"]))
        out = d.groupby("k", as_index=False).agg(rev=("rev", "sum"), rows=("i", "size"))
        return out.sort_values(["rev", "k"], ascending=[False, True]).reset_index(drop=True)

    compare(case)


def test_read_parquet_pyarrow_filters(compare, parquet_path):
    def case(pd):
        d = pd.read_parquet(parquet_path, dtype_backend="pyarrow", filters=[("j", ">", 1)])
        return d[["i", "j", "k"]]

    compare(case)


def test_read_parquet_pyarrow_join(compare, parquet_path, tmp_path):
    right = tmp_path / "right.parquet"
    _other(pandas).to_parquet(right)

    def case(pd):
        left = pd.read_parquet(parquet_path, dtype_backend="pyarrow")
        other = pd.read_parquet(right, dtype_backend="pyarrow")
        j = left.merge(other, on="i", suffixes=("", "_r"))
        return j.nlargest(3, "v")[["i", "k", "v"]]

    compare(case)


def test_merge_null_keys_both_sides(compare):
    def case(pd):
        left = frame(pd)[["k", "i"]]
        right = frame(pd)[["k", "f"]].head(5)
        return left.merge(right, on="k", how="left")

    compare(case)
