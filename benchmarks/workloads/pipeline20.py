"""``pipeline20``: a ~20-step pandas pipeline ("tracing is cheap").

:func:`pandas_like` has 17 statements made of 28 elementary pandas
operations (column reads and assignments not counted):

====  ==========================================  ===
step  operations                                  ops
====  ==========================================  ===
1     ``price.fillna(0.0)``                       1
2     ``discount.clip(0.0, 0.3)``                 1
3     ``gross = price * qty``                     1
4     ``net = (gross * (1 - discount)).round(2)`` 3
5     ``np.log1p(net.abs())``                     2
6     ``title.str.strip().str.lower()``           2
7     ``.str.len().astype("int64")``              2
8     ``.str.contains("pro", regex=False)``       1
9     ``ts.dt.month``                             1
10    ``ts.dt.day_of_week >= 5``                  2
11    ``net.where(is_pro, 0.0)``                  1
12    mask: ``isin``, ``|``, ``~``, ``between``,  8
      ``!=``, three ``&``
13    ``df[mask]``                                1
14    ``df[[...]]``                               1
15    ``groupby([...], as_index=False).agg(...)`` 1
16    ``sort_values("total", ascending=False)``   1
17    ``head(25)``                                1
====  ==========================================  ===

The polars (lazy) and DuckDB (SQL) versions compute the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas

NAME = "pipeline20"
DESCRIPTION = """
Tracing is cheap: a ~20-operation pipeline (fillna, clip, arithmetic, round,
abs, log1p, string strip/lower/len/contains, dt.month/day_of_week, where,
isin/between/boolean-mask filter, column selection, groupby-agg, sort, head)
over one sales table with float (5% NaN), int, string, datetime and bool
columns, producing the top 25 (region, cat) groups by net revenue.
"""
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (200, 2_000)

REGIONS = ("north", "south", "east", "west", "centre", "coast", "alps", "isles")
CATEGORIES = tuple(f"cat{i:02d}" for i in range(20))
FOCUS_REGIONS = ["north", "east", "alps"]
_WORDS = np.array(
    ["Foo", "PRO", "bar", "Pro Max", "widget", "GADGET", "gizmo", "Lite", "pro", "Kit"]
)
_TOP = 25


def make_inputs(n_rows: int, seed: int) -> dict[str, pandas.DataFrame]:
    """Generate the ``sales`` table.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int
        Seed of the numpy generator; equal seeds give equal frames.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"sales": frame}`` with columns price, qty, discount, region, cat,
        title, ts and flag.
    """
    rng = np.random.default_rng(seed)
    # Unrounded prices: exact .5 ties would make round(2) engine-dependent.
    price = rng.gamma(2.0, 20.0, n_rows)
    price[rng.random(n_rows) < 0.05] = np.nan
    numbers = rng.integers(1, 1000, n_rows).astype(str)
    words = _WORDS[rng.integers(0, len(_WORDS), n_rows)]
    lead = np.array(["", " ", "  "])[rng.integers(0, 3, n_rows)]
    trail = np.array(["", " ", "  "])[rng.integers(0, 3, n_rows)]
    item = np.array(["Item", "ITEM", "item"])[rng.integers(0, 3, n_rows)]
    title = lead
    for part in (item, " ", numbers, " ", words, trail):
        title = np.char.add(title, part)
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    seconds = rng.integers(0, 366 * 86_400, n_rows).astype("timedelta64[s]")
    frame = pandas.DataFrame(
        {
            "price": price,
            "qty": rng.integers(0, 80, n_rows).astype("int64"),
            "discount": rng.uniform(0.0, 0.5, n_rows),
            "region": pandas.Series(
                np.array(REGIONS)[rng.integers(0, len(REGIONS), n_rows)], dtype="str"
            ),
            "cat": pandas.Series(
                np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n_rows)],
                dtype="str",
            ),
            "title": pandas.Series(title, dtype="str"),
            "ts": (start + seconds.astype("timedelta64[ns]")).astype("datetime64[ns]"),
            "flag": rng.random(n_rows) < 0.3,
        }
    )
    return {"sales": frame}


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline in the pandas API (``pd`` is pandas or litsdf).

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf`` (unused: every operation is a method call).
    inputs : mapping of str to DataFrame
        ``{"sales": frame}``; the frame may be modified in place.

    Returns
    -------
    DataFrame
        Top groups with columns region, cat, total, n, avg_log, bonus,
        title_len.
    """
    df = inputs["sales"]
    df["price"] = df["price"].fillna(0.0)
    df["discount"] = df["discount"].clip(0.0, 0.3)
    df["gross"] = df["price"] * df["qty"]
    df["net"] = (df["gross"] * (1 - df["discount"])).round(2)
    df["log_net"] = np.log1p(df["net"].abs())
    df["title_clean"] = df["title"].str.strip().str.lower()
    df["title_len"] = df["title_clean"].str.len().astype("int64")
    df["is_pro"] = df["title_clean"].str.contains("pro", regex=False)
    df["month"] = df["ts"].dt.month
    df["weekend"] = df["ts"].dt.day_of_week >= 5
    df["bonus"] = df["net"].where(df["is_pro"], 0.0)
    mask = (
        (df["region"].isin(FOCUS_REGIONS) | df["flag"])
        & ~df["weekend"]
        & df["qty"].between(1, 50)
        & (df["month"] != 12)
    )
    df = df[mask]
    df = df[["region", "cat", "net", "log_net", "bonus", "title_len"]]
    out = df.groupby(["region", "cat"], as_index=False).agg(
        total=("net", "sum"),
        n=("net", "count"),
        avg_log=("log_net", "mean"),
        bonus=("bonus", "sum"),
        title_len=("title_len", "mean"),
    )
    out = out.sort_values("total", ascending=False)
    return out.head(_TOP)


def polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline with the polars lazy API.

    Parameters
    ----------
    pl : module
        The ``polars`` module.
    inputs : mapping of str to polars.DataFrame
        ``{"sales": frame}``.

    Returns
    -------
    polars.DataFrame
        Same columns and rows as :func:`pandas_like`.
    """
    col = pl.col
    title = col("title").str.strip_chars().str.to_lowercase()
    net = (col("price").fill_null(0.0) * col("qty") * (1 - col("discount").clip(0.0, 0.3))).round(2)
    return (
        inputs["sales"]
        .lazy()
        .with_columns(
            net=net,
            title_len=title.str.len_chars(),
            is_pro=title.str.contains("pro", literal=True),
            month=col("ts").dt.month(),
            weekend=col("ts").dt.weekday() >= 6,
        )
        .with_columns(
            log_net=col("net").abs().log1p(),
            bonus=pl.when(col("is_pro")).then(col("net")).otherwise(0.0),
        )
        .filter(
            (col("region").is_in(FOCUS_REGIONS) | col("flag"))
            & ~col("weekend")
            & col("qty").is_between(1, 50)
            & (col("month") != 12)
        )
        .group_by("region", "cat")
        .agg(
            total=col("net").sum(),
            n=col("net").count(),
            avg_log=col("log_net").mean(),
            bonus=col("bonus").sum(),
            title_len=col("title_len").mean(),
        )
        .sort("total", descending=True)
        .head(_TOP)
        .collect()
    )


_SQL = f"""
WITH enriched AS (
    SELECT
        region,
        cat,
        flag,
        qty,
        round(coalesce(price, 0.0) * qty * (1 - least(greatest(discount, 0.0), 0.3)), 2)
            AS net,
        lower(trim(title)) AS title_clean,
        month(ts) AS month,
        isodow(ts) >= 6 AS weekend
    FROM sales
)
SELECT
    region,
    cat,
    sum(net) AS total,
    count(net) AS n,
    avg(ln(1 + abs(net))) AS avg_log,
    sum(CASE WHEN contains(title_clean, 'pro') THEN net ELSE 0.0 END) AS bonus,
    avg(length(title_clean)) AS title_len
FROM enriched
WHERE (region IN ({", ".join(repr(r) for r in FOCUS_REGIONS)}) OR flag)
    AND NOT weekend
    AND qty BETWEEN 1 AND 50
    AND month <> 12
GROUP BY region, cat
ORDER BY total DESC
LIMIT {_TOP}
"""


def duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """Run the pipeline as one DuckDB SQL query.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection on which the ``sales`` table is registered.
    inputs : mapping of str to pyarrow.Table
        The registered tables (unused: the SQL names them).

    Returns
    -------
    pyarrow.Table
        Same columns and rows as :func:`pandas_like`.
    """
    return con.sql(_SQL).to_arrow_table()
