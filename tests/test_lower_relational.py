"""Joins, row concats, ``drop_duplicates`` and top-k on the physical plan.

Each case is pandas code run by pandas and by two small backends on the driver: ``shared``
(the shared pandas implementations, ``visit_HashJoin = Backend.hash_join`` ...) and
``arrowlike`` (the arrow backend's :class:`ArrowRelations`: Acero's hash join, group-by and
sorts, with pandas' row order rebuilt from row numbers). Both must give pandas' exact object
(values, dtypes, index type, row order), with the optimizer on and off, and the physical plan
must hold the relational node (no island), so coverage can't silently shrink.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends import relations as shared
from litsdf_compiler.backends.arrow.relational import (
    ArrowRelations,
    distinct_rows,
    join_pairs,
    top_rows,
)
from litsdf_compiler.backends.base import Backend
from litsdf_compiler.lower import (
    Distinct,
    HashJoin,
    PandasCall,
    Table,
    TopK,
    UnionAll,
    lower,
    physical_nodes,
)

from .test_lower import TinyBackend


class SharedBackend(TinyBackend):
    """The tiny backend with the shared pandas implementations of the relational nodes."""

    name = "shared"
    visit_HashJoin = Backend.hash_join
    visit_UnionAll = Backend.union_all
    visit_Distinct = Backend.distinct
    visit_TopK = Backend.top_k


class ArrowLike(ArrowRelations, TinyBackend):
    """The tiny backend with the arrow backend's relational nodes."""

    name = "arrowlike"


BACKENDS = [SharedBackend, ArrowLike]


def _check(program: Any, kind: type) -> None:
    """``program(pd)`` by pandas and by litsdf on both backends (optimizer on and off):
    exactly equal, and the plan holds a ``kind`` node and no island."""
    expected = program(pandas)
    for optimize in (False, True):
        plan, _, _ = engine.prepare(program(litsdf)._plan, optimize)
        kinds = {type(n) for n in physical_nodes(lower(plan))}
        assert kind in kinds and PandasCall not in kinds, kinds
        for backend in BACKENDS:
            got = backend().execute(plan)
            if isinstance(expected, pandas.Series):
                got = got.iloc[:, 0].rename(expected.name)
                pandas.testing.assert_series_equal(got, expected, check_index_type=True)
            else:
                pandas.testing.assert_frame_equal(got, expected, check_index_type=True)
            assert type(got.index) is type(expected.index), backend.name


# joins ----------------------------------------------------------------------------------------

HOWS = ["inner", "left", "right", "outer"]


def _dups(pd: Any) -> tuple[Any, Any]:
    """Duplicate keys on both sides, keys on one side only, unsorted keys."""
    left = pd.DataFrame(
        {
            "k": [3, 1, 2, 1, 5, 3],
            "x": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
            "b": [True] * 3 + [False] * 3,
        }
    )
    right = pd.DataFrame(
        {"k": [1, 3, 4, 1, 3, 0], "y": [10, 20, 30, 40, 50, 60], "s": list("pqrstu")}
    )
    return left, right


@pytest.mark.parametrize("sort", [False, True])
@pytest.mark.parametrize("how", HOWS)
def test_join_duplicates_both_sides(how: str, sort: bool) -> None:
    _check(lambda pd: _dups(pd)[0].merge(_dups(pd)[1], on="k", how=how, sort=sort), HashJoin)


@pytest.mark.parametrize("how", HOWS)
def test_join_string_keys_and_suffixes(how: str) -> None:
    def program(pd: Any) -> Any:
        left = pd.DataFrame({"k": list("bacab"), "v": [1, 2, 3, 4, 5], "w": list("VWXYZ")})
        right = pd.DataFrame({"k": list("cbbd"), "v": [0.5, 1.5, 2.5, 3.5], "w": [1, 2, 3, 4]})
        return left.merge(right, on="k", how=how, suffixes=("_l", "_r"))

    _check(program, HashJoin)


@pytest.mark.parametrize("sort", [False, True])
@pytest.mark.parametrize("how", HOWS)
def test_join_several_keys(how: str, sort: bool) -> None:
    def program(pd: Any) -> Any:
        left = pd.DataFrame(
            {"a": [2, 1, 1, 2, 3, 1], "b": list("yxyxxx"), "v": [10, 20, 30, 40, 50, 60]}
        )
        right = pd.DataFrame(
            {"a": [1, 2, 2, 4, 1], "b": list("xyyxx"), "w": [0.1, 0.2, 0.3, 0.4, 0.5]}
        )
        return left.merge(right, on=["a", "b"], how=how, sort=sort)

    _check(program, HashJoin)


@pytest.mark.parametrize("how", HOWS)
def test_join_left_on_right_on_keeps_both_keys(how: str) -> None:
    def program(pd: Any) -> Any:
        left, right = _dups(pd)
        return left.merge(right.rename(columns={"k": "key"}), left_on="k", right_on="key", how=how)

    _check(program, HashJoin)


@pytest.mark.parametrize("side", ["left", "right", "both"])
@pytest.mark.parametrize("how", HOWS)
def test_join_empty_sides(how: str, side: str) -> None:
    def program(pd: Any) -> Any:
        left, right = _dups(pd)
        if side in ("left", "both"):
            left = left[left["k"] > 100]
        if side in ("right", "both"):
            right = right[right["k"] > 100]
        return left.merge(right, on="k", how=how)

    _check(program, HashJoin)


@pytest.mark.parametrize("how", HOWS)
def test_join_float_keys_with_nan_and_signed_zero(how: str) -> None:
    # (NaN matches NaN in pandas: the arrow path hands such keys to pandas; -0.0 == 0.0)
    def program(pd: Any) -> Any:
        left = pd.DataFrame({"k": [0.0, np.nan, 2.0, -0.0], "x": [1, 2, 3, 4]})
        right = pd.DataFrame({"k": [np.nan, -0.0, 5.0], "y": [True, False, True]})
        return left.merge(right, on="k", how=how)

    def no_nan(pd: Any) -> Any:
        left = pd.DataFrame({"k": [0.0, 1.0, 2.0, -0.0], "x": [1, 2, 3, 4]})
        right = pd.DataFrame({"k": [-0.0, 2.0, 5.0], "y": [True, False, True]})
        return left.merge(right, on="k", how=how, sort=True)

    _check(program, HashJoin)
    _check(no_nan, HashJoin)


def test_join_common_columns_self_join_and_chains() -> None:
    def program(pd: Any) -> Any:
        left, right = _dups(pd)
        both = left.merge(left, on="k", how="outer")  # (a self-join: one sub-plan, two sides)
        out = both.merge(right, how="left")  # (the common column 'k')
        out = out[out["y"] > 10]
        return out.assign(z=out["y"] * 2)

    _check(program, HashJoin)


def test_join_datetime_and_string_dtype_keys() -> None:
    def program(pd: Any) -> Any:
        days = np.array(["2024-01-03", "2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
        left = pd.DataFrame({"d": days, "s": pandas.array(["a", None, "c"], dtype="string")})
        right = pd.DataFrame({"d": days[[1, 1, 0]], "v": [1, 2, 3]})
        return left.merge(right, on="d", how="outer")

    _check(program, HashJoin)


@pytest.mark.parametrize("how", HOWS)
def test_join_random_shapes(how: str) -> None:
    rng = np.random.default_rng(12)
    for _ in range(15):
        nl, nr = (int(v) for v in rng.integers(0, 12, 2))
        lk = rng.integers(0, 5, (nl, 2))
        rk = rng.integers(0, 5, (nr, 2))
        sort = bool(rng.integers(0, 2))

        def program(pd: Any, lk: Any = lk, rk: Any = rk, sort: bool = sort) -> Any:
            left = pd.DataFrame({"a": lk[:, 0], "b": lk[:, 1], "x": np.arange(len(lk)) * 1.5})
            right = pd.DataFrame({"a": rk[:, 0], "b": rk[:, 1], "y": np.arange(len(rk))})
            return left.merge(right, on=["a", "b"], how=how, sort=sort)

        _check(program, HashJoin)


def _join_node(program: Any) -> tuple[HashJoin, Table, Table]:
    plan, _, _ = engine.prepare(program(litsdf)._plan, False)
    root = lower(plan)
    (node,) = [n for n in physical_nodes(root) if isinstance(n, HashJoin)]
    backend = SharedBackend()
    return node, backend.run_physical(node.left), backend.run_physical(node.right)


@pytest.mark.parametrize("how", HOWS)
def test_arrow_join_pairs_are_pandas_row_pairs(how: str) -> None:
    """The arrow path runs natively for integer and string keys (no pandas fallback) and its
    row pairs build pandas' result."""
    for sort in (False, True):
        node, left, right = _join_node(
            lambda pd, sort=sort: _dups(pd)[0].merge(_dups(pd)[1], on="k", how=how, sort=sort)
        )
        pairs = join_pairs(node, left, right)
        assert pairs is not None
        built = shared.join_from_indexers(node, left, right, *pairs)
        assert built is not None
        expected = shared.hash_join(node, left, right)
        for name in node.names():
            pandas.testing.assert_series_equal(
                pandas.Series(built.columns[name]), pandas.Series(expected.columns[name])
            )


def test_arrow_join_hands_nan_keys_to_pandas() -> None:
    node, left, right = _join_node(
        lambda pd: pd.DataFrame({"k": [1.0, np.nan]}).merge(pd.DataFrame({"k": [np.nan]}), on="k")
    )
    assert join_pairs(node, left, right) is None


def test_join_islands_stay_islands() -> None:
    left, right = _dups(litsdf)
    for plan in (
        left.merge(right, on="k", indicator=True)._plan,
        left.merge(right, on="k", validate="many_to_many")._plan,
        left.merge(right.assign(k=right["k"] * 1.0), on="k")._plan,  # (key dtypes differ)
        left.merge(right, left_index=True, right_index=True)._plan,
    ):
        kinds = {type(n) for n in physical_nodes(lower(plan))}
        assert HashJoin not in kinds and PandasCall in kinds


# concat ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ignore_index", [False, True])
def test_union_all_frames(ignore_index: bool) -> None:
    def program(pd: Any) -> Any:
        df = _dups(pd)[0]
        return pd.concat([df[df["b"]], df.head(2), df.tail(3)], ignore_index=ignore_index)

    _check(program, UnionAll)


def test_union_all_of_range_slices_keeps_a_range_index() -> None:
    _check(lambda pd: pd.concat([_dups(pd)[1].head(2), _dups(pd)[1].iloc[2:5]]), UnionAll)


@pytest.mark.parametrize("ignore_index", [False, True])
def test_union_all_series(ignore_index: bool) -> None:
    def program(pd: Any) -> Any:
        df = _dups(pd)[1]
        return pd.concat([df["s"].head(2), df["s"].tail(2)], ignore_index=ignore_index)

    _check(program, UnionAll)


def test_union_all_value_decided_dtypes_by_pandas_rules() -> None:
    # (object columns on both sides: equal schemas, the values decide: pandas' concat rules)
    def program(pd: Any) -> Any:
        df = pd.DataFrame({"o": ["a", 1], "v": [1, 2]})
        other = pd.DataFrame({"o": [2.5, "z"], "v": [3, 4]})
        return pd.concat([df, other.assign(v=other["v"] + 1)])

    _check(program, UnionAll)


def test_concat_of_other_categories_stays_an_island() -> None:
    df = litsdf.DataFrame({"c": pandas.Categorical(["a", "b"])})
    other = litsdf.DataFrame({"c": pandas.Categorical(["c", "a"])})
    plan = litsdf.concat([df, other])._plan
    assert UnionAll not in {type(n) for n in physical_nodes(lower(plan))}


def test_concat_with_other_columns_stays_an_island() -> None:
    df = _dups(litsdf)[0]
    plan = litsdf.concat([df[["k", "x"]], df[["x", "k"]]])._plan
    assert UnionAll not in {type(n) for n in physical_nodes(lower(plan))}


# drop_duplicates ------------------------------------------------------------------------------


def _dupframe(pd: Any) -> Any:
    return pd.DataFrame(
        {
            "a": [1, 2, 1, 3, 2, 1, 4],
            "f": [0.0, -0.0, 0.0, 1.5, -0.0, 2.5, 1.5],
            "s": list("xyxzyxw"),
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )


@pytest.mark.parametrize("keep", ["first", "last", False])
@pytest.mark.parametrize("subset", [None, ["a"], ["a", "s"], ["f"], ["s"]])
def test_distinct(keep: Any, subset: Any) -> None:
    _check(lambda pd: _dupframe(pd).drop_duplicates(subset=subset, keep=keep), Distinct)


def test_distinct_ignore_index_and_missing_values() -> None:
    def program(pd: Any) -> Any:
        df = pd.DataFrame({"a": [1.0, np.nan, 1.0, np.nan], "s": ["x", None, "x", None]})
        return df.drop_duplicates(ignore_index=True)

    _check(lambda pd: _dupframe(pd).drop_duplicates("s", ignore_index=True), Distinct)
    _check(program, Distinct)


def test_arrow_distinct_runs_natively() -> None:
    plan, _, _ = engine.prepare(_dupframe(litsdf).drop_duplicates(["a", "s"])._plan, False)
    (node,) = [n for n in physical_nodes(lower(plan)) if isinstance(n, Distinct)]
    assert distinct_rows(node, SharedBackend().run_physical(node.input)) is not None


# top-k ----------------------------------------------------------------------------------------


def _topframe(pd: Any) -> Any:
    return pd.DataFrame(
        {
            "i": [3, 1, 3, 2, 5, 1, 3],
            "f": [1.5, np.nan, 1.5, -0.0, 0.0, np.nan, 9.0],
            "u": np.array([4, 4, 1, 2, 9, 0, 4], dtype=np.uint8),
        },
        index=list("abcdefg"),
    )


@pytest.mark.parametrize("keep", ["first", "last", "all"])
@pytest.mark.parametrize("n", [0, 2, 3, 5, 7, 10])
@pytest.mark.parametrize("column", ["i", "f", "u", ["i", "f"]])
def test_top_k(column: Any, n: int, keep: str) -> None:
    _check(lambda pd: _topframe(pd).nlargest(n, column, keep=keep), TopK)
    _check(lambda pd: _topframe(pd).nsmallest(n, column, keep=keep), TopK)


def test_arrow_top_k_runs_natively() -> None:
    plan, _, _ = engine.prepare(_topframe(litsdf).nlargest(3, "f")._plan, False)
    (node,) = [n for n in physical_nodes(lower(plan)) if isinstance(n, TopK)]
    assert top_rows(node, SharedBackend().run_physical(node.input)) is not None


def test_numba_runs_the_relational_nodes_by_the_shared_implementations() -> None:
    pytest.importorskip("numba")
    from litsdf_compiler.backends.numba import BACKEND

    def program(pd: Any) -> Any:
        left, right = _dups(pd)
        out = left.merge(right, on="k", how="outer").drop_duplicates("k")
        return pd.concat([out, out.nsmallest(2, "y")])

    expected = program(pandas)
    plan, _, _ = engine.prepare(program(litsdf)._plan, True)
    kinds = {type(n) for n in physical_nodes(lower(plan))}
    assert {HashJoin, Distinct, TopK, UnionAll} <= kinds and PandasCall not in kinds
    assert BACKEND.supports(plan)
    pandas.testing.assert_frame_equal(BACKEND.execute(plan), expected, check_index_type=True)
