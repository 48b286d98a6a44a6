"""Shared test frames, built with whichever module is passed as ``pd`` (pandas or litsdf)."""

from __future__ import annotations

from typing import Any

import numpy as np

NAN = np.nan

BASE: dict[str, list[Any]] = {
    "i": [3, 1, 4, 1, 5, 9, 2, 6],
    "j": [2, 7, 1, 8, 2, 8, 1, 8],
    "f": [1.5, NAN, -2.25, 0.0, 3.5, NAN, 10.0, -0.5],
    "g": [0.5, 2.0, NAN, 4.0, -1.0, 6.5, 7.0, NAN],
    "s": [" Apple ", "banana", None, "Cherry pie", "apple", "date ", "Elder", "fig"],
    "k": ["a", "b", "a", "c", "b", "a", None, "c"],
    "b": [True, False, True, True, False, False, True, False],
    "t": [
        "2024-01-05 10:30",
        "2024-02-29 23:59",
        "2023-12-31 00:00",
        "2024-07-04 12:00",
        "2024-03-10 06:15",
        "2025-01-01 00:00",
        "2024-11-11 11:11",
        "2024-06-30 18:45",
    ],
}


def frame(pd: Any, **overrides: Any) -> Any:
    """The standard mixed-dtype test frame (ints, floats with NaN, strings with None, bools,
    datetimes), as a DataFrame of module ``pd``."""
    data: dict[str, Any] = dict(BASE)
    data["t"] = np.array(data["t"], dtype="datetime64[ns]")
    data.update(overrides)
    return pd.DataFrame(data)


def keyed(pd: Any) -> tuple[Any, Any]:
    """Two frames sharing a key column ``k`` for merge/join tests."""
    left = pd.DataFrame(
        {"k": ["a", "b", "c", "d", "a"], "x": [1, 2, 3, 4, 5], "y": [0.5, 1.5, NAN, 3.5, 4.5]}
    )
    right = pd.DataFrame(
        {"k": ["a", "c", "e", "c"], "z": [10, 30, 50, 31], "y": [9.0, 8.0, 7.0, 6.0]}
    )
    return left, right
