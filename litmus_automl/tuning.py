"""Hyperparameter search with Optuna: samplers, pruning over folds, a real time budget.

``Tune(method=..., n_trials=..., timeout_s=..., objective="validation.roc_auc")`` says how to
search; :func:`run_study` searches one algorithm's space, calling ``evaluate(params, trial)``
for each trial. ``evaluate`` runs the folds and reports the running objective after each fold
(``trial.report``) so that ``bohb`` (TPE + Hyperband) prunes bad trials early; a trial that
passes the time budget is stopped between folds and recorded as pruned.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Tune", "TrialStopped", "run_study", "grid_points", "METHODS"]

METHODS = ("random", "tpe", "grid", "bohb")


class TrialStopped(Exception):
    """Raised inside a trial to stop it (pruned by Hyperband, or over the time budget)."""


@dataclasses.dataclass(frozen=True)
class Tune:
    """How to search hyperparameters.

    Parameters
    ----------
    method : {"random", "tpe", "grid", "bohb"}
        Optuna's RandomSampler, TPESampler, GridSampler (over :func:`grid_points` of the
        space), or TPE with a HyperbandPruner whose budget is the number of folds run.
    n_trials : int
        Trials per algorithm (``grid`` stops earlier when the grid is exhausted).
    timeout_s : float, optional
        Wall-clock budget for the whole search of one algorithm: no trial starts after it and
        a running trial is stopped at its next fold.
    objective : str
        ``"<split>.<metric>"`` optimized, e.g. ``"validation.roc_auc"``; by default the first
        validation metric.
    seed : int
        Seeds the sampler: the same seed gives the same trials.
    grid_size : int
        Points per numeric dimension for ``grid``.
    n_jobs : int
        Trials run at once (threads; their folds go to the cluster when there is one). With
        more than one, the trials' order depends on timing, so a run is no longer exactly
        reproducible from the seed; the default 1 is.

    Examples
    --------
    >>> Tune(method="tpe", n_trials=30, timeout_s=600, objective="validation.roc_auc").method
    'tpe'
    """

    method: str = "tpe"
    n_trials: int = 20
    timeout_s: float | None = None
    objective: str | None = None
    seed: int = 0
    grid_size: int = 3
    n_jobs: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.n_jobs, int) or self.n_jobs < 1:
            raise ValueError(f"Tune(n_jobs=...) must be a positive integer; got {self.n_jobs!r}")
        if self.method not in METHODS:
            raise ValueError(f"Tune(method=...) must be one of {METHODS}; got {self.method!r}")
        if not isinstance(self.n_trials, int) or self.n_trials < 1:
            raise ValueError(
                f"Tune(n_trials=...) must be a positive integer; got {self.n_trials!r}"
            )
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValueError(f"Tune(timeout_s=...) must be positive; got {self.timeout_s!r}")
        if self.objective is not None and self.objective.count(".") != 1:
            raise ValueError(
                f"Tune(objective=...) must be '<split>.<metric>' such as "
                f"'validation.roc_auc'; got {self.objective!r}"
            )


def grid_points(space: Mapping[str, Any], size: int) -> dict[str, list[Any]]:
    """A finite grid over ``space``: ``size`` points per numeric dimension (geometric for
    log scales), every choice of a categorical one."""
    from .space import Categorical, Float, Int

    grid: dict[str, list[Any]] = {}
    for name, dim in space.items():
        if isinstance(dim, Categorical):
            grid[name] = list(dim.choices)
            continue
        if not isinstance(dim, (Int, Float)):
            raise TypeError(f"cannot grid-search {name!r}: {dim!r}")
        lo, hi = float(dim.low), float(dim.high)
        if size == 1:
            points = [lo]
        elif dim.log:
            points = [lo * (hi / lo) ** (i / (size - 1)) for i in range(size)]
        else:
            points = [lo + (hi - lo) * i / (size - 1) for i in range(size)]
        if isinstance(dim, Int):
            grid[name] = sorted({round(p) for p in points})
        else:
            grid[name] = points
    return grid


def _sampler(tune: Tune, space: Mapping[str, Any]) -> Any:
    import optuna

    if tune.method == "random":
        return optuna.samplers.RandomSampler(seed=tune.seed)
    if tune.method == "grid":
        return optuna.samplers.GridSampler(grid_points(space, tune.grid_size), seed=tune.seed)
    return optuna.samplers.TPESampler(seed=tune.seed)


def _pruner(tune: Tune, n_folds: int) -> Any:
    import optuna

    if tune.method == "bohb":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)
    return optuna.pruners.NopPruner()


def _grid_size(space: Mapping[str, Any], size: int) -> int:
    return math.prod(len(v) for v in grid_points(space, size).values())


def run_study(
    tune: Tune,
    space: Mapping[str, Any],
    evaluate: Callable[[dict[str, Any], Any, float | None], float],
    greater_is_better: bool,
    n_folds: int,
    name: str,
) -> Any:
    """Search ``space``: ``evaluate(params, trial, deadline)`` returns the objective (it may
    raise :class:`TrialStopped`). Returns the Optuna study (seeded, reproducible)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name,
        direction="maximize" if greater_is_better else "minimize",
        sampler=_sampler(tune, space),
        pruner=_pruner(tune, n_folds),
    )
    deadline = None if tune.timeout_s is None else time.monotonic() + tune.timeout_s
    n_trials = tune.n_trials
    if tune.method == "grid":
        n_trials = min(n_trials, _grid_size(space, tune.grid_size))

    def objective(trial: Any) -> float:
        params = {key: dim.suggest(trial, key) for key, dim in space.items()}
        try:
            return evaluate(params, trial, deadline)
        except TrialStopped as why:
            trial.set_user_attr("stopped", str(why))
            raise optuna.TrialPruned(str(why)) from None

    if tune.n_jobs > 1:  # concurrent trials: optuna stops starting new ones at the budget
        study.optimize(objective, n_trials=n_trials, n_jobs=tune.n_jobs, timeout=tune.timeout_s)
        return study
    for _ in itertools.repeat(None, n_trials):
        if deadline is not None and time.monotonic() >= deadline:
            break
        study.optimize(objective, n_trials=1, catch=())
    return study
