"""Stages: a chain of WithColumns / Filter / Project over one input, fused into ONE loop.

The chain is compiled node by node in plan order: each node's expressions are typed against
that node's input (pandas' metadata), numeric ones are emitted into the loop body, string
ones are computed beforehand with pyarrow (their numeric results become loop inputs), and a
filter skips the rest of the row. The loop writes the surviving rows' computed columns; the
output frame is then rebuilt by replaying the chain's column assignments with those arrays,
so labels, order, index and dtypes are pandas' own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from ...ir import expressions as ex
from ...ir.relations import Filter, Project, Relation, WithColumns
from ...meta import expr_meta, meta_of
from ..pandas import as_frame
from .cache import load_kernel
from .emit import HELPERS, Emitter, Scope, Unsupported, cast, is_numeric
from .strings import eval_host, is_host

__all__ = ["Stage", "STAGE_NODES", "compile_stage", "run_stage", "Mismatch"]

STAGE_NODES = (WithColumns, Filter, Project)
_CACHE: dict[tuple[Relation, ...], Stage] = {}
_CACHE_LIMIT = 4096

Ref = tuple[str, Any]
"""Where a value comes from: ("frame", label), ("host", k), ("out", k) or ("lit", value)."""


class Mismatch(Exception):
    """The data's dtypes are not the metadata's (a value-dependent dtype): run with pandas."""


@dataclasses.dataclass
class Stage:
    """A compiled chain: the kernel's source and how to feed it and rebuild the frame."""

    chain: tuple[Relation, ...]
    source: str | None = None
    inputs: list[tuple[Ref, np.dtype]] = dataclasses.field(default_factory=list)
    lits: list[Any] = dataclasses.field(default_factory=list)
    arrays: list[np.ndarray] = dataclasses.field(default_factory=list)
    outputs: list[np.dtype] = dataclasses.field(default_factory=list)
    has_filter: bool = False
    hosts: list[tuple[ex.Expr, dict[Hashable, Ref | None], Any]] = dataclasses.field(
        default_factory=list
    )
    replay: list[tuple[str, Any]] = dataclasses.field(default_factory=list)


def _typer(frame_meta: pd.DataFrame) -> Callable[[ex.Expr], Any]:
    def typeof(e: ex.Expr) -> Any:
        if isinstance(e, ex.Lit):
            return None
        try:
            m = expr_meta(e, frame_meta, {})
        except Exception as err:  # approximate metadata upstream (a UDF's guessed dtype)
            raise Unsupported(f"pandas can't type {type(e).__name__}: {err}") from err
        return getattr(m, "dtype", None)

    return typeof


class _Compiler:
    def __init__(self, chain: tuple[Relation, ...]) -> None:
        self.stage = Stage(chain)
        self.em = Emitter()
        self.loads: dict[Ref, str] = {}
        base = as_frame(meta_of(chain[0].input))  # type: ignore[attr-defined]
        if not isinstance(base, pd.DataFrame) or not base.columns.is_unique:
            raise Unsupported("input without unique column labels")
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
            if not is_host(e, typeof):
                return None
            dtype = typeof(e)
            if not is_numeric(dtype):
                raise Unsupported(f"{type(e).__name__} of dtype {dtype} in a numeric expression")
            self.stage.hosts.append((e, dict(self.henv), dtype))
            return self._loader(("host", len(self.stage.hosts) - 1), dtype)()

        return Scope(self.kenv, typeof, host)

    def values(self, node: Relation, exprs: Any) -> list[tuple[Hashable, Ref, Any, Any]]:
        """(label, replay ref, kernel reader, host ref) for each assigned expression."""
        frame_meta = as_frame(meta_of(node.input))  # type: ignore[attr-defined]
        typeof = _typer(frame_meta)
        scope = self._scope(typeof)
        out = []
        for label, e in exprs:
            if isinstance(e, ex.Col) and e.name in self.henv:
                out.append((label, ("frame", e.name), self.kenv.get(e.name), self.henv[e.name]))
            elif isinstance(e, ex.Lit):
                dtype = (
                    as_frame(meta_of(node))[label].dtype if isinstance(node, WithColumns) else None
                )
                reader = None
                if dtype is not None and is_numeric(dtype):
                    name, ldt = self.em.lit(e.value)
                    code = self.em.tmp(cast(name, ldt, dtype))
                    reader = _const(code, dtype)
                out.append((label, ("lit", e.value), reader, None))
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

    def node(self, node: Relation) -> None:
        if isinstance(node, Filter):
            typeof = _typer(as_frame(meta_of(node.input)))
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
            self.stage.replay.append(("filter", None))
            return
        if isinstance(node, Project) and all(
            isinstance(e, ex.Col) and e.name == label for label, e in node.expressions
        ):
            labels = [label for label, _ in node.expressions]
            if len(set(labels)) != len(labels):
                raise Unsupported("duplicate labels")
            self.kenv = {k: v for k, v in self.kenv.items() if k in labels}
            self.henv = {k: v for k, v in self.henv.items() if k in labels}
            self.stage.replay.append(("select", labels))
            return
        assert isinstance(node, (WithColumns, Project))
        vals = self.values(node, node.expressions)
        if isinstance(node, Project):
            self.kenv, self.henv = {}, {}
        for label, _, reader, href in vals:
            self.kenv.pop(label, None)
            if reader is not None:
                self.kenv[label] = reader
            self.henv[label] = href
        kind = "project" if isinstance(node, Project) else "assign"
        self.stage.replay.append((kind, [(label, ref) for label, ref, _, _ in vals]))

    def finish(self) -> Stage:
        s = self.stage
        s.lits, s.arrays = self.em.lits, self.em.arrays
        if not s.outputs and not s.has_filter:
            return s
        args = ["n"] + [f"a{k}" for k in range(len(s.inputs))]
        args += [f"L{k}" for k in range(len(s.lits))] + [f"A{k}" for k in range(len(s.arrays))]
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
        lines = [
            "import numpy as np",
            "from numba import njit",
            *(HELPERS[h] for h in sorted(self.em.helpers)),
            '@njit(cache=True, nogil=True, error_model="numpy")',
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


def _const(code: str, dtype: np.dtype) -> Callable[[], tuple[str, np.dtype]]:
    return lambda: (code, dtype)


def compile_stage(chain: tuple[Relation, ...]) -> Stage:
    """Compile ``chain`` (bottom-up); raises :class:`Unsupported` with the reason."""
    hit = _CACHE.get(chain)
    if hit is None:
        comp = _Compiler(chain)
        for node in chain:
            comp.node(node)
        hit = comp.finish()
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[chain] = hit
    return hit


def _values(s: pd.Series) -> Any:
    return s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array


def run_stage(stage: Stage, df: pd.DataFrame) -> pd.DataFrame:
    """Execute ``stage`` on its input frame; :class:`Mismatch` if the data's dtypes are not
    the ones the stage was compiled for."""
    hosts: list[Any] = []
    for e, env, dtype in stage.hosts:

        def column(label: Hashable, env: dict[Hashable, Ref | None] = env) -> Any:
            ref = env.get(label)
            if ref is None:
                raise Mismatch(f"column {label!r}")
            return _values(df[ref[1]]) if ref[0] == "frame" else hosts[ref[1]]

        value = eval_host(e, column)
        if getattr(value, "dtype", None) != dtype:
            raise Mismatch(f"{type(e).__name__} gave {value.dtype}, expected {dtype}")
        hosts.append(value)
    n = len(df)
    mask = np.zeros(n, dtype=bool) if stage.has_filter else None
    outs = [np.empty(n, dtype=d) for d in stage.outputs]
    count = n
    if stage.source is not None:
        arrays = []
        for (kind, key), dtype in stage.inputs:
            arr = _values(df[key]) if kind == "frame" else hosts[key]
            if arr.dtype != dtype:
                raise Mismatch(f"input dtype {arr.dtype}, expected {dtype}")
            arrays.append(np.ascontiguousarray(arr))
        from numba.core.errors import TypingError

        kernel = load_kernel(stage.source)
        extra = [mask] if mask is not None else []
        try:
            count = kernel(n, *arrays, *stage.lits, *stage.arrays, *extra, *outs)
        except TypingError as err:  # a case the generator let through: pandas' kernels
            raise Mismatch(f"numba can't type the kernel: {err}") from err
    out = df[mask] if mask is not None else df
    copied = False

    def resolve(ref: Ref) -> Any:
        kind, key = ref
        if kind == "frame":
            return out[key]
        if kind == "host":
            return hosts[key][mask] if mask is not None else hosts[key]
        if kind == "out":
            return outs[key][:count]
        return key

    for kind, arg in stage.replay:
        if kind == "select":
            out = out[arg]
        elif kind in ("assign", "project"):
            vals = [(label, resolve(ref)) for label, ref in arg]
            if kind == "project":
                out = out[[]]
            elif not copied:
                out = out.copy(deep=False)
                copied = True
            for label, value in vals:
                out[label] = value
    return out
