"""Generate TPC-H tables with DuckDB's ``tpch`` extension and write them as Parquet.

Run by :mod:`benchmarks.tpch.data` with the interpreter of the generator's own virtual
environment (``duckdb==1.5.5`` and ``duckdb-extension-tpch==1.5.5``), never imported by the
project: ``python _dbgen.py SF OUT_DIR``. It imports only the standard library and DuckDB.

Columns are stored as a data scientist reads them with pandas: ``DECIMAL`` as ``DOUBLE``
(pandas has no decimal dtype; it would read Python ``Decimal`` objects), ``DATE`` as
``TIMESTAMP`` (pandas reads ``datetime64[us]``; a Parquet date would read as Python
``datetime.date`` objects), integers and strings as they are.
"""

from __future__ import annotations

import os
import sys

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")


def _extension_path() -> str:
    """The ``tpch.duckdb_extension`` file shipped by ``duckdb-extension-tpch``."""
    import duckdb
    import duckdb_extension_tpch

    folder = os.path.join(
        os.path.dirname(duckdb_extension_tpch.__file__), "extensions", f"v{duckdb.__version__}"
    )
    path = os.path.join(folder, "tpch.duckdb_extension")
    if not os.path.exists(path):
        raise SystemExit(f"no tpch extension for duckdb {duckdb.__version__} at {path}")
    return path


def _select(con: object, table: str) -> str:
    """``SELECT`` of ``table`` with decimals as doubles and dates as timestamps."""
    columns = con.sql(f"DESCRIBE {table}").fetchall()  # type: ignore[attr-defined]
    parts = []
    for name, kind, *_rest in columns:
        if str(kind).startswith("DECIMAL"):
            parts.append(f"CAST({name} AS DOUBLE) AS {name}")
        elif kind == "DATE":
            parts.append(f"CAST({name} AS TIMESTAMP) AS {name}")
        else:
            parts.append(name)
    return f"SELECT {', '.join(parts)} FROM {table}"


def main(argv: list[str]) -> int:
    """Generate scale factor ``argv[0]`` into folder ``argv[1]``."""
    import duckdb

    if len(argv) != 2:
        raise SystemExit("usage: _dbgen.py SF OUT_DIR")
    sf, out = float(argv[0]), argv[1]
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{_extension_path()}'")
    con.execute(f"CALL dbgen(sf={sf!r})")
    for table in TABLES:
        path = os.path.join(out, f"{table}.parquet").replace("'", "''")
        con.execute(
            f"COPY ({_select(con, table)}) TO '{path}' "
            "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)"
        )
        print(table, con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
