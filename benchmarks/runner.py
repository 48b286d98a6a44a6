"""Run workloads x sizes x engines and collect timings into a JSON document."""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import compare
from benchmarks.engines import LOOSE_FAMILIES, Engine, PandasEngine, Thunk
from benchmarks.workloads import Workload

SCHEMA_VERSION = 1
Progress = Callable[[str], None]


def _version(package: str) -> str | None:
    """Installed version of ``package``, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        module = sys.modules.get(package)
        version = getattr(module, "__version__", None)
        return str(version) if version else None


def _memory_bytes() -> int | None:
    """Total physical memory from /proc/meminfo, when there is one."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    """HEAD commit of the repository holding this package (read-only)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def machine_info() -> dict[str, Any]:
    """Describe the machine and library versions.

    Returns
    -------
    dict
        Python version, platform, CPU counts, memory, versions of pandas,
        numpy, pyarrow, polars, duckdb and litsdf, thread settings, git commit.
    """
    affinity = getattr(os, "sched_getaffinity", None)
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(affinity(0)) if affinity else None,
        "memory_bytes": _memory_bytes(),
        "versions": {
            name: _version(name)
            for name in ("pandas", "numpy", "pyarrow", "polars", "duckdb", "matplotlib")
        },
        "git_commit": _git_commit(),
    }
    try:
        litsdf = importlib.import_module("litsdf")
        info["versions"]["litsdf"] = str(getattr(litsdf, "__version__", "unknown"))
    except Exception as err:
        info["versions"]["litsdf"] = None
        info["litsdf_error"] = f"{type(err).__name__}: {err}"
    threads: dict[str, Any] = {}
    if "polars" in sys.modules:
        threads["polars"] = sys.modules["polars"].thread_pool_size()
    if "duckdb" in sys.modules:
        threads["duckdb"] = (
            sys.modules["duckdb"].sql("SELECT current_setting('threads')").fetchall()[0][0]
        )
    info["threads"] = threads
    return info


def _timed(thunks: Sequence[Thunk]) -> tuple[float, Any]:
    """Run each thunk once with the garbage collector paused; the mean seconds per thunk and
    the last result (several thunks, each prepared untimed, time sub-millisecond cases)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for thunk in thunks:
            result = thunk()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / len(thunks), result


_MIN_TIMED_S = 0.02
"""A timed measurement lasts at least this long: faster cases run several times in a row."""


def _batch(engine: Engine, workload: Workload, converted: Any) -> int:
    """How many runs one timed measurement of ``engine`` needs to last ``_MIN_TIMED_S``."""
    once, _ = _timed([engine.prepare(workload, converted)])
    return max(1, min(10_000, int(_MIN_TIMED_S / max(once, 1e-7))))


def _error(err: BaseException) -> str:
    """One-line description of an exception."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}"[:500]


def _check(
    engine: Engine, workload: Workload, inputs: dict[str, Any], reference: Any
) -> tuple[dict[str, Any], Any]:
    """Convert the inputs and run once, untimed, checking against ``reference``.

    Returns
    -------
    record : dict
        The case record, ``status`` ok, error, skipped or unavailable.
    converted : object
        The engine's inputs, for the timed runs (None unless ``status`` is ok).
    """
    record: dict[str, Any] = {
        "status": "ok",
        "times_s": [],
        "median_s": None,
        "check": None,
        "error": None,
    }
    if not engine.available:
        return {**record, "status": "unavailable", "error": engine.reason}, None
    if not engine.supports(workload):
        return {**record, "status": "skipped", "error": "no implementation"}, None
    try:
        converted = engine.convert(inputs)
        result = engine.to_pandas(engine.prepare(workload, converted)())
    except Exception as err:  # one failing engine must not stop the run
        status = "declined" if type(err).__name__ == "BackendDeclined" else "error"
        return {**record, "status": status, "error": _error(err)}, None
    if reference is None:
        record["check"] = "unchecked: no pandas reference"
    elif engine.family in LOOSE_FAMILIES:
        record["check"] = compare.loose(reference, result)
    else:
        record["check"] = compare.strict(reference, result)
    return record, converted


def run_size(
    engines: Sequence[Engine],
    workload: Workload,
    inputs: dict[str, Any],
    reference: Any,
    repeat: int,
    calibrate: bool = True,
) -> list[dict[str, Any]]:
    """Check then time every engine on one (workload, size).

    Each engine first runs once untimed; that result is checked against
    ``reference`` and the run doubles as warm-up. Then ``repeat`` rounds follow,
    each timing every engine once (in a seeded random order per round), so that a
    burst of background load spreads over all engines instead of skewing one.

    Parameters
    ----------
    engines : sequence of Engine
        The engines.
    workload : Workload
        The workload.
    inputs : dict of str to pandas.DataFrame
        Generated inputs.
    reference : object
        The pandas result, or None when pandas failed.
    repeat : int
        Number of timed runs per engine.
    calibrate : bool, default True
        Run each engine once more (untimed) to size its batches: a timed measurement of a
        case faster than 20 ms runs it several times in a row. False times one run per
        measurement (for cases known to be slower, e.g. TPC-H queries).

    Returns
    -------
    list of dict
        One record per engine: ``status`` (ok, error, skipped, unavailable),
        ``times_s``, ``median_s``, ``check`` and ``error``.
    """
    cases = [(engine, *_check(engine, workload, inputs, reference)) for engine in engines]
    batches = {
        id(engine): _batch(engine, workload, converted)
        if calibrate and record["status"] == "ok"
        else 1
        for engine, record, converted in cases
    }
    for round_ in range(repeat):
        # a fresh seeded permutation each round: an engine that runs right after another pays
        # for the memory that one released (page faults), so no engine may keep one
        # predecessor (a rotation would keep the cyclic order, hence the predecessors)
        order = list(cases)
        random.Random(round_).shuffle(order)
        for engine, record, converted in order:
            if record["status"] != "ok":
                continue
            try:
                thunks = [engine.prepare(workload, converted) for _ in range(batches[id(engine)])]
                elapsed, _result = _timed(thunks)
            except Exception as err:  # one failing engine must not stop the run
                record["status"], record["error"] = "error", _error(err)
                continue
            del _result
            record["times_s"].append(elapsed)
    records = []
    for _engine, record, _converted in cases:
        if record["times_s"]:
            record["median_s"] = _median(record["times_s"])
        records.append(record)
    return records


def _median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def run(
    workloads: Sequence[Workload],
    engines: Sequence[Engine],
    sizes: Sequence[int] | None,
    repeat: int,
    seed: int = 0,
    quick: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Benchmark every (workload, size, engine) combination.

    Parameters
    ----------
    workloads : sequence of Workload
        Workloads to run.
    engines : sequence of Engine
        Engines to run (unavailable ones are recorded, not run).
    sizes : sequence of int or None
        Row counts; None uses each workload's own sizes.
    repeat : int
        Timed runs per case.
    seed : int, default 0
        Seed for the input generators.
    quick : bool, default False
        Use each workload's quick sizes when ``sizes`` is None.
    progress : callable, optional
        Called with one line of text per finished case.

    Returns
    -------
    dict
        The results document (see ``benchmarks/README.md``).
    """
    say = progress or (lambda _line: None)
    results: list[dict[str, Any]] = []
    described: dict[str, Any] = {}
    started = time.perf_counter()
    for workload in workloads:
        wl_sizes = list(sizes or (workload.quick_sizes if quick else workload.sizes))
        described[workload.name] = {
            "description": workload.description,
            "module": workload.module,
            "sizes": wl_sizes,
        }
        for n_rows in wl_sizes:
            inputs = workload.make_inputs(n_rows, seed)
            reference: Any = None
            try:
                reference = PandasEngine("pandas").prepare(workload, inputs)()
            except Exception as err:  # engines then run unchecked
                say(f"{workload.name} n={n_rows}: pandas reference failed: {_error(err)}")
            records = run_size(engines, workload, inputs, reference, repeat)
            for engine, record in zip(engines, records, strict=True):
                results.append(
                    {"workload": workload.name, "engine": engine.name, "size": n_rows} | record
                )
                say(_progress_line(workload.name, n_rows, engine.name, record))
    return {
        "schema": SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "workloads": [w.name for w in workloads],
            "sizes": list(sizes) if sizes else None,
            "engines": [e.name for e in engines],
            "repeat": repeat,
            "seed": seed,
            "quick": quick,
        },
        "engines": [e.describe() for e in engines],
        "workloads": described,
        "results": results,
        "elapsed_s": time.perf_counter() - started,
    }


def _progress_line(workload: str, n_rows: int, engine: str, record: dict[str, Any]) -> str:
    """Human-readable summary of one case."""
    head = f"{workload:<16} n={n_rows:<9} {engine:<20}"
    if record["status"] != "ok":
        return f"{head} {record['status']}: {record['error']}"
    median_ms = record["median_s"] * 1e3
    shown = f"{median_ms:10.2f} ms" if median_ms >= 0.1 else f"{median_ms * 1e3:10.2f} us"
    return f"{head} {shown}  ({len(record['times_s'])} runs)  check {record['check']}"
