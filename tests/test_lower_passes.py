"""The passes over the physical plan after lowering: dead fields (``prune``) and joins whose
order nobody observes (``relax_order``). Results are checked by the differential suite
(``tests/differential/test_joins.py``: joins, computes and group-bys together); these tests
check the plans' shape."""

from __future__ import annotations

from typing import Any

import numpy as np

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir.base import walk
from litsdf_compiler.lower import Compute, GroupAgg, HashJoin, lower, physical_nodes


def _tables() -> tuple[Any, Any]:
    facts = litsdf.DataFrame(
        {
            "fk": [1, 2, 1, 3],
            "price": [5.0, 2.5, np.nan, 4.0],
            "qty": [1, 2, 3, 4],
            "note": ["a", "b", "c", "d"],
        }
    )
    dim = litsdf.DataFrame({"fk": [1, 2, 3], "name": ["x", "y", "x"], "w": [1, 2, 3]})
    return facts, dim


def _root(frame: Any) -> Any:
    plan, _, _ = engine.prepare(frame._plan, True)
    return lower(plan)


def _joins(root: Any) -> list[HashJoin]:
    return [n for n in physical_nodes(root) if isinstance(n, HashJoin)]


def test_join_outputs_only_fields_read_above() -> None:
    facts, dim = _tables()
    j = facts.merge(dim, on="fk")
    j["revenue"] = j["price"] * j["w"]
    root = _root(j.groupby("name", as_index=False)["revenue"].sum())
    (join,) = _joins(root)
    assert [o[0] for o in join.outputs] == [f.name for f in join.schema]
    assert {f.name.split("_")[0] for f in join.schema} == {"price", "name", "w"}
    compute = next(n for n in physical_nodes(root) if isinstance(n, Compute))
    assert len(compute.schema) == 2  # (the key and revenue: nothing else is carried up)


def test_unused_raising_expressions_are_kept() -> None:
    facts, dim = _tables()
    j = facts.merge(dim, on="fk")
    j["bad"] = j["price"].astype("int64")  # (raises on NaN when it runs, as in pandas)
    root = _root(j.groupby("name")["qty"].sum())
    casts = [
        x
        for n in physical_nodes(root)
        if isinstance(n, Compute)
        for _, e in n.expressions
        for x in walk(e)
        if isinstance(x, ex.Cast)
    ]
    assert casts


def test_joins_under_order_free_sorted_groupbys_may_reorder() -> None:
    facts, dim = _tables()
    j = facts.merge(dim, on="fk")
    free = _root(j.groupby("name").agg(s=("qty", "sum"), m=("price", "mean"), n=("w", "size")))
    assert [x.any_order for x in _joins(free)] == [True]
    for observed in (
        j,  # (the join's rows are the result)
        j.groupby("name", sort=False)["qty"].sum(),  # (groups by first appearance)
        j.groupby("name")["qty"].first(),  # (the first row of each group)
        j.head(2).groupby("name")["qty"].sum(),  # (a limit reads the order)
        j.sort_values("name").groupby("name")["qty"].sum(),  # (a sort's ties)
    ):
        assert [x.any_order for x in _joins(_root(observed))] == [False]


def test_order_freedom_flows_through_joins_and_row_wise_steps() -> None:
    facts, dim = _tables()
    other = litsdf.DataFrame({"name": ["x", "y"], "region": ["n", "s"]})
    j = facts.merge(dim, on="fk").merge(other, on="name")
    j = j[j["qty"] > 1]
    j["v"] = j["qty"] * 2
    root = _root(j.groupby("region")["v"].sum())
    assert [x.any_order for x in _joins(root)] == [True, True]
    assert any(isinstance(n, GroupAgg) for n in physical_nodes(root))
