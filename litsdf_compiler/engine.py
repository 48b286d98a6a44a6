"""Execution entry point: substitute cached results, select a backend, run, record why."""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import Any

from .backends import Backend, get_backend, registry
from .ir.base import Node, replace_children
from .ir.relations import DataRef, Relation, Source

__all__ = ["Decision", "BackendDeclined", "select", "execute", "remember", "cached"]

_RESULTS: dict[int, tuple[weakref.ref[Node], Any]] = {}
"""Materialized results by node *identity* (not structure): re-running the same program
builds new nodes and re-executes, as pandas would (files may have changed meanwhile)."""


class BackendDeclined(NotImplementedError):
    """The backend asked for cannot run this plan exactly as pandas would."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """Which backend ran a plan and why."""

    backend: str
    reason: str
    seconds: float = 0.0
    declined: tuple[tuple[str, str], ...] = ()


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
    def sub(n: Node) -> Node:
        hit = cached(n) if isinstance(n, Relation) else None
        if hit is not None and not isinstance(n, Source):
            from .backends.pandas import as_frame

            return Source(DataRef(as_frame(hit)), origin=f"cached {type(n).__name__}")
        return replace_children(n, sub)

    return sub(plan)


def select(plan: Node, requested: str = "auto") -> tuple[Backend, Decision]:
    """Pick the backend for ``plan``: the one requested, or under ``"auto"`` the first
    available backend (in priority order) whose ``supports(plan)`` holds."""
    if requested != "auto":
        backend = get_backend(requested)
        avail = backend.available()
        if not avail:
            raise BackendDeclined(f"backend {requested!r} is not available: {avail.reason}")
        verdict = backend.supports(plan)
        if not verdict:
            raise BackendDeclined(f"backend {requested!r} declined the plan: {verdict.reason}")
        return backend, Decision(requested, "requested explicitly")
    declined: list[tuple[str, str]] = []
    for name, backend in registry().items():
        avail = backend.available()
        if not avail:
            declined.append((name, f"unavailable: {avail.reason}"))
            continue
        verdict = backend.supports(plan)
        if verdict:
            why = "first available backend (by priority) that supports every node"
            return backend, Decision(name, why, declined=tuple(declined))
        declined.append((name, verdict.reason))
    raise BackendDeclined(f"no backend supports this plan: {declined}")


def execute(plan: Node, backend: str = "auto") -> tuple[Any, Decision]:
    """Run ``plan`` and return (raw pandas result, decision)."""
    plan = _substitute_cached(plan)
    chosen, decision = select(plan, backend)
    start = time.perf_counter()
    result = chosen.execute(plan)
    return result, dataclasses.replace(decision, seconds=time.perf_counter() - start)
