"""``litsdf calibrate``: measure on this machine where each backend starts to win.

Two representative compiled pipelines run on growing inputs with each backend forced:
a row-wise text + numeric pipeline (``rows`` against ``pandas``) and a numeric feature
pipeline with a filter (``numba`` against ``pandas``). The crossovers become the selector's
thresholds (``rows_max_rows``, ``numba_min_rows``), saved as a profile the selector loads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from litsdf_compiler import selector

from ._config import option_context
from .pipeline import Pipeline, compile

__all__ = ["calibrate", "ROWS_SIZES", "NUMBA_SIZES"]

ROWS_SIZES = (1, 4, 16, 64, 256, 1024, 4096)
NUMBA_SIZES = (1_000, 4_000, 16_000, 64_000, 256_000, 1_000_000)
_NEVER = 10**12
"""``numba_min_rows`` when numba never won (or is unavailable): it is not picked by size."""


def _text_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(["Great", "item!", "OK", "buy", "again", "5/5"])
    text = [" ".join(words[rng.integers(0, 6, 4)]) for _ in range(n)]
    return pd.DataFrame(
        {"text": pd.array(text, dtype="str"), "x": rng.random(n), "k": rng.integers(0, 4, n)}
    )


def _text_pipeline(df: Any) -> Any:
    df["clean"] = df["text"].str.lower().str.strip()
    df["n"] = df["clean"].str.len()
    df["y"] = (df["x"] * 2.0 + 1.0).clip(0.0, 2.5)
    df["c"] = df["k"].map({0: "a", 1: "b", 2: "c"})
    return df[df["n"] > 3]


def _numeric_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    a = rng.random(n) * 10
    a[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"a": a, "b": rng.random(n), "k": rng.integers(0, 50, n)})


def _numeric_pipeline(df: Any) -> Any:
    df["a"] = df["a"].fillna(0.0)
    df["z"] = np.log1p(df["a"] * df["b"] + 1.0).clip(0.0, 2.0)
    df["w"] = df["z"].where(df["b"] > 0.1, 0.0)
    return df[df["w"] > 0.5]


def _median_seconds(run: Callable[[], Any], budget: float) -> float:
    """Median time of ``run`` over repeated batches lasting about ``budget`` seconds."""
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    inner = max(1, int(budget / 10 / once))
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(inner):
            run()
        samples.append((time.perf_counter() - t0) / inner)
    return sorted(samples)[2]


def _measure(
    pipe: Pipeline, make: Callable[[int], pd.DataFrame], sizes: Sequence[int], backend: str
) -> dict[int, float | None]:
    out: dict[int, float | None] = {}
    for n in sizes:
        frame = make(n)

        def run(f: pd.DataFrame = frame) -> Any:
            return pipe(f)

        try:
            with option_context(backend=backend):
                out[n] = _median_seconds(run, budget=0.2)
        except NotImplementedError:  # the backend declines or is unavailable
            out[n] = None
    return out


def _rows_threshold(rows: dict[int, float | None], base: dict[int, float | None]) -> int:
    """The largest size up to which ``rows`` beats pandas at every measured size."""
    best = 0
    for n in sorted(rows):
        r, p = rows[n], base[n]
        if r is None or p is None or r > p:
            break
        best = n
    return best


def _numba_threshold(numba: dict[int, float | None], base: dict[int, float | None]) -> int:
    """The smallest size from which ``numba`` beats pandas at every larger measured size."""
    found = _NEVER
    for n in sorted(numba, reverse=True):
        r, p = numba[n], base[n]
        if r is None or p is None or r > p:
            break
        found = n
    return found


def calibrate(
    quick: bool = False,
    save: bool = True,
    path: str | None = None,
    report: Callable[[str], Any] = print,
) -> selector.Thresholds:
    """Measure the backend crossovers here and (by default) save them as the profile.

    Parameters
    ----------
    quick : bool
        Fewer, smaller sizes (seconds instead of about a minute).
    save : bool
        Write the profile (see :func:`litsdf_compiler.selector.profile_path`).
    path : str, optional
        Where to write it instead of the default profile path.
    report : callable
        Receives one line of text per measurement.

    Returns
    -------
    Thresholds
    """
    rows_sizes = ROWS_SIZES[:5] if quick else ROWS_SIZES
    numba_sizes = NUMBA_SIZES[:3] if quick else NUMBA_SIZES
    text = compile(_text_pipeline, example=_text_frame(1))
    numeric = compile(_numeric_pipeline, example=_numeric_frame(1))
    measured: dict[str, Any] = {}
    for name, pipe, make, sizes, rival in (
        ("rows", text, _text_frame, rows_sizes, "rows"),
        ("numba", numeric, _numeric_frame, numba_sizes, "numba"),
    ):
        base = _measure(pipe, make, sizes, "pandas")
        other = _measure(pipe, make, sizes, rival)
        measured[name] = {
            "sizes": list(sizes),
            "pandas_s": [base[n] for n in sizes],
            f"{rival}_s": [other[n] for n in sizes],
        }
        for n in sizes:
            b, o = base[n], other[n]
            ratio = f"{b / o:6.2f}x" if b and o else "   n/a"
            report(
                f"{name:6s} n={n:<9,d} pandas {_fmt(b)}  {rival} {_fmt(o)}  "
                f"{rival} speed-up {ratio}"
            )
        if name == "rows":
            rows_max = _rows_threshold(other, base)
        else:
            numba_min = _numba_threshold(other, base)
    found = selector.Thresholds(rows_max, numba_min, "litsdf calibrate")
    report(
        f"rows_max_rows = {rows_max}; numba_min_rows = "
        f"{'never' if numba_min == _NEVER else numba_min}"
    )
    if save:
        where = selector.save_profile(found, measured, path)
        found = selector.load_profile(where)
        report(f"saved the profile to {where}")
        if where != selector.profile_path():
            report(f"(the selector reads {selector.profile_path()}: set LITSDF_PROFILE={where})")
    return found


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "declined"
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    return f"{seconds * 1e3:8.2f} ms" if math.isfinite(seconds) else "     inf"
