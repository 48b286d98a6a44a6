"""The benchmark harness runs end to end (tiny sizes) and its correctness checks hold."""

from __future__ import annotations

import json
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
