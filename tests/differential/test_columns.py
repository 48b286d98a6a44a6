"""Column selection, assignment, assign, pipe and attribute access."""

from __future__ import annotations

import pytest

from .data import frame


def test_select_column(compare):
    compare(lambda pd: frame(pd)["f"])


def test_select_columns(compare):
    compare(lambda pd: frame(pd)[["s", "i", "t"]])


def test_attribute_column(compare):
    compare(lambda pd: frame(pd).f)


@pytest.mark.parametrize("value", [1, 2.5, "x", True, None])
def test_assign_scalar(compare, value):
    def case(pd):
        df = frame(pd)
        df["new"] = value
        return df

    compare(case)


def test_assign_replaces_in_place(compare):
    def case(pd):
        df = frame(pd)
        df["i"] = df["i"] * 2.5
        return df

    compare(case)


def test_assign_method_with_lambdas(compare):
    compare(lambda pd: frame(pd).assign(a=lambda d: d["i"] + 1, b=lambda d: d["a"] * 2, c=3))


def test_pipe(compare):
    compare(lambda pd: frame(pd).pipe(lambda d, n: d.head(n), 3))


def test_original_unchanged_after_derivation(compare):
    def case(pd):
        df = frame(pd)
        other = df.copy()
        other["i"] = 0
        return df

    compare(case)
