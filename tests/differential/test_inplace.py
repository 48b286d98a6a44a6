"""In-place forms that litsdf traces: each case makes the in-place call, then returns what
pandas returned together with the frame / Series afterwards, so both are compared (strict:
no fallback allowed). In-place calls that run through the fallback are tested, against
pandas too, in ``tests/test_inplace_fallback.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .data import frame

# pandas 3.1 deprecates ``inplace`` (PDEP-8) but still honours it: litsdf must match meanwhile
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

FRAME_CASES: dict[str, Callable[[Any], Any]] = {
    "fillna": lambda df: df.fillna({"f": 0.0, "g": -1.0}, inplace=True),
    "replace": lambda df: df.replace(1, 100, inplace=True),
    "dropna": lambda df: df.dropna(inplace=True),
    "dropna_subset": lambda df: df.dropna(subset=["f"], inplace=True),
    "drop_duplicates": lambda df: df.drop_duplicates(subset=["k"], inplace=True),
    "drop_columns": lambda df: df.drop(columns=["s", "t"], inplace=True),
    "rename_columns": lambda df: df.rename(columns={"i": "I"}, inplace=True),
    "set_index": lambda df: df.set_index("k", inplace=True),
    "reset_index": lambda df: df.reset_index(drop=True, inplace=True),
    "sort_values": lambda df: df.sort_values(["k", "i"], inplace=True),
    "sort_index": lambda df: df.sort_index(ascending=False, inplace=True),
    "query": lambda df: df.query("i > 2", inplace=True),
}


@pytest.mark.parametrize("key", sorted(FRAME_CASES))
def test_frame_inplace_method(compare, key):
    call = FRAME_CASES[key]

    def case(pd):
        df = frame(pd)
        out = call(df)
        return (df, None if out is None else out is df)

    compare(case)


def test_reset_index_inplace_on_indexed_frame(compare):
    def case(pd):
        df = frame(pd).set_index("i")
        out = df.reset_index(inplace=True)
        return df, out

    compare(case)


def test_setitem_delitem_and_columns_assignment(compare):
    def case(pd):
        df = frame(pd)
        df["x"] = df["i"] * 2
        del df["s"]
        df.columns = [f"c{n}" for n in range(len(df.columns))]
        return df

    compare(case)


SERIES_CASES: dict[str, Callable[[Any, Any], Any]] = {
    "fillna": lambda s, df: s.fillna(0.0, inplace=True),
    "where": lambda s, df: s.where(df["i"] > 2, -1.0, inplace=True),
    "mask": lambda s, df: s.mask(df["i"] > 2, inplace=True),
    "clip": lambda s, df: s.clip(-1.0, 2.0, inplace=True),
    "replace": lambda s, df: s.replace(0.0, 7.0, inplace=True),
    "sort_values": lambda s, df: s.sort_values(inplace=True),
    "sort_index": lambda s, df: s.sort_index(ascending=False, inplace=True),
    "dropna": lambda s, df: s.dropna(inplace=True),
    "drop_duplicates": lambda s, df: s.drop_duplicates(inplace=True),
    "reset_index": lambda s, df: s.reset_index(drop=True, inplace=True),
    "reset_index_to_frame": lambda s, df: s.reset_index(inplace=True),  # pandas: TypeError
}


@pytest.mark.parametrize("key", sorted(SERIES_CASES))
def test_series_inplace_method(compare, key):
    call = SERIES_CASES[key]

    def case(pd):
        df = frame(pd)
        s = df["f"]
        out = call(s, df)
        # the frame is unchanged (pandas' copy-on-write); pandas returns None or the Series
        return (s, df, None if out is None else out is s)

    compare(case)


def test_series_name_assignment(compare):
    def case(pd):
        s = frame(pd)["i"] + 1
        s.name = "renamed"
        return s

    compare(case)


def test_attrs_of_a_new_frame(compare):
    compare(lambda pd: frame(pd)[["i", "j"]].attrs)
