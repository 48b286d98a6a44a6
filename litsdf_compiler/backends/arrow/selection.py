"""How the selector asks the ``arrow`` backend: relational and text plans over large inputs.

Arrow's kernels pay a fixed cost per call (conversions, building Arrow tables, Acero's
threads), so the backend is preferred only for plans where its multi-threaded kernels replace
pandas' single-threaded ones over inputs of at least ``min_rows`` rows (or a parquet read whose
size is unknown before reading):

* relational plans: a groupby, a sort, a parquet read, a join, a concat, a drop_duplicates
  (Acero's threads);
* text plans: any ``str`` method (:data:`TEXT`). pandas' ``str`` dtype runs the same
  pyarrow kernels, one column at a time on one core, with a round trip through NumPy or
  Python objects between steps (``str.count`` by RE2, ``map`` by a Python dict); here the
  whole chain stays in Arrow, shared sub-expressions are computed once, and the rows are
  split over both cores (:mod:`.threads`). numba's fused loops call the same string kernels
  one at a time and decline regex replacements, so a text plan tries arrow first; small
  inputs stay with rows (its ``max_rows``) and numeric plans with numba.
 ``litsdf calibrate`` measures the crossover of a
filter + groupby plan against pandas; the default ``min_rows=100_000`` is the brief's
figure for the development machine (2-core x86-64, pandas 3.1, pyarrow 26), where the
measured crossover was far below it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir import strings as st
from ...ir.base import Node, walk
from ..base import Backend
from ..preference import (
    Calibration,
    Preference,
    Setting,
    Settings,
    calibrate_min_rows,
)

__all__ = ["ArrowSelection", "SIZES", "NEVER", "RELATIONAL", "TEXT"]

SIZES = (10_000, 100_000, 1_000_000)
"""Input sizes ``calibrate`` measures (the first 2 when ``quick``)."""
NEVER = 10**12
"""``min_rows`` when arrow never won: it is not picked by size."""
RELATIONAL = (
    rel.Aggregate,
    rel.Sort,
    rel.TopK,
    rel.Join,
    rel.Concat,
    rel.DropDuplicates,
    rel.ReadParquet,
)
"""Logical nodes whose work Arrow's relational kernels do."""
TEXT = tuple(
    v
    for v in vars(st).values()
    if isinstance(v, type) and issubclass(v, ex.Expr) and v is not ex.Expr
)
"""Expression nodes of ``str`` methods (:mod:`litsdf_compiler.ir.strings`)."""


def grouped_frame(n: int) -> pd.DataFrame:
    """The calibration input: an integer key of 1,000 groups, floats with 5% NaN, ints."""
    rng = np.random.default_rng(2)
    x = rng.random(n) * 100
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"k": rng.integers(0, 1_000, n), "x": x, "q": rng.integers(0, 50, n)})


def grouped_plan(frame: pd.DataFrame) -> rel.Relation:
    """``df[df.q > 10].groupby("k").sum()`` as the front end builds it."""
    from ...ir.aggregate import aggregate

    source = rel.Source(rel.DataRef(frame))
    kept = rel.Filter(source, ex.BinaryOp("gt", ex.Col("q"), ex.Lit(10)))
    return aggregate(kept, frame.iloc[:0], ("k",), method="sum")


class ArrowSelection(Backend):
    """The ``arrow`` backend's setting ``min_rows``, preference and calibration."""

    settings = (
        Setting(
            "min_rows",
            100_000,
            "under backend='auto', relational plans (groupby, sort, join, parquet read) and "
            "plans with str methods over inputs of at least this many rows try arrow first",
        ),
    )

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        """Relational or text plans over ``min_rows`` rows or more (or a parquet read, size
        unknown)."""
        kinds = {type(n).__name__ for n in walk(plan) if isinstance(n, (*RELATIONAL, *TEXT))}
        if not kinds:
            return None
        limit = settings["min_rows"]
        what = ", ".join(sorted(kinds))
        if rows is None:
            if "ReadParquet" not in kinds:
                return None
            return Preference(f"a parquet read ({what}) of a size unknown before reading")
        if rows < limit:
            return None
        return Preference(
            f"{rows} rows >= arrow_min_rows={limit} with {what} (settings: {settings.source})"
        )

    def calibrate(self, quick: bool = False, report: Callable[[str], Any] = print) -> Calibration:
        """The smallest size from which arrow beats pandas on a filter + groupby plan at
        every larger measured size."""
        sizes = SIZES[:2] if quick else SIZES
        plans = {n: grouped_plan(grouped_frame(n)) for n in sizes}
        return calibrate_min_rows(self, plans, NEVER, report)
