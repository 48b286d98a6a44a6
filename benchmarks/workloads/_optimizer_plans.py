"""Generated pandas programs of a given plan size, for timing the optimizer.

:func:`make_program` returns a deterministic program (a function of the ``pd`` module, run
with pandas or litsdf) whose litsdf plan has about ``n_nodes`` relational nodes: column
assignments (some with ``* 1`` / ``- 0`` identities and expressions repeated later),
filters on derived expressions, stable sorts, projections, joins with a small dimension
table and groupby-aggregations merged back. :func:`optimizer_times` measures
``litsdf_compiler.optimizer.optimize(plan)`` on such plans (median of several runs).
This module starts with ``_``: it is not a workload.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas

Step = tuple[str, int]
Program = Callable[[Any], Any]

_ROWS = 64
_KINDS = ("assign", "assign", "reuse", "filter", "assign", "sort", "project", "join", "agg")


def _base(pd: Any) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    frame = pandas.DataFrame(
        {
            "k": rng.integers(0, 8, _ROWS).astype("int64"),
            "a": rng.random(_ROWS) + 0.5,
            "b": rng.integers(-5, 5, _ROWS).astype("int64"),
            "c": rng.random(_ROWS),
        }
    )
    dim = pandas.DataFrame({"k": np.arange(8, dtype="int64"), "w": np.arange(8) * 0.5 + 1.0})
    return pd.DataFrame(frame), pd.DataFrame(dim)


def _apply(pd: Any, df: Any, dim: Any, kind: str, i: int) -> Any:
    """One step of the program (``i`` numbers the step; columns ``d<i>`` are derived)."""
    if kind == "assign":
        df[f"d{i % 6}"] = (df["a"] * 1 + df["c"] * (i % 3 + 1)) - 0
    elif kind == "reuse":
        df[f"r{i % 4}"] = np.log1p(df["a"]) * 2 + df["b"]
        df = df[np.log1p(df["a"]) * 2 + df["b"] > -100.0]
    elif kind == "filter":
        df = df[(df["a"] + df["c"]) * 1 > -1.0]
    elif kind == "sort":
        df = df.sort_values(["k", "a"], kind="stable")
    elif kind == "project":
        df = df[[c for c in df.columns if not str(c).startswith(("w", "g"))]]
    elif kind == "join":
        df = pd.merge(df, dim.rename(columns={"w": f"w{i}"}), on="k", how="inner")
    elif kind == "agg":
        agg = df.groupby("k", as_index=False).agg(**{f"g{i}": ("a", "sum")})
        df = pd.merge(df, agg, on="k", how="left")
    return df


def _relation_count(plan: Any) -> int:
    from litsdf_compiler.ir.base import walk
    from litsdf_compiler.ir.relations import Relation

    return sum(1 for n in walk(plan) if isinstance(n, Relation))


def make_program(n_nodes: int) -> tuple[Program, int]:
    """A program whose litsdf plan has at least ``n_nodes`` relational nodes.

    Parameters
    ----------
    n_nodes : int
        Target number of relational nodes.

    Returns
    -------
    (callable, int)
        ``program(pd)`` (``pd`` is pandas or litsdf; returns a DataFrame) and the number of
        relational nodes of its litsdf plan.
    """
    import litsdf

    steps: list[Step] = []
    df, dim = _base(litsdf)
    i = 0
    while _relation_count(df._plan) < n_nodes:
        kind = _KINDS[i % len(_KINDS)]
        df = _apply(litsdf, df, dim, kind, i)
        steps.append((kind, i))
        i += 1
    frozen = tuple(steps)

    def program(pd: Any) -> Any:
        frame, dimension = _base(pd)
        for kind, j in frozen:
            frame = _apply(pd, frame, dimension, kind, j)
        return frame

    return program, _relation_count(df._plan)


def optimizer_times(
    sizes: Sequence[int] = (50, 100, 200, 400), repeat: int = 7
) -> list[dict[str, Any]]:
    """Time ``optimize(plan)`` for generated plans of each size.

    Every run optimizes a freshly traced plan (no per-node caches carried between runs,
    except pandas' metadata on empty frames, which the tracing itself fills).

    Parameters
    ----------
    sizes : sequence of int
        Target plan sizes (relational nodes).
    repeat : int
        Timed runs per size (the median is reported).

    Returns
    -------
    list of dict
        Per size: ``nodes`` (actual relational nodes), ``median_ms``, ``min_ms``,
        ``times_ms``, ``passes``, ``fired`` (rules that changed the plan) and
        ``trace_median_ms`` (running the pandas program on litsdf to build the plan, which
        infers each step's metadata with pandas; for scale, not part of the optimizer time).
    """
    import litsdf
    from litsdf_compiler.optimizer import optimize

    out: list[dict[str, Any]] = []
    for size in sizes:
        program, nodes = make_program(size)
        times: list[float] = []
        traces: list[float] = []
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            plan = program(litsdf)._plan
            traces.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            result = optimize(plan)
            times.append((time.perf_counter() - start) * 1e3)
        assert result is not None
        out.append(
            {
                "target": size,
                "nodes": nodes,
                "median_ms": statistics.median(times),
                "min_ms": min(times),
                "times_ms": times,
                "trace_median_ms": statistics.median(traces),
                "passes": result.passes,
                "fired": sorted(set(result.fired)),
            }
        )
    return out
