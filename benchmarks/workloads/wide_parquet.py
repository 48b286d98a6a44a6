"""``wide_parquet``: filter and aggregate a few columns of a 100-column Parquet file.

The program reads the whole file in the pandas API (``pd.read_parquet(path)``), filters on
one column and sums two others per group, so it uses 4 of the 100 columns. pandas reads
them all; an engine with projection pushdown reads 4. The polars (``scan_parquet``) and
DuckDB (``read_parquet`` in SQL) versions compute the same table.

The file is written by :func:`make_inputs` under the system temporary directory, once per
(rows, seed): the content is a pure function of those, so a file left by an earlier run is
reused.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NAME = "wide_parquet"
DESCRIPTION = """
Projection pushdown: a 100-column Parquet file (an int64 group key with 100 groups and 99
float64 columns) read whole in the pandas API, filtered on one column (c007 > 0.9, about 10%
of rows) and aggregated on two others (groupby key, sum of c010 and c020): 4 of the 100
columns are needed.
"""
SIZES = (100_000, 1_000_000, 5_000_000)
QUICK_SIZES = (1_000, 10_000)

N_FLOATS = 99
COLUMNS = ("key", *(f"c{i:03d}" for i in range(N_FLOATS)))
_VERSION = 1  # bump when the generator changes: cached files are keyed by it
_BATCH_ROWS = 250_000


def _path(n_rows: int, seed: int) -> str:
    """Where the file for (``n_rows``, ``seed``) lives."""
    folder = os.path.join(tempfile.gettempdir(), "litsdf-benchmarks")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"wide_parquet-v{_VERSION}-{n_rows}-{seed}.parquet")


def make_inputs(n_rows: int, seed: int) -> dict[str, Any]:
    """Write the Parquet file (unless already there) and return its path.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int
        Seed of the numpy generator; equal seeds give equal files.

    Returns
    -------
    dict of str to str
        ``{"path": path}`` of a file with columns ``key`` (int64, 0..99) and ``c000`` to
        ``c098`` (float64, uniform on [0, 1)), written in row groups of 250,000 rows.
    """
    path = _path(n_rows, seed)
    if os.path.exists(path):
        return {"path": path}
    rng = np.random.default_rng(seed)
    schema = pa.schema([("key", pa.int64())] + [(name, pa.float64()) for name in COLUMNS[1:]])
    partial = f"{path}.{os.getpid()}.partial"
    with pq.ParquetWriter(partial, schema) as writer:
        for start in range(0, max(n_rows, 1), _BATCH_ROWS):
            rows = min(_BATCH_ROWS, n_rows - start)
            arrays = [pa.array(rng.integers(0, 100, rows, dtype=np.int64))]
            arrays += [pa.array(rng.random(rows)) for _ in range(N_FLOATS)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    os.replace(partial, path)  # atomic: a concurrent or interrupted run never sees half a file
    return {"path": path}


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Read the file, filter, group and sum (``pd`` is pandas or litsdf).

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf``.
    inputs : mapping of str to str
        ``{"path": path}``.

    Returns
    -------
    DataFrame
        One row per key (sorted): columns key, c010 and c020.
    """
    df = pd.read_parquet(inputs["path"])
    df = df[df["c007"] > 0.9]
    return df.groupby("key", as_index=False)[["c010", "c020"]].sum()


def polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """The same query with ``polars.scan_parquet``.

    Parameters
    ----------
    pl : module
        The ``polars`` module.
    inputs : mapping of str to str
        ``{"path": path}``.

    Returns
    -------
    polars.DataFrame
        Same columns and rows as :func:`pandas_like`.
    """
    return (
        pl.scan_parquet(inputs["path"])
        .filter(pl.col("c007") > 0.9)
        .group_by("key")
        .agg(pl.col("c010").sum(), pl.col("c020").sum())
        .sort("key")
        .collect()
    )


def duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """The same query as DuckDB SQL over ``read_parquet``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection.
    inputs : mapping of str to str
        ``{"path": path}``.

    Returns
    -------
    pyarrow.Table
        Same columns and rows as :func:`pandas_like`.
    """
    path = str(inputs["path"]).replace("'", "''")
    return con.sql(
        f"SELECT key, sum(c010) AS c010, sum(c020) AS c020 FROM read_parquet('{path}') "
        "WHERE c007 > 0.9 GROUP BY key ORDER BY key"
    ).to_arrow_table()
