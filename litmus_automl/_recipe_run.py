"""Running a recipe: its steps in order until one meets the bar, the bundle, the run report.

See :mod:`litmus_automl.recipe` for the format. For each step: a task over the columns the
step uses (the others get the ``ignore`` role), :func:`litmus_automl.train` with the bar's
metric as validation objective and test metric, the best candidate (by its validation score:
the test split only judges it) exported to a bundle, loaded back and timed (``predict`` of
one dict, p99 of single calls). The first step whose model meets the whole bar wins; when
none does, the best reached (most of the bar met, then the best metric) is exported and the
run says what to try next.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .recipe import Recipe, RecipeError, Step, format_seconds

__all__ = ["RecipeRun", "StepOutcome", "run_recipe"]

STEPS_DIR = ".steps"
BUNDLE_DIR = "bundle"


@dataclasses.dataclass
class StepOutcome:
    """What one step reached: its best candidate's test metric and bundle latency."""

    step: Step
    result: Any = None
    candidate: Any = None
    metric: float = math.nan
    latency: dict[str, float] | None = None
    seconds: float = 0.0
    bundle: Path | None = None
    error: str = ""
    metric_met: bool = False
    latency_met: bool = False

    @property
    def met(self) -> bool:
        """Whether the step's model meets the whole bar."""
        return self.metric_met and self.latency_met

    @property
    def p99_s(self) -> float:
        """The p99 latency in seconds (NaN when not measured)."""
        return math.nan if self.latency is None else self.latency["p99_us"] / 1e6


@dataclasses.dataclass
class RecipeRun:
    """A finished recipe run."""

    recipe: Recipe
    outcomes: list[StepOutcome]
    chosen: StepOutcome
    met: bool
    out: Path
    bundle: Path
    report: Path
    message: str
    advice: list[str]


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise RecipeError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise RecipeError(f"--out {out}: exists and is not empty (choose a new directory)")
    ancestor = out.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise RecipeError(f"--out {out}: cannot create it ({ancestor} is not a writable directory)")


def _read(path: Any, what: str) -> pd.DataFrame:
    from ._roles import read_frame

    try:
        return read_frame(path, what)
    except FileNotFoundError as err:
        raise RecipeError(str(err)) from None
    except (TypeError, ValueError) as err:
        raise RecipeError(f"{what}: {err}") from None


def _check_columns(recipe: Recipe, columns: list[str], source: str) -> None:
    """Every column the recipe names exists in the data (before anything trains)."""
    known = set(columns)
    listing = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")

    def check(where: str, names: tuple[str, ...]) -> None:
        for i, name in enumerate(names):
            if name not in known:
                raise RecipeError(
                    f"{where}[{i}]: no column {name!r} in {source} (its columns: {listing})"
                )
            if name == recipe.data.target:
                raise RecipeError(f"{where}[{i}]: {name!r} is the target column, not a feature")

    if recipe.data.target not in known:
        raise RecipeError(
            f"data.target: no column {recipe.data.target!r} in {source} (its columns: {listing})"
        )
    for role, names in recipe.data.roles.items():
        check(f"data.roles.{role}", names)
    for step in recipe.steps:
        where = f"steps[{step.index}].preprocess"
        if step.columns is not None:
            check(f"{where}.columns", step.columns)
        check(f"{where}.drop", step.drop)
        for role, names in step.roles.items():
            check(f"{where}.roles.{role}", names)


def _split(recipe: Recipe, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    y = frame[recipe.data.target]
    stratify = None if recipe.data.task == "regression" else y
    try:
        train, test = train_test_split(
            frame,
            test_size=recipe.data.test_fraction,
            random_state=recipe.data.seed,
            stratify=stratify,
        )
    except ValueError as err:
        raise RecipeError(f"data.test_fraction: cannot split the data: {err}") from None
    return train, test


def _task(recipe: Recipe, step: Step, train: pd.DataFrame, test: pd.DataFrame) -> Any:
    from .task import TaskData

    target = recipe.data.target
    features = [c for c in train.columns if c != target]
    keep = list(step.columns) if step.columns is not None else features
    keep = [c for c in keep if c not in step.drop]
    if not keep:
        raise RecipeError(f"steps[{step.index}].preprocess: the step keeps no column")
    ignore = [c for c in features if c not in keep]
    roles: dict[str, list[str]] = {}
    given = {c for names in step.roles.values() for c in names}
    for role, names in recipe.data.roles.items():
        roles[role] = [c for c in names if c not in given and c not in ignore]
    for role, names in step.roles.items():
        roles.setdefault(role, []).extend(c for c in names if c not in ignore)
    schema: dict[str, Any] = {"label": target, **{r: c for r, c in roles.items() if c}}
    if ignore:
        schema["ignore"] = ignore
    try:
        return TaskData.create(
            name=recipe.name,
            task=recipe.data.task,
            data={"train": train, "test": test},
            schema=schema,
            k_fold=recipe.data.k_fold,
            seed=recipe.data.seed,
        )
    except (TypeError, ValueError) as err:
        raise RecipeError(f"steps[{step.index}]: {err}") from None


def _metrics(recipe: Recipe) -> dict[str, list[Any]]:
    return {"validation": [recipe.bar.metric], "test": [recipe.bar.metric]}


def _line(recipe: Recipe, o: StepOutcome) -> str:
    head = f"step {o.step.index + 1}/{len(recipe.steps)} {o.step.name!r}: {o.step.describe()}"
    if o.error:
        return f"{head} -> failed: {o.error} [{o.seconds:.1f} s]"
    bar = recipe.bar
    op = ">=" if bar.greater_is_better else "<="
    text = f"{head} -> {o.candidate.name}: {bar.key} {o.metric:.4g} (bar {op} {bar.threshold:g}: "
    text += f"{'yes' if o.metric_met else 'no'}), p99 {format_seconds(o.p99_s)}"
    if bar.latency_p99_s is not None:
        limit = format_seconds(bar.latency_p99_s)
        text += f" (bar <= {limit}: {'yes' if o.latency_met else 'no'})"
    return f"{text} [{o.seconds:.1f} s] -> {'bar met' if o.met else 'not met'}"


def _run_step(recipe: Recipe, step: Step, task: Any, work: Path) -> StepOutcome:
    from .bundle import load
    from .report import measure_latency
    from .train import train

    outcome = StepOutcome(step)
    start = time.perf_counter()
    try:
        result = train(
            task,
            algorithm=list(step.algorithms),
            metrics=_metrics(recipe),
            tune=step.tune,
            ensemble=step.ensemble,
            progress=False,
        )
    except RuntimeError as err:  # no trial finished within the budget
        outcome.error = str(err)
        outcome.seconds = time.perf_counter() - start
        return outcome
    best = result.best
    outcome.result, outcome.candidate = result, best
    outcome.metric = float(best.scores.get("test", {}).get(recipe.bar.key, math.nan))
    outcome.bundle = best.export(work / f"step{step.index + 1}")
    served = load(outcome.bundle, allow_pickle=True)  # written just now, by this run
    rows = task.X(task.test).head(50).to_dict(orient="records")
    outcome.latency = measure_latency(served, rows)
    outcome.metric_met = recipe.bar.metric_met(outcome.metric)
    outcome.latency_met = recipe.bar.latency_met(outcome.p99_s)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _rank(recipe: Recipe, o: StepOutcome) -> tuple[Any, ...]:
    sign = 1.0 if recipe.bar.greater_is_better else -1.0
    value = sign * o.metric if math.isfinite(o.metric) else -math.inf
    p99 = o.p99_s if math.isfinite(o.p99_s) else math.inf
    return (o.candidate is not None, o.met, o.metric_met, value, -p99)


def _advice(recipe: Recipe, outcomes: list[StepOutcome], best: StepOutcome) -> list[str]:
    bar = recipe.bar
    out = [
        f"step {best.step.index + 1} ({best.step.name}) came closest: {bar.key} "
        f"{best.metric:.4g}, p99 {format_seconds(best.p99_s)}; the bar is {bar.describe()}"
    ]
    if not any(o.metric_met for o in outcomes):
        budget = [
            k
            for k, paths in recipe.used.items()
            if any(p.endswith(("tune.n_trials", "tune.timeout_s")) for p in paths)
        ]
        for k in budget:
            knob = recipe.knobs[k]
            if knob.max is None or recipe.values[k] < knob.max:
                high = "no limit" if knob.max is None else f"up to {knob.max:g}"
                out.append(
                    f"raise the knob {k} (now {recipe.values[k]!r}; allowed {high}): "
                    f"--set {k}=<higher value> gives the tuning more room"
                )
        if len(out) == 1:
            out.append(
                "every tuning knob is at its maximum (or the recipe has none): ask the recipe's "
                "author for a step with more columns or another algorithm"
            )
    else:
        fastest = min((o for o in outcomes if o.metric_met), key=lambda o: o.p99_s)
        out.append(
            f"step {fastest.step.index + 1} met {bar.key} but its p99 was "
            f"{format_seconds(fastest.p99_s)}: a smaller model (fewer or shallower trees, a "
            "linear model) or a faster machine would serve faster"
        )
    for k, paths in recipe.used.items():
        if any(p.startswith("bar.") for p in paths):
            out.append(
                f"or, if the recipe's author agrees, relax the bar's knob {k} "
                f"(now {recipe.values[k]!r}; allowed {recipe.knobs[k].allowed()})"
            )
    return out


def _outcome_dict(o: StepOutcome) -> dict[str, Any]:
    return {
        "step": o.step.index + 1,
        "name": o.step.name,
        "tries": o.step.describe(),
        "best": None if o.candidate is None else o.candidate.name,
        "metric": o.metric if math.isfinite(o.metric) else None,
        "p99_us": None if o.latency is None else o.latency["p99_us"],
        "metric_met": o.metric_met,
        "latency_met": o.latency_met,
        "met": o.met,
        "seconds": o.seconds,
        "error": o.error,
    }


def run_recipe(
    recipe: Recipe,
    data: Any,
    test: Any = None,
    out: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> RecipeRun:
    """Walk the recipe's steps until one meets the bar; export the bundle and the report.

    Parameters
    ----------
    recipe : Recipe
        From :func:`litmus_automl.recipe.load_recipe`.
    data : DataFrame or path
        The training data (the test split is cut from it when ``test`` is not given, with the
        recipe's ``data.test_fraction`` and ``data.seed``).
    test : DataFrame or path, optional
        The test data the bar is judged on.
    out : path, optional
        The run directory (default ``<recipe name>-run``); it must not exist or be empty. It
        gets ``bundle/``, ``run.json``, ``trials.json`` and ``report.html``.
    echo : callable
        Receives the progress lines.

    Returns
    -------
    RecipeRun

    Raises
    ------
    RecipeError
        Bad data for the recipe (a missing column, ...) or a bad ``out``, before any training.
    """
    from .report import result_entry, save_run, write_report
    from .train import check_setup

    target = Path(out) if out is not None else Path(f"{recipe.name}-run")
    _check_out(target)
    train = _read(data, "--data")
    source = str(data) if isinstance(data, (str, os.PathLike)) else "the data"
    _check_columns(recipe, [str(c) for c in train.columns], source)
    if test is None:
        train, test_frame = _split(recipe, train)
        split = f"{recipe.data.test_fraction:.0%} of {source} (seed {recipe.data.seed})"
    else:
        test_frame = _read(test, "--test")
        split = str(test) if isinstance(test, (str, os.PathLike)) else "the test data"
    tasks = [_task(recipe, s, train, test_frame) for s in recipe.steps]
    for step, task in zip(recipe.steps, tasks, strict=True):
        try:
            check_setup(task, list(step.algorithms), _metrics(recipe), step.tune)
        except (TypeError, ValueError) as err:
            raise RecipeError(f"steps[{step.index}]: {err}") from None
    echo(f"{recipe.describe()}")
    echo(f"data: {len(train)} train rows from {source}; test: {len(test_frame)} rows, {split}")
    created = not target.exists()
    work = target / STEPS_DIR
    try:
        outcomes: list[StepOutcome] = []
        for step, task in zip(recipe.steps, tasks, strict=True):
            outcome = _run_step(recipe, step, task, work)
            outcomes.append(outcome)
            echo(_line(recipe, outcome))
            if outcome.met:
                break
        finished = [o for o in outcomes if o.candidate is not None]
        if not finished:
            raise RecipeError(
                "no step produced a model (every tuning stopped before a trial finished); "
                "raise the recipe's time budget knob"
            )
        chosen = max(finished, key=lambda o: _rank(recipe, o))
        assert chosen.bundle is not None
        bundle = target / BUNDLE_DIR
        shutil.move(str(chosen.bundle), str(bundle))
        shutil.rmtree(work, ignore_errors=True)
        which = f"step {chosen.step.index + 1} of {len(recipe.steps)} ({chosen.step.name})"
        reached = (
            f"{chosen.candidate.name} reached {recipe.bar.key} {chosen.metric:.4g} with p99 "
            f"{format_seconds(chosen.p99_s)}"
        )
        if chosen.met:
            message, advice = f"bar met at {which}: {reached}", []
        else:
            message = f"no step met the bar ({recipe.bar.describe()}); the best reached: {which}: "
            message += reached
            advice = _advice(recipe, outcomes, chosen)
        entries = [
            result_entry(
                f"step {o.step.index + 1}: {o.step.name}",
                o.result,
                o.latency,
                bundle if o is chosen else None,
                {"step": _outcome_dict(o)},
                "the step's exported bundle, loaded back"
                + (f" (now {bundle})" if o is chosen else ""),
            )
            for o in finished
        ]
        info = {
            **recipe.to_dict(),
            "metric": recipe.bar.key,
            "threshold": recipe.bar.threshold,
            "outcomes": [_outcome_dict(o) for o in outcomes],
            "met": chosen.met,
            "chosen": chosen.step.index + 1,
            "message": message,
            "advice": advice,
        }
        save_run(target, entries, f"recipe {recipe.name}", recipe=info)
        report = write_report(target)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    echo(message)
    for line in advice:
        echo(f"next: {line}")
    echo(f"exported the bundle to {bundle}; report: {report}")
    return RecipeRun(recipe, outcomes, chosen, chosen.met, target, bundle, report, message, advice)
