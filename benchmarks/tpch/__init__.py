"""TPC-H-style benchmark: queries written in ordinary pandas code over generated TPC-H data.

:mod:`benchmarks.tpch.data` generates and caches the tables, :mod:`benchmarks.tpch.queries`
holds the queries (pandas API, Polars, DuckDB SQL), :mod:`benchmarks.tpch.bench` runs them on
the harness' engines and writes the per-query report (``python -m benchmarks tpch``).
"""
