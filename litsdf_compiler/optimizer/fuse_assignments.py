"""Column-assignment fusion: consecutive ``WithColumns`` become one node.

Before::

    WithColumns b=(a2 * 2)
      WithColumns a2=(a + 1)
        Source

After::

    WithColumns a2=(a + 1), b=((a + 1) * 2)
      Source

Within one node every expression reads the node's *input*, so a later assignment that reads
a column set by an earlier one gets that column's expression substituted (a backend evaluates
a repeated sub-expression once per node). An assignment whose expression is a bare literal is
not substituted (a broadcast scalar and a column differ for ``.str`` and friends): such
chains are left unfused.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..ir.base import Node
from ..ir.expressions import Expr, Lit
from ..ir.relations import WithColumns
from ._util import expr_columns, rewrite_relations, substitute

ORDER = 5  # first: later rules then see one node per assignment chain, not one per step


def _fuse(n: Node) -> Node:
    if not isinstance(n, WithColumns) or not isinstance(n.input, WithColumns):
        return n
    lower = n.input
    assigned: dict[Hashable, Expr] = {}
    for label, e in lower.expressions:
        assigned[label] = e  # the last assignment of a label wins, as in the node itself
    used = set().union(*(expr_columns(e) for _, e in n.expressions))
    if any(isinstance(assigned[c], Lit) for c in used if c in assigned):
        return n
    upper = tuple((label, substitute(e, assigned)) for label, e in n.expressions)
    return WithColumns(lower.input, lower.expressions + upper)


def fuse_assignments(plan: Node) -> Node:
    """Merge chains of ``WithColumns`` into single nodes (see the module docstring)."""
    return rewrite_relations(plan, local_rewrite())


def local_rewrite() -> Callable[[Node], Node]:
    """The per-relation rewrite (a local rule: see :mod:`litsdf_compiler.optimizer`)."""
    return _fuse
