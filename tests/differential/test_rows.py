"""Construction, row selection (masks, query, loc/iloc, head/tail) and row/column methods."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas
import pytest

from .data import NAN, frame

# construction ---------------------------------------------------------------------------------


def test_from_dict(compare):
    compare(lambda pd: pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"], "c": [1.0, NAN, 3]}))


def test_from_dict_with_index(compare):
    compare(
        lambda pd: pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]}, index=["r1", "r2", "r3"])
    )


def test_from_list_of_dicts(compare):
    compare(lambda pd: pd.DataFrame([{"a": 1, "b": "x"}, {"a": 2, "c": 3.5}, {"b": "z"}]))


def test_from_numpy_2d(compare):
    compare(lambda pd: pd.DataFrame(np.arange(12).reshape(4, 3), columns=["x", "y", "z"]))


def test_from_numpy_2d_float_with_index(compare):
    compare(
        lambda pd: pd.DataFrame(
            np.linspace(0, 1, 6).reshape(3, 2), columns=["p", "q"], index=[10, 20, 30]
        )
    )


def test_from_pandas_frame(compare):
    compare(lambda pd: pd.DataFrame(frame(pandas)))


def test_from_pandas_frame_derived(compare):
    compare(lambda pd: pd.DataFrame(frame(pandas))[["i", "k"]].head(3))


def test_from_litsdf_frame(compare):
    compare(lambda pd: pd.DataFrame(frame(pd)))


@pytest.mark.parametrize("data", [[1, 2, 3], [1.5, None, 2.0], ["a", None, "c"], [True, False]])
def test_series_construction(compare, data):
    compare(lambda pd: pd.Series(data, name="v"))


def test_series_construction_index_dtype(compare):
    compare(lambda pd: pd.Series([1, 2, 3], index=["a", "b", "c"], dtype="float64"))


def test_series_from_dict(compare):
    compare(lambda pd: pd.Series({"x": 1, "y": 2}))


# boolean masks --------------------------------------------------------------------------------

MASKS = {
    "gt": lambda d: d["i"] > 2,
    "and": lambda d: (d["i"] > 1) & (d["f"] < 5),
    "or": lambda d: (d["k"] == "a") | (d["b"]),
    "not": lambda d: ~(d["j"] == 8),
    "combo": lambda d: ((d["i"] > 1) & ~d["b"]) | (d["g"] > 5),
    "isna": lambda d: d["f"].isna(),
    "bool_col": lambda d: d["b"],
    "none": lambda d: d["i"] > 100,
    "str_eq": lambda d: d["k"] == "c",
    "isin": lambda d: d["k"].isin(["a", "c"]),
}


@pytest.mark.parametrize("mask", MASKS.values(), ids=MASKS.keys())
def test_mask_filter(compare, mask):
    def case(pd):
        df = frame(pd)
        return df[mask(df)]

    compare(case)


@pytest.mark.parametrize("mask", ["gt", "and", "or", "combo"])
def test_loc_mask_cols(compare, mask):
    def case(pd):
        df = frame(pd)
        return df.loc[MASKS[mask](df), ["i", "s", "f"]]

    compare(case)


@pytest.mark.parametrize("col", ["f", "s", "t"])
def test_loc_mask_col(compare, col):
    def case(pd):
        df = frame(pd)
        return df.loc[df["i"] >= 3, col]

    compare(case)


def test_loc_all_rows_cols(compare):
    compare(lambda pd: frame(pd).loc[:, ["k", "i"]])


@pytest.mark.parametrize(
    "cols", [slice("i", "f"), slice("s", None), [True, False] * 4, ["t"], "b"], ids=str
)
def test_loc_mask_column_keys(compare, cols):
    def case(pd):
        df = frame(pd)
        return df.loc[df["j"] < 8, cols]

    compare(case)


def test_loc_missing_columns_raise(compare):
    def case(pd):
        df = frame(pd)
        return df.loc[df["j"] < 8, ["i", "nope"]]

    compare(case)


@pytest.mark.parametrize(
    "key",
    [
        (slice(1, 3), slice(0, 2)),
        (slice(None, None, 2), [0, 3]),
        (slice(-4, None), 4),
        (slice(2, 6), slice(-2, None)),
    ],
    ids=str,
)
def test_iloc_rows_and_columns(compare, key):
    compare(lambda pd: frame(pd).iloc[key])


def test_iloc_column_out_of_bounds_raises(compare):
    compare(lambda pd: frame(pd).iloc[1:3, [0, 40]])


def test_loc_mask_only(compare):
    def case(pd):
        df = frame(pd)
        return df.loc[df["b"]]

    compare(case)


def test_filter_then_derive(compare):
    def case(pd):
        df = frame(pd)
        sub = df[df["i"] > 1]
        sub = sub.assign(z=sub["i"] * 2)
        return sub[sub["z"] < 12]

    compare(case)


def test_filter_missing_column_raises(compare):
    compare(lambda pd: frame(pd)[["i", "nope"]])


# query ----------------------------------------------------------------------------------------

QUERIES = [
    "i > 2",
    "i > 2 and f < 5",
    "i > 2 & f < 5",
    "k == 'a' or b",
    "k == 'a' | j == 8",
    "not b",
    "~b",
    "k in ['a', 'c']",
    "k not in ['a', 'c']",
    "i + j > 8",
    "i * 2 <= j",
    "1 < i < 5",
    "f != f",
    "(i > 1) and (k == 'b' or j < 3)",
    "k == ['a', 'b']",
    "k != ['a', 'b']",
    "['b', 'c'] == k",
    "i % 2 == 0 and i ** 2 > 4",
    "f > -1e0",
    "b == True",
    "s == 'a & b' | k == 'c'",
    "t > '2024-06-01'",
    "i == j == 2",
]


@pytest.mark.parametrize("expr", QUERIES)
def test_query(compare, expr):
    compare(lambda pd: frame(pd).query(expr))


@pytest.mark.parametrize("limit", [1, 4, 100])
def test_query_local_variable(compare, limit):
    def case(pd):
        lim = limit  # noqa: F841 (read by the query)
        return frame(pd).query("i > @lim")

    compare(case)


def test_query_local_list(compare):
    def case(pd):
        wanted = ["b", "c"]  # noqa: F841 (read by the query)
        return frame(pd).query("k in @wanted and i > 1")

    compare(case)


def test_query_backquoted(compare):
    def case(pd):
        df = frame(pd).rename(columns={"i": "my col", "j": "other"})
        return df.query("`my col` > 2 and other < 8")

    compare(case)


@pytest.mark.parametrize("name", ["a b", "a-b", "1st", "if"])
def test_query_backquoted_odd_names(compare, name):
    compare(lambda pd: frame(pd).rename(columns={"i": name}).query(f"`{name}` > 2"))


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_query_inplace(compare):
    def case(pd):
        df = frame(pd)
        assert df.query("i > 2", inplace=True) is None
        return df

    compare(case)


def test_query_bad_variable_raises(compare):
    compare(lambda pd: frame(pd).query("i > @undefined_name"))


def test_query_unknown_name_raises(compare):
    compare(lambda pd: frame(pd).query("nope > 1"))


# head / tail / slices -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 3, 5, 20, -2, -20])
def test_head(compare, n):
    compare(lambda pd: frame(pd).head(n))


@pytest.mark.parametrize("n", [0, 3, 20, -2])
def test_tail(compare, n):
    compare(lambda pd: frame(pd).tail(n))


def test_head_default(compare):
    compare(lambda pd: frame(pd).head())


@pytest.mark.parametrize(
    "key",
    [
        slice(1, 4),
        slice(None, 3),
        slice(5, None),
        slice(None, None, 2),
        slice(1, 7, 3),
        slice(-3, None),
        slice(None, -2),
        slice(None, None, -1),
        slice(6, 1, -2),
        slice(10, 20),
    ],
)
def test_iloc_slice(compare, key):
    compare(lambda pd: frame(pd).iloc[key])


def test_getitem_slice(compare):
    compare(lambda pd: frame(pd)[1:4])


def test_iloc_slice_all_cols(compare):
    compare(lambda pd: frame(pd).iloc[2:5, :])


def test_head_after_filter(compare):
    def case(pd):
        df = frame(pd)
        return df[df["b"]].tail(2)

    compare(case)


# dropna / drop_duplicates ---------------------------------------------------------------------

DROPNA = [
    {},
    {"how": "all"},
    {"subset": ["f"]},
    {"subset": ["f", "g"], "how": "all"},
    {"thresh": 7},
    {"subset": "s"},
    {"ignore_index": True},
]


@pytest.mark.parametrize("kwargs", DROPNA, ids=str)
def test_dropna(compare, kwargs):
    compare(lambda pd: frame(pd).dropna(**kwargs))


def test_dropna_how_all_rows(compare):
    compare(lambda pd: pd.DataFrame({"a": [1.0, NAN, NAN], "b": [NAN, NAN, 2.0]}).dropna(how="all"))


def _dups(pd):
    return pd.DataFrame(
        {
            "a": [1, 1, 2, 2, 3, 1],
            "b": ["x", "x", "y", "z", "y", "x"],
            "c": [0.5, 0.5, 1.0, 1.0, NAN, 2.0],
        }
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"keep": "last"},
        {"keep": False},
        {"subset": ["a"]},
        {"subset": "b", "keep": "last"},
        {"subset": ["a", "b"], "keep": False},
        {"ignore_index": True},
        {"subset": ["a"], "ignore_index": True, "keep": "last"},
    ],
    ids=str,
)
def test_drop_duplicates(compare, kwargs):
    compare(lambda pd: _dups(pd).drop_duplicates(**kwargs))


# drop / rename / index ------------------------------------------------------------------------


def test_drop_columns(compare):
    compare(lambda pd: frame(pd).drop(columns=["f", "t"]))


def test_drop_column_scalar(compare):
    compare(lambda pd: frame(pd).drop(columns="s"))


def test_drop_labels_axis1(compare):
    compare(lambda pd: frame(pd).drop(["i", "j"], axis=1))


def test_drop_errors_ignore(compare):
    compare(lambda pd: frame(pd).drop(columns=["nope", "i"], errors="ignore"))


def test_drop_missing_raises(compare):
    compare(lambda pd: frame(pd).drop(columns=["nope"]))


def test_rename_columns(compare):
    compare(lambda pd: frame(pd).rename(columns={"i": "I", "s": "text", "nope": "x"}))


def test_rename_then_select(compare):
    compare(lambda pd: frame(pd).rename(columns={"i": "I"})[["I", "j"]])


@pytest.mark.parametrize("drop", [True, False])
def test_reset_index(compare, drop):
    def case(pd):
        df = frame(pd)
        return df[df["i"] > 1].reset_index(drop=drop)

    compare(case)


@pytest.mark.parametrize("keys", ["k", ["k", "b"], "t"], ids=str)
def test_set_index(compare, keys):
    compare(lambda pd: frame(pd).set_index(keys))


def test_set_index_keep(compare):
    compare(lambda pd: frame(pd).set_index("i", drop=False))


def test_set_index_append(compare):
    compare(lambda pd: frame(pd).set_index("k").set_index("j", append=True))


def test_set_then_reset_index(compare):
    compare(lambda pd: frame(pd).set_index(["k", "j"]).reset_index())


# sorting --------------------------------------------------------------------------------------

SORTS = [
    {"by": "i"},
    {"by": "i", "kind": "stable"},
    {"by": "f"},
    {"by": "f", "na_position": "first"},
    {"by": "f", "ascending": False},
    {"by": "s", "na_position": "first"},
    {"by": ["j", "i"]},
    {"by": ["j", "i"], "ascending": [False, True]},
    {"by": ["k", "f"], "ascending": [True, False], "na_position": "first"},
    {"by": "t", "ignore_index": True},
    {"by": ["b", "i"], "kind": "stable"},
    {"by": "j", "kind": "stable", "ascending": False},
]


@pytest.mark.parametrize("kwargs", SORTS, ids=str)
def test_sort_values(compare, kwargs):
    compare(lambda pd: frame(pd).sort_values(**kwargs))


def _ties(pd):
    """600 rows, 4 key values, NaN among them: NumPy's quicksort orders these ties in its
    own (unstable) way, which pandas' single-key default sort exposes."""
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 4, 600).astype("float64")
    keys[rng.random(600) < 0.05] = np.nan
    return pd.DataFrame({"k": keys, "n": np.arange(600), "s": rng.choice(["a", "b"], 600)})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"by": "k"},
        {"by": "k", "ascending": False},
        {"by": "k", "na_position": "first", "kind": "heapsort"},
        {"by": "n", "ascending": False},  # (no ties: any sort gives pandas' order)
        {"by": "s", "ignore_index": True},
    ],
    ids=str,
)
def test_sort_values_unstable_ties(compare, kwargs):
    compare(lambda pd: _ties(pd).sort_values(**kwargs))


def test_sort_values_missing_raises(compare):
    compare(lambda pd: frame(pd).sort_values("nope"))


@pytest.mark.parametrize("ascending", [True, False])
def test_sort_index(compare, ascending):
    compare(lambda pd: frame(pd).sort_values("f").sort_index(ascending=ascending))


def test_sort_index_strings(compare):
    compare(lambda pd: frame(pd).set_index("s").sort_index(na_position="first"))


@pytest.mark.parametrize("keep", ["first", "last", "all"])
@pytest.mark.parametrize("method", ["nlargest", "nsmallest"])
def test_topk(compare, method, keep):
    compare(lambda pd: getattr(frame(pd), method)(3, "j", keep=keep))


def test_nlargest_two_columns(compare):
    compare(lambda pd: frame(pd).nlargest(4, ["j", "i"]))


def test_nsmallest_float(compare):
    compare(lambda pd: frame(pd).nsmallest(3, "f"))


# in-place forms, and a failed operation leaves the frame as it was ----------------------------

INPLACE = {
    "dropna": lambda d: d.dropna(subset=["f"], inplace=True),
    "drop_duplicates": lambda d: d.drop_duplicates(subset=["k"], inplace=True),
    "sort_values": lambda d: d.sort_values("f", inplace=True),
    "set_index": lambda d: d.set_index("k", inplace=True),
    "drop": lambda d: d.drop(columns=["s"], inplace=True),
    "rename": lambda d: d.rename(columns={"i": "I"}, inplace=True),
    "reset_index": lambda d: d.reset_index(inplace=True),
}


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # inplace: deprecated
@pytest.mark.parametrize("op", INPLACE.values(), ids=INPLACE.keys())
def test_inplace(compare, op):
    def case(pd):
        df = frame(pd)
        assert op(df) is None
        return df

    compare(case)


RETURNS_SELF = {
    "fillna": lambda d: d.fillna(0, inplace=True),
    "replace": lambda d: d.replace(1, 100, inplace=True),
}


@pytest.mark.parametrize("op", RETURNS_SELF.values(), ids=RETURNS_SELF.keys())
@pytest.mark.filterwarnings("ignore:.*fill value:pandas.errors.Pandas4Warning")
def test_inplace_returns_self(compare, op):
    def case(pd):
        df = frame(pd)
        assert op(df) is df  # pandas 3.1 returns the frame itself for these
        return df

    compare(case)


FAILING = {
    "sort_values": lambda d: d.sort_values("nope", inplace=True),
    "dropna": lambda d: d.dropna(subset=["nope"], inplace=True),
    "set_index": lambda d: d.set_index("nope", inplace=True),
    "drop": lambda d: d.drop(columns=["nope"], inplace=True),
    "query": lambda d: d.query("nope > 1", inplace=True),
}


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
@pytest.mark.parametrize("op", FAILING.values(), ids=FAILING.keys())
def test_failed_inplace_leaves_frame(compare, op):
    def case(pd):
        df = frame(pd)
        with contextlib.suppress(KeyError, NameError):
            op(df)
        return df

    compare(case)
