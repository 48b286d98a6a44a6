"""litsdf_compiler: the plan IR, metadata inference, the optimizer, the backends and the engine.

Plans are recursive immutable structures and every pass over them (metadata, optimizer
rules, backends) recurses once per level, so a long pandas program (a loop adding hundreds
of columns, each step a node) is a deep plan. Python's default limit of 1000 frames would
stop such plans at a few hundred steps; the limit is raised here once, to
:data:`RECURSION_LIMIT`, which CPython 3.11 handles on the main thread's stack.
"""

from __future__ import annotations

import sys

RECURSION_LIMIT = 20_000

if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)
