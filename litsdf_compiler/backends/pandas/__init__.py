"""The ``pandas`` backend: runs every plan exactly as pandas would (the reference).

A thin :class:`~litsdf_compiler.backends.base.Backend` over the reference executor of
:mod:`litsdf_compiler.semantics`, whose kernels replay each node's pandas call.
"""

from __future__ import annotations

from ...ir.base import Node
from ...ir.frames import as_frame
from ...semantics import Executor
from ..base import Backend, Verdict
from .selection import PandasSelection

__all__ = ["PandasBackend", "BACKEND", "as_frame"]


class PandasBackend(PandasSelection, Executor, Backend):
    """Executes plans with pandas itself; every node has a kernel replaying its pandas call."""

    name = "pandas"
    priority = 50

    def supports(self, plan: Node) -> Verdict:
        """Every logical node has its reference kernel (the pandas backend runs the logical
        plan, not the physical one)."""
        return self.supports_logical(plan)


BACKEND = PandasBackend()
