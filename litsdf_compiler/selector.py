"""Size-based backend selection: row-count thresholds, measured defaults, a calibrated profile.

Under ``backend="auto"`` the plan's input size decides which backend is *tried first*: the
generated row kernel (``rows``) for small inputs, ``numba`` for large batches, ``pandas`` in
between and whenever the preferred backend declines the plan. The thresholds come from
``litsdf calibrate`` (a JSON profile, see :func:`profile_path`) or built-in defaults measured on
the development machine (2-core x86-64, pandas 3.1): ``litsdf calibrate`` found the row kernel
faster than pandas up to ~1,000-4,000 rows (so ``rows_max_rows=1000``) and numba's compiled
kernels faster from ~1,000 rows on; the default ``numba_min_rows=10_000`` keeps a 10x margin
because a plan numba has not seen before pays a one-time compile (about a second; cached on
disk afterwards), which the steady-state calibration does not count.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path
from typing import Any

from .ir.base import walk
from .ir.relations import ReadCsv, ReadParquet, Relation, Source

__all__ = [
    "Thresholds",
    "PROFILE_FORMAT",
    "profile_path",
    "load_profile",
    "save_profile",
    "thresholds",
    "set_thresholds",
    "estimate_rows",
    "preference",
]

PROFILE_FORMAT = "litsdf-profile"
PROFILE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Row counts at which the selector switches backends.

    Attributes
    ----------
    rows_max_rows : int
        Inputs of at most this many rows try the ``rows`` backend first (0 disables it).
    numba_min_rows : int
        Inputs of at least this many rows try the ``numba`` backend first.
    source : str
        Where the values come from (defaults, a profile path, or "set by the user").
    """

    rows_max_rows: int = 1_000
    numba_min_rows: int = 10_000
    source: str = "built-in defaults"


_CURRENT: list[Thresholds] = []


def profile_path() -> Path:
    """``$LITSDF_PROFILE`` or ``~/.cache/litsdf/profile.json``."""
    env = os.environ.get("LITSDF_PROFILE")
    if env:
        return Path(env)
    return Path(os.path.expanduser("~")) / ".cache" / "litsdf" / "profile.json"


def load_profile(path: str | os.PathLike[str] | None = None) -> Thresholds:
    """Read the thresholds of a profile written by :func:`save_profile`.

    Raises ``ValueError`` naming the file and what is wrong with it.
    """
    p = Path(path) if path is not None else profile_path()
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{p}: not a litsdf profile (invalid JSON: {err})") from err
    if not isinstance(doc, dict) or doc.get("format") != PROFILE_FORMAT:
        raise ValueError(f"{p}: not a litsdf profile (missing format {PROFILE_FORMAT!r})")
    if doc.get("version") != PROFILE_VERSION:
        raise ValueError(f"{p}: profile version {doc.get('version')!r} is not {PROFILE_VERSION}")
    values = doc.get("thresholds")
    fields = ("rows_max_rows", "numba_min_rows")
    if not isinstance(values, dict) or not all(
        isinstance(values.get(f), int) and values[f] >= 0 for f in fields
    ):
        raise ValueError(f"{p}: 'thresholds' must hold non-negative integers {fields}")
    return Thresholds(values["rows_max_rows"], values["numba_min_rows"], f"profile {p}")


def save_profile(
    found: Thresholds, measured: dict[str, Any], path: str | os.PathLike[str] | None = None
) -> Path:
    """Write ``found`` (and the measurements behind it) as the profile; returns its path."""
    p = Path(path) if path is not None else profile_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "thresholds": {
            "rows_max_rows": found.rows_max_rows,
            "numba_min_rows": found.numba_min_rows,
        },
        "measured": measured,
    }
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(p)  # never leave a half-written profile
    _CURRENT.clear()
    return p


def thresholds() -> Thresholds:
    """The thresholds in force: set by the user, else the saved profile, else the defaults.

    A profile that cannot be read is reported with a warning and the defaults are used.
    """
    if not _CURRENT:
        found = Thresholds()
        if profile_path().exists():
            try:
                found = load_profile()
            except (OSError, ValueError) as err:
                warnings.warn(f"ignoring the litsdf profile: {err}", stacklevel=2)
        _CURRENT.append(found)
    return _CURRENT[0]


def set_thresholds(**values: int) -> Thresholds:
    """Override thresholds for this process (``rows_max_rows=...``, ``numba_min_rows=...``)."""
    for key, value in values.items():
        if key not in ("rows_max_rows", "numba_min_rows"):
            raise AttributeError(f"unknown threshold {key!r}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key} must be a non-negative integer; got {value!r}")
    current = dataclasses.replace(thresholds(), **values, source="set by the user")  # type: ignore[arg-type]
    _CURRENT[:] = [current]
    return current


_PARQUET_ROWS: dict[tuple[str, float], int] = {}


def _parquet_rows(path: str) -> int | None:
    try:
        key = (path, os.path.getmtime(path))
    except OSError:
        return None
    if key not in _PARQUET_ROWS:
        import pyarrow.parquet as pq

        _PARQUET_ROWS[key] = pq.ParquetFile(path).metadata.num_rows
    return _PARQUET_ROWS[key]


def estimate_rows(plan: Relation) -> int | None:
    """The largest input of ``plan`` in rows (in-memory data, parquet metadata); ``None`` when
    an input's size is unknown without reading it (CSV)."""
    largest = 0
    for n in walk(plan):
        if isinstance(n, Source):
            largest = max(largest, len(n.data.data))
        elif isinstance(n, ReadParquet):
            rows = _parquet_rows(n.path)
            if rows is None:
                return None
            largest = max(largest, rows)
        elif isinstance(n, ReadCsv):
            return None
    return largest


def preference(rows: int | None, th: Thresholds | None = None) -> tuple[tuple[str, ...], str]:
    """Backends to try first for an input of ``rows`` rows, and why."""
    th = th or thresholds()
    where = f"thresholds from {th.source}"
    if rows is None:
        return ("pandas",), "input size unknown before reading: pandas"
    if rows <= th.rows_max_rows:
        return ("rows", "pandas"), f"{rows} rows <= rows_max_rows={th.rows_max_rows} ({where})"
    if rows >= th.numba_min_rows:
        return ("numba", "pandas"), (f"{rows} rows >= numba_min_rows={th.numba_min_rows} ({where})")
    return ("pandas",), (
        f"{th.rows_max_rows} < {rows} rows < {th.numba_min_rows} ({where}): pandas"
    )
