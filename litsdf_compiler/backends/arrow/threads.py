"""Both cores for the arrow backend's elementwise work: a ``Compute`` evaluated over row slices
in a thread pool, shared sub-expressions computed once.

pyarrow's compute kernels (and NumPy's ufunc loops) release the GIL but run one call on one
core. Every expression :func:`~.expressions.typeof` accepts is elementwise (row ``i`` of the
result depends on row ``i`` of the inputs only), so a ``Compute`` over ``n`` rows is exactly
the concatenation, in order, of the same ``Compute`` over contiguous slices of its input
columns: :func:`evaluate_all` splits the rows into one slice per worker when there are at
least :func:`min_rows` of them, evaluates every output expression per slice in a
:class:`~concurrent.futures.ThreadPoolExecutor` and concatenates the pieces (zero-copy, as
one ``ChunkedArray``); NumPy's error state (``np.errstate``) of the caller holds in every
worker. A dtype pandas decides from the values (an integer result with a
missing value is float64) is decided over the whole column: pieces of int64 and float64 are
all float64.

A ``Compute`` often repeats a sub-expression (``clean = s.str.lower().str.strip()`` used in
three outputs arrives inlined three times): :func:`shared_steps` rewrites the outputs so that
every non-trivial sub-expression occurring more than once is computed once per slice, as a
temporary column.

:func:`parallelism` sets the threshold and the worker count (tests use it to run the chunked
path on small frames).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ...ir import expressions as ex
from ...ir.base import replace_children

__all__ = [
    "MIN_ROWS",
    "as_array",
    "evaluate_all",
    "map_parallel",
    "min_rows",
    "parallelism",
    "shared_steps",
    "workers",
]

MIN_ROWS = 200_000
"""Rows from which a ``Compute`` is split over the workers (below, thread hand-offs cost more
than a second core gains)."""

_T = TypeVar("_T")
_R = TypeVar("_R")
_LOCK = threading.Lock()
_CONFIG: dict[str, int | None] = {"min_rows": MIN_ROWS, "workers": None}
_POOL: list[tuple[int, int, ThreadPoolExecutor]] = []
"""The pool: (process id, threads, executor); a forked child makes its own (the parent's
threads do not exist there)."""
_TEMP = "\x00arrow-shared-"
"""Prefix of the temporary column names of shared sub-expressions (no pandas label)."""

Evaluate = Callable[[ex.Expr, Callable[[str], Any], int], Any]
"""``evaluate(expr, column, length) -> Arrow array of length rows``."""


def workers() -> int:
    """The number of slices (and threads) a large ``Compute`` is split into: the cores this
    process may use (``os.sched_getaffinity``), unless :func:`parallelism` set it."""
    configured = _CONFIG["workers"]
    if configured is not None:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not on Linux)
        return max(1, os.cpu_count() or 1)


def min_rows() -> int:
    """Rows from which work is split over :func:`workers` threads."""
    value = _CONFIG["min_rows"]
    return MIN_ROWS if value is None else value


@contextlib.contextmanager
def parallelism(min_rows: int | None = None, workers: int | None = None) -> Iterator[None]:
    """Within the block, split work of at least ``min_rows`` rows over ``workers`` slices.

    Parameters
    ----------
    min_rows : int, optional
        The threshold (default: unchanged; the built-in one is :data:`MIN_ROWS`).
    workers : int, optional
        Slices and threads (default: unchanged; the built-in one is the usable cores).

    Raises
    ------
    ValueError
        ``min_rows`` below 1 or ``workers`` below 1.
    """
    if min_rows is not None and min_rows < 1:
        raise ValueError(f"parallelism(min_rows={min_rows!r}): expected an integer >= 1")
    if workers is not None and workers < 1:
        raise ValueError(f"parallelism(workers={workers!r}): expected an integer >= 1")
    old = dict(_CONFIG)
    if min_rows is not None:
        _CONFIG["min_rows"] = min_rows
    if workers is not None:
        _CONFIG["workers"] = workers
    try:
        yield
    finally:
        _CONFIG.update(old)


def _pool(size: int) -> ThreadPoolExecutor:
    """The backend's thread pool, with at least ``size`` threads (made on first use)."""
    with _LOCK:
        pid = os.getpid()
        if _POOL and _POOL[0][0] == pid and _POOL[0][1] >= size:
            return _POOL[0][2]
        if _POOL:
            old_pid, _, old = _POOL.pop()
            if old_pid == pid:
                old.shutdown(wait=False)
        pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="litsdf-arrow")
        _POOL.append((pid, size, pool))
        return pool


def map_parallel(fn: Callable[[_T], _R], items: Sequence[_T], rows: int) -> list[_R]:
    """``[fn(item) for item in items]``, in threads when ``rows`` (the work's size) reaches
    :func:`min_rows` and there is more than one item and worker."""
    size = min(workers(), len(items))
    if size < 2 or rows < min_rows():
        return [fn(item) for item in items]
    return list(_pool(size).map(fn, items))


def as_array(out: Any, length: int) -> Any:
    """The result of an evaluation as an Arrow array of ``length`` rows (a literal is
    broadcast with its own type, so an empty column keeps it, not Arrow's null type)."""
    import pyarrow as pa

    if isinstance(out, (pa.Array, pa.ChunkedArray)):
        return out
    if isinstance(out, str):
        return pa.array([out] * length, type=pa.large_string())
    return pa.array([out] * length, type=pa.scalar(out).type)


def shared_steps(
    outputs: Sequence[tuple[str, ex.Expr]],
) -> tuple[list[tuple[str, ex.Expr]], list[tuple[str, ex.Expr]]]:
    """``outputs`` with every sub-expression that occurs more than once (other than columns
    and literals) computed once: ``(steps, outputs)``, where each step ``(name, expr)``
    defines a temporary column that later steps and the rewritten outputs read as
    ``Col(name)``; steps come in dependency order."""
    counts: Counter[ex.Expr] = Counter()

    def count(e: ex.Expr) -> None:
        counts[e] += 1
        if counts[e] == 1:  # (a repeat's own sub-expressions are counted once)
            for child in _expr_children(e):
                count(child)

    for _, e in outputs:
        count(e)
    steps: list[tuple[str, ex.Expr]] = []
    done: dict[ex.Expr, ex.Expr] = {}

    def rewrite(e: ex.Expr) -> ex.Expr:
        hit = done.get(e)
        if hit is not None:
            return hit
        if isinstance(e, (ex.Col, ex.Lit)):
            return e
        new = replace_children(e, lambda c: rewrite(c) if isinstance(c, ex.Expr) else c)
        if counts[e] > 1:
            name = f"{_TEMP}{len(steps)}"
            steps.append((name, new))
            new = ex.Col(name)
        done[e] = new
        return new

    return steps, [(name, rewrite(e)) for name, e in outputs]


def _expr_children(e: ex.Expr) -> list[ex.Expr]:
    from ...ir.base import children

    return [c for c in children(e) if isinstance(c, ex.Expr)]


def _columns_of(exprs: Sequence[ex.Expr]) -> list[str]:
    from ...ir.base import walk

    names: dict[str, None] = {}
    for e in exprs:
        for n in walk(e):
            if isinstance(n, ex.Col) and not str(n.name).startswith(_TEMP):
                names[str(n.name)] = None
    return list(names)


def evaluate_all(
    outputs: Sequence[tuple[str, ex.Expr]],
    column: Callable[[str], Any],
    length: int,
    evaluate: Evaluate,
) -> dict[str, Any]:
    """The Arrow array of every ``(name, expr)`` of ``outputs`` over ``length`` rows.

    Parameters
    ----------
    outputs : sequence of (str, Expr)
        The expressions (each accepted by :func:`~.expressions.typeof`: elementwise).
    column : callable
        ``column(name)``: an input column as an Arrow array (called once per column, in this
        thread, before any work is split: its errors are raised as they are).
    length : int
        The number of rows.
    evaluate : callable
        ``evaluate(expr, column, length)``: one expression over columns of ``length`` rows.

    Returns
    -------
    dict of str to Arrow array
    """
    steps, rewritten = shared_steps(outputs)
    base = {name: column(name) for name in _columns_of([e for _, e in (*steps, *rewritten)])}
    size = workers()
    if size < 2 or length < max(min_rows(), size):
        return _run_slice(steps, rewritten, base, length, evaluate)
    bounds = [length * i // size for i in range(size + 1)]
    slices = list(itertools.pairwise(bounds))
    errors = np.geterr()  # (NumPy's error state is per thread: the caller's, in every worker)

    def run(bound: tuple[int, int]) -> dict[str, Any]:
        start, stop = bound
        local = {name: values.slice(start, stop - start) for name, values in base.items()}
        with np.errstate(**errors):  # type: ignore[arg-type]
            return _run_slice(steps, rewritten, local, stop - start, evaluate, skip=base)

    pieces = list(_pool(size).map(run, slices))
    out: dict[str, Any] = {}
    for name, e in rewritten:
        if isinstance(e, ex.Col) and str(e.name) in base:
            out[name] = base[str(e.name)]  # (an input column as it is: not cut and glued)
        else:
            out[name] = concat([piece[name] for piece in pieces])
    return out


def _run_slice(
    steps: Sequence[tuple[str, ex.Expr]],
    outputs: Sequence[tuple[str, ex.Expr]],
    columns: Mapping[str, Any],
    length: int,
    evaluate: Evaluate,
    skip: Mapping[str, Any] = {},
) -> dict[str, Any]:
    local = dict(columns)

    def column(name: str) -> Any:
        return local[name]

    for name, e in steps:
        local[name] = as_array(evaluate(e, column, length), length)
    out = {}
    for name, e in outputs:
        if isinstance(e, ex.Col) and str(e.name) in skip:
            continue
        out[name] = as_array(evaluate(e, column, length), length)
    return out


def concat(pieces: Sequence[Any]) -> Any:
    """The Arrow arrays ``pieces`` (consecutive row slices of one result) as one
    ``ChunkedArray``; pieces of integers and floats are all float64 (what pandas gives the
    whole column when one slice has a missing integer), strings all of the widest type."""
    import pyarrow as pa

    types = {p.type for p in pieces}
    if len(types) > 1:
        if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
            target = pa.float64()
        elif all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in types):
            target = pa.large_string()
        else:
            raise TypeError(f"slices of one column hold different types: {sorted(map(str, types))}")
        pieces = [p if p.type == target else p.cast(target, safe=False) for p in pieces]
    chunks = [c for p in pieces for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.chunked_array(chunks, type=pieces[0].type)
