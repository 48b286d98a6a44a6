"""Long programs make deep plans: tracing, optimizing and running them must not hit
Python's recursion limit, and the result must equal pandas."""

from __future__ import annotations

import pandas

import litsdf
from benchmarks.workloads._optimizer_plans import make_program
from litsdf_compiler.optimizer import optimize

from ..conftest import assert_same


def test_600_node_plan_optimizes_and_runs():
    program, nodes = make_program(600)
    assert nodes >= 600
    out = program(litsdf)
    result = optimize(out._plan)
    assert result.fired
    assert_same(out.to_pandas(), program(pandas))


def test_long_assignment_loop():
    def program(pd):
        df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
        for i in range(800):
            df[f"c{i % 7}"] = df["a"] * (i % 5) + i
        return df

    with litsdf.option_context(optimize=False):
        assert_same(program(litsdf).to_pandas(), program(pandas))
    assert_same(program(litsdf).to_pandas(), program(pandas))
