"""The TPC-H report: per-query times, ratios to pandas, geomeans, totals and a plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.report import _cell, _machine_lines, _table

PLOT = "tpch.png"
_MISSING = "—"


def problems(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Cases that raised or whose result differs from pandas.

    Parameters
    ----------
    document : dict
        A ``python -m benchmarks tpch`` results document.

    Returns
    -------
    list of dict
        The failing records, in run order.
    """
    return [
        r
        for r in document["results"]
        if r["status"] == "error" or str(r.get("check") or "").startswith("mismatch")
    ]


def _good(record: dict[str, Any] | None) -> bool:
    """Whether a case ran, was timed and did not fail its check."""
    return bool(
        record
        and record["status"] == "ok"
        and record["median_s"]
        and not str(record.get("check") or "").startswith("mismatch")
    )


def geomean(values: Sequence[float]) -> float | None:
    """Geometric mean of positive numbers (None for none).

    Parameters
    ----------
    values : sequence of float
        Positive numbers.

    Returns
    -------
    float or None
        ``exp(mean(log(values)))``.
    """
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary(document: dict[str, Any], dtype_backend: str) -> list[dict[str, Any]]:
    """Per engine, over the queries that it and pandas both ran correctly.

    Parameters
    ----------
    document : dict
        The results document.
    dtype_backend : str
        ``"numpy"`` or ``"pyarrow"``.

    Returns
    -------
    list of dict
        One per engine: ``engine``, ``queries`` (how many counted), ``geomean_ratio``
        (geomean of engine / pandas medians), ``speedup`` (its inverse), ``total_s``
        (sum of the engine's medians over the queries it ran correctly) and
        ``total_vs_duckdb`` (that total over DuckDB's on the same queries).
    """
    index = {
        (r["query"], r["engine"]): r
        for r in document["results"]
        if r["dtype_backend"] == dtype_backend
    }
    queries: list[str] = document["config"]["queries"]
    rows = []
    for engine in document["config"]["engines"]:
        ratios = []
        for q in queries:
            num, den = index.get((q, engine)), index.get((q, "pandas"))
            if _good(num) and _good(den):
                assert num is not None and den is not None
                ratios.append(num["median_s"] / den["median_s"])
        ran = [q for q in queries if _good(index.get((q, engine)))]
        total = sum(index[(q, engine)]["median_s"] for q in ran) if ran else None
        duck = [index.get((q, "duckdb")) for q in ran]
        vs_duck = None
        if total and ran and all(_good(d) for d in duck):
            vs_duck = total / sum(d["median_s"] for d in duck if d)
        mean = geomean(ratios)
        rows.append(
            {
                "engine": engine,
                "queries": len(ratios),
                "geomean_ratio": mean,
                "speedup": 1 / mean if mean else None,
                "total_s": total,
                "ran": len(ran),
                "total_vs_duckdb": vs_duck,
            }
        )
    return rows


def _x(value: float | None, digits: int = 2) -> str:
    """``1.23x`` or a dash."""
    return _MISSING if value is None else f"{value:.{digits}f}x"


def _backend_lines(document: dict[str, Any], dtype_backend: str) -> list[str]:
    """The tables of one dtype backend."""
    engines: list[str] = document["config"]["engines"]
    queries: list[str] = document["config"]["queries"]
    index = {
        (r["query"], r["engine"]): r
        for r in document["results"]
        if r["dtype_backend"] == dtype_backend
    }
    how = 'dtype_backend="pyarrow"' if dtype_backend == "pyarrow" else "default (numpy) dtypes"
    lines = [f"## Read with {how}", "", "### Median wall time (ms)", ""]
    rows = [[q] + [_cell(index.get((q, e))) for e in engines] for q in queries]
    lines += _table(["query"] + engines, rows) + [""]
    others = [e for e in engines if e != "pandas"]
    lines += ["### Ratio to pandas (engine median / pandas median, same run; < 1 is faster)", ""]
    ratio_rows = []
    for q in queries:
        row = [q]
        den = index.get((q, "pandas"))
        for e in others:
            num = index.get((q, e))
            ok = _good(num) and _good(den)
            row.append(_x(num["median_s"] / den["median_s"]) if ok and num and den else _MISSING)
        ratio_rows.append(row)
    by_engine = {s["engine"]: s for s in summary(document, dtype_backend)}
    ratio_rows.append(["**geomean**"] + [_x(by_engine[e]["geomean_ratio"]) for e in others])
    lines += _table(["query"] + others, ratio_rows) + [""]
    lines += ["### Summary", ""]
    summary_rows = [
        [
            e,
            f"{s['queries']}/{len(queries)}",
            _x(s["speedup"]),
            _MISSING if s["total_s"] is None else f"{s['total_s']:.2f} s ({s['ran']} queries)",
            _x(s["total_vs_duckdb"]),
        ]
        for e, s in by_engine.items()
    ]
    header = ["engine", "queries vs pandas", "geomean speedup over pandas", "total"]
    lines += _table(header + ["total / duckdb"], summary_rows) + [""]
    return lines


def plot(document: dict[str, Any], path: Path) -> None:
    """Speedup over pandas per query and geomean, one panel per dtype backend (log scale).

    Parameters
    ----------
    document : dict
        The results document.
    path : Path
        Output PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends: list[str] = document["config"]["dtype_backends"]
    queries: list[str] = document["config"]["queries"]
    ran = {r["engine"] for r in document["results"] if _good(r)}  # no empty bar slots
    engines = [e for e in document["config"]["engines"] if e != "pandas" and e in ran]
    fig, axes = plt.subplots(
        len(backends), 1, figsize=(10, 3.8 * len(backends)), dpi=110, squeeze=False
    )
    width = 0.8 / max(len(engines), 1)
    for ax, backend in zip(axes[:, 0], backends, strict=True):
        index = {
            (r["query"], r["engine"]): r
            for r in document["results"]
            if r["dtype_backend"] == backend
        }
        by_engine = {s["engine"]: s for s in summary(document, backend)}
        for i, engine in enumerate(engines):
            xs, ys = [], []
            for j, q in enumerate(queries):
                num, den = index.get((q, engine)), index.get((q, "pandas"))
                if _good(num) and _good(den) and num and den:
                    xs.append(j + (i - (len(engines) - 1) / 2) * width)
                    ys.append(den["median_s"] / num["median_s"])
            if by_engine[engine]["speedup"]:
                xs.append(len(queries) + (i - (len(engines) - 1) / 2) * width)
                ys.append(by_engine[engine]["speedup"])
            if xs:
                ax.bar(xs, ys, width=width, label=engine)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axvline(len(queries) - 0.5, color="grey", linewidth=0.8, linestyle="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(queries) + 1), [*queries, "geomean"])
        ax.set_ylabel("speedup over pandas (x)")
        how = 'dtype_backend="pyarrow"' if backend == "pyarrow" else "numpy dtypes"
        ax.set_title(f"TPC-H SF{document['config']['sf']}, read with {how} (higher is faster)")
        ax.grid(True, axis="y", which="both", linewidth=0.3, alpha=0.6)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small", ncol=len(engines))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render(document: dict[str, Any], out_dir: Path, json_name: str | None = None) -> Path:
    """Write ``report.md`` and :data:`PLOT` for a TPC-H results document.

    Parameters
    ----------
    document : dict
        The results document of :func:`benchmarks.tpch.bench.run`.
    out_dir : Path
        Output folder (created if needed).
    json_name : str, optional
        File name of the JSON document, linked from the report.

    Returns
    -------
    Path
        The Markdown report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    config = document["config"]
    lines = [f"# TPC-H-style benchmark, scale factor {config['sf']}", ""]
    lines.append(
        f"Generated {document['created']}; {config['repeat']} timed runs per case (median "
        "reported; engines interleaved round by round, after one untimed checked run each); "
        f"data in `{config['data']}`."
        + (f" Raw data: [`{json_name}`]({json_name})." if json_name else "")
    )
    lines += ["", "Reproduce (from the repository root):", "", "```sh"]
    lines += [document.get("command", "python -m benchmarks tpch"), "```", ""]
    failed = problems(document)
    if failed:
        lines += [
            "> [!CAUTION]",
            f"> **{len(failed)} CORRECTNESS PROBLEM(S)**: these engines gave a result "
            "different from pandas or raised; they are left out of the geomeans and totals.",
            ">",
        ]
        for r in failed:
            detail = r["error"] if r["status"] == "error" else r["check"]
            lines.append(f"> - **{r['query']} / {r['dtype_backend']} / {r['engine']}**: {detail}")
        lines.append("")
    lines += [
        "Every query reads its Parquet files inside the timed region (`pd.read_parquet`, "
        "`polars.scan_parquet`, DuckDB's `read_parquet`). `litsdf-*` run the pandas code "
        '(`import litsdf as pd`, `fallback="raise"`) and must equal pandas exactly; `polars` '
        "and `duckdb` run hand-written equivalents, compared loosely (sorted rows, relative "
        "tolerance 1e-6). Geomeans and totals count only the queries an engine ran correctly.",
        "",
        "| query | what it exercises |",
        "|:---|:---|",
    ]
    lines += [f"| {q} | {info['description']} |" for q, info in document["queries"].items()]
    lines += [""]
    try:
        plot(document, out_dir / PLOT)
        lines += [f"![speedup over pandas per query]({PLOT})", ""]
    except Exception as err:  # a report without its plot is still useful
        lines += [f"(plot failed: {err})", ""]
    for backend in config["dtype_backends"]:
        lines += _backend_lines(document, backend)
    lines += ["## Engines", ""]
    lines += _table(
        ["engine", "status"],
        [
            [f"`{e['name']}`", "available" if e["available"] else f"unavailable: {e['reason']}"]
            for e in document["engines"]
        ],
        numeric=False,
    )
    lines += ["", "## Machine", ""] + _machine_lines(document) + [""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
