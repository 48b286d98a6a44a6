"""``groupby_agg``: a filter, a computed column and a groupby reduction with the keys as the
index (a physical ``GroupAgg``: in litsdf's numba backend one fused loop that filters,
computes and accumulates per group).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas

from .numeric_pipeline import make_inputs as _numeric_inputs

NAME = "groupby_agg"
DESCRIPTION = """
A groupby with the keys as the index: fillna, a product, a boolean filter, then
groupby(store)[[revenue, cost, discount]].mean() over an integer store key (200 groups), on
float (5% NaN) and int columns.
"""
SIZES = (10_000, 1_000_000)
QUICK_SIZES = (100, 2_000)


def make_inputs(n_rows: int, seed: int) -> dict[str, pandas.DataFrame]:
    """Generate the ``tx`` table (the ``numeric_pipeline`` workload's).

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int
        Seed of the numpy generator; equal seeds give equal frames.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"tx": frame}`` with columns store, price, qty, cost and discount.
    """
    return _numeric_inputs(n_rows, seed)


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the groupby in the pandas API (``pd`` is pandas or litsdf).

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf`` (unused: every operation is a method call).
    inputs : mapping of str to DataFrame
        ``{"tx": frame}``; the frame may be modified in place.

    Returns
    -------
    DataFrame
        Per store (the index): mean revenue, cost and discount of the rows sold.
    """
    df = inputs["tx"]
    df["revenue"] = df["price"].fillna(0.0) * df["qty"]
    df = df[df["qty"] > 0]
    return df.groupby("store")[["revenue", "cost", "discount"]].mean()
