"""The ``numba`` backend: NumPy columns, fused ``@njit(cache=True)`` loops, pyarrow strings.

It runs the physical plan (:mod:`litsdf_compiler.lower`): a chain of ``Compute`` / ``Filter``
/ ``Select`` nodes over one input is one generated loop (:mod:`.stage`), claimed as a whole
from the driver; a groupby is numba kernels over factorized keys (:mod:`.groupby`), fused
with the stage under it when it can be (:mod:`.fused`). ``PandasCall`` islands (what numba
brings nothing to: reading files, sorts, joins, reshaping) run pandas' reference kernels
through the driver. Plans whose expressions it can't reproduce exactly are declined. numba
is imported only when a plan runs (``import litsdf`` does not import it).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ...ir import relations as rel
from ...lower import Limit, PandasCall, Physical, Table, finalize, table_from_pandas
from ..base import Backend, Claim, Verdict
from .emit import Unsupported
from .selection import NumbaSelection

__all__ = ["NumbaBackend", "BACKEND"]


class NumbaBackend(NumbaSelection, Backend):
    """Fused numba loops for numeric expressions and filters, numba groupby kernels."""

    name = "numba"
    priority = 40

    def available(self) -> Verdict:
        if importlib.util.find_spec("numba") is None:
            return Verdict(False, "numba is not installed (pip install numba)")
        return Verdict(True)

    # leaves, limits and islands ---------------------------------------------------------------
    visit_Scan = Backend.scan_table
    visit_OrderBy = Backend.order_by
    visit_GroupAgg = Backend.group_agg  # (pandas' groupby over the arrays)

    def visit_Limit(self, n: Limit, table: Table) -> Table:
        return table.slice(slice(n.start, n.stop, n.step))

    def check_PandasCall(self, n: PandasCall) -> Verdict:
        """Islands run pandas' own kernels, except a groupby: numba's home ground, run by its
        kernels, so one they can't reproduce exactly is declined (until ``GroupAgg``)."""
        if isinstance(n.node, rel.Aggregate):
            from .groupby import check_aggregate

            return check_aggregate(n.node)
        return Verdict(True)

    def visit_PandasCall(self, n: PandasCall, *operands: Any) -> Table:
        """The island run by pandas' reference kernel; a groupby numba reproduces exactly
        runs numba's kernels instead (:mod:`.groupby`)."""
        node = n.node
        if isinstance(node, rel.Aggregate) and len(operands) == 1:
            from .groupby import check_aggregate, run_aggregate

            if check_aggregate(node):
                return table_from_pandas(run_aggregate(node, operands[0]), n.schema)
        return self.pandas_call(n, *operands)

    # fused stages -----------------------------------------------------------------------------
    def _check_stage(self, n: Physical) -> Verdict:
        from .stage import compile_stage

        try:
            compile_stage((n,))
        except Unsupported as why:
            return Verdict(False, f"numba declines {type(n).__name__}: {why}")
        return Verdict(True)

    check_Compute = check_Filter = check_Select = _check_stage

    def visit_Compute(self, n: Physical, table: Table) -> Table:
        return self._run_chain((n,), table)

    visit_Filter = visit_Select = visit_Compute

    def claim(self, node: Physical) -> Claim | None:
        """A chain of Compute / Filter / Select nodes is one loop; a groupby island over such
        a chain is one loop that filters, computes and accumulates (:mod:`.fused`)."""
        from .fused import fusable_chain

        if isinstance(node, PandasCall):
            return self._claim_aggregate(node)
        chain, below = fusable_chain(node)
        if len(chain) < 2:
            return None
        return Claim((below,), lambda table: self._run_chain(chain, table))

    def _run_chain(self, chain: tuple[Physical, ...], table: Table) -> Table:
        from .stage import Mismatch, compile_stage, run_stage

        try:
            stage = compile_stage(chain)
        except Unsupported:  # e.g. a Python function after a filter: one loop per node
            if len(chain) == 1:
                raise
            for node in chain:
                table = self._run_chain((node,), table)
            return table
        try:
            return run_stage(stage, table)
        except Mismatch:  # a dtype pandas decided from the values: its own kernels
            from .reference import run_reference

            for node in chain:
                table = run_reference(node, table)
            return table

    # groupby ----------------------------------------------------------------------------------
    def _claim_aggregate(self, n: PandasCall) -> Claim | None:
        from .fused import compile_fused, fusable_chain
        from .groupby import check_aggregate

        node = n.node
        if not isinstance(node, rel.Aggregate) or len(n.operands) != 1:
            return None
        (operand,) = n.operands
        if not check_aggregate(node):
            return None
        chain, below = fusable_chain(operand.input)
        try:
            fused = compile_fused(node, operand, chain, below)
        except Unsupported:
            return None

        def run(table: Table) -> Table:
            from .fused import run_fused
            from .groupby import run_aggregate
            from .stage import Mismatch

            try:
                out = run_fused(fused, node, table)
            except Mismatch:  # the stage and the groupby one after the other
                if chain:
                    table = self._run_chain(chain, table)
                out = run_aggregate(node, finalize(operand, table))
            return table_from_pandas(out, n.schema)

        return Claim((below,), run)


BACKEND = NumbaBackend()
