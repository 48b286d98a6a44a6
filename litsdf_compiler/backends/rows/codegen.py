"""The plan -> one Python function generator.

A row-wise plan (a chain ``Source -> Project/WithColumns/Filter/Drop/Rename ...``) becomes one
function whose body computes every expression inline, in plan order (so pandas' errors and
value-dependent dtypes see the rows pandas would), with ``return`` at each filter:

* *row mode* ``transform_row(r)``: reads and validates the columns from a mapping and returns
  the output row as a dict (``None`` when a filter drops it);
* *frame mode* ``_rows(F, c0, c1, ...)``: takes the column values positionally (from
  ``Series.tolist()``) and returns a tuple of the computed outputs, or the index of the filter
  that dropped the row; ``F`` collects the value-dependent dtype flags.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable
from typing import Any

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir.base import Node
from ...meta import meta_of
from ._runtime import RUNTIME
from .expressions import ExprGen
from .strings import StringGen
from .udf import UdfGen
from .values import Decline, Val, kind_of

__all__ = ["Generated", "generate", "RELATIONS", "sources_of"]

RELATIONS = ("Source", "Project", "WithColumns", "Filter", "Drop", "Rename")
"""Relation nodes with row code (each output row depends on one input row only)."""

_CHECKS = {
    "i": "{v}.__class__ is not int or not -9223372036854775808 <= {v} <= 9223372036854775807",
    "f": "{v}.__class__ is not float",
    "s": "{v}.__class__ is not str",
    "b": "{v}.__class__ is not bool",
    "M": "{v}.__class__ is not Timestamp or {v}.tzinfo is not None",
}
_CHECKERS = {"i": "_chk_int", "f": "_chk_float", "s": "_chk_str", "b": "_chk_bool", "M": "_chk_dt"}


@dataclasses.dataclass
class Generated:
    """One compiled function and what the caller needs to feed it and read its result."""

    source: str
    func: Any
    inputs: dict[Hashable, Any]
    """Source columns read (label -> dtype), in the order of the function's parameters."""
    outputs: list[tuple[Hashable, Val]]
    """Output columns in order, with their values (``src`` set: an unchanged input column)."""
    computed: list[int]
    """Positions in ``outputs`` of the values the frame function returns (in its tuple)."""
    flags: list[tuple[int, Any]]
    """Per dynamic-dtype flag: (the stage it was computed at, its dtype without missing)."""
    filters: int
    meta: Any
    positions: dict[Hashable, int] = dataclasses.field(default_factory=dict)
    """Every Source column's position in the input frame."""
    meta_dtypes: list[Any] = dataclasses.field(default_factory=list)
    checks: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    """(flag, stage): rows reached the stage, so the flag must have been set."""
    row_names: list[str] = dataclasses.field(default_factory=list)
    """Row-name parameters of the frame function, before the columns (``IX``: the index
    labels as iteration gives them, ``IXE``: as ``index[i]`` gives them)."""


def sources_of(plan: Node) -> list[rel.Source]:
    """The Source nodes the plan reads (a Source's lineage is history, not input)."""
    found: list[rel.Source] = []
    seen: set[int] = set()
    stack: list[Node] = [plan]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, rel.Source):
            found.append(n)
            continue
        for f in n.__match_args__:
            value = getattr(n, f)
            items = value if isinstance(value, tuple) else (value,)
            stack.extend(x for x in items if isinstance(x, rel.Relation))
    return found


def _lit(label: Any) -> bool:
    return type(label) in (str, int) and not isinstance(label, bool)


class PlanGen(ExprGen, StringGen, UdfGen):
    """State of one generation: emitted lines, constants, flags and the current relation."""

    def __init__(self, frame_mode: bool) -> None:
        self.frame_mode = frame_mode
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[int, str] = {}
        self.flags: list[tuple[int, Any]] = []
        self.checks: list[tuple[int, int]] = []
        self.stage = 0
        self.n = 0
        self.env: dict[Any, Val] = {}
        self.memo: dict[ex.Expr, Any] = {}
        self.source_cols: dict[Hashable, tuple[str, Any, str | None]] = {}
        self.row_names: set[str] = set()

    # emission ---------------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    def tmp(self, code: str) -> str:
        self.n += 1
        name = f"v{self.n}"
        self.emit(f"{name} = {code}")
        return name

    def const(self, obj: Any) -> str:
        name = self._const_ids.get(id(obj))
        if name is None:
            name = self._const_ids[id(obj)] = f"K{len(self.consts)}"
            self.consts[name] = obj
        return name

    def new_flag(self) -> int:
        self.flags.append((self.stage, None))
        return len(self.flags) - 1

    def new_check(self) -> int:
        """A flag set by every row with a non-missing list (pandas' ``.str`` accessor
        refuses an object column whose values are all missing)."""
        k = self.new_flag()
        self.checks.append((k, self.stage))
        return k

    def dyn(
        self, code: str, base: Val | None = None, dtype: Any = None, small: bool = False
    ) -> Val:
        from .values import I64

        out = super().dyn(code, base, I64 if dtype is None else dtype, small)
        if base is None or base.flag is None:
            self.flags[out.flag or 0] = (self.stage, out.dtype)  # type: ignore[index]
        return out

    def gen_Col(self, e: ex.Col) -> Val:
        v = super().gen_Col(e)
        if v.kind == "X":
            raise Decline(f"rows: column {e.name!r} has dtype {v.dtype}")
        return v

    # relations --------------------------------------------------------------------------------
    def relation(self, n: Node) -> dict[Any, Val]:
        kind = type(n).__name__
        if kind not in RELATIONS:
            raise Decline(f"rows has no row code for {kind} (not row-by-row)")
        fn = getattr(self, f"rel_{kind}")
        env: dict[Any, Val] = fn(n)
        return env

    def _evaluate(self, n: Any) -> list[tuple[Hashable, Val]]:
        self.env = self.relation(n.input)
        out = []
        for label, e in n.expressions:
            inner = e
            while isinstance(inner, ex.Alias):
                inner = inner.input
            if isinstance(inner, ex.Col) and inner.name in self.env:
                out.append((label, self.env[inner.name]))  # passthrough, any dtype
            else:
                out.append((label, self.expr(e)))
        return out

    def rel_Source(self, n: rel.Source) -> dict[Any, Val]:
        frame = n.data.data
        if not frame.columns.is_unique:
            raise Decline("rows: the input has duplicate column labels")
        env = {}
        for i, (label, dtype) in enumerate(frame.dtypes.items()):
            kind = kind_of(dtype)
            name = f"c{i}"
            env[label] = Val(name, kind or "X", dtype, src=label)
            self.source_cols[label] = (name, dtype, kind)
        return env

    def rel_Project(self, n: rel.Project) -> dict[Any, Val]:
        return dict(self._evaluate(n))

    def rel_WithColumns(self, n: rel.WithColumns) -> dict[Any, Val]:
        values = self._evaluate(n)
        env = dict(self.env)
        env.update(values)
        return env

    def rel_Filter(self, n: rel.Filter) -> dict[Any, Val]:
        self.env = env = self.relation(n.input)
        cond = self.static(n.condition, "a filter")
        if cond.kind != "b":
            raise Decline(f"rows: a filter on a {cond.dtype} condition")
        self.emit(f"if not {cond.code}: return {self.stage if self.frame_mode else None}")
        self.stage += 1
        return env

    def rel_Drop(self, n: rel.Drop) -> dict[Any, Val]:
        env = dict(self.relation(n.input))
        for label in n.columns:
            if label not in env:
                raise Decline(f"rows: drop of unknown column {label!r}")
            del env[label]
        return env

    def rel_Rename(self, n: rel.Rename) -> dict[Any, Val]:
        env = self.relation(n.input)
        mapping = dict(n.mapping)
        out = {mapping.get(k, k): v for k, v in env.items()}
        if len(out) != len(env):
            raise Decline("rows: rename giving duplicate column labels")
        return out

    # assembly ---------------------------------------------------------------------------------
    def finish(self, plan: rel.Relation) -> Generated:
        env = self.relation(plan)
        meta = meta_of(plan)
        if list(meta.columns) != list(env):
            raise Decline("rows: the generated columns differ from pandas' (labels or order)")
        outputs = list(env.items())
        for (label, v), dtype in zip(outputs, meta.dtypes, strict=True):
            if v.kind in ("X", "L") and (v.src is None or not self.frame_mode):
                raise Decline(f"rows: output column {label!r} of dtype {dtype}")
            if self.frame_mode and v.kind == "O" and v.stage != self.stage:
                raise Decline("rows: a filter after a UDF (pandas infers its dtype before it)")
            if v.flag is None and v.kind != "O" and v.dtype != dtype:
                raise Decline(f"rows: column {label!r} would be {v.dtype}, pandas gives {dtype}")
        computed = [i for i, (_, v) in enumerate(outputs) if v.src is None or not self.frame_mode]
        body = "\n".join(self.lines)
        used = [
            label
            for label, (name, _, _) in self.source_cols.items()
            if re.search(rf"\b{name}\b", body) or any(outputs[i][1].code == name for i in computed)
        ]
        head: list[str] = []
        for label in used:
            name, dtype, kind = self.source_cols[label]
            key = repr(label) if _lit(label) else self.const(label)
            if self.frame_mode:
                if kind == "s":
                    head.append(f"    if {name}.__class__ is not str: {name} = None")
                continue
            where = f"{key}, {self.const(str(dtype))}"
            head.append(f"    try:\n        {name} = r[{key}]")
            head.append(f"    except KeyError:\n        raise _missing({where}) from None")
            check = _CHECKS[kind or ""].format(v=name)
            head.append(f"    if {check}: {name} = {_CHECKERS[kind or '']}({name}, {where})")
        if self.frame_mode:
            names = [self.source_cols[label][0] for label in used]
            sig = ", ".join(["F", *sorted(self.row_names), *names])
            ret = "".join(f"{outputs[i][1].code}, " for i in computed)
            tail = f"    return ({ret})"
            fname = "_rows"
        else:
            sig = "r"
            items = []
            for label, v in outputs:
                key = repr(label) if _lit(label) else self.const(label)
                missing = v.kind == "s" and not (v.is_lit and v.literal is not None)
                code = f"NAN if {v.code} is None else {v.code}" if missing else v.code
                items.append(f"{key}: {code}")
            tail = f"    return {{{', '.join(items)}}}"
            fname = "transform_row"
        source = "\n".join([f"def {fname}({sig}):", *head, body, tail]).replace("\n\n", "\n")
        namespace: dict[str, Any] = dict(RUNTIME)
        namespace.update(self.consts)
        exec(compile(source, f"<litsdf rows {fname}>", "exec"), namespace)
        return Generated(
            source=source,
            func=namespace[fname],
            inputs={label: self.source_cols[label][1] for label in used},
            outputs=outputs,
            computed=computed,
            flags=self.flags,
            filters=self.stage,
            meta=meta,
            positions={label: i for i, label in enumerate(self.source_cols)},
            meta_dtypes=list(meta.dtypes),
            checks=self.checks,
            row_names=sorted(self.row_names),
        )


def generate(plan: rel.Relation, frame_mode: bool) -> Generated:
    """Generate and compile the row function of ``plan``; :class:`Decline` if not possible."""
    sources = sources_of(plan)
    if len(sources) != 1:
        raise Decline(f"rows: the plan reads {len(sources)} inputs (the rows backend takes one)")
    return PlanGen(frame_mode).finish(plan)
