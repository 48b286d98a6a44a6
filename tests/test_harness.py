"""The differential harness itself: comparisons are exact, except the float values of a float
reduction that ran in the case's plan (``tests/comparison.py``).

Each case computes litsdf's side and pandas' side for real, differently on purpose (the same
values added in another order), so the harness sees a genuine last-bit difference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.ir.base import walk

from .comparison import (
    assert_matches,
    assert_same,
    executed_plans,
    float_reduction,
    has_float_reduction,
)
from .conftest import Compare


@pytest.fixture(params=[True, False], ids=["opt", "noopt"])
def compare(request: pytest.FixtureRequest) -> Compare:
    """The harness on the reference backend (the differences are made by the cases, not by a
    backend; every backend shares this comparison)."""
    return Compare(request.config, "pandas", optimize=request.param)


A, B, C = [0.1, 1.0], [0.2, 2.0], [0.3, 3.0]
"""Row 0: (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3) in binary floating point."""


def _frame(pd: Any) -> Any:
    return pd.DataFrame({"a": A, "b": B, "c": C, "k": [1, 1], "i": [2**53, 1]})


def test_the_values_differ_in_the_last_bit():
    assert (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
    assert math.isclose((0.1 + 0.2) + 0.3, 0.1 + (0.2 + 0.3), rel_tol=1e-15)
    assert sum([0.1, 0.2, 0.3]) != sum([0.3, 0.2, 0.1])


def test_an_elementwise_last_bit_difference_fails(compare: Compare):
    def case(pd: Any) -> Any:
        df = _frame(pd)
        if pd is pandas:
            return (df["a"] + df["b"]) + df["c"]
        return df["a"] + (df["b"] + df["c"])

    with pytest.raises(AssertionError):
        compare(case)


def test_an_elementwise_difference_fails_even_next_to_a_reduction():
    """A float reduction elsewhere in the case does not loosen an elementwise frame."""
    with executed_plans() as plans:
        df = _frame(litsdf)
        total = df["a"].sum()
        got = (df["a"] + (df["b"] + df["c"])).to_pandas()
    assert has_float_reduction(plans)
    pdf = _frame(pandas)
    assert total == pdf["a"].sum()
    with pytest.raises(AssertionError):
        assert_same(got, (pdf["a"] + pdf["b"]) + pdf["c"])


def test_a_reordered_float_sum_passes(compare: Compare):
    compare(lambda pd: pd.Series([0.1, 0.2, 0.3] if pd is litsdf else [0.3, 0.2, 0.1]).sum())


def test_a_reordered_float_groupby_sum_passes_and_ints_stay_exact(compare: Compare):
    def case(pd: Any, off: int = 0) -> Any:
        rows = [0.1, 0.2, 0.3] if pd is litsdf else [0.3, 0.2, 0.1]
        ints = [2**53, 1, 1] if pd is litsdf else [2**53, 1, 1 + off]
        df = pd.DataFrame({"k": [1, 1, 1], "x": rows, "i": ints})
        return df.groupby("k").agg(x=("x", "sum"), i=("i", "sum"))

    compare(case)
    with pytest.raises(AssertionError):
        compare(lambda pd: case(pd, off=1))  # 2**53 + 3 vs 2**53 + 2: within 1e-12 relatively


def test_an_int_difference_in_a_scalar_reduction_fails(compare: Compare):
    with pytest.raises(AssertionError):
        compare(lambda pd: pd.Series([2**53, 1, 1 if pd is litsdf else 2]).sum())


def test_a_float_reduction_off_by_more_than_reordering_fails(compare: Compare):
    with pytest.raises(AssertionError):
        compare(lambda pd: pd.Series([0.1, 0.2, 0.3 if pd is litsdf else 0.3 + 1e-9]).sum())


def test_order_independent_reductions_do_not_loosen_the_comparison():
    with executed_plans() as plans:
        s = litsdf.Series([0.1, 0.2, 0.3])
        got = (s.max(), s.min(), s.count())
    assert len(plans) == 3
    assert not has_float_reduction(plans)
    with pytest.raises(AssertionError):
        assert_matches((np.nextafter(got[0], 1.0), got[1], got[2]), (0.3, 0.1, 3), plans)


def test_the_plans_that_ran_are_recorded():
    with executed_plans() as plans:
        df = _frame(litsdf)
        df.groupby("k").agg(x=("a", "mean")).to_pandas()
        df["a"].std()
    assert len(plans) == 2
    assert [has_float_reduction([p]) for p in plans] == [True, True]
    assert any(float_reduction(n) for n in walk(plans[0]))
    with executed_plans() as plans:
        (_frame(litsdf)["a"] * 2).to_pandas()
    assert len(plans) == 1 and not has_float_reduction(plans)


def test_exact_comparisons_follow_pandas_testing():
    """-0.0 equals 0.0 and NaN equals NaN (as ``pandas.testing`` has it); dtypes, types and
    the index are compared exactly."""
    assert_same(pandas.Series([-0.0, np.nan]), pandas.Series([0.0, np.nan]))
    assert_same(-0.0, 0.0)
    assert_same(float("nan"), float("nan"))
    with pytest.raises(AssertionError):
        assert_same(np.float32(1.0), np.float64(1.0))
    with pytest.raises(AssertionError):
        assert_same(pandas.Series([1.0], dtype="float32"), pandas.Series([1.0]))
    with pytest.raises(AssertionError):  # the index stays exact under the tolerance
        assert_same(
            pandas.Series([1.0], index=[np.nextafter(1.0, 2.0)]),
            pandas.Series([1.0], index=[1.0]),
            tolerant=True,
        )
    with pytest.raises(AssertionError):  # so do integer columns
        assert_same(
            pandas.DataFrame({"x": [1.0], "i": [2**62 + 1]}),
            pandas.DataFrame({"x": [1.0], "i": [2**62]}),
            tolerant=True,
        )
    assert_same(
        pandas.DataFrame({"x": [np.nextafter(1.0, 2.0)], "i": [2**62]}),
        pandas.DataFrame({"x": [1.0], "i": [2**62]}),
        tolerant=True,
    )
