"""The ``numba`` backend: NumPy columns, fused ``@njit(cache=True)`` loops, pyarrow strings.

A chain of WithColumns / Filter / Project nodes over one input is one generated loop
(:mod:`.stage`); groupby reductions are numba kernels over factorized keys (:mod:`.groupby`);
nodes where numba brings nothing (reading files, sorts, joins, concat, head/tail) run the
pandas backend's kernels. Plans it can't reproduce exactly are declined. numba is imported
only when a plan runs (``import litsdf`` does not import it).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pandas as pd

from ...ir import expressions as ex
from ...ir import relations as rel
from ...ir.base import Node, children
from ...ir.frames import as_frame
from ...ir.trust import check_dispatch
from ...meta import meta_of
from ..base import Backend, Verdict
from ..pandas import BACKEND as PANDAS
from .emit import Unsupported
from .selection import NumbaSelection

__all__ = ["NumbaBackend", "BACKEND"]


def _delegate(name: str) -> Any:
    def visit(self: NumbaBackend, n: Node, *inputs: Any) -> Any:
        return getattr(PANDAS, name)(n, *inputs)

    visit.__name__ = name
    visit.__doc__ = f"The pandas backend's ``{name}`` (numba brings nothing here)."
    return visit


_STAGE_EXPRESSIONS = (
    "Col",
    "Lit",
    "Alias",
    "BinaryOp",
    "UnaryOp",
    "Ufunc",
    "FillNa",
    "IsNa",
    "NotNa",
    "Cast",
    "Where",
    "Clip",
    "Round",
    "Between",
    "IsIn",
    "Reduce",
    "StrCase",
    "StrStrip",
    "StrLen",
    "StrContains",
    "StrStartsWith",
    "StrEndsWith",
    "StrReplace",
    "MapFunc",
    "RowApply",
)


def _in_stage(self: Any, n: Node, *args: Any) -> Any:
    """Expressions are compiled into a stage's loop, never visited one by one."""
    raise NotImplementedError(type(n).__name__)


class NumbaBackend(NumbaSelection, Backend):
    """Fused numba loops for numeric expressions and filters, numba groupby kernels."""

    name = "numba"
    priority = 40

    def available(self) -> Verdict:
        if importlib.util.find_spec("numba") is None:
            return Verdict(False, "numba is not installed (pip install numba)")
        return Verdict(True)

    # nodes run by pandas' own kernels -----------------------------------------------------
    for _name in (
        "Source",
        "ReadCsv",
        "ReadParquet",
        "Drop",
        "Rename",
        "Head",
        "Tail",
        "Slice",
        "Sort",
        "SortIndex",
        "TopK",
        "Join",
        "IndexJoin",
        "Concat",
        "SetIndex",
        "ResetIndex",
        "DropDuplicates",
        "DropNa",
    ):
        locals()[f"visit_{_name}"] = _delegate(f"visit_{_name}")
    del _name

    # expressions: lowered by the stage compiler (its check_<Relation> says what it accepts)
    for _name in _STAGE_EXPRESSIONS:
        locals()[f"visit_{_name}"] = _in_stage
    del _name

    # fused stages ---------------------------------------------------------------------------
    def _check_stage(self, n: rel.Relation) -> Verdict:
        from .stage import compile_stage

        try:
            compile_stage((n,))
        except Unsupported as why:
            return Verdict(False, f"numba declines {type(n).__name__}: {why}")
        return Verdict(True)

    check_WithColumns = check_Filter = check_Project = _check_stage

    def visit_WithColumns(self, n: rel.Relation, df: pd.DataFrame) -> Any:
        return self._run_chain((n,), df)

    visit_Filter = visit_Project = visit_WithColumns

    def _run_chain(self, chain: tuple[rel.Relation, ...], df: pd.DataFrame) -> Any:
        from .stage import Mismatch, compile_stage, run_stage

        try:
            stage = compile_stage(chain)
        except Unsupported:  # e.g. a Python function after a filter: one loop per node
            if len(chain) == 1:
                raise
            for node in chain:
                df = as_frame(self._run_chain((node,), df))
            return df
        try:
            return run_stage(stage, df)
        except Mismatch:  # a dtype pandas decided from the values: its own kernels
            for node in chain:
                df = as_frame(PANDAS.kernel(node)(node, df))
            return df

    # a column computed by a stage (reductions and Series methods on expressions) ----------
    def _column_plan(self, n: Any, e: ex.Expr) -> rel.Project:
        return rel.Project(n.input, (("__litsdf_numba_value__", e),))

    def check_ScalarResult(self, n: rel.ScalarResult) -> Verdict:
        if not isinstance(n.expr, ex.Reduce):
            return Verdict(False, "numba: scalar result that is not a reduction")
        return self._check_stage(self._column_plan(n, n.expr.input))

    def visit_ScalarResult(self, n: rel.ScalarResult, df: pd.DataFrame) -> Any:
        assert isinstance(n.expr, ex.Reduce)
        s = self._column(n, n.expr.input, df)
        return PANDAS.visit_Reduce(n.expr, s)

    def check_SeriesMethod(self, n: rel.SeriesMethod) -> Verdict:
        return self._check_stage(self._column_plan(n, n.value))

    def visit_SeriesMethod(self, n: rel.SeriesMethod, df: pd.DataFrame) -> Any:
        check_dispatch(n, "method", rel.SERIES_METHODS)
        s = self._column(n, n.value, df)
        return getattr(s, n.method)(**PANDAS_KW(n.kwargs))

    def _column(self, n: Any, e: ex.Expr, df: pd.DataFrame) -> pd.Series:
        from ...meta import expr_meta

        plan = self._column_plan(n, e)
        name = getattr(expr_meta(e, as_frame(meta_of(n.input)), {}), "name", None)
        col = self._run_chain((plan,), df)["__litsdf_numba_value__"]
        return col.rename(name)

    # groupby ---------------------------------------------------------------------------------
    def check_Aggregate(self, n: rel.Aggregate) -> Verdict:
        from .groupby import check_aggregate

        return check_aggregate(n)

    def visit_Aggregate(self, n: rel.Aggregate, df: pd.DataFrame) -> Any:
        from .groupby import run_aggregate

        return run_aggregate(n, df)

    def _run_fused(self, n: rel.Aggregate, memo: dict[Node, Any]) -> Any:
        """The aggregate and the stage under it in one loop (:mod:`.fused`), or None."""
        from .fused import compile_fused, fusable_chain, run_fused
        from .stage import Mismatch

        chain, below = fusable_chain(n, memo)
        try:
            fused = compile_fused(n, chain, below)
        except Unsupported:
            return None
        df = as_frame(self._run(below, memo))
        try:
            return run_fused(fused, n, df)
        except Mismatch:
            return None

    def supports(self, plan: Node) -> Verdict:
        """Derived over the logical plan (until numba runs on the physical plan)."""
        return self.supports_logical(plan)

    # execution -------------------------------------------------------------------------------
    def execute(self, plan: Node) -> Any:
        """Run ``plan``: stages fused, other nodes by their kernels, each sub-plan once."""
        return self._run(plan, {})

    def _run(self, n: Node, memo: dict[Node, Any]) -> Any:
        hit = memo.get(n)
        if hit is not None:
            return hit
        from .stage import STAGE_NODES

        if isinstance(n, STAGE_NODES):
            chain = [n]
            m = n.input
            while isinstance(m, STAGE_NODES) and m not in memo:
                chain.append(m)
                m = m.input
            df = as_frame(self._run(m, memo))
            hit = self._run_chain(tuple(reversed(chain)), df)
        elif isinstance(n, rel.Aggregate) and (fused := self._run_fused(n, memo)) is not None:
            hit = fused
        elif isinstance(n, rel.Source):
            hit = PANDAS.visit_Source(n)
        else:
            inputs = [
                as_frame(self._run(c, memo)) for c in children(n) if isinstance(c, rel.Relation)
            ]
            hit = getattr(self, f"visit_{type(n).__name__}")(n, *inputs)
        memo[n] = hit
        return hit


def PANDAS_KW(kwargs: Any) -> dict[str, Any]:
    from ...ir.base import thaw

    return thaw(dict(kwargs))  # type: ignore[no-any-return]


BACKEND = NumbaBackend()
