"""``str`` kernels the arrow backend runs by ``pyarrow.compute`` directly, where pandas' own
kernel (the default: :func:`~.expressions._eval_kernel`) does the same work the slow way.

* ``str.count(pat)`` of a pattern without a regex metacharacter: pandas runs RE2's
  ``count_substring_regex``; the non-overlapping, left-to-right matches of a literal pattern
  are exactly what ``count_substring`` counts, many times faster. pandas' result is int64,
  float64 with NaN where a value is missing: here int64 with nulls, which the backend gives
  pandas as float64 with NaN.

Everything else returns ``None`` (pandas' kernel runs).
"""

from __future__ import annotations

from typing import Any

from ...ir import expressions as ex
from ...ir import strings as st

__all__ = ["REGEX_META", "literal_pattern", "fast_kernel"]

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
    return None
