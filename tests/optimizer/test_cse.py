"""Rule: cse (an expression an input assignment computed is read back; golden before/after
plans, cases where it must not fire, per-node memoization, hash-consed sub-plans)."""

from __future__ import annotations

import numpy as np
import pandas

import litsdf as pd
from litsdf_compiler.backends.pandas import BACKEND, PandasBackend
from litsdf_compiler.engine import execute
from litsdf_compiler.ir.base import walk
from litsdf_compiler.ir.relations import Concat, Filter, Join, Source, WithColumns
from litsdf_compiler.optimizer import optimize
from litsdf_compiler.optimizer._share import share
from litsdf_compiler.optimizer.cse import cse
from litsdf_compiler.optimizer.fuse_assignments import fuse_assignments

from .helpers import check_rule


def _frame(pd_=pd):
    return pd_.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, -0.5, 2.0, np.nan], "k": [1, 2, 1, 2]})


def test_filter_and_later_assignment_read_the_assigned_column():
    df = _frame()
    df["x"] = np.log1p(df["a"]) * 2
    df = df[np.log1p(df["a"]) * 2 > 2]
    df["y"] = np.log1p(df["a"]) * 2 + df["b"]
    check_rule(
        cse,
        df._plan,
        """
        WithColumns y=((ufunc(name='log1p', a) * 2) + b)
          Filter ((ufunc(name='log1p', a) * 2) > 2)
            WithColumns x=(ufunc(name='log1p', a) * 2)
              Source DataFrame 4x3 [a, b, k]
        """,
        """
        WithColumns y=(x + b)
          Filter (x > 2)
            WithColumns x=(ufunc(name='log1p', a) * 2)
              Source DataFrame 4x3 [a, b, k]
        """,
    )


def test_through_other_assignments_sorts_and_limits():
    df = _frame()
    df["x"] = df["a"] * 3 + 1
    df = df.sort_values("b", kind="stable")
    df["z"] = df["b"] - 1
    df = df.head(3)
    out = df.assign(w=df["a"] * 3 + 1)
    check_rule(
        cse,
        out._plan,
        """
        WithColumns w=((a * 3) + 1)
          Head n=3
            WithColumns z=(b - 1)
              Sort by=['b'] ascending=True kind='stable' na_position='last' ignore_index=False
                WithColumns x=((a * 3) + 1)
                  Source DataFrame 4x3 [a, b, k]
        """,
        """
        WithColumns w=x
          Head n=3
            WithColumns z=(b - 1)
              Sort by=['b'] ascending=True kind='stable' na_position='last' ignore_index=False
                WithColumns x=((a * 3) + 1)
                  Source DataFrame 4x3 [a, b, k]
        """,
    )


def test_projection_entry_is_rewritten():
    df = _frame()
    df["x"] = df["a"] + df["b"]
    df = df[df["k"] == 1]
    out = (df["a"] + df["b"]) * 2
    check_rule(
        cse,
        out._plan,
        """
        Project __litsdf_series__=((a + b) * 2)
          Filter (k == 1)
            WithColumns x=(a + b)
              Source DataFrame 4x3 [a, b, k]
        """,
        """
        Project __litsdf_series__=(x * 2)
          Filter (k == 1)
            WithColumns x=(a + b)
              Source DataFrame 4x3 [a, b, k]
        """,
    )


def _label_reassigned_in_between(df):
    df["x"] = df["a"] * 2
    df = df[df["k"] > 0]
    df["x"] = df["b"]
    return df[df["a"] * 2 > 2]


def _input_column_reassigned_in_between(df):
    df["x"] = df["a"] * 2
    df = df[df["k"] > 0]
    df["a"] = df["b"]
    return df[df["a"] * 2 > 2]


def _input_column_reassigned_by_the_same_node(df):
    df = df.assign(x=df["a"] * 2, a=df["b"])
    return df[df["a"] * 2 > 2]


def _bare_column_is_not_worth_it(df):
    df["x"] = df["a"]
    return df[df["a"] > 2]


_UNCHANGED_CASES = {
    "label_reassigned_in_between": _label_reassigned_in_between,
    "input_column_reassigned_in_between": _input_column_reassigned_in_between,
    "input_column_reassigned_by_the_same_node": _input_column_reassigned_by_the_same_node,
    "bare_column_is_not_worth_it": _bare_column_is_not_worth_it,
}


def test_must_not_fire(compare):
    for name, fn in _UNCHANGED_CASES.items():
        with pd.option_context(fallback="raise"):
            plan = fn(_frame())._plan
        assert cse(plan) is plan, name
        compare(lambda pd_, fn=fn: fn(_frame(pd_)))


def test_row_dependent_dtype_is_not_read_back_across_a_filter():
    # map with a dict: float64 over all rows (4 is unmapped), int64 over the filtered ones
    df = _frame()
    df["x"] = df["a"].map({1: 10, 2: 20, 3: 30})
    df = df[df["a"] < 4]
    out = df.assign(y=df["a"].map({1: 10, 2: 20, 3: 30}))
    assert cse(out._plan) is out._plan
    expected = _frame(pandas)
    expected["x"] = expected["a"].map({1: 10, 2: 20, 3: 30})
    expected = expected[expected["a"] < 4]
    expected = expected.assign(y=expected["a"].map({1: 10, 2: 20, 3: 30}))
    pandas.testing.assert_frame_equal(out.to_pandas(), expected)
    assert out.to_pandas()["y"].dtype == "int64"


def test_series_method_value_keeps_its_name():
    df = _frame()
    df["x"] = df["a"] * 2
    df = df[df["k"] == 1]
    counts = (df["a"] * 2).value_counts()  # the Series is named "a", Col("x") would be "x"
    plan = counts._plan
    assert cse(plan) is plan
    expected = _frame(pandas)
    expected["x"] = expected["a"] * 2
    expected = expected[expected["k"] == 1]
    pandas.testing.assert_series_equal(counts.to_pandas(), (expected["a"] * 2).value_counts())


def test_assignment_directly_above_is_left_to_fuse_assignments():
    df = _frame()
    df["x"] = df["a"] * 2
    df["y"] = df["a"] * 2 + 1
    assert cse(df._plan) is df._plan


def test_pipelines_match_pandas(compare):
    def derived_twice(pd_):
        df = _frame(pd_)
        df["x"] = np.log1p(df["a"]) * 2
        df = df[np.log1p(df["a"]) * 2 > 2]
        df["y"] = np.log1p(df["a"]) * 2 + df["b"]
        return df.groupby("k", as_index=False)[["x", "y"]].sum()

    def reused_in_projection(pd_):
        df = _frame(pd_)
        df["x"] = df["a"] + df["b"]
        df = df.sort_values("a", kind="stable").head(3)
        return df["k"] + (df["a"] + df["b"]) * 2

    compare(derived_twice)
    compare(reused_in_projection)


# within one node: the backend memoizes equal sub-expressions ----------------------------------


def _count_ufunc_calls(monkeypatch):
    calls = {"n": 0}
    original = PandasBackend.visit_Ufunc

    def counting(self, n, *args):
        calls["n"] += 1
        return original(self, n, *args)

    monkeypatch.setattr(PandasBackend, "visit_Ufunc", counting)
    monkeypatch.setattr(BACKEND, "_kernels", {})  # the backend caches bound kernels
    return calls


def test_one_node_evaluates_a_repeated_subexpression_once(monkeypatch):
    df = _frame()
    out = df.assign(x=np.log1p(df["a"]) * 2, y=np.log1p(df["a"]) + df["b"])
    out = out[(np.log1p(out["b"]) > 0.5) & (np.log1p(out["b"]) < 1.5)]
    plan = out._plan
    fused = fuse_assignments(plan)  # the two assignments as one node
    assert isinstance(fused, Filter) and isinstance(fused.input, WithColumns)
    assert isinstance(fused.input.input, Source)
    plan = fused
    calls = _count_ufunc_calls(monkeypatch)
    got, _ = execute(plan, "pandas", optimize=False)
    # one log1p for the two assignments (one node), one for the two conjuncts (another)
    assert calls["n"] == 2
    expected = _frame(pandas)
    expected = expected.assign(
        x=np.log1p(expected["a"]) * 2, y=np.log1p(expected["a"]) + expected["b"]
    )
    expected = expected[(np.log1p(expected["b"]) > 0.5) & (np.log1p(expected["b"]) < 1.5)]
    pandas.testing.assert_frame_equal(got, expected)


# sub-plans: structurally equal ones become one object --------------------------------------


def test_equal_sub_plans_are_shared_by_the_optimizer(compare):
    def program(pd_):
        df = _frame(pd_)
        left = df[df["a"] > 1]
        left["z"] = left["a"] * 10
        right = df[df["a"] > 1]  # built again: equal, not the same object
        right["z"] = right["a"] * 10
        return pd_.concat([left, right], ignore_index=True)

    plan = program(pd)._plan
    assert isinstance(plan, Concat)
    assert plan.inputs[0] == plan.inputs[1] and plan.inputs[0] is not plan.inputs[1]
    out = optimize(plan).plan
    assert isinstance(out, Concat) and out.inputs[0] is out.inputs[1]
    nodes = list(walk(out))
    assert len(nodes) == len(set(nodes))  # each distinct sub-plan is one object
    compare(program)


def test_shared_sub_plan_runs_once_in_a_merge(compare, monkeypatch):
    def program(pd_):
        df = _frame(pd_)
        df["x"] = np.log1p(df["a"])
        by_k = df.groupby("k", as_index=False).agg(t=("x", "sum"))
        again = df.groupby("k", as_index=False).agg(t=("x", "sum"))
        return pd_.merge(by_k, again, on="k")

    plan = program(pd)._plan
    assert isinstance(plan, Join) and plan.left is not plan.right
    out = optimize(plan).plan
    assert isinstance(out, Join) and out.left is out.right
    calls = _count_ufunc_calls(monkeypatch)
    execute(plan, "pandas", optimize=True)
    assert calls["n"] == 1
    monkeypatch.undo()
    compare(program)


def test_share_returns_the_same_object_when_already_shared():
    df = _frame()
    filtered = df[df["a"] > 1]
    plan = pd.concat([filtered, filtered])._plan
    assert share(plan) is plan
