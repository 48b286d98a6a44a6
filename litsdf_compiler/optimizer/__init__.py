"""The plan optimizer: pure rewrite rules, one per module, run by a driver to a fixed point.

A rule is a module ``litsdf_compiler/optimizer/<name>.py`` defining a function ``<name>(plan)
-> plan`` that returns the *same object* when it changes nothing, plus an ``ORDER`` integer
(rules run in ascending order within a pass). The driver discovers them (adding a rule touches
no other file), runs passes until no rule changes the plan, and raises
:class:`OptimizerLoopError` if the rules cycle or do not converge.

A *local* rule rewrites each relation from the relation and what lies below it alone, into
a relation with exactly the same output (columns, dtypes, index: so its metadata is known
without running pandas again); its ``<name>(plan)`` is :func:`._util.rewrite_relations` of
that rewrite. Its module also defines ``local_rewrite()``, returning a fresh per-relation
rewrite (with the memos of one call). The driver runs consecutive local rules as one stage: a
single bottom-up walk that applies every one of them at each relation until none changes it
(:func:`._util.rewrite_relations_saturated`). The result is a fixed point of each of those
rules, reached without one walk and one rebuild of the plan per rule and per pass, and without
a pass that only checks it.

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
from ..ir.relations import Relation

__all__ = ["Rule", "OptimizeResult", "OptimizerLoopError", "rules", "optimize"]

Rule = Callable[[Node], Node]
LocalRewrite = Callable[[Relation], Node]
"""A local rule's rewrite of one relation whose inputs are already rewritten."""
_Factory = Callable[[], LocalRewrite]

MAX_PASSES = 25
_WATCH_FROM = 2
"""Passes after which the driver records plans to detect cycles (see ``_optimize``)."""


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
def _discover() -> tuple[tuple[Rule, _Factory | None], ...]:
    found: list[tuple[int, str, Rule, _Factory | None]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        fn = getattr(module, info.name, None)
        if not callable(fn):
            raise TypeError(f"optimizer rule module {info.name!r} must define {info.name}()")
        local = getattr(module, "local_rewrite", None)
        found.append((int(getattr(module, "ORDER", 100)), info.name, fn, local))
    found.sort(key=lambda t: (t[0], t[1]))
    return tuple((fn, local) for _, _, fn, local in found)


def rules() -> tuple[Rule, ...]:
    """Every rule in this package, in ``ORDER`` (then name) order."""
    return tuple(fn for fn, _ in _discover())


def optimize(plan: Node, rule_set: Sequence[Rule] | None = None) -> OptimizeResult:
    """Run ``rule_set`` (default: every rule) over ``plan`` until nothing changes.

    Consecutive *local* rules (their modules define ``local_rewrite``: see the module
    docstring) run as one stage: one bottom-up walk that applies each of them at every
    relation until none changes it, which leaves the plan at a fixed point of all of them.

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


class _Stage:
    """A step of a pass: one rule, or a group of consecutive local rules run in one walk."""

    __slots__ = ("local", "names", "rule", "settles")

    def __init__(self, rule: Rule | None, local: tuple[tuple[str, _Factory], ...]) -> None:
        self.rule = rule
        self.local = local
        self.names = (rule.__name__,) if rule is not None else tuple(n for n, _ in local)
        self.settles = rule is None  # a group leaves the plan at its own fixed point

    def __call__(self, plan: Node, fired: list[str]) -> Node:
        if self.rule is not None:
            new = self.rule(plan)
            if new is not plan:
                fired.append(self.rule.__name__)
            return new
        from ._util import rewrite_relations_saturated

        return rewrite_relations_saturated(
            plan, [(name, factory()) for name, factory in self.local], fired
        )


def _stages(active: Sequence[Rule]) -> list[_Stage]:
    known = dict(_discover())
    out: list[_Stage] = []
    group: list[tuple[str, _Factory]] = []
    for rule in active:
        local = known.get(rule)
        if local is not None:
            group.append((rule.__name__, local))
            continue
        if group:
            out.append(_Stage(None, tuple(group)))
            group = []
        out.append(_Stage(rule, ()))
    if group:
        out.append(_Stage(None, tuple(group)))
    return out


def _optimize(plan: Node, rule_set: Sequence[Rule] | None, share: Rule) -> OptimizeResult:
    start = time.perf_counter()
    stages = _stages(rules() if rule_set is None else rule_set)
    plan = share(plan)
    fired: list[str] = []
    seen: set[Node] = set()
    unchanged = 0  # stages in a row at their fixed point: all of them is the plan's
    for passes in range(1, MAX_PASSES + 1):
        if not stages:
            return OptimizeResult(plan, (), passes, time.perf_counter() - start)
        for stage in stages:
            new = stage(plan, fired)
            if new is plan:
                unchanged += 1
                if unchanged >= len(stages):
                    if fired:  # rules built new nodes: merge any equal ones again
                        plan = share(plan)
                    seconds = time.perf_counter() - start
                    return OptimizeResult(plan, tuple(fired), passes, seconds)
                continue
            if passes > _WATCH_FROM:
                # a cycle repeats forever, so watching from a later pass still catches it
                # (hashing every plan from the first pass would cost more than the rules)
                if new == plan:  # a rule must return the same object when it changes nothing
                    raise OptimizerLoopError(
                        f"rule {' / '.join(stage.names)} rebuilt an unchanged plan"
                    )
                if new in seen:
                    raise OptimizerLoopError(
                        f"optimizer rules cycle: {' / '.join(stage.names)} restored an earlier "
                        f"plan (rules fired: {', '.join(fired)})"
                    )
                seen.add(new)
            plan = new
            unchanged = 1 if stage.settles else 0
    raise OptimizerLoopError(
        f"optimizer did not converge in {MAX_PASSES} passes (rules fired: {', '.join(fired)})"
    )
