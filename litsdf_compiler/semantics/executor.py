"""The reference executor: runs a plan by calling each node's kernel on its inputs' values."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from ..ir.base import Node, children, inputs
from ..ir.expressions import Col, Expr, Lit
from ..ir.frames import as_frame
from ..ir.relations import WithColumns
from .expressions import ExpressionKernels
from .relations import RelationKernels

__all__ = ["Executor"]


class Executor(RelationKernels, ExpressionKernels):
    """Executes plans with pandas itself; every node has a kernel replaying its pandas call."""

    def __init__(self) -> None:
        self._kernels: dict[type, Any] = {}

    def kernel(self, n: Node) -> Any:
        """The bound ``visit_<Node>`` method for ``n``'s type.

        Parameters
        ----------
        n : Node
            A plan node (relation or expression).

        Returns
        -------
        Any
            The bound kernel, called as ``kernel(n)(n, *evaluated_children)``.

        Raises
        ------
        NotImplementedError
            When no kernel exists for ``n``'s node type (the message names it).
        """
        cls = type(n)
        fn = self._kernels.get(cls)
        if fn is None:
            fn = getattr(self, f"visit_{cls.__name__}", None)
            if fn is None:
                raise NotImplementedError(f"pandas backend has no kernel for {cls.__name__}")
            self._kernels[cls] = fn
        return fn

    def ev(self, expr: Any, frame: pd.DataFrame, memo: dict[Any, Any] | None = None) -> Any:
        """Evaluate expression ``expr`` against ``frame`` (sub-expressions computed once)."""
        if memo is None:
            memo = {}
        hit = memo.get(expr, memo)
        if hit is not memo:
            return hit
        if isinstance(expr, Col):
            value = frame[expr.name]
        elif isinstance(expr, Lit):
            value = expr.value
        else:
            args = [self.ev(c, frame, memo) for c in children(expr)]
            value = self.kernel(expr)(expr, *args)
        memo[expr] = value
        return value

    def run(self, plan: Node, memo: dict[Node, Any] | None = None) -> Any:
        """Execute ``plan``; the root's raw pandas value (DataFrame, Series or scalar)."""
        if memo is None:
            memo = {}
        return self._run(plan, memo, root=True)

    def _run(self, n: Node, memo: dict[Node, Any], root: bool = False) -> Any:
        hit = memo.get(n)
        if hit is None and isinstance(n, WithColumns):
            hit = memo[n] = self._run_assignments(n, memo)
        if hit is None:
            frames = [as_frame(self._run(c, memo)) for c in inputs(n)]
            hit = self.kernel(n)(n, *frames)
            memo[n] = hit
        return hit

    def _run_assignments(self, n: WithColumns, memo: dict[Node, Any]) -> Any:
        """A chain of column assignments on ONE shallow copy of its input, as pandas code
        ``df["a"] = ...; df["b"] = ...`` does (each node's expressions see the frame as it
        was before that node, exactly as if the nodes ran one by one)."""
        chain: list[WithColumns] = []
        m: Node = n
        while isinstance(m, WithColumns) and m not in memo:
            chain.append(m)
            m = m.input
        out = as_frame(self._run(m, memo)).copy(deep=False)
        with warnings.catch_warnings():
            # many new columns fragment the frame (pandas warns on each insert past 100
            # blocks): an implementation detail of running the chain, not the user's code
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            for node in reversed(chain):
                exprs: dict[Any, Any] = {}
                values = [(label, self.ev(e, out, exprs)) for label, e in node.expressions]
                for label, value in values:
                    out[label] = value
        return out

    def execute(self, plan: Node) -> Any:
        """Run ``plan`` with pandas; see :meth:`run`."""
        return self.run(plan)

    def apply_expr(self, expr: Expr, known: dict[Expr, Any], frame: pd.DataFrame) -> Any:
        """Evaluate ``expr`` given already-evaluated sub-expressions (used to infer metadata).

        ``known`` is used as the memo: the values of the sub-expressions evaluated here are
        added to it, so a caller that keeps it pays for each sub-expression once.
        """
        return self.ev(expr, frame, known)
