"""Render a results document as a Markdown report with log-log plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REFERENCES = ("pandas", "polars")
_MISSING = "—"


def load(path: str | Path) -> dict[str, Any]:
    """Read a results JSON document.

    Parameters
    ----------
    path : str or Path
        The JSON file written by ``python -m benchmarks run``.

    Returns
    -------
    dict
        The results document.
    """
    with open(path, encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


def _ms(seconds: float | None) -> str:
    """Milliseconds with about three significant digits."""
    if seconds is None:
        return _MISSING
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 0.1:
        return f"{ms:.2f}"
    return f"{ms:.4f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: bool = True) -> list[str]:
    """A Markdown table; the columns after the first are right-aligned if numeric."""
    rest = "---:" if numeric else ":---"
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + [rest] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _index(document: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Results by (workload, engine, size)."""
    return {(r["workload"], r["engine"], r["size"]): r for r in document["results"]}


def problems(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Results that failed: a check mismatch or an error while running.

    Parameters
    ----------
    document : dict
        The results document.

    Returns
    -------
    list of dict
        The failing result records, in run order.
    """
    return [
        r
        for r in document["results"]
        if r["status"] == "error" or str(r.get("check") or "").startswith("mismatch")
    ]


def _cell(record: dict[str, Any] | None) -> str:
    """Median time of a case, flagged when it failed its check."""
    if record is None or record["status"] in ("skipped", "unavailable"):
        return _MISSING
    if record["status"] == "declined":
        return "declined"
    if record["status"] == "error":
        return "**error**"
    text = _ms(record["median_s"])
    if str(record.get("check") or "").startswith("mismatch"):
        return f"{text} **⚠ MISMATCH**"
    return text


def _rows_label(rows: float) -> str:
    """Short label of a row count: 200, 10k, 1M."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rows >= factor:
            return f"{rows / factor:g}{suffix}"
    return f"{rows:g}"


def plot(document: dict[str, Any], workload: str, path: Path) -> None:
    """Draw time vs rows (log-log), one line per engine, min-max error bars.

    Parameters
    ----------
    document : dict
        The results document.
    workload : str
        Workload to plot.
    path : Path
        Output PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    markers = "osD^v<>ph*"
    for i, engine in enumerate(document["config"]["engines"]):
        points = sorted(
            (r["size"], r["median_s"] * 1e3, min(r["times_s"]) * 1e3, max(r["times_s"]) * 1e3)
            for r in document["results"]
            if r["workload"] == workload and r["engine"] == engine and r["times_s"]
        )
        if not points:
            continue
        sizes, medians, lows, highs = (list(column) for column in zip(*points, strict=True))
        errors = [
            [m - lo for m, lo in zip(medians, lows, strict=True)],
            [hi - m for m, hi in zip(medians, highs, strict=True)],
        ]
        ax.errorbar(
            sizes,
            medians,
            yerr=errors,
            label=engine,
            marker=markers[i % len(markers)],
            capsize=3,
            linewidth=1.5,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes_run = document["workloads"][workload]["sizes"]
    ax.set_xticks(sizes_run)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _rows_label(x)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}"))
    ax.set_xlabel("rows")
    ax.set_ylabel("median wall time (ms)")
    ax.set_title(f"{workload} (lower is better; bars: min-max)")
    ax.grid(True, which="both", linewidth=0.3, alpha=0.6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _machine_lines(document: dict[str, Any]) -> list[str]:
    """The machine-information table."""
    machine = document["machine"]
    versions = ", ".join(
        f"{name} {version}" if version else f"{name} (missing)"
        for name, version in machine["versions"].items()
    )
    memory = machine.get("memory_bytes")
    threads = ", ".join(f"{k} {v}" for k, v in machine.get("threads", {}).items())
    rows = [
        ["Python", f"{machine['python']} ({machine['implementation']})"],
        ["Platform", f"{machine['platform']} ({machine['machine']})"],
        ["CPUs", f"{machine['cpu_count']} (usable: {machine.get('cpu_affinity')})"],
        ["Memory", f"{memory / 2**30:.1f} GiB" if memory else "unknown"],
        ["Versions", versions],
        ["Threads", threads or "default"],
        ["Git commit", f"`{machine.get('git_commit')}`"],
    ]
    if machine.get("litsdf_error"):
        rows.append(["litsdf import", f"`{machine['litsdf_error']}`"])
    return _table(["", ""], rows, numeric=False)


def _workload_lines(document: dict[str, Any], name: str, image: str | None) -> list[str]:
    """Section of one workload: description, plot, time and ratio tables."""
    info = document["workloads"][name]
    engines: list[str] = document["config"]["engines"]
    index = _index(document)
    lines = [f"## {name}", "", info["description"], ""]
    if image:
        lines += [f"![{name}: time vs rows]({image})", ""]
    lines += ["### Median wall time (ms)", ""]
    rows = [
        [f"{size:,}"] + [_cell(index.get((name, e, size))) for e in engines]
        for size in info["sizes"]
    ]
    lines += _table(["rows"] + engines, rows) + [""]
    lines += [
        "### Ratios (engine median / reference median, same run; < 1 is faster)",
        "",
    ]
    header = ["rows"]
    columns: list[tuple[str, str]] = []
    for ref in REFERENCES:
        if ref not in engines:
            continue
        for engine in engines:
            if engine != ref:
                columns.append((engine, ref))
                header.append(f"{engine} / {ref}")
    ratio_rows = []
    for size in info["sizes"]:
        row = [f"{size:,}"]
        for engine, ref in columns:
            num, den = index.get((name, engine, size)), index.get((name, ref, size))
            if num and den and num["median_s"] and den["median_s"]:
                row.append(f"{num['median_s'] / den['median_s']:.2f}x")
            else:
                row.append(_MISSING)
        ratio_rows.append(row)
    lines += _table(header, ratio_rows) if columns else ["(no reference engine ran)"]
    lines.append("")
    notes = [r for r in problems(document) if r["workload"] == name]
    if notes:
        lines += ["### Problems", ""]
        for r in notes:
            detail = r["error"] if r["status"] == "error" else r["check"]
            lines.append(f"- **`{r['engine']}` at {r['size']:,} rows**: {detail}")
        lines.append("")
    return lines


def render(document: dict[str, Any], out_dir: Path, json_name: str | None = None) -> Path:
    """Write ``report.md`` and one ``<workload>.png`` per workload.

    Parameters
    ----------
    document : dict
        The results document.
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
    lines = ["# litsdf benchmarks", ""]
    lines.append(
        f"Generated {document['created']}; {config['repeat']} timed runs per case "
        "(median reported; engines interleaved round by round, after one untimed "
        f"checked run each), seed {config['seed']}."
        + (f" Raw data: [`{json_name}`]({json_name})." if json_name else "")
    )
    lines += ["", "Reproduce (from the repository root):", "", "```sh"]
    lines += [document.get("command", "python -m benchmarks run"), "```", ""]
    failed = problems(document)
    if failed:
        lines += [
            "> [!CAUTION]",
            f"> **{len(failed)} CORRECTNESS PROBLEM(S)**: these engines gave a result "
            "different from pandas or raised; their timings do not count.",
            ">",
        ]
        for r in failed:
            detail = r["error"] if r["status"] == "error" else r["check"]
            lines.append(f"> - **{r['workload']} / {r['engine']} / {r['size']:,} rows**: {detail}")
        lines.append("")
    lines += ["## Machine", ""] + _machine_lines(document) + [""]
    lines += ["## Engines", ""]
    lines += _table(
        ["engine", "status"],
        [
            [f"`{e['name']}`", "available" if e["available"] else f"unavailable: {e['reason']}"]
            for e in document["engines"]
        ],
        numeric=False,
    )
    lines += [
        "",
        "`pandas` runs each workload's `pandas_like` function with real pandas; "
        "`litsdf-*` run the same function with `import litsdf as pd` "
        '(`fallback="raise"`, result forced with `.to_pandas()` inside the timed '
        "region) and must equal the pandas result exactly; `polars` and `duckdb` "
        "run hand-written equivalents and are compared loosely (sorted rows, "
        "relative tolerance 1e-6). Input conversion and wrapping are not timed.",
        "",
    ]
    for name in document["workloads"]:
        image = f"{name}.png"
        try:
            plot(document, name, out_dir / image)
        except Exception as err:  # a report without its plot is still useful
            lines += [f"(plot of {name} failed: {err})", ""]
            image = ""
        lines += _workload_lines(document, name, image or None)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
