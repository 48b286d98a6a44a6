"""How the selector asks the ``numba`` backend: large batches, calibrated against pandas.

``litsdf calibrate`` found numba's compiled kernels faster than pandas from ~1,000 rows on on
the development machine (2-core x86-64, pandas 3.1); the default ``min_rows=10_000`` keeps a
10x margin because a plan numba has not seen before pays a one-time compile (about a second;
cached on disk afterwards), which the steady-state calibration does not count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir.base import Node
from ..base import Backend
from ..preference import (
    Calibration,
    Preference,
    Setting,
    Settings,
    calibrate_min_rows,
)

__all__ = ["NumbaSelection", "SIZES", "NEVER"]

SIZES = (1_000, 4_000, 16_000, 64_000, 256_000, 1_000_000)
"""Input sizes ``calibrate`` measures (the first 3 when ``quick``)."""
NEVER = 10**12
"""``min_rows`` when numba never won: it is not picked by size."""


def numeric_frame(n: int) -> pd.DataFrame:
    """The calibration input: floats with 5% missing, floats, an integer key."""
    rng = np.random.default_rng(1)
    a = rng.random(n) * 10
    a[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"a": a, "b": rng.random(n), "k": rng.integers(0, 50, n)})


def numeric_plan(frame: pd.DataFrame) -> rel.Relation:
    """A numeric feature pipeline with a filter (as ``litsdf.compile`` traces and optimizes
    it): ``a = a.fillna(0)``, ``z = log1p(a * b + 1).clip(0, 2)``, ``w = z.where(b > 0.1,
    0)``, rows with ``w > 0.5``."""
    a = ex.FillNa(ex.Col("a"), ex.Lit(0.0))
    inner = ex.BinaryOp("add", ex.BinaryOp("mul", a, ex.Col("b")), ex.Lit(1.0))
    z = ex.Clip(ex.Ufunc("log1p", (inner,)), ex.Lit(0.0), ex.Lit(2.0))
    cond = ex.BinaryOp("gt", ex.Col("b"), ex.Lit(0.1))
    columns = (("a", a), ("z", z), ("w", ex.Where(z, cond, ex.Lit(0.0), False)))
    assigned = rel.WithColumns(rel.Source(rel.DataRef(frame)), columns)
    return rel.Filter(assigned, ex.BinaryOp("gt", ex.Col("w"), ex.Lit(0.5)))


class NumbaSelection(Backend):
    """The ``numba`` backend's setting ``min_rows``, preference and calibration."""

    settings = (
        Setting(
            "min_rows",
            10_000,
            "under backend='auto', inputs of at least this many rows try numba first",
        ),
    )

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        """Inputs of at least ``min_rows`` rows (a size known before reading)."""
        limit = settings["min_rows"]
        if rows is None or rows < limit:
            return None
        return Preference(f"{rows} rows >= numba_min_rows={limit} (settings: {settings.source})")

    def calibrate(self, quick: bool = False, report: Callable[[str], Any] = print) -> Calibration:
        """The smallest size from which numba beats pandas at every larger measured size."""
        sizes = SIZES[:3] if quick else SIZES
        plans = {n: numeric_plan(numeric_frame(n)) for n in sizes}
        return calibrate_min_rows(self, plans, NEVER, report)
