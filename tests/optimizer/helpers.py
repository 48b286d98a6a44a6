"""Golden-text and differential helpers for optimizer rule tests."""

from __future__ import annotations

import textwrap
from typing import Any

from litsdf_compiler.engine import execute
from litsdf_compiler.ir.base import Node
from litsdf_compiler.ir.explain import render_plan

from ..conftest import assert_same


def plan_text(plan: Node) -> str:
    """The stable text of a plan, as golden tests write it."""
    return render_plan(plan)


def check_rule(rule: Any, plan: Node, before: str, after: str) -> Node:
    """``rule(plan)`` turns the plan printed as ``before`` into the one printed as ``after``,
    returns the same object when applied again if nothing changes, and both plans compute the
    same result (values, dtypes, index, order)."""
    assert plan_text(plan) == textwrap.dedent(before).strip()
    out = rule(plan)
    assert plan_text(out) == textwrap.dedent(after).strip()
    if before.strip() == after.strip():
        assert out is plan, "a rule must return the same object when it changes nothing"
    assert rule(out) is out or plan_text(rule(out)) != plan_text(out)
    expected, _ = execute(plan, "pandas", optimize=False)
    got, _ = execute(out, "pandas", optimize=False)
    assert_same(got, expected)
    return out
