"""Rule: fuse_assignments."""

from __future__ import annotations

import litsdf as pd
from litsdf_compiler.optimizer.fuse_assignments import fuse_assignments

from .helpers import check_rule


def _frame():
    return pd.DataFrame({"a": [1, 2, 3], "s": ["x", None, "z"]})


def test_independent_assignments_fuse():
    df = _frame()
    df["b"] = df["a"] + 1
    df["c"] = df["a"] * 2
    check_rule(
        fuse_assignments,
        df._plan,
        """
        WithColumns c=(a * 2)
          WithColumns b=(a + 1)
            Source DataFrame 3x2 [a, s]
        """,
        """
        WithColumns b=(a + 1), c=(a * 2)
          Source DataFrame 3x2 [a, s]
        """,
    )


def test_dependent_assignment_substitutes_and_reassignment_keeps_position():
    df = _frame()
    df["b"] = df["a"] + 1
    df["c"] = df["b"] * 2
    df["b"] = df["c"] - 1
    check_rule(
        fuse_assignments,
        df._plan,
        """
        WithColumns b=(c - 1)
          WithColumns c=(b * 2)
            WithColumns b=(a + 1)
              Source DataFrame 3x2 [a, s]
        """,
        """
        WithColumns b=(a + 1), c=((a + 1) * 2), b=(((a + 1) * 2) - 1)
          Source DataFrame 3x2 [a, s]
        """,
    )


def test_literal_assignment_read_later_is_not_substituted():
    df = _frame()
    df["k"] = "lit"
    df["u"] = df["k"].str.upper()
    check_rule(
        fuse_assignments,
        df._plan,
        """
        WithColumns u=strcase(k, how='upper')
          WithColumns k='lit'
            Source DataFrame 3x2 [a, s]
        """,
        """
        WithColumns u=strcase(k, how='upper')
          WithColumns k='lit'
            Source DataFrame 3x2 [a, s]
        """,
    )


def test_nothing_to_fuse_returns_same_object():
    df = _frame()
    df["b"] = df["a"] + 1
    out = df[df["b"] > 1]
    assert fuse_assignments(out._plan) is out._plan
