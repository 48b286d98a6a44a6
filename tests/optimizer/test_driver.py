"""The optimizer driver: discovery, fixed point, loud failure when rules cycle."""

from __future__ import annotations

import dataclasses

import pytest

import litsdf as pd
from litsdf_compiler.ir.relations import Head
from litsdf_compiler.optimizer import OptimizerLoopError, optimize, rules


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
    assert result.seconds >= 0 and result.passes >= 2
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
