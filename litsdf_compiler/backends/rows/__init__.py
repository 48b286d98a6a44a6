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

import weakref
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir import strings as st
from ...ir import temporal as tm
from ...ir.base import Node
from ..base import Backend, BackendDeclined, Verdict
from .codegen import RELATIONS, Generated, PlanGen, generate, sources_of
from .values import Decline

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

    Examples
    --------
    >>> import pandas, litsdf as pd
    >>> df = pd.DataFrame({"x": [1.5]})
    >>> program = compile_rows(df.assign(y=df["x"] * 2)._plan)
    >>> program.transform_row({"x": 2.0})
    {'x': 2.0, 'y': 4.0}
    """

    __slots__ = ("_frame", "_row", "inputs", "outputs", "source", "transform_row")

    def __init__(self, row: Generated, frame: Generated | Decline) -> None:
        self._row = row
        self._frame = frame
        self.inputs: dict[Hashable, Any] = dict(row.inputs)
        self.outputs: dict[Hashable, Any] = dict(row.meta.dtypes.items())
        self.source: str = row.source
        self.transform_row = row.func
        """``transform_row(row: Mapping) -> dict | None``: the output row, or None when a
        filter drops it. Raises ``KeyError``/``ValueError`` for a missing column and
        ``TypeError`` for a value the column's dtype cannot hold."""

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

    def run_frame(self, frame: Any) -> Any:
        """The plan's pandas result on ``frame`` (a DataFrame with the input's schema).

        Raises ``BackendDeclined`` when only the row form is exact (see ``frame_verdict``).
        """
        from .frames import run_frame

        if isinstance(self._frame, Decline):
            raise BackendDeclined(str(self._frame))
        return run_frame(self._frame, frame)

    def __repr__(self) -> str:
        return f"<RowProgram {list(self.inputs)} -> {list(self.outputs)}>"


_BY_PLAN: weakref.WeakKeyDictionary[Node, RowProgram | Decline] = weakref.WeakKeyDictionary()
_BY_SHAPE: dict[Node, RowProgram | Decline] = {}
_SOURCE: weakref.WeakKeyDictionary[Node, rel.Source] = weakref.WeakKeyDictionary()
_SHAPE_LIMIT = 1024


def _shape(plan: Node) -> Node:
    """``plan`` with its Source replaced by a data-free one naming the input's schema: plans
    of the same shape on other frames (a served pipeline) share one compiled program."""
    from ...meta import _frame_signature

    def sub(n: Node) -> Node:
        if isinstance(n, rel.Source):
            token = f"rows-schema:{_frame_signature(n.data.data.iloc[:0])!r}"
            return rel.Source(rel.DataRef(None, token), origin="schema")
        if not isinstance(n, rel.Relation):
            return n
        from ...ir.base import replace_children

        return replace_children(n, sub)

    return sub(plan)


def _compile(plan: Node) -> RowProgram | Decline:
    hit = _BY_PLAN.get(plan)
    if hit is not None:
        return hit
    key = _shape(plan)
    hit = _BY_SHAPE.get(key)
    if hit is None:
        try:
            row = generate(plan, frame_mode=False)  # type: ignore[arg-type]
            try:
                frame: Generated | Decline = generate(plan, frame_mode=True)  # type: ignore[arg-type]
            except Decline as why:
                frame = why
            hit = RowProgram(row, frame)
        except Decline as why:
            hit = why
        except (KeyError, TypeError, ValueError) as err:  # pandas rejects the plan's meta
            hit = Decline(f"rows: {type(err).__name__} while compiling: {err}")
        if len(_BY_SHAPE) >= _SHAPE_LIMIT:
            _BY_SHAPE.clear()
        _BY_SHAPE[key] = hit
    _BY_PLAN[plan] = hit
    return hit


def compile_rows(plan: rel.Relation) -> RowProgram:
    """Compile a single-input row-wise ``plan`` into a :class:`RowProgram` (cached by plan).

    Raises
    ------
    litsdf_compiler.backends.base.BackendDeclined
        With the reason, when the plan is not row-by-row, reads several inputs or uses an
        operation whose pandas semantics the generated code would not reproduce.
    """
    program = _BY_PLAN.get(plan)
    if program is None:
        verdict = _structure(plan)
        if not verdict:
            raise BackendDeclined(verdict.reason)
        program = _compile(plan)
    if isinstance(program, Decline):
        raise BackendDeclined(str(program))
    return program


def _structure(plan: Node) -> Verdict:
    """The derived check: every node (outside Source lineage) has a ``visit_<Node>``."""
    sources = sources_of(plan)
    if len(sources) != 1:
        return Verdict(False, f"rows: the plan reads {len(sources)} inputs (it takes one)")
    return BACKEND.supports_logical(plan)  # (rows has no ``check_<Node>`` methods)


class RowsBackend(Backend):
    """Generated Python row code; ``visit_<Node>`` is the code generator of node ``<Node>``."""

    name = "rows"
    priority = 80
    """After pandas under ``backend="auto"`` until a size-aware selector picks it for small
    inputs (row code is fastest for one row, not for a million)."""

    def supports(self, plan: Node) -> Verdict:
        """Every node has row code and the whole plan compiles to exact pandas semantics."""
        program = _BY_PLAN.get(plan)
        if program is None:
            verdict = _structure(plan)
            if not verdict:
                return verdict
            program = _compile(plan)
        if isinstance(program, Decline):
            return Verdict(False, str(program))
        return program.frame_verdict

    def execute(self, plan: Node) -> Any:
        """Run ``plan`` on the DataFrame its Source holds (pandas' exact result)."""
        program = compile_rows(plan)  # type: ignore[arg-type]
        source = _SOURCE.get(plan)
        if source is None:
            (source,) = sources_of(plan)
            _SOURCE[plan] = source
        return program.run_frame(source.data.data)


def _visitor(gen: Any) -> Any:
    def visit(self: RowsBackend, n: Node) -> Any:
        return gen

    visit.__doc__ = f"Row code generator: ``PlanGen.{gen.__name__}``."
    return visit


for _cls in (ex, st, tm):
    for _name in _cls.__all__:
        _gen = getattr(PlanGen, f"gen_{_name}", None)
        if _gen is not None:
            setattr(RowsBackend, f"visit_{_name}", _visitor(_gen))
for _name in RELATIONS:
    setattr(RowsBackend, f"visit_{_name}", _visitor(getattr(PlanGen, f"rel_{_name}")))
try:
    from ...ir import udf as _udf

    for _name in ("MapFunc", "RowApply"):
        if hasattr(_udf, _name):
            setattr(RowsBackend, f"visit_{_name}", _visitor(getattr(PlanGen, f"gen_{_name}")))
except ImportError:  # pragma: no cover - the UDF nodes are optional
    pass

BACKEND = RowsBackend()
