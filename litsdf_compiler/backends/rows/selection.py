"""How the selector asks the ``rows`` backend: small inputs, calibrated against pandas.

Generated row code is fastest where pandas' per-call overhead dominates: ``litsdf calibrate``
found it faster than pandas up to ~1,000-4,000 rows on the development machine (2-core
x86-64, pandas 3.1), hence the default ``max_rows=1000``. Its compiled :class:`RowProgram`
also serves repeated calls on same-shaped input (``litsdf.compile``'s ``pipe(df)``) without
rebuilding the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir import strings as st
from ...ir.base import Node
from ..base import Backend, BackendDeclined
from ..preference import (
    Calibration,
    Preference,
    Setting,
    Settings,
    largest_winning_size,
    speedup_lines,
    time_plans,
)

__all__ = ["RowsSelection", "SIZES"]

SIZES = (1, 4, 16, 64, 256, 1024, 4096)
"""Input sizes ``calibrate`` measures (the first 5 when ``quick``)."""


def text_frame(n: int) -> pd.DataFrame:
    """The calibration input: short texts, a float and a small integer key."""
    rng = np.random.default_rng(0)
    words = np.array(["Great", "item!", "OK", "buy", "again", "5/5"])
    text = [" ".join(words[rng.integers(0, 6, 4)]) for _ in range(n)]
    return pd.DataFrame(
        {"text": pd.array(text, dtype="str"), "x": rng.random(n), "k": rng.integers(0, 4, n)}
    )


def text_plan(frame: pd.DataFrame) -> rel.Relation:
    """A row-wise text + numeric pipeline (as ``litsdf.compile`` traces and optimizes it):
    ``clean = text.str.lower().str.strip()``, ``n = clean.str.len()``, ``y = (x * 2 +
    1).clip(0, 2.5)``, ``c = k.map({0: "a", 1: "b", 2: "c"})``, rows with ``n > 3``."""
    clean = st.StrStrip(st.StrCase(ex.Col("text"), "lower"))
    y = ex.BinaryOp("add", ex.BinaryOp("mul", ex.Col("x"), ex.Lit(2.0)), ex.Lit(1.0))
    columns = (
        ("clean", clean),
        ("n", st.StrLen(clean)),
        ("y", ex.Clip(y, ex.Lit(0.0), ex.Lit(2.5))),
        ("c", ex.MapDict(ex.Col("k"), ((0, "a"), (1, "b"), (2, "c")))),
    )
    assigned = rel.WithColumns(rel.Source(rel.DataRef(frame)), columns)
    return rel.Filter(assigned, ex.BinaryOp("gt", ex.Col("n"), ex.Lit(3)))


class RowsSelection(Backend):
    """The ``rows`` backend's setting ``max_rows``, preference, calibration and program."""

    settings = (
        Setting(
            "max_rows",
            1_000,
            "under backend='auto', inputs of at most this many rows try the generated row "
            "code first (0: never by size)",
        ),
    )

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        """Inputs of at most ``max_rows`` rows (a size known before reading)."""
        limit = settings["max_rows"]
        if rows is None or limit == 0 or rows > limit:
            return None
        return Preference(f"{rows} rows <= rows_max_rows={limit} (settings: {settings.source})")

    def calibrate(self, quick: bool = False, report: Callable[[str], Any] = print) -> Calibration:
        """The largest size up to which row code beats pandas at every measured size."""
        from ..pandas import BACKEND as PANDAS

        sizes = SIZES[:5] if quick else SIZES
        plans = {n: text_plan(text_frame(n)) for n in sizes}
        base, mine = time_plans(PANDAS, plans), time_plans(self, plans)
        for line in speedup_lines(self.name, PANDAS.name, mine, base):
            report(line)
        measured = {
            "sizes": list(sizes),
            "pandas_s": [base[n] for n in sizes],
            f"{self.name}_s": [mine[n] for n in sizes],
        }
        return Calibration({"max_rows": largest_winning_size(mine, base)}, measured)

    def program(self, plan: Node, inputs: Sequence[rel.Source]) -> Callable[..., Any] | None:
        """The compiled row program's frame mode for a single-input plan (cached by shape)."""
        if len(inputs) != 1:
            return None
        from . import compile_rows

        try:
            program = compile_rows(plan)  # type: ignore[arg-type]
        except BackendDeclined:
            return None
        if not program.frame_verdict:
            return None
        return program.run_frame
