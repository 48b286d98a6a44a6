"""``str`` kernels the arrow backend runs by ``pyarrow.compute`` directly, where pandas' own
kernel (the default: :func:`~.expressions._eval_kernel`) does the same work the slow way.

* ``str.count(pat)`` of a pattern without a regex metacharacter: pandas runs RE2's
  ``count_substring_regex``; the non-overlapping, left-to-right matches of a literal pattern
  are exactly what ``count_substring`` counts, many times faster. pandas' result is int64,
  float64 with NaN where a value is missing: here int64 with nulls, which the backend gives
  pandas as float64 with NaN.

* ``str.lower()`` / ``str.upper()`` / ``str.len()`` of strings that are all ASCII (their
  bytes checked at once): pandas runs ``utf8_lower`` / ``utf8_upper`` / ``utf8_length``; on
  ASCII text ``ascii_lower`` / ``ascii_upper`` and the byte length are the same, without
  decoding UTF-8. (Not ``strip``: ``utf8_trim_whitespace`` also strips the ASCII separators
  ``\x1c``-``\x1f``, ``ascii_trim_whitespace`` does not.)

Everything else returns ``None`` (pandas' kernel runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir import expressions as ex
from ...ir import strings as st

__all__ = ["REGEX_META", "literal_pattern", "is_ascii", "fast_kernel"]

REGEX_META = frozenset(".^$*+?{}[]\\|()")
"""Characters with a meaning in a regular expression (Python's ``re`` and RE2 alike)."""


def literal_pattern(pat: Any) -> bool:
    """Whether the regex ``pat`` matches only its own text: a non-empty ``str`` without a
    metacharacter."""
    return type(pat) is str and pat != "" and not (set(pat) & REGEX_META)


def fast_kernel(e: ex.Expr, x: Any) -> Any:
    """The Arrow array of the one-input ``str`` expression ``e`` over ``x`` when a direct
    ``pyarrow.compute`` call is exactly pandas' result, else ``None``."""
    import pyarrow.compute as pc

    if isinstance(e, st.StrMethod) and e.method == "count":
        kwargs = dict(e.kwargs)
        args = tuple(e.args)
        if "pat" in kwargs:
            args, kwargs = (kwargs.pop("pat"), *args), kwargs
        flags = kwargs.pop("flags", args[1] if len(args) > 1 else 0)
        if kwargs or len(args) not in (1, 2) or type(flags) is not int or flags != 0:
            return None
        if not literal_pattern(args[0]):
            return None
        return pc.count_substring(x, args[0]).cast("int64")
    ascii_kernel = _ASCII.get(_ascii_key(e) or "")
    if ascii_kernel is not None and is_ascii(x):
        return ascii_kernel(x)
    return None


def _ascii_key(e: ex.Expr) -> str | None:
    if isinstance(e, st.StrCase) and e.how in ("lower", "upper"):
        return e.how
    if isinstance(e, st.StrLen):
        return "len"
    return None


def _ascii_len(x: Any) -> Any:
    import pyarrow.compute as pc

    return pc.binary_length(x).cast("int64")


def _kernel(name: str) -> Any:
    def run(x: Any) -> Any:
        import pyarrow.compute as pc

        return getattr(pc, name)(x)

    return run


_ASCII = {
    "lower": _kernel("ascii_lower"),
    "upper": _kernel("ascii_upper"),
    "len": _ascii_len,
}
"""Kernels equal to pandas' ``utf8_*`` ones on ASCII strings."""


def is_ascii(x: Any) -> bool:
    """Whether every byte of the strings of the Arrow array ``x`` (chunked or not; the bytes
    its offsets span, missing values' included) is ASCII."""
    import pyarrow as pa

    chunks = x.chunks if isinstance(x, pa.ChunkedArray) else [x]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return False
        if len(chunk) == 0:
            continue
        kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        _, offsets, data = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=kind, count=chunk.offset + len(chunk) + 1)
        begin, end = int(bounds[chunk.offset]), int(bounds[-1])
        if end <= begin or data is None:
            continue
        if np.frombuffer(data, dtype=np.uint8, count=end)[begin:end].max() >= 0x80:
            return False
    return True
