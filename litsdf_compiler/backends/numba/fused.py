"""A stage feeding a groupby, fused: the loop filters, computes and accumulates per group.

The columns the stage would compute are never materialized: each surviving row adds into
per-group partials (pandas' Kahan-compensated sums, Welford variance, counts, min/max) in
the same loop. Group slots come from the key itself when it is an integer of small range
(``key - min``: sorted for free) and from ``pandas.factorize`` otherwise; a slot no row
reached after the filter is not a group (pandas groups the filtered frame). Every group adds
its rows in row order, so the sums are pandas' bit for bit. (The kernel takes a slot range
``slo:shi`` so threads could split the groups; on the machines measured that gained nothing.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...lower import Finalize, Physical, Table
from .cache import load_kernel
from .emit import Unsupported
from .groupby import GroupSpec, check_spec
from .stage import (
    STAGE_NODES,
    Mismatch,
    Stage,
    _Compiler,
    _values,
    chain_key,
    decorator,
    host_values,
    kernel_inputs,
    schedule,
)

__all__ = ["Fused", "compile_fused", "run_fused", "fusable_chain", "row_layout"]

_F64 = np.dtype("float64")
_DENSE_MAX = 10_000_000
_CACHE: dict[Hashable, Fused | Unsupported] = {}


@dataclasses.dataclass
class Acc:
    """One measure's partials: the arrays (name, dtype, initial value) and how to finish."""

    func: str
    arrays: list[tuple[str, np.dtype, Any]]
    finish: str  # "size", "count", "sum", "mean", "var", "std", "min", "max"
    kwargs: dict[str, Any]
    view_bool: bool = False


@dataclasses.dataclass
class Fused:
    """A compiled stage + aggregate: the kernel source and the stage feeding its inputs."""

    stage: Stage
    source: str
    key: str
    key_dtype: np.dtype
    accs: list[Acc]
    first: bool


def row_layout(f: Finalize) -> dict[Hashable, str] | None:
    """label -> internal name of the frame ``f`` builds when its columns are exactly its
    physical node's fields, uniquely labelled, indexed by the row identity; else None."""
    if f.kind != "frame" or f.columns is None or f.index != ("rows",):
        return None
    if f.fields != f.input.names():
        return None
    labels = f.columns.index
    if not labels.is_unique or isinstance(labels, pd.MultiIndex):
        return None
    return dict(zip(labels, f.fields, strict=True))


def fusable_chain(top: Physical) -> tuple[tuple[Physical, ...], Physical]:
    """The stage nodes from ``top`` down, bottom-up, and the node below them."""
    chain: list[Physical] = []
    m = top
    while isinstance(m, STAGE_NODES):
        chain.append(m)
        m = m.inputs[0]
    return tuple(reversed(chain)), m


def compile_fused(spec: GroupSpec, chain: tuple[Physical, ...], below: Physical) -> Fused:
    """Compile ``chain`` (possibly empty) + the groupby ``spec`` (over the internal names of
    the chain's output) into one loop; :class:`Unsupported` if some part has no fused form
    (the caller then runs them one after the other)."""
    key = (chain_key(chain, below), spec)
    hit = _CACHE.get(key)
    if hit is None:
        try:
            hit = _compile(spec, chain, below)
        except Unsupported as why:
            hit = why
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = hit
    if isinstance(hit, Unsupported):
        raise hit
    return hit


def _accumulator(
    j: int, func: str, kw: dict[str, Any], x: str, dtype: np.dtype
) -> tuple[Acc, list[str]]:
    """The partials of measure ``j`` (value code ``x`` of ``dtype``) and the loop lines."""
    if func == "size" or (func == "count" and dtype.kind != "f"):
        return Acc(func, [], "size", kw), []
    if func == "count":
        return Acc(func, [(f"N{j}", np.dtype(np.int64), 0)], "count", kw), [
            f"if {x} == {x}:",
            f"    N{j}[g] += 1",
        ]
    if func in ("min", "max"):
        view_bool = dtype.kind == "b"
        if view_bool:
            dtype, x = np.dtype(np.uint8), f"np.uint8({x})"
        if dtype.kind == "f":
            init: Any = -np.inf if func == "max" else np.inf
        else:
            info = np.iinfo(dtype)
            init = info.min if func == "max" else info.max
        op = ">" if func == "max" else "<"
        arrays = [(f"M{j}", dtype, init)]
        lines = [f"v{j} = {x}"]
        if dtype.kind == "f":
            arrays.append((f"N{j}", np.dtype(np.int64), 0))
            lines += [f"if v{j} == v{j}:", f"    N{j}[g] += 1"]
            lines += [f"    if v{j} {op} M{j}[g]:", f"        M{j}[g] = v{j}"]
        else:
            lines += [f"if v{j} {op} M{j}[g]:", f"    M{j}[g] = v{j}"]
        return Acc(func, arrays, func, kw, view_bool), lines
    if func == "sum" and dtype.kind in "biu":
        wide = np.dtype(np.uint64) if dtype.kind == "u" else np.dtype(np.int64)
        return Acc(func, [(f"S{j}", wide, 0)], "isum", kw), [f"S{j}[g] += np.{wide.name}({x})"]
    if dtype.kind == "f" and dtype != _F64:
        raise Unsupported(f"groupby {func} of {dtype} (pandas keeps float32 partials)")
    if func not in ("sum", "mean", "var", "std"):
        raise Unsupported(f"fused groupby {func}")
    v = f"v{j}"
    lines = [f"{v} = np.float64({x})" if dtype != _F64 else f"{v} = {x}"]
    counted = [(f"N{j}", np.dtype(np.int64), 0)]
    if func in ("var", "std"):
        arrays = [(f"U{j}", _F64, 0.0), (f"Q{j}", _F64, 0.0), *counted]
        lines += [
            f"if {v} == {v}:",
            f"    N{j}[g] += 1",
            f"    o{j} = U{j}[g]",
            f"    U{j}[g] += ({v} - o{j}) / N{j}[g]",
            f"    Q{j}[g] += ({v} - U{j}[g]) * ({v} - o{j})",
        ]
        return Acc(func, arrays, func, kw), lines
    arrays = [(f"S{j}", _F64, 0.0), (f"C{j}", _F64, 0.0), *counted]
    lines += [
        f"if {v} == {v}:",
        f"    N{j}[g] += 1",
        f"    y{j} = {v} - C{j}[g]",
        f"    w{j} = S{j}[g] + y{j}",
        f"    C{j}[g] = w{j} - S{j}[g] - y{j}",
        f"    if C{j}[g] != C{j}[g]:",
        f"        C{j}[g] = 0.0",
        f"    S{j}[g] = w{j}",
    ]
    return Acc(func, arrays, func, kw), lines


def _compile(spec: GroupSpec, chain: tuple[Physical, ...], below: Physical) -> Fused:
    top = chain[-1] if chain else below
    check_spec(spec, {f.name: f.dtype for f in top.schema})
    comp = _Compiler(chain, below)
    for node in chain:
        comp.node(node)
    stage = comp.stage
    kref = comp.henv.get(spec.keys[0])
    if kref is None or kref[0] != "frame":
        raise Unsupported("a computed groupby key")
    accs, tail = [], []
    for j, (col, func, margs) in enumerate(spec.measures):
        kw = dict(margs)
        if col is None:
            acc, lines = _accumulator(j, "size", kw, "", np.dtype(np.int64))
        else:
            reader = comp.kenv.get(col)
            if reader is None:
                raise Unsupported(f"groupby of a non-numeric column {col!r}")
            x, dtype = reader()
            acc, lines = _accumulator(j, func, kw, x, dtype)
        accs.append(acc)
        tail += lines
    stage.lits, stage.arrays, stage.udfs = comp.em.lits, comp.em.arrays, comp.em.udfs
    first = not spec.sort
    head = ["F", "CNT"] if first else ["CNT"]
    tail = ["CNT[g] += 1", *(["if F[g] < 0:", "    F[g] = i"] if first else []), *tail]
    body = [line for line in comp.em.lines if not line.startswith("#out ")]
    body = schedule(body, tail)
    args = ["n", "slo", "shi", "K", "kmin"] + [f"a{k}" for k in range(len(stage.inputs))]
    args += [f"L{k}" for k in range(len(stage.lits))] + [f"A{k}" for k in range(len(stage.arrays))]
    args += [f"U{k}" for k in range(len(stage.udfs))]
    args += head + [name for acc in accs for name, _, _ in acc.arrays]
    from .emit import HELPERS

    lines = [
        "import numpy as np",
        "from numba import njit",
        *(HELPERS[h] for h in sorted(comp.em.helpers)),
        decorator(stage),
        f"def kernel({', '.join(args)}):",
        "    for i in range(n):",
        "        g = np.int64(K[i] - kmin)",
        "        if g < slo or g >= shi:",
        "            continue",
        *(f"        {line}" for line in body + tail),
        "    return 0",
        "",
    ]
    return Fused(stage, "\n".join(lines), kref[1], below.field(kref[1]).dtype, accs, first)


def _slots(spec: GroupSpec, col: Any) -> tuple[np.ndarray, Any, int, Any]:
    """(key array K, its offset kmin, number of slots, the key of each slot)."""
    values = col if isinstance(col, np.ndarray) else None
    if values is not None and values.dtype.kind in "iu" and len(values):
        lo, hi = values.min(), values.max()
        span = int(hi) - int(lo) + 1
        if span <= min(max(4 * len(values), 256), _DENSE_MAX):
            if values.dtype == np.uint64:
                keys: Any = np.arange(span, dtype=np.uint64) + np.uint64(lo)
            else:
                keys = (np.arange(span, dtype=np.int64) + int(lo)).astype(values.dtype)
            return np.ascontiguousarray(values), lo, span, keys
    codes, uniques = pd.factorize(col, sort=spec.sort, use_na_sentinel=spec.dropna)
    return np.ascontiguousarray(codes, dtype=np.int64), np.int64(0), len(uniques), uniques


def _finish(acc: Acc, parts: dict[str, np.ndarray], count: np.ndarray) -> np.ndarray:
    j_arrays = [parts[name] for name, _, _ in acc.arrays]
    kind = acc.finish
    if kind == "size":
        return count
    if kind == "count" or kind == "isum":
        return j_arrays[0]
    if kind in ("min", "max"):
        out = j_arrays[0]
        if out.dtype.kind == "f":
            out[j_arrays[1] == 0] = np.nan
        return out.view(bool) if acc.view_bool else out
    with np.errstate(all="ignore"):
        if kind in ("var", "std"):
            q, nobs = j_arrays[1], j_arrays[2]
            ddof = acc.kwargs.get("ddof", 1)
            out = q / (nobs - ddof)
            if kind == "std":
                out = np.sqrt(out)
            out[nobs <= ddof] = np.nan
            return out
        s, nobs = j_arrays[0], j_arrays[2]
        if kind == "mean":
            out = s / nobs
            out[nobs == 0] = np.nan
            return out
        out = s
        out[nobs < acc.kwargs.get("min_count", 0)] = np.nan
        return out


def run_fused(f: Fused, spec: GroupSpec, table: Table) -> tuple[Any, list[np.ndarray]]:
    """Execute the fused aggregate on the chain's input table: (the key of each group, one
    array per measure), groups in pandas' order; :class:`Mismatch` when the data's dtypes
    are not the compiled ones (the caller runs the nodes one by one)."""
    hosts = host_values(f.stage, table)
    arrays = kernel_inputs(f.stage, table, hosts)
    col = _values(table.columns[f.key])
    if col.dtype != f.key_dtype:
        raise Mismatch(f"key dtype {col.dtype}, expected {f.key_dtype}")
    keys, kmin, nslots, slot_keys = _slots(spec, col)
    rows = len(table)
    head = [np.full(nslots, -1, dtype=np.int64)] if f.first else []
    count = np.zeros(nslots, dtype=np.int64)
    parts = {
        name: np.full(nslots, init, dtype=dtype)
        for acc in f.accs
        for name, dtype, init in acc.arrays
    }
    kernel = load_kernel(f.source)
    fixed = (*arrays, *f.stage.lits, *f.stage.arrays, *f.stage.udfs, *head, count, *parts.values())
    kernel(rows, 0, nslots, keys, kmin, *fixed)
    present = np.flatnonzero(count)
    if f.first:
        present = present[np.argsort(head[0][present], kind="stable")]
    return slot_keys[present], [_finish(acc, parts, count)[present] for acc in f.accs]
