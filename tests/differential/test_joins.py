"""merge / join: how, keys, suffixes, indicator, sort, index joins, module-level merge."""

from __future__ import annotations

import pandas
import pytest

import litsdf

from .data import NAN, keyed

# lsuffix/rsuffix are deprecated in pandas 3.1 (``suffixes=``) but still supported: replayed
pytestmark = pytest.mark.filterwarnings(
    "ignore:The 'lsuffix' and 'rsuffix':DeprecationWarning", "ignore::pandas.errors.Pandas4Warning"
)

HOWS = ["inner", "left", "right", "outer"]


@pytest.mark.parametrize("how", HOWS)
def test_merge_on(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how=how)

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_merge_module_level(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return pd.merge(left, right, on="k", how=how)

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_merge_suffixes(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how=how, suffixes=("_l", "_r"))

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_merge_indicator(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how=how, indicator=True)

    compare(case)


def test_merge_indicator_named(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how="outer", indicator="src")

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_merge_sort(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how=how, sort=True)

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_merge_left_on_right_on(compare, how):
    def case(pd):
        left, right = keyed(pd)
        right = right.rename(columns={"k": "key"})
        return left.merge(right, left_on="k", right_on="key", how=how)

    compare(case)


def _two_key(pd):
    left = pd.DataFrame(
        {"a": [1, 1, 2, 2, 3], "b": ["x", "y", "x", "y", "x"], "v": [10, 20, 30, 40, 50]}
    )
    right = pd.DataFrame({"a": [1, 2, 2, 4], "b": ["x", "y", "y", "x"], "w": [0.1, 0.2, 0.3, 0.4]})
    return left, right


@pytest.mark.parametrize("how", HOWS)
def test_merge_two_keys(compare, how):
    def case(pd):
        left, right = _two_key(pd)
        return left.merge(right, on=["a", "b"], how=how)

    compare(case)


def test_merge_two_keys_left_on_right_on(compare):
    def case(pd):
        left, right = _two_key(pd)
        right = right.rename(columns={"a": "A", "b": "B"})
        return pd.merge(left, right, left_on=["a", "b"], right_on=["A", "B"], how="left")

    compare(case)


def test_merge_common_columns_default(compare):
    def case(pd):
        left, right = _two_key(pd)
        return left.merge(right)

    compare(case)


def test_merge_int_key_with_nan(compare):
    def case(pd):
        left = pd.DataFrame({"id": [1, 2, 3], "x": ["a", "b", "c"]})
        right = pd.DataFrame({"id": [2.0, NAN, 3.0], "y": [True, False, True]})
        return left.merge(right, on="id", how="outer")

    compare(case)


def test_merge_then_filter(compare):
    def case(pd):
        left, right = keyed(pd)
        out = left.merge(right, on="k", how="left")
        return out[out["z"].notna()][["k", "x", "z"]]

    compare(case)


def test_merge_derived_inputs(compare):
    def case(pd):
        left, right = keyed(pd)
        left = left[left["x"] > 1]
        right = right.assign(z2=right["z"] * 2)
        return left.merge(right, on="k")

    compare(case)


def test_merge_with_pandas_right(compare):
    def case(pd):
        left, _ = keyed(pd)
        _, right = keyed(pandas)
        return left.merge(right, on="k", how="left")

    compare(case)


def test_merge_missing_key_raises(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="nope")

    compare(case)


def test_merge_index(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, left_index=True, right_index=True, how="inner")

    compare(case)


def test_merge_validate_raises(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", validate="one_to_one")

    compare(case)


# join -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOWS)
def test_join_on(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.join(right.drop_duplicates("k").set_index("k"), on="k", how=how, rsuffix="_r")

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_join_index_suffixes(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.join(right, how=how, lsuffix="_l", rsuffix="_r")

    compare(case)


def test_join_overlap_raises(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.join(right)

    compare(case)


def test_join_set_index_both(compare):
    def case(pd):
        left, right = keyed(pd)
        return (
            left.drop_duplicates("k")
            .set_index("k")
            .join(right.drop_duplicates("k").set_index("k"), lsuffix="_a", rsuffix="_b", sort=True)
        )

    compare(case)


def test_join_pandas_other(compare):
    def case(pd):
        left, _ = keyed(pd)
        _, right = keyed(pandas)
        return left.join(right[["z"]], how="inner")

    compare(case)


def test_merge_cross_falls_back():
    left, right = keyed(pandas)
    expected = left.merge(right, how="cross")
    lleft, lright = keyed(litsdf)
    with pytest.warns(litsdf.FallbackWarning):
        got = lleft.merge(lright, how="cross")
    pandas.testing.assert_frame_equal(got.to_pandas(), expected)


@pytest.mark.parametrize("how", ["left", "inner"])
def test_join_suffixes_keyword(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.join(right, how=how, suffixes=("_l", "_r"))

    compare(case)


def test_join_validate(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.join(
            right.drop_duplicates("k").set_index("k"), on="k", validate="m:1", suffixes=("", "_r")
        )

    compare(case)


def test_join_validate_raises(compare):
    def case(pd):
        left, right = keyed(pd)
        return left.join(right.set_index("k"), on="k", validate="m:1", suffixes=("", "_r"))

    compare(case)


@pytest.mark.parametrize("how", ["left_anti", "right_anti"])
def test_merge_anti(compare, how):
    def case(pd):
        left, right = keyed(pd)
        return left.merge(right, on="k", how=how)

    compare(case)


def _star(pd):
    """A small star schema: facts joined to two dimensions, as TPC-H-style queries do."""
    facts = pd.DataFrame(
        {
            "fk": [1, 2, 1, 3, 2, 1, 4, 2],
            "gk": [10, 10, 20, 20, 30, 10, 20, 30],
            "price": [5.0, 2.5, 1.0, NAN, 4.0, 3.0, 2.0, 1.5],
            "qty": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    dim = pd.DataFrame({"fk": [1, 2, 3, 4], "name": ["a", "b", "a", "c"], "w": [1, 2, 3, 4]})
    grp = pd.DataFrame({"gk": [10, 20, 30], "label": ["x", "y", "x"], "z": [0.5, 0.25, 1.0]})
    return facts, dim, grp


@pytest.mark.parametrize("as_index", [True, False])
def test_join_compute_groupby_sort(compare, as_index):
    def case(pd):
        facts, dim, grp = _star(pd)
        j = facts.merge(dim, on="fk").merge(grp, on="gk")
        j["revenue"] = j["price"] * (1 - j["z"])
        out = j.groupby(["name", "label"], as_index=as_index).agg(
            revenue=("revenue", "sum"), qty=("qty", "mean"), rows=("qty", "size")
        )
        return out.sort_values("revenue", ascending=False)

    compare(case)


def test_join_groupby_sort_reset_head(compare):
    def case(pd):
        facts, dim, _ = _star(pd)
        j = dim.merge(facts, left_on="fk", right_on="fk")
        out = j.groupby("name", as_index=False)["qty"].sum()
        return (
            out.sort_values(["qty", "name"], ascending=[False, True]).head(2).reset_index(drop=True)
        )

    compare(case)


def test_join_unused_raising_cast_still_raises(compare):
    def case(pd):
        facts, dim, _ = _star(pd)
        j = facts.merge(dim, on="fk")
        j["bad"] = j["price"].astype("int64")  # (NaN: pandas raises, though nothing reads it)
        return j.groupby("name")["qty"].sum()

    compare(case)


@pytest.mark.parametrize("how", HOWS)
def test_join_keys_nobody_reads(compare, how):
    def case(pd):
        facts, dim, _ = _star(pd)
        dim = dim.rename(columns={"fk": "dk"})
        j = facts.merge(dim, left_on="fk", right_on="dk", how=how)
        return j[["qty", "name"]]

    compare(case)
