"""The generated plans that ``python -m benchmarks optimizer-time`` times: a 200-node plan
optimizes to a fixed point and still computes pandas' result (no timing asserted here)."""

from __future__ import annotations

import warnings

import pandas

import litsdf
from benchmarks.workloads._optimizer_plans import make_program
from litsdf_compiler.engine import execute
from litsdf_compiler.optimizer import optimize, rules

from ..conftest import assert_same


def test_generated_200_node_plan_reaches_a_fixed_point_and_matches_pandas():
    program, nodes = make_program(200)
    assert nodes >= 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pandas.errors.PerformanceWarning)
        expected = program(pandas)
        with litsdf.option_context(fallback="raise"):
            plan = program(litsdf)._plan
        result = optimize(plan)
        assert result.fired  # simplify, cse and fuse_assignments have work here
        assert {"simplify", "cse"} <= set(result.fired)
        for rule in rules():  # a fixed point: no rule changes the optimized plan
            assert rule(result.plan) is result.plan, rule.__name__
        assert optimize(result.plan).plan is result.plan
        got, _ = execute(result.plan, "pandas", optimize=False)
        unoptimized, _ = execute(plan, "pandas", optimize=False)
    assert_same(got, expected)
    assert_same(unoptimized, expected)
