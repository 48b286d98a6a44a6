"""The benchmark harness runs end to end (tiny sizes) and its correctness checks hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("engines", ["pandas,litsdf-auto,litsdf-pandas,polars,duckdb"])
def test_quick_run_writes_report(tmp_path: Path, engines: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "run",
        "--quick",
        "--engines",
        engines,
        "--out",
        str(tmp_path),
        "--name",
        "smoke",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "smoke.json").read_text())
    text = json.dumps(result)
    assert "pipeline20" in text
    assert "mismatch" not in text.lower(), text[:2000]
    report = (tmp_path / "report.md").read_text()
    assert "litsdf-pandas" in report and "pandas" in report
    assert list(tmp_path.glob("*.png")), "the log-log plot was not written"


def test_optimizer_time_writes_its_table(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "benchmarks", "optimizer-time", "--sizes", "20"]
    cmd += ["--repeat", "2", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads((tmp_path / "optimizer_time.json").read_text())["results"]
    assert row["nodes"] >= 20 and row["median_ms"] > 0 and row["trace_median_ms"] > 0
    assert {"fuse_assignments", "simplify"} <= set(row["fired"])
    table = (tmp_path / "optimizer_time.md").read_text()
    assert "| 20 |" in table and "tracing ms" in table


TPCH_QUICK_SF = 0.01


def _tpch_data_or_skip() -> None:
    """Skip unless the SF 0.01 TPC-H data exists or can be made without creating a venv."""
    from benchmarks.tpch import data

    if not data.available(TPCH_QUICK_SF) and not data.generator_ready():
        pytest.skip(
            f"TPC-H SF {TPCH_QUICK_SF} data is not generated in {data.data_dir(TPCH_QUICK_SF)} "
            "and the generator venv does not exist (tests never create it): run "
            "`python -m benchmarks tpch-data --sf 0.01` once"
        )


def test_tpch_quick_run_checks_every_query_on_both_dtype_backends(tmp_path: Path) -> None:
    _tpch_data_or_skip()
    from benchmarks.tpch import report as tpch_report
    from benchmarks.tpch.queries import QUERIES

    cmd = [sys.executable, "-m", "benchmarks", "tpch", "--quick", "--out", str(tmp_path)]
    cmd += ["--name", "smoke"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads((tmp_path / "smoke.json").read_text())
    assert document["config"]["sf"] == "0.01" and len(QUERIES) >= 8
    by_case = {(r["query"], r["dtype_backend"], r["engine"]): r for r in document["results"]}
    for query in QUERIES:
        for backend in ("numpy", "pyarrow"):
            for engine in ("pandas", "litsdf-auto", "polars", "duckdb"):
                record = by_case[(query, backend, engine)]
                assert record["status"] == "ok", (query, backend, engine, record["error"])
                assert record["check"] == "ok" and record["median_s"] > 0, record
            arrow = by_case[(query, backend, "litsdf-arrow")]  # absent until that backend lands
            assert arrow["status"] in ("ok", "unavailable", "declined"), arrow
            assert arrow["check"] in (None, "ok"), arrow
    assert not tpch_report.problems(document)
    # the geomean row is the geomean of the per-query ratios in the JSON
    ratios = [
        by_case[(q, "numpy", "litsdf-auto")]["median_s"]
        / by_case[(q, "numpy", "pandas")]["median_s"]
        for q in QUERIES
    ]
    expected = tpch_report.geomean(ratios)
    report = (tmp_path / "report.md").read_text()
    numpy_section = report[report.index("## Read with default (numpy) dtypes") :]
    geomean_row = next(line for line in numpy_section.splitlines() if "**geomean**" in line)
    assert geomean_row.split("|")[2].strip() == f"{expected:.2f}x", geomean_row
    assert (tmp_path / tpch_report.PLOT).stat().st_size > 10_000


def test_tpch_without_data_fails_naming_the_folder_and_the_command(tmp_path: Path) -> None:
    env = {**os.environ, "LITSDF_TPCH_DIR": str(tmp_path / "empty")}
    cmd = [sys.executable, "-m", "benchmarks", "tpch", "--sf", "0.01", "--no-generate"]
    cmd += ["--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert str(tmp_path / "empty" / "tpch" / "sf0.01") in done.stderr
    assert "python -m benchmarks tpch-data --sf 0.01" in done.stderr
    assert not (tmp_path / "empty" / "tpch-venv").exists()  # --no-generate creates no venv


def test_tpch_data_reads_as_floats_and_timestamps_in_pandas() -> None:
    _tpch_data_or_skip()
    import pandas

    from benchmarks.tpch import data

    paths = data.ensure(TPCH_QUICK_SF, log=False)
    lineitem = pandas.read_parquet(paths["lineitem"])
    assert len(lineitem) > 50_000 and list(paths) == list(data.TABLES)
    assert str(lineitem["l_extendedprice"].dtype) == "float64"  # DECIMAL stored as DOUBLE
    assert str(lineitem["l_shipdate"].dtype).startswith("datetime64")  # DATE as TIMESTAMP
    arrow = pandas.read_parquet(paths["orders"], dtype_backend="pyarrow")
    assert str(arrow["o_orderdate"].dtype).startswith("timestamp")
    assert str(arrow["o_totalprice"].dtype) == "double[pyarrow]"
