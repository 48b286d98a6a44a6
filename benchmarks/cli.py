"""Command line: ``python -m benchmarks {run,report,list,optimizer-time,tpch,tpch-data,...}``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import engines as engines_mod
from benchmarks import report, runner, workloads

DEFAULT_REPEAT = 5
QUICK_REPEAT = 2


def _csv(text: str) -> list[str]:
    """Split a comma-separated option value."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _sizes(text: str) -> list[int]:
    """Parse ``1000,1e5,1_000_000`` into positive integers."""
    try:
        sizes = [int(float(part.replace("_", ""))) for part in _csv(text)]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"bad sizes {text!r}: {err}") from err
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m benchmarks``.

    Returns
    -------
    argparse.ArgumentParser
        Parser with the ``run``, ``report`` and ``list`` subcommands.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="litsdf benchmark harness"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run benchmarks, write JSON + report.md + plots")
    run.add_argument("--workloads", type=_csv, help="comma-separated (default: all)")
    run.add_argument("--sizes", type=_sizes, help="row counts (default: per workload)")
    run.add_argument("--engines", type=_csv, help="comma-separated (default: all known)")
    run.add_argument("--repeat", type=int, help=f"timed runs per case (default {DEFAULT_REPEAT})")
    run.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    run.add_argument("--name", help="JSON file stem (default: a UTC timestamp)")
    run.add_argument("--seed", type=int, default=0, help="input generator seed")
    run.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: tiny sizes, {QUICK_REPEAT} runs (unless given)",
    )
    rep = sub.add_parser("report", help="re-render report.md and plots from a JSON")
    rep.add_argument("results", type=Path, help="results JSON file")
    rep.add_argument("--out", type=Path, help="output folder (default: the JSON's)")
    sub.add_parser("list", help="list workloads and engines")
    lat = sub.add_parser(
        "latency", help="first-call latency of compiled pipelines: fresh and second process"
    )
    lat.add_argument("--workloads", type=_csv, default=["text_pipeline", "numeric_pipeline"])
    lat.add_argument("--rows", type=int, default=10_000, help="rows of the pipe(df) input")
    lat.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    srv = sub.add_parser(
        "serving",
        help="single-row predict latency (bundle vs scikit-learn) and `litmus serve` over HTTP",
    )
    srv.add_argument("--repeat", type=int, default=2000)
    srv.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    srv.add_argument("--requests", type=int, default=5000, help="1-row requests per client")
    srv.add_argument("--batch-requests", type=int, default=500, help="100-row requests each")
    srv.add_argument("--time-limit", type=float, default=120.0, help="seconds per HTTP load")
    srv.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    opt = sub.add_parser("optimizer-time", help="time the plan optimizer on generated plans")
    opt.add_argument("--sizes", type=_sizes, default=[50, 100, 200, 400], help="plan nodes")
    opt.add_argument("--repeat", type=int, default=7, help="timed runs per size (median)")
    opt.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    tpch = sub.add_parser(
        "tpch", help="TPC-H-style queries in pandas vs litsdf, Polars, DuckDB at a scale factor"
    )
    tpch.add_argument("--sf", type=float, help="scale factor (default 1; 0.01 with --quick)")
    tpch.add_argument("--queries", type=_csv, help="comma-separated, e.g. q1,q5 (default: all)")
    tpch.add_argument(
        "--engines",
        type=_csv,
        help="comma-separated (default: pandas,litsdf-auto,litsdf-arrow,polars,duckdb)",
    )
    tpch.add_argument(
        "--dtype-backends",
        type=_csv,
        default=["numpy", "pyarrow"],
        help="how pandas reads the files: numpy, pyarrow (default: both)",
    )
    tpch.add_argument("--repeat", type=int, help="timed runs per case (default 3, 1 with --quick)")
    tpch.add_argument("--out", type=Path, default=Path("benchmarks/results/tpch"))
    tpch.add_argument("--name", help="JSON file stem (default: tpch-sf<sf>-<UTC timestamp>)")
    tpch.add_argument("--quick", action="store_true", help="smoke test: SF 0.01, 1 run")
    tpch.add_argument(
        "--no-generate",
        action="store_true",
        help="fail instead of generating a missing data set (no venv is created)",
    )
    gen = sub.add_parser(
        "tpch-data", help="generate the TPC-H Parquet files (a venv with DuckDB's tpch extension)"
    )
    gen.add_argument("--sf", type=float, action="append", help="scale factor (repeatable)")
    return parser


def _tpch(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the TPC-H-style queries and write their JSON, report.md and plot."""
    from benchmarks.tpch import bench, data
    from benchmarks.tpch import report as tpch_report
    from benchmarks.tpch.queries import DTYPE_BACKENDS

    sf = args.sf if args.sf is not None else (bench.QUICK_SF if args.quick else 1.0)
    repeat = args.repeat or (1 if args.quick else 3)
    bad = [b for b in args.dtype_backends if b not in DTYPE_BACKENDS]
    try:
        label = data.sf_label(sf)
        if bad or not args.dtype_backends:
            raise KeyError(f"unknown dtype backend(s) {bad}; known: {', '.join(DTYPE_BACKENDS)}")
        if repeat < 1:
            raise KeyError("--repeat must be at least 1")
        queries = bench.select(args.queries)
        engines = engines_mod.resolve(args.engines or list(bench.DEFAULT_ENGINES))
    except (KeyError, ValueError) as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    try:
        document = bench.run(
            sf,
            queries,
            engines,
            args.dtype_backends,
            repeat,
            generate=not args.no_generate,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except data.TpchDataMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    document["command"] = "python -m benchmarks " + shlex.join(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.name or f"tpch-sf{label}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%SZ')}"
    json_path = args.out / f"{stem}.json"
    json_path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    md_path = tpch_report.render(document, args.out, json_path.name)
    print(f"wrote {json_path}\nwrote {md_path}")
    failed = tpch_report.problems(document)
    if failed:
        print(f"WARNING: {len(failed)} correctness problem(s), see {md_path}", file=sys.stderr)
    return 0


def _tpch_data(args: argparse.Namespace) -> int:
    """Generate (or find cached) TPC-H data sets."""
    from benchmarks.tpch import data

    for sf in args.sf or [1.0]:
        try:
            paths = data.ensure(sf)
        except (RuntimeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"sf={data.sf_label(sf)}: {data.data_dir(sf)} ({len(paths)} tables)")
    return 0


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run benchmarks and write the outputs."""
    try:
        chosen = workloads.select(args.workloads)
        engines = engines_mod.resolve(args.engines)
    except KeyError as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    repeat = args.repeat or (QUICK_REPEAT if args.quick else DEFAULT_REPEAT)
    if repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    document = runner.run(
        chosen,
        engines,
        args.sizes,
        repeat,
        seed=args.seed,
        quick=args.quick,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    document["command"] = "python -m benchmarks " + shlex.join(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.name or datetime.now(UTC).strftime("%Y%m%d-%H%M%SZ")
    json_path = args.out / f"{stem}.json"
    json_path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    md_path = report.render(document, args.out, json_path.name)
    print(f"wrote {json_path}\nwrote {md_path}")
    failed = report.problems(document)
    if failed:
        print(f"WARNING: {len(failed)} correctness problem(s), see {md_path}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    """Re-render a report from a results JSON."""
    document = report.load(args.results)
    out = args.out or args.results.parent
    json_name = args.results.name if out.resolve() == args.results.parent.resolve() else None
    if document.get("kind") == "tpch":
        from benchmarks.tpch import report as tpch_report

        print(f"wrote {tpch_report.render(document, out, json_name)}")
        return 0
    print(f"wrote {report.render(document, out, json_name)}")
    return 0


def _optimizer_time(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Time ``optimize(plan)`` on generated plans; write ``optimizer_time.{json,md}``."""
    from benchmarks.workloads._optimizer_plans import optimizer_times

    rows = []
    for size in args.sizes:
        try:
            rows.extend(optimizer_times([size], args.repeat))
        except RecursionError as err:
            rows.append({"target": size, "error": f"RecursionError: {err}"})
    command = "python -m benchmarks " + shlex.join(argv)
    document = {"machine": runner.machine_info(), "command": command, "results": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "optimizer_time.json").write_text(json.dumps(document, indent=1) + "\n")
    lines = [
        "# Optimizer time",
        "",
        f"`{command}`: median of {args.repeat} runs of "
        "`litsdf_compiler.optimizer.optimize(plan)` on freshly traced generated plans "
        "(benchmarks/workloads/_optimizer_plans.py). *tracing ms*: building the plan "
        "(running the program on litsdf, which infers every step's metadata with pandas), "
        "for scale; it is not part of the optimizer time.",
        "",
        "| target nodes | relational nodes | median ms | min ms | passes | rules fired "
        "| tracing ms |",
        "|---:|---:|---:|---:|---:|:---|---:|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['target']} | — | — | — | — | {row['error'][:80]} | — |")
            continue
        lines.append(
            f"| {row['target']} | {row['nodes']} | {row['median_ms']:.1f} | "
            f"{row['min_ms']:.1f} | {row['passes']} | {', '.join(row['fired'])} | "
            f"{row['trace_median_ms']:.1f} |"
        )
    md = args.out / "optimizer_time.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[4:]))
    print(f"wrote {md}")
    return 0


def _latency(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Cold and warm-cache first-call latencies; write ``latency.{json,md}``."""
    from benchmarks import latency

    rows = latency.measure(args.workloads, args.rows)
    command = "python -m benchmarks " + shlex.join(argv)
    document = {"machine": runner.machine_info(), "command": command, "results": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latency.json").write_text(json.dumps(document, indent=1) + "\n")
    text = latency.markdown(rows, command)
    (args.out / "latency.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _serving(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Bundle vs scikit-learn single-row latency; write ``serving.{json,md}``."""
    from benchmarks import serving

    result = serving.measure(
        args.repeat, args.clients, args.requests, args.batch_requests, args.time_limit
    )
    command = "python -m benchmarks " + shlex.join(argv)
    document = {"machine": runner.machine_info(), "command": command, "result": result}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving.json").write_text(json.dumps(document, indent=1) + "\n")
    text = serving.markdown(result, command)
    (args.out / "serving.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _list() -> int:
    """Print the workloads and engines."""
    for workload in workloads.discover().values():
        sizes = ", ".join(f"{s:,}" for s in workload.sizes)
        print(f"workload {workload.name}: {workload.description} [sizes {sizes}]")
    for engine in engines_mod.resolve(None):
        state = "available" if engine.available else f"unavailable: {engine.reason}"
        print(f"engine   {engine.name}: {state}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``python -m benchmarks`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args, argv)
    if args.command == "report":
        return _report(args)
    if args.command == "optimizer-time":
        return _optimizer_time(args, argv)
    if args.command == "latency":
        return _latency(args, argv)
    if args.command == "serving":
        return _serving(args, argv)
    if args.command == "tpch":
        return _tpch(args, argv)
    if args.command == "tpch-data":
        return _tpch_data(args)
    return _list()
