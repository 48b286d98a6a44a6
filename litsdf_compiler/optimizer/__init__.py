"""The plan optimizer: pure rewrite rules, one per module, run by a driver to a fixed point.

A rule is a module ``litsdf_compiler/optimizer/<name>.py`` defining a function ``<name>(plan)
-> plan`` that returns the *same object* when it changes nothing, plus an ``ORDER`` integer
(rules run in ascending order within a pass). The driver discovers them (adding a rule touches
no other file), runs passes until no rule changes the plan, and raises
:class:`OptimizerLoopError` if the rules cycle or do not converge.

Every rule preserves pandas semantics exactly: values, dtypes, index, column and row order.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import pkgutil
import time
from collections.abc import Callable, Sequence
from functools import cache

from ..ir.base import Node

__all__ = ["Rule", "OptimizeResult", "OptimizerLoopError", "rules", "optimize"]

Rule = Callable[[Node], Node]

MAX_PASSES = 25


class OptimizerLoopError(RuntimeError):
    """The rules did not reach a fixed point (they cycle, or keep growing the plan)."""


@dataclasses.dataclass(frozen=True)
class OptimizeResult:
    """The optimized plan, which rules changed it (in firing order) and how long it took."""

    plan: Node
    fired: tuple[str, ...]
    passes: int
    seconds: float


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule in this package, in ``ORDER`` (then name) order."""
    found: list[tuple[int, str, Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        fn = getattr(module, info.name, None)
        if not callable(fn):
            raise TypeError(f"optimizer rule module {info.name!r} must define {info.name}()")
        found.append((int(getattr(module, "ORDER", 100)), info.name, fn))
    found.sort(key=lambda t: (t[0], t[1]))
    return tuple(fn for _, _, fn in found)


def optimize(plan: Node, rule_set: Sequence[Rule] | None = None) -> OptimizeResult:
    """Run ``rule_set`` (default: every rule) over ``plan`` until nothing changes.

    Examples
    --------
    >>> import litsdf as pd
    >>> df = pd.DataFrame({"a": [1, 2]})
    >>> df["b"] = df["a"] + 1
    >>> df["c"] = df["a"] * 2
    >>> optimize(df._plan).fired
    ('fuse_assignments',)
    """
    from ._columns import forget
    from ._share import Sharer  # equal sub-plans become one object (see _share.py)
    from ._util import forget_columns

    collecting = gc.isenabled()
    gc.disable()  # a short CPU-bound rewrite that makes no garbage cycles (as timeit does)
    try:
        # one table before and after the rules: the second call visits only new nodes
        return _optimize(plan, rule_set, Sharer())
    finally:
        forget()  # analyses shared between rules must not keep a plan (and its data) alive
        forget_columns()
        if collecting:
            gc.enable()


def _optimize(plan: Node, rule_set: Sequence[Rule] | None, share: Rule) -> OptimizeResult:
    start = time.perf_counter()
    active = tuple(rules() if rule_set is None else rule_set)
    plan = share(plan)
    fired: list[str] = []
    seen = {plan}
    unchanged = 0  # rules run in a row without a change: all of them means a fixed point
    for passes in range(1, MAX_PASSES + 1):
        for rule in active:
            new = rule(plan)
            if new is plan:
                unchanged += 1
                if unchanged == len(active):
                    if fired:  # rules built new nodes: merge any equal ones again
                        plan = share(plan)
                    seconds = time.perf_counter() - start
                    return OptimizeResult(plan, tuple(fired), passes, seconds)
                continue
            if new == plan:  # a rule must return the same object when it changes nothing
                raise OptimizerLoopError(f"rule {rule.__name__} rebuilt an unchanged plan")
            fired.append(rule.__name__)
            if new in seen:
                raise OptimizerLoopError(
                    f"optimizer rules cycle: {rule.__name__} restored an earlier plan "
                    f"(rules fired: {', '.join(fired)})"
                )
            seen.add(new)
            plan, unchanged = new, 0
        if not active:
            return OptimizeResult(plan, (), passes, time.perf_counter() - start)
    raise OptimizerLoopError(
        f"optimizer did not converge in {MAX_PASSES} passes (rules fired: {', '.join(fired)})"
    )
