"""Stages: a chain of physical Compute / Filter / Select nodes over one input, fused into ONE loop.

The chain is compiled node by node in plan order: each node's expressions (over internal
column names) are typed against that node's input schema by pandas itself, numeric ones are
emitted into the loop body, string ones are computed beforehand with pyarrow (their numeric
results become loop inputs), and a filter skips the rest of the row. The loop writes the
surviving rows' computed columns; the stage's value is a :class:`~litsdf_compiler.lower.Table`
(the chain's output fields by internal name, the row identity taken by the filter), which the
shared finalize turns into pandas' object.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir import udf
from ...lower import Compute, Field, Filter, Physical, Select, Table
from ...meta import expr_meta
from .cache import load_kernel
from .emit import HELPERS, Emitter, Scope, Unsupported, is_numeric
from .strings import eval_host, is_host

__all__ = ["Stage", "STAGE_NODES", "compile_stage", "run_stage", "Mismatch", "schema_frame"]

STAGE_NODES = (Compute, Filter, Select)
_CACHE: dict[Hashable, Stage] = {}
_CACHE_LIMIT = 4096
_FRAMES: dict[tuple[Field, ...], pd.DataFrame] = {}

Ref = tuple[str, Any]
"""Where a value comes from: ("frame", name), ("host", k), ("out", k) or ("lit", value)."""


class Mismatch(Exception):
    """The data's dtypes are not the schema's (a value-dependent dtype): run with pandas."""


@dataclasses.dataclass
class Stage:
    """A compiled chain: the kernel's source, how to feed it and where each output field
    comes from (``fields``: internal name -> :data:`Ref`, in output order)."""

    chain: tuple[Physical, ...]
    source: str | None = None
    inputs: list[tuple[Ref, np.dtype]] = dataclasses.field(default_factory=list)
    lits: list[Any] = dataclasses.field(default_factory=list)
    udfs: list[Any] = dataclasses.field(default_factory=list)
    arrays: list[np.ndarray] = dataclasses.field(default_factory=list)
    outputs: list[np.dtype] = dataclasses.field(default_factory=list)
    has_filter: bool = False
    hosts: list[tuple[ex.Expr, dict[Hashable, Ref | None], Any]] = dataclasses.field(
        default_factory=list
    )
    fields: list[tuple[str, Ref, Any]] = dataclasses.field(default_factory=list)


def schema_frame(schema: tuple[Field, ...]) -> pd.DataFrame:
    """The empty frame of ``schema`` (internal names as labels, the fields' dtypes): what
    pandas types expressions against."""
    hit = _FRAMES.get(schema)
    if hit is None:
        hit = pd.DataFrame({f.name: pd.Series([], dtype=f.dtype) for f in schema})
        if len(_FRAMES) >= _CACHE_LIMIT:
            _FRAMES.clear()
        _FRAMES[schema] = hit
    return hit


def _typer(
    frame_meta: pd.DataFrame, known: dict[ex.Expr, Any] | None = None
) -> Callable[[ex.Expr], Any]:
    def typeof(e: ex.Expr) -> Any:
        if isinstance(e, ex.Lit):
            return None
        try:
            m = expr_meta(e, frame_meta, dict(known) if known else {})
        except Exception as err:  # approximate metadata upstream (a UDF's guessed dtype)
            raise Unsupported(f"pandas can't type {type(e).__name__}: {err}") from err
        return getattr(m, "dtype", None)

    return typeof


class _Compiler:
    def __init__(self, chain: tuple[Physical, ...], below: Physical) -> None:
        self.stage = Stage(chain)
        self.em = Emitter()
        self.loads: dict[Ref, str] = {}
        base = schema_frame(below.schema)
        self.out: dict[str, Ref] = {f.name: ("frame", f.name) for f in below.schema}
        self.known: dict[ex.Expr, pd.Series] = {}  # results of typed Python functions
        self.udfs: dict[Any, tuple[Any, np.dtype]] = {}
        self.fix: dict[Hashable, np.dtype] = {}  # dtypes the metadata can't know (UDFs)
        self.filtered = False
        self.kenv: dict[Hashable, Callable[[], tuple[str, np.dtype]]] = {}
        self.henv: dict[Hashable, Ref | None] = {}
        for label, dtype in base.dtypes.items():
            ref: Ref = ("frame", label)
            self.henv[label] = ref
            if is_numeric(dtype):
                self.kenv[label] = self._loader(ref, dtype)

    def _loader(self, ref: Ref, dtype: np.dtype) -> Callable[[], tuple[str, np.dtype]]:
        def load() -> tuple[str, np.dtype]:
            name = self.loads.get(ref)
            if name is None:
                self.stage.inputs.append((ref, dtype))
                k = len(self.stage.inputs) - 1
                name = self.loads[ref] = self.em.tmp(f"a{k}[i]")
            return name, dtype

        return load

    def _scope(self, typeof: Callable[[ex.Expr], Any]) -> Scope:
        def host(e: ex.Expr) -> tuple[str, np.dtype] | None:
            from .udf import is_udf

            if is_udf(e) and e not in self.udfs:
                _, reader = self._host_udf(e, typeof)
                if reader is None:
                    raise Unsupported(f"a Python function of dtype {typeof(e)} in the loop")
                return reader()  # type: ignore[no-any-return]
            if not is_host(e, typeof):
                return None
            dtype = typeof(e)
            if not is_numeric(dtype):
                raise Unsupported(f"{type(e).__name__} of dtype {dtype} in a numeric expression")
            self.stage.hosts.append((e, dict(self.henv), dtype))
            return self._loader(("host", len(self.stage.hosts) - 1), dtype)()

        scope = Scope(self.kenv, typeof, host)
        scope.udfs = self.udfs
        return scope

    def _meta(self, node: Physical) -> pd.DataFrame:
        """The empty frame of ``node``'s input, with the dtypes of typed UDF results."""
        frame = schema_frame(node.inputs[0].schema)
        fix = {k: v for k, v in self.fix.items() if k in frame.columns}
        return frame.astype(fix) if fix else frame

    def _prepare_udfs(self, e: ex.Expr, frame_meta: pd.DataFrame) -> None:
        """Type the Python functions in ``e`` (innermost first); check the others can run
        per element before the loop."""
        from ...ir.base import walk
        from .udf import columns_of, is_udf, typed

        found: list[Any] = [x for x in walk(e) if is_udf(x)]  # type: ignore[arg-type]
        for x in reversed(found):
            if x in self.udfs:
                continue
            typeof = _typer(frame_meta, self.known)
            if isinstance(x, udf.MapFunc):
                hit = typed(x, typeof(x.input))
                if hit is not None:
                    self.udfs[x] = hit
                    self.known[x] = pd.Series([], dtype=hit[1])
                    continue
            if self.filtered:
                raise Unsupported("a Python function after a filter in the same loop")
            if any(self.henv.get(label) is None for label in columns_of(x)):
                raise Unsupported("a Python function of a value computed in the loop")

    def _host_udf(self, e: ex.Expr, typeof: Callable[[ex.Expr], Any]) -> tuple[Ref, Any]:
        from .udf import is_udf

        if not is_udf(e) or e in self.udfs:
            raise Unsupported("not a Python function")
        self.stage.hosts.append((e, dict(self.henv), None))
        ref: Ref = ("host", len(self.stage.hosts) - 1)
        dtype = typeof(e)
        return ref, (self._loader(ref, dtype) if is_numeric(dtype) else None)

    def values(self, node: Physical, exprs: Any) -> list[tuple[Hashable, Ref, Any, Any]]:
        """(label, replay ref, kernel reader, host ref) for each assigned expression."""
        frame_meta = self._meta(node)
        for _, e in exprs:
            self._prepare_udfs(e, frame_meta)
        typeof = _typer(frame_meta, self.known)
        scope = self._scope(typeof)
        out: list[tuple[Hashable, Ref, Any, Any]] = []
        from .udf import is_udf

        for label, e in exprs:
            if self.known:
                dtype = typeof(e)
                if is_numeric(dtype) and dtype != frame_meta.get(label, pd.Series()).dtype:
                    self.fix[label] = dtype
                else:
                    self.fix.pop(label, None)
            if is_udf(e) and e not in self.udfs:
                ref, reader = self._host_udf(e, typeof)
                out.append((label, ref, reader, ref))
            elif isinstance(e, ex.Col) and e.name in self.henv:
                # (an alias: the value where the field comes from, a literal or an input)
                ref = self.out.get(str(e.name), ("frame", e.name))
                out.append((label, ref, self.kenv.get(e.name), self.henv[e.name]))
            elif isinstance(e, ex.Lit):
                dtype = node.field(label).dtype
                reader = None
                if dtype is not None and is_numeric(dtype):
                    code = self.em.tmp(self.em.lit(e.value, dtype))
                    reader = _const(code, dtype)
                out.append((label, ("lit", (e.value, dtype)), reader, None))
            elif is_host(e, typeof):
                dtype = typeof(e)
                self.stage.hosts.append((e, dict(self.henv), dtype))
                ref = ("host", len(self.stage.hosts) - 1)
                reader = self._loader(ref, dtype) if is_numeric(dtype) else None
                out.append((label, ref, reader, ref))
            else:
                code, dtype = self.em.emit(e, scope)
                self.stage.outputs.append(dtype)
                k = len(self.stage.outputs) - 1
                self.em.lines.append(f"#out {k} {code}")
                out.append((label, ("out", k), _const(code, dtype), None))
        return out

    def node(self, node: Physical) -> None:
        if isinstance(node, Filter):
            self._prepare_udfs(node.condition, self._meta(node))
            typeof = _typer(self._meta(node), self.known)
            if typeof(node.condition) != np.dtype(bool):
                raise Unsupported("filter with a non-boolean condition")
            if is_host(node.condition, typeof):
                self.stage.hosts.append((node.condition, dict(self.henv), np.dtype(bool)))
                code, _ = self._loader(("host", len(self.stage.hosts) - 1), np.dtype(bool))()
            else:
                code, _ = self.em.emit(node.condition, self._scope(typeof))
            self.em.lines.append(f"if not {code}:")
            self.em.lines.append("    continue")
            self.stage.has_filter = True
            self.filtered = True
            return
        if isinstance(node, Compute):
            vals = self.values(node, node.expressions)
            for label, ref, reader, href in vals:
                self.kenv.pop(label, None)
                if reader is not None:
                    self.kenv[label] = reader
                self.henv[label] = href
                self.out[str(label)] = ref
        elif not isinstance(node, Select):
            raise Unsupported(f"{type(node).__name__} in a stage")
        keep = set(node.names())
        self.kenv = {k: v for k, v in self.kenv.items() if k in keep}
        self.henv = {k: v for k, v in self.henv.items() if k in keep}
        self.out = {k: v for k, v in self.out.items() if k in keep}

    def finish(self) -> Stage:
        s = self.stage
        last = s.chain[-1]
        s.fields = [(f.name, self.out[f.name], f.dtype) for f in last.schema]
        s.lits, s.arrays, s.udfs = self.em.lits, self.em.arrays, self.em.udfs
        if not s.outputs and not s.has_filter:
            return s
        args = ["n"] + [f"a{k}" for k in range(len(s.inputs))]
        args += [f"L{k}" for k in range(len(s.lits))] + [f"A{k}" for k in range(len(s.arrays))]
        args += [f"U{k}" for k in range(len(s.udfs))]
        args += ["mask"] if s.has_filter else []
        args += [f"o{k}" for k in range(len(s.outputs))]
        body, stores = [], []
        for line in self.em.lines:
            if line.startswith("#out "):
                _, k, code = line.split(" ", 2)
                stores.append(f"o{k}[j] = {code}")
            else:
                body.append(line)
        if s.has_filter:
            stores.append("mask[i] = True")
        body = schedule(body, stores)
        lines = [
            "import numpy as np",
            "from numba import njit",
            *(HELPERS[h] for h in sorted(self.em.helpers)),
            decorator(s),
            f"def kernel({', '.join(args)}):",
            "    j = 0",
            "    for i in range(n):",
            *(f"        {line}" for line in body + stores),
            "        j += 1",
            "    return j",
            "",
        ]
        s.source = "\n".join(lines)
        return s


_TEMP = re.compile(r"\bt\d+\b")
_CALL = re.compile(r"\bU\d+\(")


def decorator(stage: Stage) -> str:
    """A kernel calling Python functions is compiled per process (numba can't key its disk
    cache on a function argument); the others are cached on disk."""
    cache = "" if stage.udfs else "cache=True, "
    return f'@njit({cache}nogil=True, error_model="numpy")'


def schedule(body: list[str], tail: list[str]) -> list[str]:
    """Reorder the loop body: each filter right after the temporaries it reads (so a row it
    drops computes nothing more), then what ``tail`` reads; temporaries nobody reads are
    dropped. Every temporary is a pure single assignment, so any such order is the same."""
    items: list[tuple[str | None, list[str], set[str]]] = []  # (defines, lines, reads)
    k = 0
    while k < len(body):
        line = body[k]
        if line.startswith("if not "):
            items.append((None, body[k : k + 2], set(_TEMP.findall(line))))
            k += 2
            continue
        name, code = line.split(" = ", 1)
        items.append((name, [line], set(_TEMP.findall(code))))
        k += 1
    where = {name: pos for pos, (name, _, _) in enumerate(items) if name is not None}
    done: set[int] = set()
    out: list[str] = []

    def need(names: set[str]) -> None:
        todo: set[int] = set()
        stack = [where[x] for x in names if x in where]
        while stack:
            pos = stack.pop()
            if pos in done or pos in todo:
                continue
            todo.add(pos)
            stack.extend(where[x] for x in items[pos][2] if x in where)
        for pos in sorted(todo):
            out.extend(items[pos][1])
            done.add(pos)

    for pos, (defined, lines, reads) in enumerate(items):
        if defined is None or _CALL.search(lines[0]):  # filters, Python calls: kept in place
            need(reads)
            out.extend(lines)
            done.add(pos)
    need({x for line in tail for x in _TEMP.findall(line)})
    return out


def chain_key(chain: tuple[Physical, ...], below: Physical) -> Hashable:
    """What a compiled chain depends on: its nodes' own fields and the schema below it (not
    the input's data, which is new on every ``pipe(df)``)."""
    nodes = tuple(
        (type(nd).__name__,)
        + tuple(getattr(nd, f.name) for f in dataclasses.fields(nd) if f.name != "input")  # type: ignore[arg-type]
        for nd in chain
    )
    return (nodes, below.schema)


def _const(code: str, dtype: np.dtype) -> Callable[[], tuple[str, np.dtype]]:
    return lambda: (code, dtype)


def compile_stage(chain: tuple[Physical, ...]) -> Stage:
    """Compile ``chain`` (bottom-up: each node's input is the one before it); raises
    :class:`Unsupported` with the reason."""
    below = chain[0].inputs[0]
    key = chain_key(chain, below)
    hit = _CACHE.get(key)
    if hit is None:
        comp = _Compiler(chain, below)
        for node in chain:
            comp.node(node)
        hit = comp.finish()
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = hit
    return hit


def _values(arr: Any) -> Any:
    """A column as the kernels read it: NumPy for a NumPy dtype (a datetime column's
    ``DatetimeArray`` too), the pandas array otherwise."""
    if isinstance(arr, np.ndarray) or not isinstance(arr.dtype, np.dtype):
        return arr
    return arr.to_numpy()


def host_values(stage: Stage, table: Table) -> list[Any]:
    """The values the stage computes before its loop (string methods), in order."""
    hosts: list[Any] = []
    cols = table.columns
    for e, env, dtype in stage.hosts:

        def column(label: Hashable, env: dict[Hashable, Ref | None] = env) -> Any:
            ref = env.get(label)
            if ref is None:
                raise Mismatch(f"column {label!r}")
            return _values(cols[ref[1]]) if ref[0] == "frame" else hosts[ref[1]]

        if dtype is None:  # a Python function: its dtype is pandas' inference
            from .udf import eval_udf

            hosts.append(eval_udf(e, column, table.rows.index()))
            continue
        value = eval_host(e, column)
        if getattr(value, "dtype", None) != dtype:
            raise Mismatch(f"{type(e).__name__} gave {value.dtype}, expected {dtype}")
        hosts.append(value)
    return hosts


def kernel_inputs(stage: Stage, table: Table, hosts: list[Any]) -> list[np.ndarray]:
    """The loop's input arrays; :class:`Mismatch` if a dtype is not the compiled one."""
    arrays = []
    for (kind, key), dtype in stage.inputs:
        arr = _values(table.columns[key]) if kind == "frame" else hosts[key]
        if arr.dtype != dtype or not isinstance(arr, np.ndarray):
            raise Mismatch(f"input dtype {arr.dtype}, expected {dtype}")
        arrays.append(np.ascontiguousarray(arr))
    return arrays


def broadcast(value: Any, n: int, dtype: Any) -> Any:
    """``n`` copies of the scalar ``value`` as an array of ``dtype`` (pandas' column of an
    assigned scalar)."""
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if isinstance(dtype, np.dtype) and not is_object:
        return np.full(n, value, dtype=dtype)
    holder = np.empty(n, dtype=object)
    holder[:] = [value] * n
    return holder if is_object else pd.array(holder, dtype=dtype)


def run_stage(stage: Stage, table: Table) -> Table:
    """Execute ``stage`` on its input table; :class:`Mismatch` if the data's dtypes are not
    the ones the stage was compiled for."""
    hosts = host_values(stage, table)
    n = len(table)
    mask = np.zeros(n, dtype=bool) if stage.has_filter else None
    outs = [np.empty(n, dtype=d) for d in stage.outputs]
    count = n
    if stage.source is not None:
        arrays = kernel_inputs(stage, table, hosts)
        from numba.core.errors import TypingError

        kernel = load_kernel(stage.source)
        extra = [mask] if mask is not None else []
        try:
            count = kernel(n, *arrays, *stage.lits, *stage.arrays, *stage.udfs, *extra, *outs)
        except TypingError as err:  # a case the generator let through: pandas' kernels
            raise Mismatch(f"numba can't type the kernel: {err}") from err
    positions = None if mask is None else np.flatnonzero(mask)
    cols: dict[str, Any] = {}
    for name, (kind, key), _dtype in stage.fields:
        if kind == "frame":
            value = table.columns[key]
            cols[name] = value if positions is None else value.take(positions)
        elif kind == "host":
            cols[name] = hosts[key] if positions is None else hosts[key].take(positions)
        elif kind == "out":
            cols[name] = outs[key][:count]
        else:
            cols[name] = broadcast(key[0], count, key[1])
    rows = table.rows if positions is None else table.rows.take(positions)
    return Table(cols, rows)
