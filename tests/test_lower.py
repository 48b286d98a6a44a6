"""The physical plan: lowering of sample plans, the shared finalize, and the backend driver.

A tiny backend defined here runs on the driver (``visit_<Node>`` methods over tables, no
claim): its results must be pandas' exact objects (index types, labels, dtypes), which shows
that the lowering and the shared finalize make pandas' implicit semantics explicit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends.base import Backend, Claim, Verdict
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.ir.base import NODE_TYPES
from litsdf_compiler.ir.expressions import Col, Reduce
from litsdf_compiler.lower import (
    Compute,
    Filter,
    Finalize,
    GroupAgg,
    Limit,
    OrderBy,
    Scan,
    Select,
    Table,
    UnionAll,
    finalize,
    lower,
    physical_nodes,
    table_from_pandas,
)
from litsdf_compiler.semantics import REFERENCE


class TinyBackend(Backend):
    """Every physical node visited on its own: NumPy masks and takes, expressions by the
    reference kernels over a frame of internal names, islands by pandas."""

    name = "tiny"

    def __init__(self) -> None:
        self.visited: list[str] = []

    def visit_Scan(self, n: Scan) -> Table:
        self.visited.append("Scan")
        return self.scan_table(n)

    def _frame(self, t: Table) -> pandas.DataFrame:
        return pandas.DataFrame(dict(t.columns), index=t.rows.index(), copy=False)

    def visit_Compute(self, n: Compute, t: Table) -> Table:
        self.visited.append("Compute")
        frame = self._frame(t)
        cols = dict(t.columns)
        for name, e in n.expressions:
            holder = frame[[]].copy()
            holder["v"] = REFERENCE.ev(e, frame)  # (pandas' own assignment: broadcast, dtype)
            cols[name] = holder["v"]._values
        return Table({name: cols[name] for name in n.names()}, t.rows)

    def visit_Filter(self, n: Filter, t: Table) -> Table:
        self.visited.append("Filter")
        mask = np.asarray(REFERENCE.ev(n.condition, self._frame(t)), dtype=bool)
        return t.take(np.flatnonzero(mask).astype(np.intp))

    def visit_Select(self, n: Select, t: Table) -> Table:
        self.visited.append("Select")
        return t.select(n.names())

    def visit_Limit(self, n: Limit, t: Table) -> Table:
        self.visited.append("Limit")
        return t.slice(slice(n.start, n.stop, n.step))

    visit_PandasCall = Backend.pandas_call
    visit_GroupAgg = Backend.group_agg
    visit_OrderBy = Backend.order_by


def _check(program: Any, kinds: set[str]) -> TinyBackend:
    """``program(pd)`` on pandas and, on the tiny backend, on litsdf (optimizer on and off):
    exactly equal, and the physical plan holds the node ``kinds``."""
    expected = program(pandas)
    backend = TinyBackend()
    for optimize in (False, True):
        plan = program(litsdf)._plan
        plan, _, _ = engine.prepare(plan, optimize)
        root = lower(plan)
        assert {type(n).__name__ for n in physical_nodes(root)} >= kinds | {"Finalize"}
        got = backend.execute(plan)
        if isinstance(expected, pandas.DataFrame):
            pandas.testing.assert_frame_equal(got, expected, check_index_type=True)
            assert type(got.index) is type(expected.index)
            assert got.columns.names == expected.columns.names
        else:  # (a Series-valued plan gives the one column SERIES; litsdf names it)
            assert list(got.columns) == [rel.SERIES]
            pandas.testing.assert_series_equal(
                got[rel.SERIES], expected, check_index_type=True, check_names=False
            )
    return backend


def _frame(pd: Any) -> Any:
    return pd.DataFrame(
        {"a": [1, 2, 3, 4, 5, 6], "b": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5], "s": list("xyzxyz")}
    )


def test_row_wise_chain_lowers_to_scan_compute_filter_select() -> None:
    def program(pd: Any) -> Any:
        df = _frame(pd)
        df["c"] = df["a"] * df["b"]
        df["a"] = df["a"] + 1  # replaces 'a' in place
        out = df[df["c"] > 1].rename(columns={"s": "S"})
        return out[["c", "S", "a"]]

    backend = _check(program, {"Scan", "Compute", "Filter", "Select"})
    assert "PandasCall" not in backend.visited


def test_successive_filters_take_the_index_as_pandas_does() -> None:
    # filter 1 keeps 0, 2, 4 (pandas keeps a RangeIndex with step 2); filter 2 keeps 0, 4 of
    # those; a non-range first take stays an Index
    def ranges(pd: Any) -> Any:
        df = _frame(pd)
        df = df[df["a"] % 2 == 1]
        return df[df["a"] != 3]

    def irregular(pd: Any) -> Any:
        df = _frame(pd)
        df = df[df["a"] != 3]
        return df[df["a"] < 3]

    _check(ranges, {"Filter"})
    _check(irregular, {"Filter"})


def test_limits_slice_rows_and_index() -> None:
    _check(lambda pd: _frame(pd).head(4).tail(2), {"Limit"})
    _check(lambda pd: _frame(pd).iloc[1::2], {"Limit"})
    _check(lambda pd: _frame(pd).tail(0), {"Limit"})
    _check(lambda pd: _frame(pd).head(-2), {"Limit"})


def test_labels_finalize_exactly() -> None:
    base = pandas.DataFrame({("x", 1): [1, 2], 7: [3.0, 4.0]})
    base.columns.name = "cols"

    def tuples(pd: Any) -> Any:
        df = pd.DataFrame(base.copy())
        df["n"] = df[7] * 2
        return df[df[7] > 3]

    _check(tuples, {"Compute", "Filter"})
    _check(lambda pd: _frame(pd).set_index("s").assign(d=lambda d: d["a"] - 1), {"Compute"})


def test_islands_run_pandas_and_feed_physical_nodes() -> None:
    def program(pd: Any) -> Any:
        df = _frame(pd).sort_index(ascending=False)  # (no physical form yet)
        df["d"] = df["a"] * 10
        return df[df["d"] > 20]

    backend = _check(program, {"PandasCall", "Compute", "Filter"})
    assert "Compute" in backend.visited and "PandasCall" not in backend.visited  # (an alias)
    _check(lambda pd: _frame(pd).groupby("s").agg({"a": ["sum", "max"]}), {"PandasCall"})
    _check(lambda pd: _frame(pd)["s"].value_counts(), {"PandasCall"})


def test_lowering_shares_sub_plans_and_names_are_unique() -> None:
    df = _frame(litsdf)
    left = df[df["a"] > 1]
    plan = litsdf.concat([left, left.assign(a=left["a"] * 2)])._plan
    root = lower(plan)
    assert lower(plan) is root  # memoized per plan
    (union,) = [n for n in physical_nodes(root) if isinstance(n, UnionAll)]
    filters = {id(n) for n in physical_nodes(root) if isinstance(n, Filter)}
    assert len(filters) == 1  # the shared sub-plan lowered once
    for n in physical_nodes(root):
        names = n.names()
        assert len(set(names)) == len(names)
        assert all(isinstance(x, str) for x in names)
    assert len(union.parts) == 2 and union.kind == "frame"
    compute = next(n for n in physical_nodes(root) if isinstance(n, Compute))
    ((name, _),) = compute.expressions
    assert name != "a" and compute.field(name).dtype == np.dtype("int64")
    with pytest.raises(KeyError, match="has no field 'nope'"):
        compute.field("nope")


def test_physical_nodes_are_hashable_and_never_deserialized() -> None:
    root = lower(_frame(litsdf).assign(c=1)._plan)
    for n in physical_nodes(root):
        assert type(n).__name__ not in NODE_TYPES
        hash(n)
    again = lower(_frame(litsdf).assign(c=1)._plan)
    assert again.input.expressions == root.input.expressions  # type: ignore[attr-defined]


def test_finalize_of_a_pandas_table_is_that_object_or_exactly_equal() -> None:
    frame = pandas.DataFrame({"a": [1, 2]}, index=pandas.Index(["p", "q"], name="k"))
    root = lower(litsdf.DataFrame(frame)._plan)
    table = table_from_pandas(frame, root.input.schema)
    assert finalize(root, table) is frame  # unchanged: no copy
    taken = finalize(root, table.take(np.array([1], dtype=np.intp)))
    pandas.testing.assert_frame_equal(taken, frame.take([1]))


def test_scalar_and_unlowerable_plans() -> None:
    df = _frame(litsdf)
    plan = rel.ScalarResult(df._plan, Reduce("sum", Col("b")))
    root = lower(plan)
    assert isinstance(root, Finalize) and root.kind == "scalar"
    got = TinyBackend().execute(plan)
    assert got == _frame(pandas)["b"].sum() and type(got) is np.float64
    # a plan pandas rejects has no physical form: accepted, and execute raises pandas' error
    bad = rel.Project(df._plan, (("x", Col("nope")),))
    assert TinyBackend().supports(bad)
    with pytest.raises(KeyError, match="nope"):
        TinyBackend().execute(bad)


def test_supports_is_derived_and_claims_take_whole_chains() -> None:
    class NoIslands(TinyBackend):
        visit_PandasCall = None  # type: ignore[assignment]

    sorted_plan = _frame(litsdf).sort_index()._plan
    verdict = NoIslands().supports(sorted_plan)
    assert not verdict and verdict.reason == "tiny has no lowering for PandasCall (SortIndex)"

    class Picky(TinyBackend):
        def check_Filter(self, n: Filter) -> Verdict:
            return Verdict(False, "picky: no filters")

    df = _frame(litsdf)
    assert Picky().supports(df.assign(c=1)._plan)
    assert Picky().supports(df[df["a"] > 1]._plan).reason == "picky: no filters"

    class Chains(TinyBackend):
        """Claims every Filter with the chain under it down to the Scan."""

        def claim(self, node: Any) -> Claim | None:
            if not isinstance(node, Filter):
                return None
            below = node
            while not isinstance(below, Scan):
                below = below.input
            chain = node

            def run(scanned: Table) -> Table:
                self.visited.append("claimed")
                t = scanned
                for step in reversed(list(_chain(chain, below))):
                    t = getattr(TinyBackend, f"visit_{type(step).__name__}")(self, step, t)
                return t

            return Claim((below,), run)

    plan = df.assign(c=df["a"] + 1)
    plan = plan[plan["c"] > 3]._plan
    chains = Chains()
    got = chains.execute(plan)
    expected = _frame(pandas).assign(c=lambda d: d["a"] + 1)
    pandas.testing.assert_frame_equal(got, expected[expected["c"] > 3])
    assert chains.visited == ["Scan", "claimed", "Compute", "Filter"]


def _chain(top: Any, bottom: Any) -> Any:
    n = top
    while n is not bottom:
        yield n
        n = n.input


def test_lowering_and_rows_programs_keep_no_dropped_plan_alive() -> None:
    import gc
    import weakref

    from litsdf_compiler.backends.rows import BACKEND as ROWS

    df = litsdf.DataFrame({"a": np.arange(3.0)})
    plan = df.assign(b=df["a"] * 2)._plan
    assert ROWS.supports(plan)
    pandas.testing.assert_frame_equal(
        ROWS.execute(plan), pandas.DataFrame({"a": np.arange(3.0), "b": np.arange(3.0) * 2})
    )
    ref = weakref.ref(df._plan.data.data)  # the frame the plan reads
    del df, plan
    for k in range(20):  # (the lowering memo holds the last few plans only)
        lower(litsdf.DataFrame({"x": [k]})._plan)
    gc.collect()
    assert ref() is None


def test_finalize_converts_arrow_arrays_to_the_fields_dtypes() -> None:
    import pyarrow as pa

    from litsdf_compiler.lower import Rows

    expected = pandas.DataFrame({"a": [1, 2], "s": ["x", None]})
    root = lower(litsdf.DataFrame(expected.copy())._plan)
    a, s = root.fields
    table = Table({a: pa.array([1, 2]), s: pa.chunked_array([["x", None]])}, Rows(None, 2))
    got = finalize(root, table)
    pandas.testing.assert_frame_equal(got, expected, check_index_type=True)
    assert got["s"].dtype == expected["s"].dtype


def _keyed(pd: Any) -> Any:
    return pd.DataFrame(
        {
            "k": ["b", "a", None, "b", "a", "c"],
            "j": [2, 1, 1, 2, 1, 1],
            "x": [1.0, 2.0, 3.0, None, 5.0, 6.0],
            "n": [1, 2, 3, 4, 5, 6],
            "s": list("pqrstu"),
        }
    )


def _filtered_min(pd: Any) -> Any:
    df = _keyed(pd)
    return df[df["n"] > 1].groupby("j")[["s"]].min()


@pytest.mark.parametrize(
    "program",
    [
        lambda pd: _keyed(pd).groupby("k").sum(),
        lambda pd: _keyed(pd).groupby(["k", "j"])[["x", "n"]].mean(),
        lambda pd: _keyed(pd).groupby("k", sort=False).max(),
        lambda pd: _keyed(pd).groupby("k", dropna=False).count(),
        lambda pd: _keyed(pd).groupby("k")["x"].first(),
        lambda pd: _keyed(pd).groupby(["j", "k"], sort=False, dropna=False).size(),
        _filtered_min,
    ],
)
def test_groupby_reductions_lower_to_group_agg(program: Any) -> None:
    backend = _check(program, {"GroupAgg"})
    assert "PandasCall" not in backend.visited


def test_group_agg_decodes_only_exact_forms() -> None:
    df = _keyed(litsdf)
    for plan in (
        df.groupby("k").sum(numeric_only=True)._plan,
        df.assign(k=df["k"].astype("category")).groupby("k").sum()._plan,
        df.groupby("k").agg({"n": ["sum", "max"]})._plan,
    ):
        kinds = {type(n).__name__ for n in physical_nodes(lower(plan))}
        assert "GroupAgg" not in kinds and "PandasCall" in kinds
    root = lower(df.groupby(["k", "j"], sort=False).sum()._plan)
    agg = root.input
    assert isinstance(agg, GroupAgg) and not agg.sort and agg.dropna
    assert [f.role for f in agg.schema][:2] == ["index", "index"]
    assert root.index[0] == "levels" and root.index[2] == ("k", "j")
    assert [m[2] for m in agg.measures] == ["sum", "sum", "sum"]


def test_group_agg_named_and_as_index_false() -> None:
    df = _keyed(litsdf)
    named = df.groupby(["k", "j"], as_index=False).agg(
        total=("n", "sum"), mean=("n", "mean"), rows=("n", "size")
    )
    root = lower(named._plan)
    agg = root.input
    assert isinstance(agg, GroupAgg) and root.index == ("rows",)  # (fresh RangeIndex rows)
    assert [m[2] for m in agg.measures] == ["sum", "mean", "size"]
    assert agg.measures[2][1] == "n"  # (a column's size: the column's integer kind)
    assert [f.role for f in agg.schema][:2] == ["column", "column"]
    sorted_reset = named.sort_values("total").reset_index(drop=True)
    order = lower(sorted_reset._plan).input
    assert isinstance(order, OrderBy) and order.ignore_index and order.kind == "quicksort"
    assert isinstance(lower(named.reset_index(drop=True)._plan).input, GroupAgg)  # (fresh rows)
    for program in (
        lambda pd: (
            _keyed(pd)
            .groupby(["k", "j"], as_index=False)
            .agg(total=("n", "sum"), rows=("n", "size"), top=("n", "max"))
        ),
        lambda pd: _keyed(pd).groupby("k", as_index=False)["n"].sum(),
        lambda pd: _keyed(pd).groupby("k", as_index=False).size(),
        lambda pd: _keyed(pd).groupby("k").agg(a=("n", "min"), b=("n", "max")),
        lambda pd: (
            _keyed(pd)
            .groupby("k", as_index=False)["n"]
            .sum()
            .sort_values("n")
            .reset_index(drop=True)
        ),
    ):
        _check(program, {"GroupAgg"})


def _sortable(pd: Any) -> Any:
    return pd.DataFrame(
        {
            "a": [2, 1, 2, 1, 3, 2],
            "x": [None, 1.0, 1.0, None, 0.5, 1.0],
            "s": ["q", "p", "q", "r", "p", "q"],
            "n": [1, 2, 3, 4, 5, 6],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def _reset_then_filter(pd: Any) -> Any:
    df = _sortable(pd).sort_values(["s", "a"], ignore_index=True)
    return df[df["n"] > 2]


@pytest.mark.parametrize(
    "program",
    [
        lambda pd: _sortable(pd).sort_values(["a", "x"], ascending=[False, True]),
        lambda pd: _sortable(pd).sort_values(["x", "s"], na_position="first"),
        lambda pd: _sortable(pd).sort_values("a", ascending=False, kind="stable"),
        lambda pd: _sortable(pd).sort_values("x", kind="mergesort", na_position="first"),
        _reset_then_filter,
    ],
)
def test_stable_sorts_lower_to_order_by(program: Any) -> None:
    backend = _check(program, {"OrderBy"})
    assert "PandasCall" not in backend.visited


def test_unstable_single_key_sorts_carry_numpys_kind() -> None:
    root = lower(_sortable(litsdf).sort_values("a")._plan)  # (quicksort: pandas' own order)
    order = root.input
    assert isinstance(order, OrderBy) and order.kind == "quicksort" and not order.stable
    order = lower(_sortable(litsdf).sort_values(["a", "s"], ascending=False)._plan).input
    assert isinstance(order, OrderBy) and order.keys == (("a", False), ("s", False))
    assert order.stable  # (several keys: pandas' lexsort is stable whatever kind says)
