"""The optimizer driver: discovery, fixed point, loud failure when rules cycle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import litsdf as pd
from litsdf_compiler.ir.relations import Head
from litsdf_compiler.optimizer import OptimizerLoopError, optimize, rules
from litsdf_compiler.optimizer._util import rewrite_relations, rewrite_relations_saturated


def test_rules_are_discovered_one_per_module():
    names = [r.__name__ for r in rules()]
    assert "fuse_assignments" in names
    assert len(names) == len(set(names))


def test_fixed_point_reports_rules_and_time():
    df = pd.DataFrame({"a": [1, 2]})
    df["b"] = df["a"] + 1
    df["c"] = df["a"] * 2
    result = optimize(df._plan)
    assert "fuse_assignments" in result.fired
    assert result.seconds >= 0 and result.passes >= 1
    again = optimize(result.plan)
    assert again.plan is result.plan and again.fired == ()


def test_cycling_rules_raise():
    df = pd.DataFrame({"a": [1, 2]}).head(3)

    def grow(plan):
        return dataclasses.replace(plan, n=plan.n + 1) if isinstance(plan, Head) else plan

    def shrink(plan):
        return dataclasses.replace(plan, n=plan.n - 1) if isinstance(plan, Head) else plan

    with pytest.raises(OptimizerLoopError, match="cycle"):
        optimize(df._plan, [grow, shrink])


def test_non_converging_rules_raise():
    df = pd.DataFrame({"a": [1, 2]}).head(3)

    def grow(plan):
        return dataclasses.replace(plan, n=plan.n + 1) if isinstance(plan, Head) else plan

    with pytest.raises(OptimizerLoopError, match="did not converge"):
        optimize(df._plan, [grow])


def test_rule_rebuilding_unchanged_plan_is_an_error():
    df = pd.DataFrame({"a": [1, 2]}).head(3)

    def rebuild(plan):
        return dataclasses.replace(plan) if isinstance(plan, Head) else plan

    with pytest.raises(OptimizerLoopError, match="unchanged"):
        optimize(df._plan, [rebuild])


def test_explain_shows_stages():
    df = pd.DataFrame({"a": [1, 2]})
    df["b"] = df["a"] + 1
    df["c"] = df["a"] * 2
    text = df.explain()
    assert "== logical plan ==" in text
    assert "== optimized plan == (rules fired: fuse_assignments" in text
    assert df.explain(stage="optimized").startswith("== optimized plan ==")
    d = df.explain(format="dict")["optimized"]
    assert "fuse_assignments" in d["rules"] and d["plan"]["op"] == "WithColumns"
    with pd.option_context(optimize=False):
        assert "optimizer off" in df.explain(stage="optimized")


def _head_rewrites(*steps):
    """Local rewrites (name, fn) that change a ``Head``'s ``n`` by ``step`` while below ``stop``."""

    def make(step, stop):
        def fn(n):
            if isinstance(n, Head) and n.n < stop:
                return dataclasses.replace(n, n=min(n.n + step, stop))
            return n

        return fn

    return [(f"r{i}", make(step, stop)) for i, (step, stop) in enumerate(steps)]


def test_saturated_walk_reaches_a_fixed_point_of_every_local_rewrite():
    df = pd.DataFrame({"a": [1, 2]}).head(1).head(2)
    rewrites = _head_rewrites((1, 5), (2, 10))
    fired: list[str] = []
    out = rewrite_relations_saturated(df._plan, rewrites, fired)
    assert fired == ["r0", "r1"]
    assert out.n == 10 and out.input.n == 10  # each relation until no rewrite changes it
    for _, fn in rewrites:
        assert rewrite_relations(out, fn) is out
    assert rewrite_relations_saturated(out, rewrites, []) is out


def test_saturated_walk_rewrites_inputs_a_rewrite_builds():
    df = pd.DataFrame({"a": [1, 2]}).head(7)

    def wrap(n):  # builds a new input below the node
        if isinstance(n, Head) and n.n == 7:
            return dataclasses.replace(n, n=2, input=Head(n.input, 1))
        return n

    rewrites = [("wrap", wrap), *_head_rewrites((1, 4))]
    out = rewrite_relations_saturated(df._plan, rewrites, [])
    assert isinstance(out.input, Head) and out.n == 4 and out.input.n == 4
    assert not isinstance(out.input.input, Head)


def test_local_rewrites_that_never_settle_raise():
    df = pd.DataFrame({"a": [1, 2]}).head(3)
    rewrites = _head_rewrites((1, 10**9))
    with pytest.raises(OptimizerLoopError, match="keep changing a Head node"):
        rewrite_relations_saturated(df._plan, rewrites, [])


def test_every_local_rule_is_at_its_fixed_point_after_optimize():
    df = pd.DataFrame({"a": [1, 2], "b": [1.5, 2.5]})
    df["c"] = df["a"] * 1 + 0
    df["x"] = np.log1p(df["b"]) * 2
    df = df[np.log1p(df["b"]) * 2 > 1]
    df["d"] = (np.log1p(df["b"]) * 2) + df["c"]
    df["e"] = df["d"] - 0
    result = optimize(df._plan)
    assert {"fuse_assignments", "simplify", "cse"} <= set(result.fired)
    for rule in rules():
        assert rule(result.plan) is result.plan, rule.__name__
