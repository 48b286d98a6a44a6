"""Rule: dead_columns."""

# ruff: noqa: E501  (golden plan texts print whole nodes on one line)

from __future__ import annotations

from typing import Any

import pandas
import pytest

import litsdf as pd
from litsdf_compiler.optimizer.dead_columns import dead_columns

from .helpers import check_rule


def _frame() -> Any:
    return pd.DataFrame(
        {"k": [1, 2, 1, 3], "a": [1.5, 2.5, None, 4.5], "b": [10, 20, 30, 40], "s": list("wxyz")}
    )


def test_unused_assignments_are_dropped() -> None:
    df = _frame()
    df["c"] = df["a"] * 2
    df["d"] = df["b"] + 1
    out = df[["a", "d"]]
    check_rule(
        dead_columns,
        out._plan,
        """
        Project a=a, d=d
          WithColumns d=(b + 1)
            WithColumns c=(a * 2)
              Source DataFrame 4x4 [k, a, b, s]
        """,
        """
        Project a=a, d=d
          WithColumns d=(b + 1)
            Source DataFrame 4x4 [k, a, b, s]
        """,
    )


def test_a_chain_of_dead_columns_goes_in_one_call() -> None:
    df = _frame()
    df["c"] = df["a"] * 2
    df = df[df["k"] > 1]
    df["e"] = df["c"] + df["b"]  # e is unused, so c becomes unused once e is gone
    out = df.groupby("k")["b"].sum()
    check_rule(
        dead_columns,
        out._rel,
        """
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='series' selected=['b'] shape='series' key_list=False as_index=True sort=True dropna=True
          WithColumns e=(c + b)
            Filter (k > 1)
              WithColumns c=(a * 2)
                Source DataFrame 4x4 [k, a, b, s]
        """,
        """
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='series' selected=['b'] shape='series' key_list=False as_index=True sort=True dropna=True
          Filter (k > 1)
            Source DataFrame 4x4 [k, a, b, s]
        """,
    )


def test_unused_projected_columns_are_dropped() -> None:
    df = _frame()
    p = df[["k", "a", "b"]]
    p = p * 2
    out = p[p["k"] > 2][["a"]]
    check_rule(
        dead_columns,
        out._plan,
        """
        Project a=a
          Filter (k > 2)
            Project k=(k * 2), a=(a * 2), b=(b * 2)
              Project k=k, a=a, b=b
                Source DataFrame 4x4 [k, a, b, s]
        """,
        """
        Project a=a
          Filter (k > 2)
            Project k=(k * 2), a=(a * 2)
              Project k=k, a=a
                Source DataFrame 4x4 [k, a, b, s]
        """,
    )


def test_unused_replacement_of_an_existing_column_is_dropped() -> None:
    df = _frame()
    df["s"] = df["a"].round()  # replaces s (str -> float); nothing downstream reads s
    out = df.groupby("k", as_index=False)[["b"]].sum()
    check_rule(
        dead_columns,
        out._plan,
        """
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='frame' selected=['b'] shape='frame' key_list=False as_index=False sort=True dropna=True
          WithColumns s=round(a, decimals=0)
            Source DataFrame 4x4 [k, a, b, s]
        """,
        """
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='frame' selected=['b'] shape='frame' key_list=False as_index=False sort=True dropna=True
          Source DataFrame 4x4 [k, a, b, s]
        """,
    )


def test_used_replacement_stays() -> None:
    df = _frame()
    df["s"] = df["a"].round()
    out = df[["s", "k"]]
    # s is read: its values, dtype and position come from the assignment
    assert dead_columns(out._plan) is out._plan


def test_root_assignments_stay() -> None:
    df = _frame()
    df["c"] = df["a"] * 2
    # the root's output is observed in full
    assert dead_columns(df._plan) is df._plan


def test_a_failing_cast_stays_even_unused() -> None:
    df = _frame()
    df["i"] = df["a"].astype("int64")  # NaN -> pandas raises IntCastingNaNError
    out = df[["k"]]
    assert dead_columns(out._plan) is out._plan
    with pytest.raises(pandas.errors.IntCastingNaNError):
        out.to_pandas()


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda df: df.drop_duplicates()[["k"]], id="drop_duplicates-no-subset"),
        pytest.param(lambda df: df.dropna()[["k"]], id="dropna-no-subset"),
        pytest.param(lambda df: df.describe()[["k"]], id="describe"),
        pytest.param(lambda df: df.drop(columns=["s"]).sum(), id="frame-reduce"),
        pytest.param(lambda df: df.groupby("k").max()[["a"]], id="groupby-all-columns"),
    ],
)
def test_consumers_of_every_column_keep_assignments(build: Any) -> None:
    df = _frame()
    df["c"] = df["a"] * 2
    out = build(df)
    plan = out._plan if hasattr(out, "_plan") else out._rel
    assert dead_columns(plan) is plan


def test_join_overlap_decides_which_assignments_live() -> None:
    left = _frame()
    left["c"] = left["b"] * 2
    left["z"] = left["b"] * 3
    right = pd.DataFrame({"k": [1, 2], "c": [5, 6]})
    out = left.merge(right, on="k")[["c_x", "k"]]
    # c overlaps with the right side (c_x is read) and stays; z is dead
    check_rule(
        dead_columns,
        out._plan,
        """
        Project c_x=c_x, k=k
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            WithColumns z=(b * 3)
              WithColumns c=(b * 2)
                Source DataFrame 4x4 [k, a, b, s]
            Source DataFrame 2x2 [k, c]
        """,
        """
        Project c_x=c_x, k=k
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            WithColumns c=(b * 2)
              Source DataFrame 4x4 [k, a, b, s]
            Source DataFrame 2x2 [k, c]
        """,
    )


def _cases() -> list[Any]:
    def assign_then_select(pd_: Any) -> Any:
        df = pd_.DataFrame({"k": [1, 2, 2, 3], "a": [1.0, None, 3.0, 4.0], "s": list("abcd")})
        df["t"] = df["s"].str.upper()
        df["u"] = df["a"].fillna(0) * 2
        df["s"] = df["k"] + 1
        df = df[df["u"] > 0]
        return df[["k", "u"]].sort_values("u", ascending=False, kind="stable")

    def overwrite_twice(pd_: Any) -> Any:
        df = pd_.DataFrame({"k": [1, 2, 2, 3], "a": [1.0, 2.0, 3.0, 4.0]})
        df["b"] = df["a"] + 1
        df["c"] = df["b"] * 2
        df["b"] = df["c"] - 1
        return df[["c", "k"]]

    def grouped(pd_: Any) -> Any:
        df = pd_.DataFrame({"k": [1, 2, 2, 3], "a": [1.0, 2.0, 3.0, 4.0], "b": [4, 3, 2, 1]})
        df["x"] = df["a"] * df["b"]
        df["y"] = df["a"] - df["b"]
        return df.groupby("k", as_index=False).agg(m=("x", "max"))

    return [assign_then_select, overwrite_twice, grouped]


def test_differential_against_pandas(compare: Any) -> None:
    for fn in _cases():
        compare(fn)
