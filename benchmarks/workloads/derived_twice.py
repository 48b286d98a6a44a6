"""``derived_twice``: the same derived column computed three times in a pipeline.

The program assigns ``score = log1p(a) * sqrt(w) + b``, filters on the same expression written
again, and derives ``adj`` from it a third time; then it aggregates 10 of the frame's 30
columns per group. pandas computes the expression three times and filters all 30 columns.
litsdf's optimizer reads the assigned column back (``cse``) and carries only the columns
used (projection pushdown). The polars (lazy) and DuckDB (SQL) versions compute the same
table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas

NAME = "derived_twice"
DESCRIPTION = """
Common-subexpression elimination: an in-memory frame of 30 columns (an int64 group key with
50 groups and 29 float64 columns); the pipeline assigns score = log1p(a) * sqrt(w) + b, filters
on the same expression written again (about 60% of rows kept), derives adj from it a third
time, and aggregates 10 of the 30 columns per group (groupby-agg, sorted by key).
"""
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (200, 2_000)

N_FLOATS = 29
FLOATS = ("a", "w", "b", "c", *(f"x{i:02d}" for i in range(N_FLOATS - 4)))
THRESHOLD = 1.0


def make_inputs(n_rows: int, seed: int) -> dict[str, pandas.DataFrame]:
    """Generate the 30-column table.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int
        Seed of the numpy generator; equal seeds give equal frames.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"t": frame}`` with columns ``k`` (int64, 0..49), ``a``, ``w``, ``b``, ``c`` and
        ``x00`` to ``x24`` (float64).
    """
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {"k": rng.integers(0, 50, n_rows).astype("int64")}
    for name in FLOATS:
        data[name] = rng.random(n_rows) * 4.0 if name == "a" else rng.random(n_rows) + 0.5
    return {"t": pandas.DataFrame(data)}


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline in the pandas API (``pd`` is pandas or litsdf).

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf`` (unused: every operation is a method call).
    inputs : mapping of str to DataFrame
        ``{"t": frame}``; the frame may be modified in place.

    Returns
    -------
    DataFrame
        One row per key: k, score, adj, n, s00..s03, m04.
    """
    df = inputs["t"]
    df["score"] = np.log1p(df["a"]) * np.sqrt(df["w"]) + df["b"]
    df = df[np.log1p(df["a"]) * np.sqrt(df["w"]) + df["b"] > THRESHOLD]
    df["adj"] = (np.log1p(df["a"]) * np.sqrt(df["w"]) + df["b"]) / df["c"]
    return df.groupby("k", as_index=False).agg(
        score=("score", "sum"),
        adj=("adj", "mean"),
        n=("score", "count"),
        s00=("x00", "sum"),
        s01=("x01", "sum"),
        s02=("x02", "sum"),
        s03=("x03", "sum"),
        m04=("x04", "max"),
    )


def polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline with the polars lazy API.

    Parameters
    ----------
    pl : module
        The ``polars`` module.
    inputs : mapping of str to polars.DataFrame
        ``{"t": frame}``.

    Returns
    -------
    polars.DataFrame
        Same columns and rows as :func:`pandas_like`.
    """
    col = pl.col
    score = col("a").log1p() * col("w").sqrt() + col("b")
    return (
        inputs["t"]
        .lazy()
        .with_columns(score=score)
        .filter(score > THRESHOLD)
        .with_columns(adj=score / col("c"))
        .group_by("k")
        .agg(
            score=col("score").sum(),
            adj=col("adj").mean(),
            n=col("score").count(),
            s00=col("x00").sum(),
            s01=col("x01").sum(),
            s02=col("x02").sum(),
            s03=col("x03").sum(),
            m04=col("x04").max(),
        )
        .sort("k")
        .collect()
    )


_SQL = f"""
WITH scored AS (
    SELECT k, c, x00, x01, x02, x03, x04, ln(1 + a) * sqrt(w) + b AS score FROM t
)
SELECT
    k,
    sum(score) AS score,
    avg(score / c) AS adj,
    count(score) AS n,
    sum(x00) AS s00,
    sum(x01) AS s01,
    sum(x02) AS s02,
    sum(x03) AS s03,
    max(x04) AS m04
FROM scored
WHERE score > {THRESHOLD}
GROUP BY k
ORDER BY k
"""


def duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline as one DuckDB SQL query.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection on which the ``t`` table is registered.
    inputs : mapping of str to pyarrow.Table
        The registered tables (unused: the SQL names them).

    Returns
    -------
    pyarrow.Table
        Same columns and rows as :func:`pandas_like`.
    """
    return con.sql(_SQL).to_arrow_table()
