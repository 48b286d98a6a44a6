"""Execution entry point: substitute cached results, select a backend, run, record why."""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import Any

from . import adaptive, selector
from .backends import Backend, get_backend
from .backends.base import BackendDeclined
from .files import verify
from .ir.base import Node, replace_children, walk
from .ir.frames import as_frame
from .ir.relations import DataRef, ReadCsv, ReadParquet, Relation, Source

__all__ = [
    "Decision",
    "BackendDeclined",
    "select",
    "execute",
    "record",
    "remember",
    "cached",
    "verify_files",
]

_RESULTS: dict[int, tuple[weakref.ref[Node], Any]] = {}
"""Materialized results by node *identity* (not structure): re-running the same program
builds new nodes and re-executes, as pandas would (files may have changed meanwhile)."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """Which backend ran a plan and why."""

    backend: str
    reason: str
    seconds: float = 0.0
    declined: tuple[tuple[str, str], ...] = ()
    optimized: Node | None = None
    """The plan that ran (after cached results were substituted and the optimizer ran)."""
    rules: tuple[str, ...] = ()
    """Optimizer rules that changed the plan, in firing order."""
    optimize_seconds: float = 0.0
    adaptive: adaptive.Choice | None = None
    """The adaptive selector's choice and the arms' statistics it read (``selector =
    "adaptive"`` under ``backend="auto"``); the run's time is recorded against it."""


def remember(plan: Node, result: Any) -> None:
    """Keep ``result`` as the value of ``plan`` while ``plan`` is alive (a materialization)."""
    key = id(plan)
    _RESULTS[key] = (weakref.ref(plan, lambda _: _RESULTS.pop(key, None)), result)


def cached(plan: Node) -> Any:
    """The remembered result of this very ``plan`` object, or ``None``."""
    entry = _RESULTS.get(id(plan))
    if entry is None or entry[0]() is not plan:
        return None
    return entry[1]


def _substitute_cached(plan: Node) -> Node:
    memo: dict[int, Node] = {}  # by identity: a shared sub-plan is visited (and kept) once

    def sub(n: Node) -> Node:
        out = memo.get(id(n))
        if out is not None:
            return out
        hit = cached(n) if isinstance(n, Relation) else None
        if hit is not None and not isinstance(n, Source):
            out = Source(DataRef(as_frame(hit)), origin=f"cached {type(n).__name__}")
        else:
            out = replace_children(n, sub)
        memo[id(n)] = out
        return out

    return sub(plan)


def verify_files(plan: Node) -> None:
    """Raise :class:`~litsdf_compiler.files.FileChangedError` if a file read by ``plan`` is
    not the version its reader recorded (reads already materialized are not checked: their
    result is the data the reader saw)."""
    for n in walk(plan):
        if isinstance(n, ReadCsv):
            verify(n.path, n.version, "read_csv")
        elif isinstance(n, ReadParquet):
            verify(n.path, n.version, "read_parquet")


def select(plan: Node, requested: str = "auto", rows: int | None = -1) -> tuple[Backend, Decision]:
    """Pick the backend for ``plan``: the one requested, or under ``"auto"`` by preference.

    Under ``"auto"`` every backend states its preference for the plan and its input size
    (``rows``; estimated from the plan when -1), see :func:`~litsdf_compiler.selector.ranked`;
    the first available one in that order whose ``supports(plan)`` holds runs it, and the
    decision's reason is the preference it stated. Under ``selector="adaptive"``
    (:func:`~litsdf_compiler.adaptive.set_mode`) the backends that support the plan are the
    arms of a bandit that learned their run times on plans of this shape and size
    (:mod:`litsdf_compiler.adaptive`); the static order is its prior.
    """
    if requested != "auto":
        backend = get_backend(requested)
        avail = backend.available()
        if not avail:
            raise BackendDeclined(f"backend {requested!r} is not available: {avail.reason}")
        verdict = backend.supports(plan)
        if not verdict:
            raise BackendDeclined(f"backend {requested!r} declined the plan: {verdict.reason}")
        return backend, Decision(requested, "requested explicitly")
    if rows == -1:
        rows = selector.estimate_rows(plan) if isinstance(plan, Relation) else None
    if adaptive.mode() == "adaptive":
        return _select_adaptive(plan, rows)
    declined: list[tuple[str, str]] = []
    passed: list[str] = []  # the preferences of the backends tried before, that declined
    for backend, wish in selector.ranked(plan, rows):
        avail = backend.available()
        verdict = backend.supports(plan) if avail else avail
        if verdict:
            why = (
                wish.reason if wish is not None else "no preference stated; next in priority order"
            )
            if passed:
                why = f"{why}; preferred first: {'; '.join(passed)}"
            return backend, Decision(backend.name, why, declined=tuple(declined))
        declined.append((backend.name, verdict.reason if avail else f"unavailable: {avail.reason}"))
        if wish is not None:
            passed.append(f"{backend.name} ({wish.reason})")
    raise BackendDeclined(f"no backend supports this plan: {declined}")


def _select_adaptive(plan: Node, rows: int | None) -> tuple[Backend, Decision]:
    """Under ``selector="adaptive"``: every backend that runs ``plan`` is an arm of the
    bandit (in the static order, its prior), which picks one (:func:`adaptive.choose`)."""
    declined: list[tuple[str, str]] = []
    arms = []
    for backend, wish in selector.ranked(plan, rows):
        avail = backend.available()
        verdict = backend.supports(plan) if avail else avail
        if verdict:
            arms.append((backend, wish))
        else:
            declined.append(
                (backend.name, verdict.reason if avail else f"unavailable: {avail.reason}")
            )
    if not arms:
        raise BackendDeclined(f"no backend supports this plan: {declined}")
    choice = adaptive.choose(plan, rows, arms)
    chosen = next(b for b, _ in arms if b.name == choice.backend)
    return chosen, Decision(chosen.name, choice.reason, declined=tuple(declined), adaptive=choice)


def prepare(plan: Node, optimize: bool = True) -> tuple[Node, tuple[str, ...], float]:
    """The plan to run: remembered results substituted, then optimized if asked.

    Returns the plan, the rules that fired and the optimizer's time in seconds.
    """
    plan = _substitute_cached(plan)
    verify_files(plan)  # (before rules read file metadata: a changed file fails first)
    if not optimize:
        return plan, (), 0.0
    from .optimizer import optimize as run_optimizer

    result = run_optimizer(plan)
    return result.plan, result.fired, result.seconds


def record(decision: Decision, seconds: float) -> None:
    """Tell the adaptive selector that the run ``decision`` chose took ``seconds`` (nothing
    when the static selector, or the user, chose). :func:`execute` does it; a caller that
    runs the chosen backend itself (a compiled pipeline's program) calls it."""
    if decision.adaptive is not None:
        adaptive.record(decision.adaptive, seconds)


def execute(plan: Node, backend: str = "auto", optimize: bool = True) -> tuple[Any, Decision]:
    """Run ``plan`` (optimized unless ``optimize=False``) and return (raw result, decision)."""
    plan, fired, opt_seconds = prepare(plan, optimize)
    chosen, decision = select(plan, backend)
    start = time.perf_counter()
    result = chosen.execute(plan)
    seconds = time.perf_counter() - start
    record(decision, seconds)
    return result, dataclasses.replace(
        decision,
        seconds=seconds,
        optimized=plan,
        rules=fired,
        optimize_seconds=opt_seconds,
    )
