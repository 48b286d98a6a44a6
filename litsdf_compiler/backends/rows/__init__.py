"""The ``rows`` backend: a row-wise plan compiled to ONE generated Python function over dicts.

For serving one row at a time (and small batches) pandas' per-call overhead dominates; here
the whole plan becomes straight-line Python code (expressions fused, filters as early
returns, regexes precompiled), compiled once per plan shape and cached.

* :func:`compile_rows` gives a :class:`RowProgram` with ``transform_row(mapping)``: the
  output row as pandas would give it for a one-row frame (``to_dict("records")[0]``).
* ``BACKEND.execute(plan)`` runs the plan on the frame its ``Source`` holds and builds
  exactly pandas' DataFrame (dtypes, index, labels).

Plans that are not row-by-row (sort, groupby, join, head, ...) and expressions whose pandas
semantics the generator does not reproduce for the dtypes involved are declined, with the
reason.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir.base import Node, walk
from ...lower import Compute, Finalize, Labels, Physical, Scan, Select, Table, finalize, lower
from ...lower import Filter as PFilter
from ..base import Backend, BackendDeclined, Claim, Verdict
from .codegen import Generated, PlanGen, generate
from .selection import RowsSelection
from .values import Decline, Val

__all__ = ["BACKEND", "RowsBackend", "RowProgram", "compile_rows"]


class RowProgram:
    """A plan compiled to Python row code.

    Attributes
    ----------
    inputs : dict
        Input column -> pandas dtype: the columns of the plan's Source that it reads.
    outputs : dict
        Output column -> pandas dtype as pandas gives it (for a value-dependent dtype, the
        dtype when no value is missing). A Series-valued plan has the one output
        ``litsdf_compiler.ir.relations.SERIES``.
    source : str
        The generated ``transform_row`` source.
    floats_source : str or None
        The generated ``transform_row_floats`` source; None when some output is not float64.

    Examples
    --------
    >>> import pandas, litsdf as pd
    >>> df = pd.DataFrame({"x": [1.5]})
    >>> program = compile_rows(df.assign(y=df["x"] * 2)._plan)
    >>> program.transform_row({"x": 2.0})
    {'x': 2.0, 'y': 4.0}
    """

    __slots__ = (
        "_frame",
        "_row",
        "floats_source",
        "inputs",
        "outputs",
        "source",
        "transform_row",
        "transform_row_floats",
    )

    def __init__(self, row: Generated, frame: Generated | Decline) -> None:
        self._row = row
        self._frame = frame
        self.inputs: dict[Hashable, Any] = dict(row.inputs)
        spec = row.spec
        labels = list(spec.columns.index) if spec.columns is not None else []
        self.outputs: dict[Hashable, Any] = dict(zip(labels, row.meta_dtypes, strict=True))
        self.source: str = row.source
        self.transform_row = row.func
        """``transform_row(row: Mapping) -> dict | None``: the output row, or None when a
        filter drops it. Raises ``KeyError``/``ValueError`` for a missing column and
        ``TypeError`` for a value the column's dtype cannot hold."""
        self.floats_source: str | None = row.floats_source
        self.transform_row_floats = row.floats_func
        """``transform_row_floats(row: Mapping) -> tuple[float, ...] | None``, or None when
        some output is not float64: :meth:`transform_row` with the output values as a tuple
        in column order (no dict is built), for callers that want a feature array. The same
        validation and errors."""

    def transform_rows(self, rows: Iterable[Mapping[Hashable, Any]]) -> list[dict[Hashable, Any]]:
        """:meth:`transform_row` over ``rows``, dropping the rows a filter removes."""
        fn = self.transform_row
        return [out for out in map(fn, rows) if out is not None]

    @property
    def frame_verdict(self) -> Verdict:
        """Whether :meth:`run_frame` is available: a plan can be exact one row at a time
        (``transform_row``) but not over a frame, where pandas infers a UDF's dtype from all
        rows before a later filter."""
        if isinstance(self._frame, Decline):
            return Verdict(False, str(self._frame))
        return Verdict(True)

    def run_table(self, frame: Any) -> Table:
        """The plan's table (by internal name, with the row identity) on ``frame``.

        Raises ``BackendDeclined`` when only the row form is exact (see ``frame_verdict``).
        """
        from .frames import run_table

        if isinstance(self._frame, Decline):
            raise BackendDeclined(str(self._frame))
        return run_table(self._frame, frame)

    def run_frame(self, frame: Any) -> Any:
        """The plan's pandas result on ``frame`` (a DataFrame with the input's schema and
        labels; the columns' names are ``frame``'s, as pandas keeps them)."""
        assert not isinstance(self._frame, Decline) or self.run_table(frame) is None
        spec = self._frame.spec  # type: ignore[union-attr]
        names = frame.columns.names
        if spec.columns is not None and spec.columns.index.names != names:
            columns = spec.columns.index
            if columns.nlevels == frame.columns.nlevels:
                spec = dataclasses.replace(spec, columns=Labels(columns.set_names(names)))
        return finalize(spec, self.run_table(frame))

    def __repr__(self) -> str:
        return f"<RowProgram {list(self.inputs)} -> {list(self.outputs)}>"


_BY_PLAN: weakref.WeakKeyDictionary[Node, RowProgram | Decline] = weakref.WeakKeyDictionary()
_BY_SHAPE: dict[Node, RowProgram | Decline] = {}
_BY_TOP: weakref.WeakKeyDictionary[Physical, RowProgram] = weakref.WeakKeyDictionary()
"""The program of each compiled plan by the top of its physical chain (what ``claim`` runs)."""
_SHAPE_LIMIT = 1024
_P = TypeVar("_P", bound=Physical)
_SCHEMA_ONLY = rel.Source(rel.DataRef(None, "rows-schema"), origin="schema")


def _shape(n: _P) -> _P:
    """The physical plan ``n`` with its Scan's data left out (the Scan's fields keep the
    labels and dtypes): plans of the same shape on other frames (a served pipeline) share
    one compiled program."""
    if isinstance(n, Scan):
        return dataclasses.replace(n, source=_SCHEMA_ONLY)  # type: ignore[return-value]
    if isinstance(n, (Finalize, Compute, PFilter, Select)):
        return dataclasses.replace(n, input=_shape(n.input))  # type: ignore[return-value]
    return n


def _compile(plan: Node) -> RowProgram | Decline:
    """The program of logical ``plan`` (its physical plan, compiled once per shape)."""
    hit = _BY_PLAN.get(plan)
    if hit is not None:
        return hit
    verdict = Backend.supports(BACKEND, plan)  # (derived: visit_/check_ of every node)
    spec: Finalize | None = None
    if verdict:
        try:
            spec = lower(plan)  # type: ignore[arg-type]
        except Exception as err:  # (pandas rejects the plan's metadata: no row code for it)
            first = f"{type(err).__name__}: {err}".splitlines()[0][:200]
            verdict = Verdict(False, f"rows: the plan has no physical form: {first}")
    if spec is None:
        hit = Decline(verdict.reason)
    else:
        key = _shape(spec)
        hit = _BY_SHAPE.get(key)
        if hit is None:
            hit = _generate(key)  # (from the data-free shape: a program keeps no frame)
            if len(_BY_SHAPE) >= _SHAPE_LIMIT:
                _BY_SHAPE.clear()
            _BY_SHAPE[key] = hit
        if not isinstance(hit, Decline):
            _BY_TOP[spec.input] = hit
    _BY_PLAN[plan] = hit
    return hit


def _generate(spec: Finalize) -> RowProgram | Decline:
    try:
        row = generate(spec, BACKEND, frame_mode=False)
        try:
            frame: Generated | Decline = generate(spec, BACKEND, frame_mode=True)
        except Decline as why:
            frame = why
        return RowProgram(row, frame)
    except Decline as why:
        return why
    except (KeyError, TypeError, ValueError) as err:  # pandas rejects a dtype while compiling
        return Decline(f"rows: {type(err).__name__} while compiling: {err}")


def compile_rows(plan: rel.Relation) -> RowProgram:
    """Compile a single-input row-wise ``plan`` into a :class:`RowProgram` (cached by plan).

    Raises
    ------
    litsdf_compiler.backends.base.BackendDeclined
        With the reason, when the plan is not row-by-row, reads several inputs or uses an
        operation whose pandas semantics the generated code would not reproduce.
    """
    program = _compile(plan)
    if isinstance(program, Decline):
        raise BackendDeclined(str(program))
    return program


def _expression_kinds(e: ex.Expr) -> Verdict:
    """Every node of ``e`` has a row code generator (``PlanGen.gen_<Node>``)."""
    for x in walk(e):
        if getattr(PlanGen, f"gen_{type(x).__name__}", None) is None:
            return Verdict(False, f"rows has no row code for {type(x).__name__}")
    return Verdict(True)


class RowsBackend(RowsSelection, Backend):
    """Generated Python row code over the physical plan: ``visit_<Node>(node, gen)`` emits
    node ``<Node>``'s code into the generation ``gen``; the backend claims the whole plan
    (one compiled function) and hands its table to the shared finalize."""

    name = "rows"
    priority = 80
    """After pandas under ``backend="auto"`` until a size-aware selector picks it for small
    inputs (row code is fastest for one row, not for a million)."""

    def supports(self, plan: Node) -> Verdict:
        """Every node has row code and the whole plan compiles to exact pandas semantics."""
        program = _compile(plan)
        if isinstance(program, Decline):
            return Verdict(False, str(program))
        return program.frame_verdict

    def execute(self, plan: Node) -> Any:
        """The driver's walk, after compiling ``plan`` (declined when it does not compile)."""
        compile_rows(plan)  # type: ignore[arg-type]
        return super().execute(plan)

    def claim(self, node: Physical) -> Claim | None:
        """The whole row-wise chain under the root Finalize is ONE compiled function: the
        program compiled for it (by :meth:`supports`) runs on the Scan's frame."""
        program = _BY_TOP.get(node)
        if program is None:
            raise BackendDeclined(f"rows: {type(node).__name__} is not the top of a compiled plan")
        frame = _source_frame(node)
        return Claim((), lambda: program.run_table(frame))

    # code generators, one per physical node ------------------------------------------------
    def check_Scan(self, n: Scan) -> Verdict:
        if not isinstance(n.source, rel.Source):
            return Verdict(False, f"rows reads in-memory frames, not {type(n.source).__name__}")
        if len({label for label, _ in n.columns}) != len(n.columns):
            return Verdict(False, "rows: the input has duplicate column labels")
        return Verdict(True)

    def check_Compute(self, n: Compute) -> Verdict:
        for _, e in n.expressions:
            verdict = _expression_kinds(e)
            if not verdict:
                return verdict
        return Verdict(True)

    def check_Filter(self, n: PFilter) -> Verdict:
        return _expression_kinds(n.condition)

    def visit_Scan(self, n: Scan, gen: PlanGen) -> dict[str, Val]:
        return gen.scan(n)

    def visit_Compute(self, n: Compute, gen: PlanGen) -> dict[str, Val]:
        return gen.compute(n)

    def visit_Filter(self, n: PFilter, gen: PlanGen) -> dict[str, Val]:
        return gen.filter(n)

    def visit_Select(self, n: Select, gen: PlanGen) -> dict[str, Val]:
        return gen.select(n)


def _source_frame(spec: Physical) -> Any:
    n = spec
    while not isinstance(n, Scan):
        n = n.input  # type: ignore[attr-defined]
    return n.source.data.data  # type: ignore[attr-defined]


BACKEND = RowsBackend()
