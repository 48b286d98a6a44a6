"""NumPy ufuncs and ``Series.map(dict)`` in the arrow backend, exactly as pandas computes them.

* ``Ufunc`` (``np.log1p(s)``, one input of int64 or float64): NumPy's own ufunc over the
  Arrow array's buffer (zero-copy for a float64 array without nulls; a null, which is a
  missing value, is NaN first, as pandas holds it), so a result is bit for bit pandas' (Arrow's
  kernels and a compiled libm may differ in the last bit). The result's kind is the dtype
  NumPy gives for the input's dtype (float64, int64 or bool; others are declined).
* ``MapDict`` (``s.map(dict)`` of a ``str`` column, string keys): ``pc.index_in`` of the
  values among the keys, then a ``take`` of the dict's values (a key not in the dict, or a
  missing value, is null: pandas' NaN). pandas decides the result's dtype from the values:
  int values give int64 when every value was found and float64 with NaN otherwise (the kind
  ``int64?``); float (or mixed int and float) values give float64; string values ``str``;
  and an empty input gives ``str`` (the schema's dtype, pandas' empty-input answer), which
  :func:`value_decided` / :func:`finalize_map` reproduce at the ``Compute``. Other values
  (booleans: object with NaN; None) and keys (NaN, numbers) are declined.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir.trust import UFUNCS
from .arrays import STR, to_pandas

__all__ = ["ufunc_kind", "eval_ufunc", "map_kind", "eval_map", "value_decided", "finalize_map"]

_INPUTS = {"int64": np.dtype("int64"), "float64": np.dtype("float64")}
_OUTPUTS = {np.dtype("float64"): "float64", np.dtype("int64"): "int64", np.dtype("bool"): "bool"}
_INT64 = (-(2**63), 2**63 - 1)


def _unsupported() -> type[Exception]:
    from .expressions import Unsupported

    return Unsupported


def ufunc_kind(e: ex.Ufunc, kinds: list[str]) -> str:
    """The kind of ``np.<name>(input)`` for an input of kind ``kinds[0]``.

    Raises
    ------
    Unsupported
        Several inputs, an input other than int64/float64, or a result dtype other than
        float64/int64/bool.
    """
    unsupported = _unsupported()
    fn = UFUNCS.get(e.name)
    if fn is None or fn.nin != 1 or len(kinds) != 1:
        raise unsupported(f"np.{e.name} of {len(kinds)} inputs (one-input ufuncs only)")
    dtype = _INPUTS.get(kinds[0])
    if dtype is None:
        raise unsupported(f"np.{e.name} of {kinds[0]} (int64 and float64 only)")
    try:
        with np.errstate(all="ignore"):
            out = fn(np.empty(0, dtype=dtype))
    except TypeError as why:
        raise unsupported(f"np.{e.name} of {kinds[0]}: NumPy raises TypeError") from why
    kind = _OUTPUTS.get(out.dtype)
    if kind is None:
        raise unsupported(f"np.{e.name} of {kinds[0]} gives dtype {out.dtype}")
    return kind


def eval_ufunc(e: ex.Ufunc, x: Any) -> Any:
    """``np.<name>`` over the Arrow array ``x`` (nulls of a float array as NaN)."""
    import pyarrow as pa

    if pa.types.is_floating(x.type) and x.null_count:
        x = x.fill_null(np.nan)
    values = x.to_numpy() if isinstance(x, pa.ChunkedArray) else x.to_numpy(zero_copy_only=False)
    return pa.array(UFUNCS[e.name](values), from_pandas=False)


def _value_kind(values: list[Any]) -> str | None:
    if all(type(v) is int and _INT64[0] <= v <= _INT64[1] for v in values):
        return "int64?"
    numbers = all(
        type(v) is float or (type(v) is int and _INT64[0] <= v <= _INT64[1]) for v in values
    )
    if numbers:
        return "float64"
    if all(type(v) is str for v in values):
        return "str"
    return None


def map_kind(e: ex.MapDict, kind: str) -> str:
    """The kind of ``s.map(dict)`` for ``s`` of kind ``kind``.

    Raises
    ------
    Unsupported
        An input other than ``str``, keys other than strings, an empty dict, values other
        than all int, all numbers or all strings, or an unknown ``na_action``.
    """
    unsupported = _unsupported()
    if kind != "str":
        raise unsupported(f"map of {kind} (str columns only)")
    if e.na_action not in (None, "ignore"):
        raise unsupported(f"map(na_action={e.na_action!r})")
    mapping = dict(e.mapping)
    if not mapping or not all(type(k) is str for k in mapping):
        raise unsupported(f"map with keys {list(mapping)[:5]!r} (string keys only)")
    out = _value_kind(list(mapping.values()))
    if out is None:
        raise unsupported(f"map to values {list(mapping.values())[:5]!r} (a dtype pandas infers)")
    return out


def eval_map(e: ex.MapDict, x: Any) -> Any:
    """The mapped values of the Arrow string array ``x`` (null where a key is not found)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mapping = dict(e.mapping)
    kind = _value_kind(list(mapping.values()))
    target = {"int64?": pa.int64(), "float64": pa.float64()}.get(kind or "", pa.large_string())
    values = list(mapping.values())
    if kind == "float64":
        values = [float(v) for v in values]  # (as NumPy converts a Python int)
    keys = pa.array(list(mapping), type=x.type)
    positions = pc.index_in(x, value_set=keys)
    return pc.take(pa.array(values, type=target), positions)


def value_decided(e: ex.Expr, kind: str, dtype: Any) -> bool:
    """Whether ``e`` of ``kind`` is an output whose dtype pandas decides from the values
    while the schema holds pandas' empty-input dtype ``dtype`` (``str`` for a map of a
    ``str`` column to numbers)."""
    return isinstance(e, ex.MapDict) and dtype == STR and kind in ("int64?", "float64")


def finalize_map(values: Any, kind: str) -> Any:
    """pandas' array of a map's ``values`` of ``kind`` (int64 without a missing value,
    else float64 with NaN; ``str`` when there are no rows)."""
    if len(values) == 0:
        return pd.array([], dtype=STR)
    return to_pandas(values, np.dtype("int64" if kind == "int64?" else "float64"))


def value_decided_consumer(root: Any) -> str | None:
    """The first node of the physical plan ``root`` that reads a ``Compute``'s output of a
    value-decided dtype (:func:`value_decided`) other than through ``Compute`` / ``Filter`` /
    ``Select`` / ``Limit`` up to a ``Finalize`` (which builds pandas' object from the values'
    own dtype), as a reason to decline; ``None`` when there is none. A group-by, sort or join
    reads its fields' dtypes from the schema, which for such a field is not the values'."""
    from ...lower import Compute, Filter, Finalize, Limit, Select, physical_nodes

    parents: dict[int, list[Any]] = {}
    decided: list[Any] = []
    for n in physical_nodes(root):
        for child in n.inputs:
            parents.setdefault(id(child), []).append(n)
        if isinstance(n, Compute):
            schema = {f.name: f.dtype for f in n.input.schema}
            out = {f.name: f.dtype for f in n.schema}
            for name, e in n.expressions:
                if isinstance(e, ex.MapDict):
                    try:
                        kind = map_kind(e, _kind_in(e.input, schema))
                    except Exception:
                        continue
                    if value_decided(e, kind, out[name]):
                        decided.append(n)
                        break
    passing = (Compute, Filter, Select, Limit)
    for start in decided:
        stack = list(parents.get(id(start), []))
        while stack:
            n = stack.pop()
            if isinstance(n, Finalize):
                continue
            if not isinstance(n, passing):
                return (
                    f"{type(n).__name__} over a map(dict) whose dtype pandas decides from the "
                    "values (int64, or float64 with a missing key)"
                )
            stack.extend(parents.get(id(n), []))
    return None


def _kind_in(e: ex.Expr, schema: dict[str, Any]) -> str:
    from .expressions import typeof

    return typeof(e, schema)
