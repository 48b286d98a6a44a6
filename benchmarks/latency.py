"""First-call latency of compiled pipelines, in a fresh process and in a second one.

For each workload with a ``pipeline(df)``: a child process imports litsdf, compiles the
pipeline (trace + optimize), runs ``transform_row`` twice and ``pipe(df)`` twice per backend,
timing each call. The child runs twice with the same (initially empty) kernel cache
directory: the first process pays every compilation, the second loads numba kernels from the
disk cache. ``python -m benchmarks latency`` writes ``latency.json`` and ``latency.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

__all__ = ["measure", "child_main"]

BACKENDS = ("rows", "numba", "pandas")


def _timed(fn: Any) -> tuple[float | None, str | None]:
    start = time.perf_counter()
    try:
        fn()
    except NotImplementedError as err:  # a backend that declines the plan
        return None, " ".join(str(err).split())[:160]
    return time.perf_counter() - start, None


def child_main(workload_name: str, n_rows: int) -> dict[str, Any]:
    """Measure in this (fresh) process; the returned dict is printed as JSON."""
    start = time.perf_counter()
    import litsdf
    from benchmarks.workloads import select

    out: dict[str, Any] = {"import_s": time.perf_counter() - start}
    workload = select([workload_name])[0]
    (frame,) = workload.make_inputs(n_rows, 0).values()
    row = frame.iloc[:1].to_dict("records")[0]
    start = time.perf_counter()
    pipe = litsdf.compile(workload.pipeline, example=frame)  # type: ignore[arg-type]
    out["compile_s"] = time.perf_counter() - start
    out["transform_row_first_s"], out["transform_row_error"] = _timed(
        lambda: pipe.transform_row(row)
    )
    out["transform_row_next_s"], _ = _timed(lambda: pipe.transform_row(row))
    for backend in BACKENDS:
        with litsdf.option_context(backend=backend):
            first, error = _timed(lambda: pipe(frame))
            following, _ = _timed(lambda: pipe(frame)) if error is None else (None, None)
        out[f"pipe_{backend}_first_s"] = first
        out[f"pipe_{backend}_next_s"] = following
        out[f"pipe_{backend}_error"] = error
    return out


def _run_child(workload: str, n_rows: int, cache_dir: str) -> dict[str, Any]:
    env = {**os.environ, "LITSDF_CACHE_DIR": cache_dir}
    code = (
        "import json, sys; from benchmarks.latency import child_main; "
        f"print(json.dumps(child_main({workload!r}, {n_rows})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"latency child failed for {workload}:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(workloads: list[str], n_rows: int) -> list[dict[str, Any]]:
    """Cold (first process) and warm-cache (second process) latencies per workload."""
    rows = []
    for name in workloads:
        with tempfile.TemporaryDirectory(prefix="litsdf-latency-") as cache:
            first = _run_child(name, n_rows, cache)
            second = _run_child(name, n_rows, cache)
        rows.append({"workload": name, "n_rows": n_rows, "first": first, "second": second})
    return rows


def _ms(value: float | None) -> str:
    return "declined" if value is None else f"{value * 1e3:.2f}"


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    """The measurements as a Markdown table."""
    lines = [
        "# First-call latency",
        "",
        f"`{command}`: each column is one call in a fresh Python process; 'second process' "
        "runs again with the kernel cache the first one left on disk. Milliseconds.",
        "",
    ]
    keys = [
        ("import litsdf", "import_s"),
        ("compile (trace + optimize)", "compile_s"),
        ("transform_row, first call", "transform_row_first_s"),
        ("transform_row, next call", "transform_row_next_s"),
    ]
    for b in BACKENDS:
        keys += [(f"pipe(df) on {b}, first call", f"pipe_{b}_first_s")]
        keys += [(f"pipe(df) on {b}, next call", f"pipe_{b}_next_s")]
    for row in rows:
        lines += [
            f"## {row['workload']} ({row['n_rows']:,} rows)",
            "",
            "| step | first process | second process |",
            "|:---|---:|---:|",
        ]
        for label, key in keys:
            lines.append(f"| {label} | {_ms(row['first'][key])} | {_ms(row['second'][key])} |")
        lines.append("")
    return "\n".join(lines)
