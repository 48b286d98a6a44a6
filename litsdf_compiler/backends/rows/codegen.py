"""The plan -> one Python function generator.

A row-wise physical plan (a chain ``Scan -> Compute/Filter/Select ... -> Finalize``, see
:mod:`litsdf_compiler.lower`) becomes one function whose body computes every expression
inline, in plan order (so pandas' errors and value-dependent dtypes see the rows pandas
would), with ``return`` at each filter:

* *row mode* ``transform_row(r)``: reads and validates the columns from a mapping and returns
  the output row as a dict (``None`` when a filter drops it);
* with it, when every output is float64, ``transform_row_floats(r)``: the same function
  returning the output values as a tuple in column order (a feature row, no dict built);
* *frame mode* ``_rows(F, c0, c1, ...)``: takes the column values positionally (from
  ``Series.tolist()``) and returns a tuple of the computed outputs, or the index of the filter
  that dropped the row; ``F`` collects the value-dependent dtype flags.

The one-hot encodings of a string column (``(s == "v").astype("float64")`` for several ``v``)
are one dict lookup of a precomputed row of 0.0/1.0, not one comparison each.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable
from typing import Any

import pandas as pd

from ...ir import expressions as ex
from ...ir import relations as rel
from ...lower import Compute, Finalize, Physical, Scan, Select
from ...lower import Filter as PFilter
from ._runtime import RUNTIME
from .expressions import ExprGen
from .strings import StringGen
from .udf import UdfGen
from .values import F64, Decline, Val, kind_of

__all__ = ["Generated", "generate"]

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
    floats_source: str | None
    """``transform_row_floats``: the row function returning the outputs as a tuple of floats
    (row mode, every output float64); None otherwise."""
    floats_func: Any
    inputs: dict[Hashable, Any]
    """Source columns read (label -> dtype), in the order of the function's parameters."""
    outputs: list[tuple[str, Val]]
    """Output fields in order, with their values (``src`` set: an unchanged input field)."""
    computed: list[int]
    """Positions in ``outputs`` of the values the frame function returns (in its tuple)."""
    flags: list[tuple[int, Any]]
    """Per dynamic-dtype flag: (the stage it was computed at, its dtype without missing)."""
    filters: int
    spec: Finalize
    """The physical plan it was generated from (labels: ``spec.columns``)."""
    positions: dict[str, int] = dataclasses.field(default_factory=dict)
    """Every Scan field's position in the input frame."""
    meta_dtypes: list[Any] = dataclasses.field(default_factory=list)
    checks: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    """(flag, stage): rows reached the stage, so the flag must have been set."""
    used: list[str] = dataclasses.field(default_factory=list)
    """The Scan fields the function reads, in the order of its column parameters."""
    row_names: list[str] = dataclasses.field(default_factory=list)
    """Row-name parameters of the frame function, before the columns (``IX``: the index
    labels as iteration gives them, ``IXE``: as ``index[i]`` gives them)."""


def _bare(e: ex.Expr) -> ex.Expr:
    """``e`` without its aliases."""
    while isinstance(e, ex.Alias):
        e = e.input
    return e


def _is_float64(dtype: Any) -> bool:
    try:
        return bool(pd.api.types.pandas_dtype(dtype) == F64)
    except TypeError:
        return False


def _lit(label: Any) -> bool:
    return type(label) in (str, int) and not isinstance(label, bool)


class PlanGen(ExprGen, StringGen, UdfGen):
    """State of one generation: emitted lines, constants, flags and the current relation."""

    def __init__(self, frame_mode: bool, backend: Any) -> None:
        self.frame_mode = frame_mode
        self.backend = backend
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[int, str] = {}
        self.flags: list[tuple[int, Any]] = []
        self.checks: list[tuple[int, int]] = []
        self.stage = 0
        self.n = 0
        self.env: dict[Any, Val] = {}
        self.memo: dict[ex.Expr, Any] = {}
        self.source_cols: dict[str, tuple[str, Any, str | None, Hashable]] = {}
        """Scan field -> (parameter, dtype, kind, label)."""
        self.row_names: set[str] = set()
        self.above: dict[int, list[Physical]] = {}
        """Each physical node of the chain (by id) -> the nodes above it, bottom up."""
        self.one_hots: list[tuple[tuple[str, ...], str]] = []
        """Each one-hot group emitted: its locals and the lookup that gives them."""

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

    # relations (physical nodes) ------------------------------------------------------------
    def relation(self, n: Physical) -> dict[str, Val]:
        """The values of ``n``'s fields by internal name (``visit_<Node>`` of the backend)."""
        visit = getattr(self.backend, f"visit_{type(n).__name__}", None)
        if visit is None:
            raise Decline(f"rows has no row code for {type(n).__name__} (not row-by-row)")
        env: dict[str, Val] = visit(n, self)
        return env

    def scan(self, n: Scan) -> dict[str, Val]:
        if not isinstance(n.source, rel.Source):
            raise Decline(f"rows reads in-memory frames, not {type(n.source).__name__}")
        env = {}
        for i, ((label, name), f) in enumerate(zip(n.columns, n.schema, strict=True)):
            kind = kind_of(f.dtype)
            param = f"c{i}"
            env[name] = Val(param, kind or "X", f.dtype, src=name)
            self.source_cols[name] = (param, f.dtype, kind, label)
        return env

    def compute(self, n: Compute) -> dict[str, Val]:
        self.env = env = self.relation(n.input)
        values: dict[str, Val] = {}
        groups = self.one_hot_groups(n)
        for name, e in n.expressions:
            inner = _bare(e)
            if inner in groups:
                self.one_hot(groups.pop(inner))
            if isinstance(inner, ex.Col) and inner.name in env:
                values[name] = env[inner.name]  # passthrough, any dtype
            else:
                values[name] = self.expr(e)
        return {f.name: values[f.name] if f.name in values else env[f.name] for f in n.schema}

    def one_hot_groups(self, n: Compute) -> dict[ex.Expr, list[tuple[ex.Cast, Hashable]]]:
        """The one-hot encodings that start in ``n``: ``(s == "v").astype("float64")`` of
        one string column ``s`` for two values or more, in ``n`` and in the Computes above it
        (where ``s`` is the same value: a plan defines each internal name once), by their
        first member (each member with its column).
        Such a group is computed by ONE dict lookup (see :meth:`one_hot`)."""
        by_column: dict[Hashable, list[tuple[ex.Cast, Hashable]]] = {}
        for _, e in n.expressions:
            member = self.one_hot_member(_bare(e))
            if member is not None and not self.known(member[0]):
                by_column.setdefault(member[1], []).append(member)
        for later in self.above.get(id(n), ()):  # (internal names are unique in a plan)
            if isinstance(later, Compute):
                for _, e in later.expressions:
                    member = self.one_hot_member(_bare(e))
                    if member is not None and member[1] in by_column:
                        by_column[member[1]].append(member)
        return {
            members[0][0]: members
            for members in by_column.values()
            if len({self.one_hot_value(c) for c, _ in members}) > 1
        }

    def known(self, e: ex.Expr) -> bool:
        """``e`` already has a value on the current relation (see :meth:`expr`)."""
        hit = self.memo.get(e)
        return hit is not None and all(self.env.get(name) is v for name, v in hit[1])

    def one_hot_member(self, e: ex.Expr) -> tuple[ex.Cast, Hashable] | None:
        """``(e, column)`` when ``e`` is ``(column == "literal").astype("float64")`` on a
        string column of the current relation (either operand order)."""
        if not isinstance(e, ex.Cast) or not _is_float64(e.dtype):
            return None
        test = _bare(e.input)
        if not isinstance(test, ex.BinaryOp) or test.op != "eq":
            return None
        sides = (_bare(test.left), _bare(test.right))
        col = next((x for x in sides if isinstance(x, ex.Col)), None)
        lit = next((x for x in sides if isinstance(x, ex.Lit)), None)
        if col is None or lit is None or type(lit.value) is not str:
            return None
        v = self.env.get(col.name)
        if v is None or v.kind != "s" or v.is_lit or v.flag is not None:
            return None
        return e, col.name

    @staticmethod
    def one_hot_value(cast: ex.Cast) -> str:
        test = _bare(cast.input)
        assert isinstance(test, ex.BinaryOp)
        lit = next(x for x in map(_bare, (test.left, test.right)) if isinstance(x, ex.Lit))
        value: str = lit.value
        return value

    def one_hot(self, members: list[tuple[ex.Cast, Hashable]]) -> None:
        """Emit one group of :meth:`one_hot_groups`: ``a, b, c = K.get(s, (0.0, 0.0, 0.0))``
        where ``K`` maps each literal to its row of 0.0/1.0 (what ``s == literal`` cast to
        float64 gives, a missing ``s`` or another value matching none), and record each
        member's value so that the member expressions are not generated again."""
        values = list(dict.fromkeys(self.one_hot_value(c) for c, _ in members))
        table = {v: tuple(1.0 if v == w else 0.0 for w in values) for v in values}
        names = [f"v{self.n + 1 + i}" for i in range(len(values))]
        self.n += len(values)
        column = self.env[members[0][1]]
        zeros = self.const(tuple(0.0 for _ in values))
        self.emit(f"{', '.join(names)}, = {self.const(table)}.get({column.code}, {zeros})")
        slot = dict(zip(values, names, strict=True))
        for cast, name in members:
            val = Val(slot[self.one_hot_value(cast)], "f", F64)
            self.memo[cast] = (val, ((name, self.env[name]),), self.stage)
        self.one_hots.append((tuple(names), f"{self.const(table)}.get({column.code}, {zeros})"))

    def floats_source(self, head: list[str], outputs: list[Val], dtypes: list[Any]) -> str | None:
        """The source of ``transform_row_floats(r)``: the row function returning the output
        values as a tuple of floats in column order (None when a filter drops the row), or
        None when some output is not float64. A one-hot group whose locals are only these
        outputs, in order, is spliced in as its lookup (``*K.get(s, zeros)``)."""
        if not all(v.kind == "f" and v.flag is None for v in outputs) or any(
            dtype != F64 for dtype in dtypes
        ):
            return None
        codes = [v.code for v in outputs]
        lines = list(self.lines)
        for names, lookup in self.one_hots:
            k = len(names)
            start = next(
                (i for i in range(len(codes) - k + 1) if tuple(codes[i : i + k]) == names), None
            )
            line = f"    {', '.join(names)}, = {lookup}"
            used = re.compile(rf"\b({'|'.join(names)})\b")
            if (
                start is None
                or sum(map(bool, map(used.search, lines))) != 1
                or any(used.fullmatch(c) for c in codes[:start] + codes[start + k :])
            ):
                continue
            lines.remove(line)
            codes[start : start + k] = [f"*{lookup}"]
        body = "\n".join(["def transform_row_floats(r):", *head, *lines])
        return f"{body}\n    return ({''.join(c + ', ' for c in codes)})".replace("\n\n", "\n")

    def filter(self, n: PFilter) -> dict[str, Val]:
        self.env = env = self.relation(n.input)
        cond = self.static(n.condition, "a filter")
        if cond.kind != "b":
            raise Decline(f"rows: a filter on a {cond.dtype} condition")
        self.emit(f"if not {cond.code}: return {self.stage if self.frame_mode else None}")
        self.stage += 1
        return env

    def select(self, n: Select) -> dict[str, Val]:
        env = self.relation(n.input)
        return {name: env[name] for name in n.names()}

    # assembly ---------------------------------------------------------------------------------
    def finish(self, spec: Finalize) -> Generated:
        if spec.kind != "frame" or spec.index != ("rows",) or spec.columns is None:
            raise Decline(f"rows builds frames indexed by their rows, not a {spec.kind}")
        chain: list[Physical] = []
        node: Physical = spec.input
        while hasattr(node, "input"):
            chain.append(node)
            node = node.input  # type: ignore[attr-defined]
        chain.reverse()
        self.above = {id(x): chain[i + 1 :] for i, x in enumerate(chain)}
        env = self.relation(spec.input)
        outputs = [(name, env[name]) for name in spec.fields]
        dtypes = [spec.input.field(name).dtype for name in spec.fields]
        labels = list(spec.columns.index)
        for label, (_, v), dtype in zip(labels, outputs, dtypes, strict=True):
            if v.kind in ("X", "L") and (v.src is None or not self.frame_mode):
                raise Decline(f"rows: output column {label!r} of dtype {dtype}")
            if self.frame_mode and v.kind == "O" and v.stage != self.stage:
                raise Decline("rows: a filter after a UDF (pandas infers its dtype before it)")
            if v.flag is None and v.kind != "O" and v.dtype != dtype:
                raise Decline(f"rows: column {label!r} would be {v.dtype}, pandas gives {dtype}")
        computed = [i for i, (_, v) in enumerate(outputs) if v.src is None or not self.frame_mode]
        body = "\n".join(self.lines)
        used = [
            field
            for field, (name, _, _, _) in self.source_cols.items()
            if re.search(rf"\b{name}\b", body) or any(outputs[i][1].code == name for i in computed)
        ]
        head: list[str] = []
        for field in used:
            name, dtype, kind, label = self.source_cols[field]
            key = repr(label) if _lit(label) else self.const(label)
            if self.frame_mode:
                if kind == "s":
                    head.append(f"    if {name}.__class__ is not str: {name} = None")
                continue
            where = f"{key}, {self.const(str(dtype))}"
            head.append(f"    try:\n        {name} = r[{key}]")
            head.append(f"    except KeyError:\n        raise _missing({where}) from None")
            check = _CHECKS[kind or ""].format(v=name)
            fix = f"{_CHECKERS[kind or '']}({name}, {where})"
            if kind == "f":  # (an int, the common other case, inline: what _chk_float does)
                fix = f"float({name}) if {name}.__class__ is int else {fix}"
            head.append(f"    if {check}: {name} = {fix}")
        if self.frame_mode:
            names = [self.source_cols[field][0] for field in used]
            sig = ", ".join(["F", *sorted(self.row_names), *names])
            ret = "".join(f"{outputs[i][1].code}, " for i in computed)
            tail = f"    return ({ret})"
            fname = "_rows"
        else:
            sig = "r"
            items = []
            for label, (_, v) in zip(labels, outputs, strict=True):
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
        floats: str | None = None
        if not self.frame_mode:
            floats = self.floats_source(head, [v for _, v in outputs], dtypes)
            if floats is not None:
                exec(compile(floats, "<litsdf rows transform_row_floats>", "exec"), namespace)
        return Generated(
            source=source,
            func=namespace[fname],
            floats_source=floats,
            floats_func=namespace["transform_row_floats"] if floats is not None else None,
            inputs={self.source_cols[f][3]: self.source_cols[f][1] for f in used},
            outputs=outputs,
            computed=computed,
            flags=self.flags,
            filters=self.stage,
            spec=spec,
            positions={field: i for i, field in enumerate(self.source_cols)},
            meta_dtypes=dtypes,
            checks=self.checks,
            used=used,
            row_names=sorted(self.row_names),
        )


def generate(spec: Finalize, backend: Any, frame_mode: bool) -> Generated:
    """Generate and compile the row function of the physical plan ``spec`` (its ``visit_``
    methods are ``backend``'s); :class:`Decline` if not possible."""
    return PlanGen(frame_mode, backend).finish(spec)
