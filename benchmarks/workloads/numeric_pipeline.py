"""``numeric_pipeline``: a numeric feature pipeline (the numba backend's home ground).

Arithmetic, ``np.log1p``, ``clip``, ``where``, ``fillna``, one filter and a groupby-mean
over an integer key: in litsdf the column steps and the filter fuse into one generated loop
and the groupby runs numba kernels over factorized keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas

NAME = "numeric_pipeline"
DESCRIPTION = """
A numeric feature pipeline: fillna, clip, arithmetic, np.log1p, where, a boolean filter and
a groupby-mean over an integer store key (200 groups), on float (5% NaN) and int columns.
"""
SIZES = (100, 10_000, 1_000_000)
QUICK_SIZES = (100, 2_000)


def make_inputs(n_rows: int, seed: int) -> dict[str, pandas.DataFrame]:
    """Generate the ``tx`` table.

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
    rng = np.random.default_rng(seed)
    price = rng.gamma(2.0, 20.0, n_rows)
    price[rng.random(n_rows) < 0.05] = np.nan
    frame = pandas.DataFrame(
        {
            "store": rng.integers(0, 200, n_rows).astype("int64"),
            "price": price,
            "qty": rng.integers(0, 50, n_rows).astype("int64"),
            "cost": rng.uniform(1.0, 30.0, n_rows),
            "discount": rng.normal(0.1, 0.1, n_rows),
        }
    )
    return {"tx": frame}


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline in the pandas API (``pd`` is pandas or litsdf).

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf`` (unused: every operation is a method call).
    inputs : mapping of str to DataFrame
        ``{"tx": frame}``; the frame may be modified in place.

    Returns
    -------
    DataFrame
        Per store: mean margin, mean log revenue and mean bonus.
    """
    return pipeline(inputs["tx"])


def pipeline(df: Any) -> Any:
    """The pipeline on one DataFrame (pandas or litsdf), as a user writes it."""
    df["price"] = df["price"].fillna(0.0)
    df["discount"] = df["discount"].clip(0.0, 0.3)
    df["revenue"] = df["price"] * df["qty"] * (1 - df["discount"])
    df["margin"] = (df["revenue"] - df["cost"] * df["qty"]) / (df["qty"] + 1)
    df["log_rev"] = np.log1p(df["revenue"])
    df["bonus"] = df["margin"].where(df["margin"] > 0, 0.0)
    df = df[(df["qty"] > 0) & (df["price"] > 1.0)]
    return df.groupby("store", as_index=False)[["margin", "log_rev", "bonus"]].mean()


def polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline with the polars lazy API.

    Parameters
    ----------
    pl : module
        The ``polars`` module.
    inputs : mapping of str to polars.DataFrame
        ``{"tx": frame}``.

    Returns
    -------
    polars.DataFrame
        Same rows and columns as :func:`pandas_like` (store as a column).
    """
    col = pl.col
    price = col("price").fill_null(0.0).fill_nan(0.0)
    revenue = price * col("qty") * (1 - col("discount").clip(0.0, 0.3))
    margin = (revenue - col("cost") * col("qty")) / (col("qty") + 1)
    return (
        inputs["tx"]
        .lazy()
        .with_columns(price=price, revenue=revenue, margin=margin)
        .with_columns(
            log_rev=col("revenue").log1p(),
            bonus=pl.when(col("margin") > 0).then(col("margin")).otherwise(0.0),
        )
        .filter((col("qty") > 0) & (col("price") > 1.0))
        .group_by("store")
        .agg(col("margin").mean(), col("log_rev").mean(), col("bonus").mean())
        .sort("store")
        .collect()
    )
