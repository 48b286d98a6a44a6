"""What every query uses: reading a table in each engine, dates, the query record."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: ``inputs["dtype_backend"]``: how ``pandas_like`` reads the Parquet files.
NUMPY = "numpy"
PYARROW = "pyarrow"
DTYPE_BACKENDS = (NUMPY, PYARROW)

Implementation = Callable[[Any, Mapping[str, Any]], Any]


def day(year: int, month: int, dom: int) -> datetime.datetime:
    """A date literal as the ``datetime`` the stored timestamps compare with.

    Parameters
    ----------
    year, month, dom : int
        The date.

    Returns
    -------
    datetime.datetime
        Midnight of that day.
    """
    return datetime.datetime(year, month, dom)


def read(pd: Any, inputs: Mapping[str, Any], table: str) -> Any:
    """``pd.read_parquet`` of one table, with the run's ``dtype_backend``.

    Parameters
    ----------
    pd : module
        ``pandas`` or ``litsdf``.
    inputs : mapping
        Table name to Parquet path, and ``"dtype_backend"``: ``"numpy"`` (pandas'
        default dtypes) or ``"pyarrow"`` (``dtype_backend="pyarrow"``).
    table : str
        Table name.

    Returns
    -------
    DataFrame
        The whole table, as a data scientist reads it.
    """
    if inputs["dtype_backend"] == PYARROW:
        return pd.read_parquet(inputs[table], dtype_backend="pyarrow")
    return pd.read_parquet(inputs[table])


def scan(pl: Any, inputs: Mapping[str, Any], table: str) -> Any:
    """``polars.scan_parquet`` of one table.

    Parameters
    ----------
    pl : module
        ``polars``.
    inputs : mapping
        Table name to Parquet path.
    table : str
        Table name.

    Returns
    -------
    polars.LazyFrame
        The table, read lazily.
    """
    return pl.scan_parquet(inputs[table])


def sql(con: Any, inputs: Mapping[str, Any], text: str) -> Any:
    """Run DuckDB SQL whose ``{table}`` placeholders read the Parquet files.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection.
    inputs : mapping
        Table name to Parquet path.
    text : str
        SQL with ``{lineitem}``-style placeholders.

    Returns
    -------
    pyarrow.Table
        The query's result.
    """
    tables = {
        key: "read_parquet('{}')".format(str(value).replace("'", "''"))
        for key, value in inputs.items()
        if key != "dtype_backend"
    }
    return con.sql(text.format(**tables)).to_arrow_table()


def sql_scalar(con: Any, inputs: Mapping[str, Any], text: str) -> Any:
    """Like :func:`sql` for a query returning one value.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection.
    inputs : mapping
        Table name to Parquet path.
    text : str
        SQL with placeholders, selecting one row of one column.

    Returns
    -------
    object
        That value.
    """
    return sql(con, inputs, text).column(0)[0].as_py()


@dataclass(frozen=True)
class Query:
    """One TPC-H-style query in three engines' languages.

    Attributes
    ----------
    name : str
        ``q1`` ... ``q22``.
    description : str
        What it exercises (tables joined, filters, aggregation, ordering).
    tables : tuple of str
        The tables it reads.
    pandas_like : callable
        ``pandas_like(pd, inputs)`` in ordinary pandas code (``pd`` is pandas or litsdf).
    polars : callable
        ``polars(pl, inputs)`` on ``scan_parquet``.
    duckdb : callable
        ``duckdb(con, inputs)``: SQL over ``read_parquet``.
    """

    name: str
    description: str
    tables: tuple[str, ...]
    pandas_like: Implementation
    polars: Implementation
    duckdb: Implementation
