"""The semantics floor: pandas' reference kernels, below metadata, the optimizer and backends.

Each ``visit_<Node>`` kernel replays the pandas call its node records; :class:`Executor`
runs a plan with them. :mod:`litsdf_compiler.meta` infers metadata with :data:`REFERENCE`
(the kernels on empty inputs) and the ``pandas`` backend is a thin
:class:`~litsdf_compiler.backends.base.Backend` over the same :class:`Executor`. This
package imports only :mod:`litsdf_compiler.ir` (and :mod:`litsdf_compiler.files`, a leaf).
"""

from __future__ import annotations

from .executor import Executor

__all__ = ["Executor", "REFERENCE"]

REFERENCE = Executor()
"""The executor that metadata inference runs (one shared cache of bound kernels)."""
