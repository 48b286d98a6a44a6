"""``litmus.train``: K-fold cross-validation and Optuna tuning of algorithms on tasks.

For each task: a preprocessing pipeline (litsdf, fitted per fold and on the whole training
set) turns the raw columns into features; each algorithm is evaluated on the folds with its
fixed parameters or tuned over its search space; the best configuration of each algorithm is
refit on the whole training set and scored on train and test; an optional greedy ensemble of
the candidates' out-of-fold predictions is one more candidate. The leaderboard has one row per
candidate: fold mean and std of every validation metric, train and test metrics, fit time,
single-row predict latency (through the exported inference path) and model size.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .ensemble import caruana
from .execution import Executor, executor_for
from .metrics import Metric, metric
from .preprocess import Preprocessor
from .task import TaskData
from .tuning import TrialStopped, Tune, run_study

__all__ = ["DEFAULT_METRICS", "Candidate", "Result", "check_setup", "train"]

DEFAULT_METRICS = {
    "binary": {"validation": ["accuracy", "roc_auc"], "test": ["accuracy", "roc_auc"]},
    "multiclass": {"validation": ["accuracy", "log_loss"], "test": ["accuracy", "log_loss"]},
    "regression": {"validation": ["rmse", "r2"], "test": ["rmse", "r2"]},
}
SPLITS = ("train", "validation", "test")
TRAIN_KEY = "train:"
"""Prefix of fold scores computed on a fold's training rows (a ``train.*`` objective)."""


@dataclasses.dataclass
class _Fold:
    train_idx: np.ndarray
    valid_idx: np.ndarray
    X_train: np.ndarray
    X_valid: np.ndarray
    y_train: np.ndarray
    y_valid: np.ndarray


def _outputs(est: Any, X: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(predicted codes or values, class probabilities or None)."""
    if kind == "regression":
        return np.asarray(est.predict(X), dtype="float64"), None
    proba = np.asarray(est.predict_proba(X), dtype="float64")
    return proba.argmax(axis=1), proba


def _scores(
    metrics: Sequence[Metric], kind: str, y: np.ndarray, pred: np.ndarray, proba: Any
) -> dict[str, float]:
    return {m.key: float(m.evaluate(kind, y, pred, proba)) for m in metrics}


def _fit_fold(
    algorithm: Any,
    params: dict[str, Any],
    fold: _Fold,
    kind: str,
    metrics: Sequence[Metric],
    deadline: float | None = None,
    train_metrics: Sequence[Metric] = (),
) -> tuple[dict[str, float], np.ndarray, np.ndarray | None]:
    """Fit on the fold's training part; scores and predictions on its validation part.

    With a ``deadline``, algorithms that can stop mid-fit (XGBoost: a callback between
    boosting rounds) stop when it passes, and the trial is stopped (:class:`TrialStopped`).
    """
    if deadline is not None and time.monotonic() > deadline:
        raise TrialStopped("over the time budget before a fold started")
    est = algorithm.with_params(params)
    if deadline is not None:
        est.deadline = deadline
    est.fit(fold.X_train, fold.y_train)
    stop = getattr(est, "deadline_stop_", None)
    if stop is not None and stop.hit:
        raise TrialStopped("over the time budget (stopped while fitting a fold)")
    pred, proba = _outputs(est, fold.X_valid, kind)
    scores = _scores(metrics, kind, fold.y_valid, pred, proba)
    if train_metrics:  # the objective is a train metric: score the fold's training rows too
        tpred, tproba = _outputs(est, fold.X_train, kind)
        fit_scores = _scores(train_metrics, kind, fold.y_train, tpred, tproba)
        scores.update({f"{TRAIN_KEY}{k}": v for k, v in fit_scores.items()})
    return scores, pred, proba


@dataclasses.dataclass
class Candidate:
    """One trained configuration: an algorithm with its chosen parameters, refit on the whole
    training set, with its scores and out-of-fold predictions."""

    name: str
    algorithm: Any
    params: dict[str, Any]
    task: TaskData
    scores: dict[str, dict[str, float]]
    """``{"validation": {...}, "validation_std": {...}, "train": {...}, "test": {...}}``."""
    oof: np.ndarray
    """Out-of-fold predictions: class probabilities (classification) or values."""
    model: Any = None
    preprocessor: Preprocessor | None = None
    fit_seconds: float = math.nan
    predict_1row_seconds: float = math.nan
    model_bytes: int = 0
    trials: int = 1
    members: tuple[tuple[Candidate, float], ...] = ()
    """For an ensemble: the member candidates and their weights."""

    # prediction ------------------------------------------------------------------------------
    def _features(self, frame: Any) -> np.ndarray:
        assert self.preprocessor is not None
        if hasattr(frame, "to_pandas"):
            frame = frame.to_pandas()
        return self.preprocessor.transform(frame)

    def predict_proba(self, frame: Any) -> np.ndarray:
        """Class probabilities for the rows of ``frame`` (columns in ``task.classes_`` order)."""
        if self.task.kind == "regression":
            raise TypeError("predict_proba is for classification; this is a regression task")
        if self.members:
            return sum(w * m.predict_proba(frame) for m, w in self.members)  # type: ignore[return-value]
        return np.asarray(self.model.predict_proba(self._features(frame)), dtype="float64")

    def predict(self, frame: Any) -> np.ndarray:
        """Predicted labels (decoded to the original values) or regression values."""
        if self.task.kind == "regression":
            if self.members:
                return sum(w * m.predict(frame) for m, w in self.members)  # type: ignore[return-value]
            return np.asarray(self.model.predict(self._features(frame)), dtype="float64")
        return self.task.decode(self.predict_proba(frame).argmax(axis=1))

    def _post(self) -> dict[str, Any]:
        """What a bundle needs to turn model outputs into predictions."""
        kind = self.task.kind
        return {
            "kind": "regression" if kind == "regression" else "classification",
            "classes": None if self.task.classes_ is None else list(self.task.classes_),
            "threshold": 0.5 if kind == "binary" else None,
        }

    def _members(self) -> list[tuple[Any, Any, str, float]]:
        return [(m.preprocessor, *native_model(m.model), w) for m, w in self.members]

    def export(self, path: str | Path, key: bytes | str | None = None) -> Path:
        """Write a deployable inference bundle (see :func:`litmus_automl.load`); an
        ensemble's bundle holds every member's preprocessing and model with its weight.
        ``key`` (else ``LITMUS_BUNDLE_KEY``) signs it (see :func:`litmus_automl.bundle.export`)."""
        from .bundle import export, export_ensemble

        common = {**self._post(), "metrics": self.scores, "label": self.task.label, "key": key}
        if self.members:
            extra = {"candidate": self.name, "weights": _jsonable(self.params)}
            return export_ensemble(path, self._members(), **common, extra=extra)
        assert self.preprocessor is not None
        model, model_format = native_model(self.model)
        extra = {"candidate": self.name, "params": _jsonable(self.params)}
        return export(path, self.preprocessor, model, model_format, **common, extra=extra)

    def inference_model(self) -> Any:
        """The in-memory equivalent of the exported bundle (same prediction path)."""
        from .bundle import EnsembleModel, InferenceModel

        if self.members:
            return EnsembleModel(self._members(), **self._post())
        assert self.preprocessor is not None
        return InferenceModel(self.preprocessor, *native_model(self.model), **self._post())


def native_model(algorithm: Any) -> tuple[Any, str]:
    """The fitted model in the form a bundle stores natively, and its format: XGBoost's own
    model, a scikit-learn estimator (skops), or the user's algorithm object (pickle)."""
    from .algorithms.base import Algorithm
    from .algorithms.sklearn import _Sklearn
    from .algorithms.xgboost import XGBoost

    own_proba = type(algorithm).predict_proba not in (
        Algorithm.predict_proba,
        _Sklearn.predict_proba,
    )
    if isinstance(algorithm, XGBoost):
        return algorithm.estimator_, "xgboost"
    if isinstance(algorithm, _Sklearn) and not (own_proba and algorithm.task_kind != "regression"):
        return algorithm.estimator_, "sklearn"
    return algorithm, "pickle"  # its own prediction code (e.g. Ridge's softmax): loading it
    # runs that code, so litmus.load needs allow_pickle=True


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        out[k] = v.item() if isinstance(v, np.generic) else v
    return out


@dataclasses.dataclass
class Result:
    """What :func:`train` returns for one task."""

    task: TaskData
    candidates: list[Candidate]
    objective: str
    greater_is_better: bool
    studies: dict[str, Any]

    @property
    def best(self) -> Candidate:
        """The candidate with the best objective (validation fold mean)."""
        split, name = self.objective.split(".", 1)
        sign = 1.0 if self.greater_is_better else -1.0
        return max(self.candidates, key=lambda c: sign * c.scores[split].get(name, -math.inf))

    @property
    def leaderboard(self) -> pd.DataFrame:
        """One row per candidate, best first: fold mean and std per validation metric, train
        and test metrics, fit seconds, single-row predict latency and model size."""
        rows = []
        for c in self.candidates:
            kind = "ensemble" if c.members else type(c.algorithm).__name__
            row: dict[str, Any] = {"candidate": c.name, "algorithm": kind}
            for split in SPLITS:
                for m, v in c.scores.get(split, {}).items():
                    row[f"{split}.{m}"] = v
                    if split == "validation":
                        row[f"{split}.{m}_std"] = c.scores["validation_std"].get(m, math.nan)
            row["fit_s"] = c.fit_seconds
            row["predict_1row_ms"] = c.predict_1row_seconds * 1e3
            row["model_kb"] = c.model_bytes / 1024
            row["trials"] = c.trials
            row["params"] = _jsonable(c.params)
            rows.append(row)
        board = pd.DataFrame(rows)
        return board.sort_values(
            self.objective, ascending=not self.greater_is_better, kind="stable"
        ).reset_index(drop=True)


# the run ------------------------------------------------------------------------------------


def _resolve_metrics(
    kind: str, metrics: Mapping[str, Sequence[Any]] | None
) -> dict[str, list[Metric]]:
    spec = dict(DEFAULT_METRICS[kind]) if metrics is None else dict(metrics)
    unknown = sorted(set(spec) - set(SPLITS))
    if unknown:
        raise ValueError(f"metrics keys must be among {SPLITS}; got {unknown}")
    out = {split: [metric(m) for m in spec.get(split, [])] for split in SPLITS}
    if not out["validation"]:
        out["validation"] = [metric(m) for m in DEFAULT_METRICS[kind]["validation"]]
    return out


def _objective(tune: Tune | None, metrics: dict[str, list[Metric]]) -> tuple[str, Metric]:
    """``"<split>.<metric key>"`` optimized and its metric. ``validation`` (the default) is
    the fold mean on held-out rows; ``train`` the fold mean on each fold's training rows (an
    optimistic score, allowed because asked for); ``test`` is refused: tuning on the test set
    would make its score meaningless."""
    target = tune.objective if tune is not None and tune.objective else None
    if target is None:
        first = metrics["validation"][0]
        return f"validation.{first.key}", first
    split, name = target.split(".", 1)
    if split == "test":
        raise ValueError(
            f"Tune(objective={target!r}): tuning on the test set would leak it into model "
            "selection (its score would no longer estimate new data); use a validation metric"
        )
    if split not in ("validation", "train"):
        raise ValueError(f"Tune(objective={target!r}): the split must be 'validation' or 'train'")
    for m in metrics[split]:
        if name in (m.key, m.name):
            return f"{split}.{m.key}", m
    m = metric(name)
    metrics[split].append(m)
    return f"{split}.{m.key}", m


def _folds(task: TaskData, preprocess: Callable[..., Any] | None) -> list[_Fold]:
    X, y = task.X(task.train), task.y(task.train)
    out = []
    for train_idx, valid_idx in task.folds():
        prep = Preprocessor.fit(X.iloc[train_idx], task.roles, preprocess)
        out.append(
            _Fold(
                np.asarray(train_idx),
                np.asarray(valid_idx),
                prep.transform(X.iloc[train_idx]),
                prep.transform(X.iloc[valid_idx]),
                y[train_idx],
                y[valid_idx],
            )
        )
    return out


def _cross_validate(
    algorithm: Any,
    params: dict[str, Any],
    folds: list[_Fold],
    task: TaskData,
    metrics: list[Metric],
    objective: Metric,
    executor: Executor,
    trial: Any = None,
    deadline: float | None = None,
    parallel: bool = False,
    train_metrics: Sequence[Metric] = (),
) -> tuple[dict[str, list[float]], np.ndarray]:
    """Fold scores per metric and the out-of-fold predictions. With ``parallel`` the folds
    run at once (on the cluster's workers, or on local threads: the models release the GIL);
    otherwise one by one, so that a trial can be pruned after each."""
    n = len(task.train)
    width = 1 if task.kind == "regression" else len(task.classes_)  # type: ignore[arg-type]
    oof = np.full((n, width), np.nan)
    scores: dict[str, list[float]] = {m.key: [] for m in metrics}
    scores.update({f"{TRAIN_KEY}{m.key}": [] for m in train_metrics})

    def record(fold: _Fold, result: tuple[dict[str, float], np.ndarray, Any]) -> None:
        fold_scores, pred, proba = result
        for k, v in fold_scores.items():
            scores[k].append(v)
        oof[fold.valid_idx] = pred[:, None] if proba is None else proba

    if parallel:
        if deadline is not None and time.monotonic() > deadline:
            raise TrialStopped("over the time budget before its folds started")
        # a monotonic deadline means nothing on another machine: the cluster's folds are
        # bounded by the checks before each trial and before its folds start
        local_deadline = deadline if executor.client is None else None
        calls = [
            (algorithm, params, f, task.kind, metrics, local_deadline, train_metrics) for f in folds
        ]
        for fold, result in zip(folds, executor.map(_fit_fold, calls, threads=True)):
            record(fold, result)
        return scores, oof[:, 0] if width == 1 else oof
    for i, fold in enumerate(folds):
        if deadline is not None and time.monotonic() > deadline:
            raise TrialStopped(f"over the time budget after {i} of {len(folds)} folds")
        record(
            fold, _fit_fold(algorithm, params, fold, task.kind, metrics, deadline, train_metrics)
        )
        if trial is not None:
            key = f"{TRAIN_KEY}{objective.key}" if train_metrics else objective.key
            trial.report(float(np.mean(scores[key])), step=i)
            if trial.should_prune():
                raise TrialStopped(f"pruned by Hyperband after {i + 1} of {len(folds)} folds")
    return scores, oof[:, 0] if width == 1 else oof


def _single_row_latency(candidate: Candidate, row: dict[str, Any]) -> float:
    """Median seconds of the exported single-row path (``bundle.predict(dict)``)."""
    served = candidate.inference_model()
    served.predict(row)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(20):
            served.predict(row)
        times.append((time.perf_counter() - start) / 20)
    return float(np.median(times))


def _model_bytes(model: Any) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        files = model.save(tmp)
        return sum((Path(tmp) / f).stat().st_size for f in files)


def _refit(
    name: str,
    algorithm: Any,
    params: dict[str, Any],
    task: TaskData,
    preprocess: Callable[..., Any] | None,
    metrics: dict[str, list[Metric]],
    cv: dict[str, list[float]],
    oof: np.ndarray,
    trials: int,
    n_jobs: int = 1,
) -> Candidate:
    X = task.X(task.train)
    prep = Preprocessor.fit(X, task.roles, preprocess)
    features = prep.transform(X)
    y = task.y(task.train)
    start = time.perf_counter()
    model = algorithm.with_params(params)
    model.n_jobs = n_jobs  # the refit is one model: give it every core
    model.fit(features, y)
    fit_s = time.perf_counter() - start
    pred, proba = _outputs(model, features, task.kind)
    scores = {
        "validation": {k: float(np.mean(v)) for k, v in cv.items() if not k.startswith(TRAIN_KEY)},
        "validation_std": {
            k: float(np.std(v)) for k, v in cv.items() if not k.startswith(TRAIN_KEY)
        },
        "train": _scores(metrics["train"], task.kind, y, pred, proba),
    }
    if task.test is not None and metrics["test"]:
        Xt = task.X(task.test)
        pred, proba = _outputs(model, prep.transform(Xt), task.kind)
        scores["test"] = _scores(metrics["test"], task.kind, task.y(task.test), pred, proba)
    out = Candidate(
        name=name,
        algorithm=algorithm,
        params=params,
        task=task,
        scores=scores,
        oof=oof,
        model=model,
        preprocessor=prep,
        fit_seconds=fit_s,
        model_bytes=_model_bytes(model),
        trials=trials,
    )
    out.predict_1row_seconds = _single_row_latency(out, X.iloc[0].to_dict())
    return out


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


@dataclasses.dataclass
class _Setup:
    """A task's run, checked before anything trains: its metrics and objective, and each
    algorithm configured for it (a copy) with its candidate name."""

    task: TaskData
    metrics: dict[str, list[Metric]]
    objective_name: str
    objective: Metric
    algorithms: list[tuple[str, Any]]
    parallel: bool


def _setup(
    task: TaskData,
    algorithms: Sequence[Any],
    metrics_spec: Mapping[str, Sequence[Any]] | None,
    tune: Tune | None,
    executor: Executor,
) -> _Setup:
    """Resolve and check everything a task's run needs; raises before any training."""
    from .algorithms.registry import get

    metrics = _resolve_metrics(task.kind, metrics_spec)
    for split, ms in metrics.items():
        for m in ms:
            if task.kind not in m.kinds:
                applies = ", ".join(sorted(m.kinds))
                raise ValueError(
                    f"task {task.name!r}: metrics[{split!r}]: {m.key!r} does not apply to a "
                    f"{task.kind} task (it applies to: {applies})"
                )
    objective_name, objective = _objective(tune, metrics)
    # folds in parallel (one thread per model) on a cluster, or locally with several cpus;
    # one by one with all cpus per model when Hyperband must see each fold's score first
    pruning = tune is not None and tune.method == "bohb"
    parallel = executor.client is not None or (executor.cpus > 1 and not pruning)
    n_classes = 0 if task.classes_ is None else len(task.classes_)
    configured: list[tuple[str, Any]] = []
    seen: dict[str, int] = {}
    for spec in algorithms:
        algorithm = get(spec).with_params({})  # a copy: the caller's object stays as it was
        try:
            algorithm.configure(
                task.kind,
                n_classes,
                seed=task.seed,
                n_jobs=1 if parallel else executor.cpus,
                device="cuda" if executor.gpus else None,  # XGBoost trains on the GPU
            )
        except ValueError as err:
            raise ValueError(f"task {task.name!r}: {err}") from err
        base = str(getattr(algorithm, "name", "") or type(algorithm).__name__)
        seen[base] = seen.get(base, 0) + 1
        configured.append((base if seen[base] == 1 else f"{base}#{seen[base]}", algorithm))
    return _Setup(task, metrics, objective_name, objective, configured, parallel)


def _train_task(
    setup: _Setup,
    tune: Tune | None,
    preprocess: Callable[..., Any] | None,
    executor: Executor,
    ensemble: bool,
    progress: bool,
) -> Result:
    task, metrics, objective = setup.task, setup.metrics, setup.objective
    objective_name, parallel = setup.objective_name, setup.parallel
    on_train = objective_name.startswith("train.")
    train_metrics = [objective] if on_train else []
    objective_key = f"{TRAIN_KEY}{objective.key}" if on_train else objective.key
    folds = _folds(task, preprocess)
    candidates: list[Candidate] = []
    studies: dict[str, Any] = {}
    for name, algorithm in setup.algorithms:
        space = algorithm.search_space()
        if tune is not None and space:
            bar = _progress(tune.n_trials, f"{task.name}: {name}", progress)

            def evaluate(
                params: dict[str, Any],
                trial: Any,
                deadline: float | None,
                algorithm: Any = algorithm,
                bar: Any = bar,
            ) -> float:
                try:
                    cv, oof = _cross_validate(
                        algorithm,
                        params,
                        folds,
                        task,
                        metrics["validation"],
                        objective,
                        executor,
                        trial,
                        deadline,
                        parallel,
                        train_metrics,
                    )
                finally:
                    bar.update(1)
                trial.set_user_attr("cv", cv)
                trial.set_user_attr("oof", oof)
                return float(np.mean(cv[objective_key]))

            study = run_study(tune, space, evaluate, objective.greater_is_better, len(folds), name)
            bar.close()
            studies[name] = study
            done = [t for t in study.trials if t.value is not None]
            if not done:
                raise RuntimeError(
                    f"{task.name}: no trial of {name} finished within the budget "
                    f"(timeout_s={tune.timeout_s}); raise the budget or lower n_trials"
                )
            best = study.best_trial
            params, cv, oof = dict(best.params), best.user_attrs["cv"], best.user_attrs["oof"]
            trials = len(study.trials)
        else:
            params = {}
            cv, oof = _cross_validate(
                algorithm,
                params,
                folds,
                task,
                metrics["validation"],
                objective,
                executor,
                parallel=parallel,
            )
            trials = 1
        candidates.append(
            _refit(
                name, algorithm, params, task, preprocess, metrics, cv, oof, trials, executor.cpus
            )
        )
    if ensemble and len(candidates) > 1:
        candidates.append(_ensemble(task, candidates, objective, metrics))
    return Result(task, candidates, objective_name, objective.greater_is_better, studies)


def _ensemble(
    task: TaskData, candidates: list[Candidate], objective: Metric, metrics: dict[str, list[Metric]]
) -> Candidate:
    y = task.y(task.train)

    def score(blend: np.ndarray) -> float:
        pred = blend if task.kind == "regression" else blend.argmax(axis=1)
        proba = None if task.kind == "regression" else blend
        return float(objective.evaluate(task.kind, y, pred, proba))

    weights = caruana([c.oof for c in candidates], score, objective.greater_is_better)
    members = tuple((c, float(w)) for c, w in zip(candidates, weights) if w > 0)
    blend = sum(w * c.oof for c, w in members)
    pred = blend if task.kind == "regression" else blend.argmax(axis=1)  # type: ignore[union-attr]
    proba = None if task.kind == "regression" else blend
    oof_scores = _scores(metrics["validation"], task.kind, y, pred, proba)  # type: ignore[arg-type]
    out = Candidate(
        name="ensemble",
        algorithm=None,
        params={m.name: w for m, w in members},
        task=task,
        scores={"validation": oof_scores, "validation_std": {}, "train": {}},
        oof=blend,  # type: ignore[arg-type]
        members=members,
        fit_seconds=sum(m.fit_seconds for m, _ in members),
        predict_1row_seconds=sum(m.predict_1row_seconds for m, _ in members),
        model_bytes=sum(m.model_bytes for m, _ in members),
        trials=0,
    )
    out.scores["validation"] = oof_scores
    if task.test is not None and metrics["test"]:
        yt = task.y(task.test)
        if task.kind == "regression":
            pt, pp = out.predict(task.test), None
        else:
            pp = out.predict_proba(task.test)
            pt = pp.argmax(axis=1)
        out.scores["test"] = _scores(metrics["test"], task.kind, yt, pt, pp)
    return out


def train(
    data: TaskData | Sequence[TaskData],
    algorithm: Any = ("XGBoost",),
    metrics: Mapping[str, Sequence[Any]] | None = None,
    tune: Tune | None = None,
    preprocess: Callable[..., Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    ensemble: bool = False,
    progress: bool | None = None,
) -> Any:
    """Cross-validate (and tune) algorithms on tasks; the trained candidates ranked.

    Parameters
    ----------
    data : TaskData or list of TaskData
        The tasks (see :meth:`TaskData.create`).
    algorithm : str, Algorithm or list of them
        Registry names (``"XGBoost"``, ``"LogisticRegression"``, ...), configured instances
        (``litmus.XGBoost().hyperparams(max_depth=5)``, ``.search(max_depth=litmus.Int(3, 10))``)
        or instances of your own :class:`litmus_automl.Algorithm` subclasses.
    metrics : dict, optional
        ``{"train": [...], "validation": [...], "test": [...]}``: names, ``Metric(name,
        params)``, Metric subclasses or callables. Validation metrics are fold mean ± std.
    tune : Tune, optional
        Search each algorithm's space (fixed parameters are not searched); without it each
        algorithm runs once with its parameters.
    preprocess : callable, optional
        ``preprocess(df) -> df`` in the pandas API, traced by litsdf and applied before the
        default preprocessing (imputation, encoding, text and datetime features).
    resources : dict, optional
        ``{"train": {"cpus": 2}}``, ``{"train": {"workers": 2}}`` (a local Dask cluster) or
        ``{"train": {"cluster": "tcp://..."}}``; ``"gpus"`` needs a CUDA device.
    ensemble : bool
        Add a greedy weighted ensemble of the candidates (Caruana) as one more candidate.
    progress : bool, optional
        Progress bars (default: when stderr is a terminal).

    Returns
    -------
    Result, or dict of task name to Result for several tasks.

    Examples
    --------
    >>> import litmus_automl as litmus
    >>> from sklearn.datasets import load_breast_cancer
    >>> df = load_breast_cancer(as_frame=True).frame
    >>> task = litmus.TaskData.create(name="cancer", task="binary",
    ...                               data={"train": df}, schema={"label": "target"}, k_fold=3)
    >>> result = litmus.train([task], algorithm=["LogisticRegression"], progress=False)
    >>> result.best.scores["validation"]["accuracy"] > 0.9
    True
    """
    import sys

    tasks, algorithms = _arguments(data, algorithm)
    if progress is None:
        progress = sys.stderr.isatty()
    with executor_for(resources) as executor:
        setups = [_setup(t, algorithms, metrics, tune, executor) for t in tasks]  # all checked
        results = {
            s.task.name: _train_task(s, tune, preprocess, executor, ensemble, progress)
            for s in setups
        }
    return results[tasks[0].name] if len(tasks) == 1 else results


def _arguments(data: Any, algorithm: Any) -> tuple[list[TaskData], list[Any]]:
    tasks = [data] if isinstance(data, TaskData) else list(data)
    if not tasks or not all(isinstance(t, TaskData) for t in tasks):
        raise TypeError("data must be a TaskData or a list of TaskData (TaskData.create(...))")
    names = [t.name for t in tasks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"task names must be unique; repeated: {repeated}")
    algorithms = (
        [algorithm]
        if isinstance(algorithm, str) or not isinstance(algorithm, (list, tuple))
        else list(algorithm)
    )
    if not algorithms:
        raise ValueError("algorithm must name at least one algorithm")
    return tasks, algorithms


def check_setup(
    data: TaskData | Sequence[TaskData],
    algorithm: Any = ("XGBoost",),
    metrics: Mapping[str, Sequence[Any]] | None = None,
    tune: Tune | None = None,
) -> None:
    """Check a training setup without training: raise what :func:`train` raises before it
    trains anything.

    Parameters
    ----------
    data, algorithm, metrics, tune
        As for :func:`train`.

    Raises
    ------
    ValueError
        Repeated task names, unknown metrics or ones that do not apply to a task's kind, a
        test-set objective, an algorithm that does not support a task's kind, or a
        hyperparameter or search range that is not valid for it (each naming the task).
    TypeError
        ``data`` that is not TaskData.

    Examples
    --------
    >>> import pandas as pd
    >>> from litmus_automl import TaskData
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 2.5, 4.0]})
    >>> task = TaskData.create("r", "regression", {"train": df}, {"label": "y"}, k_fold=2)
    >>> check_setup(task, algorithm=["LogisticRegression"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: task 'r': LogisticRegression does not support regression tasks ...
    """
    tasks, algorithms = _arguments(data, algorithm)
    local = Executor(cpus=1)
    for t in tasks:
        _setup(t, algorithms, metrics, tune, local)
