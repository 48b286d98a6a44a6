"""The adaptive selector (``litsdf.options.selector = "adaptive"``): a bandit per (plan
fingerprint, input-size bucket) over the backends that run the plan, learning across runs.

The static selector (:mod:`litsdf_compiler.selector`) orders the backends by the preferences
they state from their settings and calibration; it is this bandit's *prior*: its order breaks
ties and decides which arm is timed first. What is learned is kept in a sqlite file in the
user's cache folder (:mod:`.store`), shared by every process, keyed by the plan's
:func:`~.fingerprint.fingerprint` (its shape and schema, not its data) and the bucket of its
input size (rows in ``[2**(k-1), 2**k)``).

Policy: UCB1 on log run time, with the exploration bounded.

* Why UCB1, not Thompson sampling: the choice is deterministic given the statistics, so
  ``explain()`` can say exactly why an arm runs ("mean 3.1 ms over 12 runs", "exploring: its
  optimistic time ...") and a run is reproducible; and its optimistic index is the quantity
  the wait bound is stated on. Run times are multiplicative (a backend is "3x faster"), so
  the arms' rewards are log seconds; the bonus ``sigma * sqrt(2 ln N / n)`` uses the pooled
  spread ``sigma`` of the warm log times (UCB1's [0, 1] reward range does not exist here).
* Warm-up: an arm is timed before it is judged. The first run of a backend on a plan in a
  process includes its imports and compilation (numba: a second, for a few-ms kernel), so
  that run is recorded as *cold* and kept apart; an arm gets up to :data:`WARMUP_TRIES`
  runs until it has a warm one. Arms are warmed in the static order.
* The wait bound, after warm-up: the best arm (lowest mean log time of its warm runs) runs,
  unless an arm is explored, which needs all of: its mean within :data:`SLOW_FACTOR` (2x) of
  the best's (so the expected wait never exceeds 2x the best known time), a UCB index better
  than the best's, not being *out*, and the exploration budget (:data:`EXPLORE_FREE` runs plus
  :data:`EXPLORE_SHARE` of the key's runs). An arm whose warm mean is more than 2x the best
  other's is out for ``BACKOFF * 2**(k-1)`` runs of the key the k-th time it is found so;
  when that while is over it gets one re-check run (from the exploration budget), so a
  backend that got faster (a new version, other data) is found again, at most
  ``log2(runs / BACKOFF)`` times over a key's life.

The store is never in the way of a computation: when it cannot be read or written the run
goes on (static order) with a warning.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import warnings
from collections.abc import Sequence
from typing import Any

from ..backends.base import Backend
from ..backends.preference import Preference
from ..ir.base import Node
from .fingerprint import fingerprint
from .store import Arm, Store, open_store, store_path

__all__ = [
    "MODES",
    "mode",
    "set_mode",
    "bucket",
    "ArmView",
    "Choice",
    "choose",
    "record",
    "describe",
    "render",
    "fingerprint",
    "store_path",
    "open_store",
    "reset",
    "WARMUP_TRIES",
    "SLOW_FACTOR",
    "BACKOFF",
    "EXPLORE_FREE",
    "EXPLORE_SHARE",
]

MODES = ("static", "adaptive")
WARMUP_TRIES = 2
"""Runs an arm gets, at most, to have one warm (not first-in-process) timing."""
SLOW_FACTOR = 2.0
"""An arm is explored only while its mean is within this factor of the best's."""
BACKOFF = 50
"""Runs of the key an arm found more than 2x slower stays out (doubling each time)."""
EXPLORE_FREE = 3
EXPLORE_SHARE = 0.05
"""Exploration budget of a key: ``EXPLORE_FREE + EXPLORE_SHARE * runs`` exploring runs."""
SIGMA_DEFAULT, SIGMA_MIN, SIGMA_MAX = 0.25, 0.05, 1.0
"""The spread of log run times assumed with too few runs, and its clamp."""

_MODE = ["static"]
_WARM: set[tuple[str, str]] = set()
"""(backend, fingerprint) pairs that ran in this process: their next run is warm."""
_WARNED: set[str] = set()


def mode() -> str:
    """The selector mode in force: ``"static"`` or ``"adaptive"``."""
    return _MODE[0]


def set_mode(value: str) -> None:
    """Set the selector mode for this process (``litsdf.options.selector``).

    Raises
    ------
    ValueError
        ``value`` is not one of :data:`MODES`.
    """
    if value not in MODES:
        raise ValueError(f"options.selector must be one of {MODES}; got {value!r}")
    _MODE[0] = value


def reset() -> None:
    """Forget this process' state: the open stores (the next use opens the file again), which
    backends ran (their next run counts as cold), the warnings already given."""
    from .store import forget_stores

    forget_stores()
    _WARM.clear()
    _WARNED.clear()


def bucket(rows: int | None) -> str:
    """The size bucket of an input of ``rows`` rows: ``"<2^k"`` for rows in
    ``[2**(k-1), 2**k)`` (``"0"`` for none, ``"unknown"`` when not known before reading)."""
    if rows is None or rows < 0:
        return "unknown"
    return "0" if rows == 0 else f"<2^{int(rows).bit_length()}"


@dataclasses.dataclass(frozen=True)
class ArmView:
    """One backend's statistics for ``explain()``.

    Attributes
    ----------
    backend : str
    runs, cold_runs : int
        Warm runs and first-in-a-process runs.
    mean_seconds, median_seconds : float or None
        Geometric mean of the warm run times (cold ones when there are none) and the median
        of the recent ones.
    state : str
        ``"chosen"``, ``"best"``, ``"warm-up"``, ``"out until run N"``, ``"over 2x the
        best"``, ``"not explored"``.
    """

    backend: str
    runs: int
    cold_runs: int
    mean_seconds: float | None
    median_seconds: float | None
    state: str


@dataclasses.dataclass(frozen=True)
class Choice:
    """The adaptive selector's decision for one run (recorded by :func:`record`)."""

    plan: str
    bucket: str
    backend: str
    reason: str
    explored: bool
    arms: tuple[ArmView, ...]
    path: str
    """The store it read (``":memory:"`` when in memory)."""


def _store() -> Store:
    return open_store()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def _read(plan: str, size: str) -> tuple[Store, dict[str, Arm], str | None]:
    store = _store()
    try:
        return store, store.arms(plan, size), None
    except sqlite3.Error as err:
        _forget_broken(store, err)
        _warn_once(f"read {store.path}", f"the litsdf selector store {store.path}: {err}")
        return store, {}, f"store unreadable: {err}"


def _forget_broken(store: Store, err: sqlite3.Error) -> None:
    """A file that went bad while open is checked (and recreated) on next use."""
    from . import store as module

    if not isinstance(err, sqlite3.OperationalError) and store.path is not None:
        module._STORES.pop(store.path, None)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _sigma(arms: Sequence[Arm]) -> float:
    """Pooled standard deviation of the warm log times (clamped)."""
    num = sum(a.sum_log2 - a.sum_log**2 / a.runs for a in arms if a.runs >= 2)
    den = sum(a.runs - 1 for a in arms if a.runs >= 2)
    if den == 0:
        return SIGMA_DEFAULT
    return min(max(math.sqrt(max(num, 0.0) / den), SIGMA_MIN), SIGMA_MAX)


def choose(
    plan: Node, rows: int | None, candidates: Sequence[tuple[Backend, Preference | None]]
) -> Choice:
    """Pick the backend for ``plan`` among ``candidates`` (the backends that run it, in the
    static selector's order, with their stated preferences); reads the store, writes nothing.

    Parameters
    ----------
    plan : Node
        The optimized plan.
    rows : int or None
        Its input size in rows.
    candidates : sequence of (Backend, Preference or None)
        Non-empty; the first is the static selector's choice (the prior).

    Returns
    -------
    Choice
    """
    fp, size = fingerprint(plan), bucket(rows)
    store, known, trouble = _read(fp, size)
    names = [b.name for b, _ in candidates]
    wishes = {b.name: w for b, w in candidates}
    stats = [known.get(n, Arm(n)) for n in names]
    total = sum(a.attempts for a in known.values())
    path = str(store.path) if store.path is not None else ":memory:"

    def views(chosen: str, states: dict[str, str]) -> tuple[ArmView, ...]:
        out = []
        for a in stats:
            mean = a.mean_log
            state = "chosen" if a.backend == chosen else states.get(a.backend, "not explored")
            out.append(
                ArmView(
                    a.backend,
                    a.runs,
                    a.cold_runs,
                    None if mean is None else math.exp(mean),
                    a.median_seconds,
                    state,
                )
            )
        return tuple(out)

    def static(name: str) -> str:
        wish = wishes[name]
        return f"static preference: {wish.reason}" if wish else "next in priority order"

    if trouble is not None:
        first = names[0]
        why = f"adaptive selector off for this run ({trouble}); {static(first)}"
        return Choice(fp, size, first, why, False, views(first, {}), path)
    for a in stats:
        if a.runs == 0 and a.attempts < WARMUP_TRIES and a.out_until <= total:
            if a.attempts == 0:
                why = f"adaptive warm-up: no run yet on this plan and size ({static(a.backend)})"
            else:
                why = (
                    "adaptive warm-up: its only run was the first in a process (imports, "
                    "compilation); timing a warm one"
                )
            warming = {b.backend: "warm-up" for b in stats if b.runs == 0}
            return Choice(fp, size, a.backend, why, False, views(a.backend, warming), path)
    means = {a.backend: a.mean_log for a in stats}
    live = [a for a in stats if a.out_until <= total] or stats
    best = min(live, key=lambda a: means[a.backend] or 0.0)
    sigma = _sigma(stats)
    log_n = math.log(max(total, 2))

    def index(a: Arm) -> float:
        n = a.runs or a.cold_runs
        return (means[a.backend] or 0.0) - sigma * math.sqrt(2 * log_n / n)

    bound = (means[best.backend] or 0.0) + math.log(SLOW_FACTOR)
    states: dict[str, str] = {best.backend: "best"}
    explorable, recheck = [], []
    for a in stats:
        if a is best:
            continue
        if a.out_until > total:
            states[a.backend] = f"out until run {a.out_until}"
        elif (means[a.backend] or 0.0) > bound:
            states[a.backend] = f"over {SLOW_FACTOR:g}x the best"
            if a.slowed:  # (its time out is over: one run to see whether it still is)
                recheck.append(a)
        elif index(a) < index(best):
            explorable.append(a)
    spent = sum(a.explored for a in known.values())
    budget = EXPLORE_FREE + int(EXPLORE_SHARE * total)
    best_mean = math.exp(means[best.backend] or 0.0)
    if recheck and spent < budget:
        pick = recheck[0]
        why = (
            f"adaptive, re-checking: mean {_ms(math.exp(means[pick.backend] or 0.0))} was over "
            f"{SLOW_FACTOR:g}x {best.backend}'s {_ms(best_mean)}; its time out (until run "
            f"{pick.out_until}) is over"
        )
        return Choice(fp, size, pick.backend, why, True, views(pick.backend, states), path)
    if explorable and spent < budget:
        pick = min(explorable, key=index)
        why = (
            f"adaptive, exploring: mean {_ms(math.exp(means[pick.backend] or 0.0))} over "
            f"{pick.runs or pick.cold_runs} runs, optimistic {_ms(math.exp(index(pick)))} "
            f"could beat {best.backend}'s {_ms(best_mean)} (within {SLOW_FACTOR:g}x; "
            f"exploration {spent + 1} of {budget} allowed after {total} runs)"
        )
        return Choice(fp, size, pick.backend, why, True, views(pick.backend, states), path)
    runs = best.runs or best.cold_runs
    kind = "" if best.runs else " (cold runs only)"
    why = (
        f"adaptive: lowest mean time {_ms(best_mean)} over {runs} runs{kind} of "
        f"{len(stats)} backends on this plan and size ({total} runs in all)"
    )
    return Choice(fp, size, best.backend, why, False, views(best.backend, states), path)


def record(choice: Choice, seconds: float) -> None:
    """Add a run of ``choice.backend`` that took ``seconds`` to the store (cold when it is the
    backend's first run of this plan in this process). A store that cannot be written is a
    warning, never an error."""
    pair = (choice.backend, choice.plan)
    cold = pair not in _WARM
    _WARM.add(pair)
    store = _store()
    try:
        store.record(
            choice.plan,
            choice.bucket,
            choice.backend,
            seconds,
            cold=cold,
            explored=choice.explored,
            slow_factor=SLOW_FACTOR,
            backoff=BACKOFF,
        )
    except sqlite3.Error as err:
        _forget_broken(store, err)
        _warn_once(
            f"write {store.path}",
            f"the litsdf selector store {store.path} could not record a run ({err}); "
            "the adaptive selector does not learn from it",
        )


def describe(choice: Choice) -> dict[str, Any]:
    """``choice`` with the arms' statistics as the store has them now (for ``explain()``)."""
    _, known, _ = _read(choice.plan, choice.bucket)
    by_name = {v.backend: v for v in choice.arms}
    arms = []
    for name, view in by_name.items():
        a = known.get(name, Arm(name))
        mean = a.mean_log
        arms.append(
            {
                "backend": name,
                "runs": a.runs,
                "cold_runs": a.cold_runs,
                "mean_seconds": None if mean is None else math.exp(mean),
                "median_seconds": a.median_seconds,
                "state": view.state,
            }
        )
    return {
        "plan": choice.plan,
        "bucket": choice.bucket,
        "store": choice.path,
        "explored": choice.explored,
        "arms": arms,
    }


def render(described: dict[str, Any]) -> list[str]:
    """Text lines of :func:`describe`'s result."""
    lines = [
        f"  adaptive selector: plan {described['plan']}, size {described['bucket']}, "
        f"store {described['store']}"
    ]
    for a in described["arms"]:
        cold = f" (+{a['cold_runs']} cold)" if a["cold_runs"] else ""
        lines.append(
            f"    {a['backend']:<10} runs {a['runs']:>4}{cold:<12} mean "
            f"{_ms(a['mean_seconds']):>10}  median {_ms(a['median_seconds']):>10}  {a['state']}"
        )
    return lines
