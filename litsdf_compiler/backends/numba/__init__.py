"""The ``numba`` backend: NumPy columns, fused ``@njit(cache=True)`` loops, pyarrow strings.

It runs the physical plan (:mod:`litsdf_compiler.lower`): a chain of ``Compute`` / ``Filter``
/ ``Select`` nodes over one input is one generated loop (:mod:`.stage`), claimed as a whole
from the driver; a ``GroupAgg`` is numba kernels over factorized keys (:mod:`.groupby`),
fused with the stage under it into one loop when it can be (:mod:`.fused`), else pandas'
groupby over the arrays (exact, for reductions or dtypes the kernels don't have). A groupby
with no physical form (named or dict aggregations, keyword arguments, ``as_index=False``)
is a ``PandasCall`` island numba runs by the same kernels. Joins, row concats,
``drop_duplicates`` and top-k run the shared implementations (pandas over the arrays); other
islands (what numba brings nothing to: reading files, quicksort sorts, reshaping) run pandas'
reference kernels through the driver. Plans whose expressions it can't reproduce exactly are
declined. numba is imported only when a plan runs (``import litsdf`` does not import it).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ...ir import relations as rel
from ...lower import GroupAgg, Limit, PandasCall, Physical, Table, finalize, table_from_pandas
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
    visit_HashJoin = Backend.hash_join
    visit_UnionAll = Backend.union_all
    visit_Distinct = Backend.distinct
    visit_TopK = Backend.top_k

    def visit_Limit(self, n: Limit, table: Table) -> Table:
        return table.slice(slice(n.start, n.stop, n.step))

    def check_PandasCall(self, n: PandasCall) -> Verdict:
        """Islands run pandas' own kernels, except a groupby: numba's home ground, run by its
        kernels, so one they can't reproduce exactly is declined."""
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
        if isinstance(node, GroupAgg):
            return self._claim_group_agg(node)
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
    def visit_GroupAgg(self, n: GroupAgg, table: Table) -> Table:
        """The groups of ``n`` by numba's kernels over factorized keys; pandas' groupby over
        the arrays when the kernels don't reproduce it (a reduction or dtype they don't have,
        a result dtype pandas decides from the values)."""
        from .groupby import native_group_agg, run_group_agg

        out = run_group_agg(n, table) if native_group_agg(n) else None
        return out if out is not None else self.group_agg(n, table)

    def _claim_group_agg(self, n: GroupAgg) -> Claim | None:
        """``n`` with the Compute / Filter / Select chain under it as one loop that filters,
        computes and accumulates (one key, numeric measures); ``None`` otherwise (the chain
        is then a stage of its own and ``n`` is visited)."""
        from .fused import compile_fused, fusable_chain
        from .groupby import group_spec, group_table, native_group_agg

        if not native_group_agg(n):
            return None
        spec = group_spec(n)
        chain, below = fusable_chain(n.input)
        try:
            fused = compile_fused(spec, chain, below)
        except Unsupported:
            return None

        def run(table: Table) -> Table:
            from .fused import run_fused
            from .stage import Mismatch

            try:
                keys, results = run_fused(fused, spec, table)
                out = group_table(n, [keys], results)
            except Mismatch:
                out = None
            if out is not None:
                return out
            if chain:  # the stage and the groupby one after the other
                table = self._run_chain(chain, table)
            return self.visit_GroupAgg(n, table)

        return Claim((below,), run)

    def _claim_aggregate(self, n: PandasCall) -> Claim | None:
        from ...ir.frames import as_frame
        from ...meta import meta_of
        from .fused import compile_fused, fusable_chain, row_layout
        from .groupby import GroupSpec, check_aggregate, island_spec

        node = n.node
        if not isinstance(node, rel.Aggregate) or len(n.operands) != 1:
            return None
        (operand,) = n.operands
        layout = row_layout(operand)
        if layout is None or not check_aggregate(node):
            return None
        by_label = island_spec(node, as_frame(meta_of(node.input)))
        spec = GroupSpec(
            tuple(layout[k] for k in by_label.keys),
            tuple((None if c is None else layout[c], f, a) for c, f, a in by_label.measures),
            by_label.sort,
            by_label.dropna,
        )
        chain, below = fusable_chain(operand.input)
        try:
            fused = compile_fused(spec, chain, below)
        except Unsupported:
            return None

        def run(table: Table) -> Table:
            from .fused import run_fused
            from .groupby import assemble, run_aggregate
            from .stage import Mismatch

            try:
                keys, results = run_fused(fused, spec, table)
                out = assemble(node, results, keys)
                if out is None:
                    raise Mismatch("a result dtype decided by the values")
            except Mismatch:  # the stage and the groupby one after the other
                if chain:
                    table = self._run_chain(chain, table)
                out = run_aggregate(node, finalize(operand, table))
            return table_from_pandas(out, n.schema)

        return Claim((below,), run)


BACKEND = NumbaBackend()
