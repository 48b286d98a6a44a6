"""scikit-learn algorithms: LogisticRegression, Ridge, RandomForest, ExtraTrees,
HistGradientBoosting. Each picks the classifier or regressor by task kind and is saved with
skops (loaded only when every type in the file is one litmus trains: the explicit allow-list
of :mod:`litmus_automl.model_io`)."""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from litmus_automl.algorithms.base import Algorithm
from litmus_automl.space import Categorical, Distribution, Float, Int

__all__ = [
    "ExtraTrees",
    "HistGradientBoosting",
    "LogisticRegression",
    "RandomForest",
    "Ridge",
    "UntrustedModelError",
]

_MODEL = "model.skops"
_CLASSIFICATION = frozenset({"binary", "multiclass"})


_SAVED_ONLY_TYPES = frozenset(
    {"sklearn.linear_model._ridge.RidgeClassifier", "sklearn.preprocessing._label.LabelBinarizer"}
)
"""Types ``Algorithm.save`` stores that bundles never hold (a bundle stores Ridge for
classification as a pickle: its probabilities are litmus' softmax)."""


class UntrustedModelError(ValueError):
    """A saved model holds types outside the allow-list; it is not loaded."""


@functools.cache
def _import(path: str) -> type:
    module, _, name = path.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


@functools.cache
def _valid_params(paths: tuple[str | None, ...], extra: frozenset[str]) -> frozenset[str]:
    names = set(extra)
    for path in paths:
        if path is not None:
            names |= set(_import(path)().get_params())
    return frozenset(names)


def _validate_constraints(constraints: Any, params: Any, caller: str) -> None:
    """scikit-learn's parameter validation (what ``fit`` runs), before any fit."""
    try:
        from sklearn.utils._param_validation import validate_parameter_constraints
    except ImportError:  # pragma: no cover - another scikit-learn layout: fit still checks
        return
    validate_parameter_constraints(constraints, params, caller_name=caller)


class _Sklearn(Algorithm):
    """Shared by the scikit-learn wrappers: estimator choice, param checks, skops save."""

    pickled: ClassVar[bool] = False  # skops, with an explicit type allow-list
    classifier: ClassVar[str | None] = None
    regressor: ClassVar[str | None] = None
    extra_params: ClassVar[frozenset[str]] = frozenset()
    defaults: ClassVar[Mapping[str, Any]] = {}
    pass_n_jobs: ClassVar[bool] = True

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        """Hold BLAS / OpenMP to ``n_jobs`` threads (HistGradientBoosting has no n_jobs; and a
        second OpenMP runtime, e.g. XGBoost's, spinning beside it slows it down badly)."""
        from threadpoolctl import threadpool_limits

        limit = None if self.n_jobs is None or self.n_jobs < 1 else self.n_jobs
        with threadpool_limits(limits=limit):
            yield

    def fit(self, X: Any, y: Any) -> Algorithm:
        """Fit on ``X`` and ``y`` with at most ``n_jobs`` threads; returns ``self``."""
        with self._threads():
            return super().fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (integer codes) or values (regression)."""
        with self._threads():
            return super().predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_rows, n_classes)``."""
        with self._threads():
            return super().predict_proba(X)

    def _estimator_class(self) -> type:
        kind = self.task_kind or ("binary" if self.classifier else "regression")
        path = self.regressor if kind == "regression" else self.classifier
        if path is None:
            self.configure(kind, self.n_classes)  # raises: kind not supported
        assert path is not None
        return _import(path)

    def _classes(self) -> list[type]:
        """The estimator classes the parameters go to: the task kind's, or both if unset."""
        if self.task_kind is not None:
            return [self._estimator_class()]
        return [_import(p) for p in (self.classifier, self.regressor) if p is not None]

    def valid_params(self) -> Collection[str]:
        """The estimators' ``get_params()`` names and :attr:`extra_params`."""
        return _valid_params((self.classifier, self.regressor), self.extra_params)

    def check_value(self, name: str, value: Any) -> None:
        """scikit-learn's own parameter constraints (the task kind's estimator, or either one
        when the kind is not set yet); ``extra_params`` are checked by the subclass."""
        reasons = []
        for cls in self._classes():
            constraints = getattr(cls, "_parameter_constraints", {}).get(name)
            if constraints is None:
                continue
            try:
                _validate_constraints({name: constraints}, {name: value}, cls.__name__)
                return
            except ValueError as err:
                reasons.append(str(err))
        if reasons:
            raise ValueError(reasons[0])

    def _estimator_params(self, cls: type) -> dict[str, Any]:
        accepted = set(cls().get_params())
        params = {k: v for k, v in self.defaults.items() if k in accepted}
        if "random_state" in accepted:
            params["random_state"] = self.seed
        if "n_jobs" in accepted and self.pass_n_jobs:
            params["n_jobs"] = self.n_jobs
        given = self.get_params()
        params.update({k: v for k, v in given.items() if k not in self.extra_params})
        return params

    def build(self) -> Any:
        """The unfitted scikit-learn estimator for the task kind."""
        cls = self._estimator_class()
        return cls(**self._estimator_params(cls))

    def _save_model(self, directory: Path) -> list[str]:
        import skops.io as sio

        sio.dump(self._check_fitted(), directory / _MODEL)
        return [_MODEL]

    @classmethod
    def _load_model(cls, directory: Path, meta: Mapping[str, Any]) -> Algorithm:
        import skops.io as sio

        from litmus_automl.model_io import BundleError, check_skops_file

        path = directory / _MODEL
        try:  # the same explicit type and loader allow-list as bundles
            trusted = check_skops_file(path, also=_SAVED_ONLY_TYPES)
        except BundleError as err:
            raise UntrustedModelError(f"not loading {str(path)!r}: {err}") from err
        obj = cls._from_meta(meta)
        obj.estimator_ = sio.load(path, trusted=trusted)
        return obj


class _Linear(_Sklearn):
    """A linear model, standardized first unless ``standardize=False``."""

    extra_params = frozenset({"standardize"})

    def check_value(self, name: str, value: Any) -> None:
        """``standardize`` is a bool; the rest as the scikit-learn estimator checks them."""
        if name == "standardize":
            if not isinstance(value, bool):
                raise ValueError(f"expected True or False, got {value!r}")
            return
        super().check_value(name, value)

    def build(self) -> Any:
        estimator = super().build()
        if not self.get_params().get("standardize", True):
            return estimator
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), estimator)


class LogisticRegression(_Linear):
    """scikit-learn ``LogisticRegression`` (classification only), on standardized features.

    Examples
    --------
    >>> sorted(LogisticRegression().search_space())
    ['C', 'class_weight']
    """

    name = "LogisticRegression"
    kinds = _CLASSIFICATION
    classifier = "sklearn.linear_model:LogisticRegression"
    pass_n_jobs = False  # no effect since scikit-learn 1.8
    defaults: ClassVar[Mapping[str, Any]] = {"max_iter": 1000}

    def default_space(self) -> dict[str, Distribution]:
        """C (log scale) and class_weight."""
        return {"C": Float(1e-3, 100.0, log=True), "class_weight": Categorical([None, "balanced"])}


class Ridge(_Linear):
    """scikit-learn ``Ridge`` (regression) or ``RidgeClassifier`` (classification).

    ``RidgeClassifier`` has no probabilities of its own: ``predict_proba`` is the softmax of
    its decision function (the sigmoid for a binary task), a score rather than a calibrated
    probability.

    Examples
    --------
    >>> Ridge().search_space()
    {'alpha': Float(low=0.001, high=100.0, log=True)}
    """

    name = "Ridge"
    classifier = "sklearn.linear_model:RidgeClassifier"
    regressor = "sklearn.linear_model:Ridge"

    def default_space(self) -> dict[str, Distribution]:
        """alpha (log scale)."""
        return {"alpha": Float(1e-3, 100.0, log=True)}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the decision function (classification only)."""
        estimator = self._check_fitted()
        if self.task_kind == "regression":
            raise NotImplementedError(f"{self.name} gives no probabilities for regression")
        with self._threads():
            scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


_FOREST_DEFAULTS: Mapping[str, Any] = {"n_estimators": 200}


def _forest_space() -> dict[str, Distribution]:
    return {
        "n_estimators": Int(50, 400),
        "max_depth": Int(3, 30),
        "min_samples_leaf": Int(1, 20, log=True),
        "max_features": Float(0.1, 1.0),
    }


class RandomForest(_Sklearn):
    """scikit-learn ``RandomForestClassifier`` / ``RandomForestRegressor``.

    Examples
    --------
    >>> sorted(RandomForest().search_space())
    ['max_depth', 'max_features', 'min_samples_leaf', 'n_estimators']
    """

    name = "RandomForest"
    classifier = "sklearn.ensemble:RandomForestClassifier"
    regressor = "sklearn.ensemble:RandomForestRegressor"
    defaults = _FOREST_DEFAULTS

    def default_space(self) -> dict[str, Distribution]:
        """n_estimators, max_depth, min_samples_leaf, max_features."""
        return _forest_space()


class ExtraTrees(_Sklearn):
    """scikit-learn ``ExtraTreesClassifier`` / ``ExtraTreesRegressor``.

    Examples
    --------
    >>> ExtraTrees().hyperparams(n_estimators=10).get_params()
    {'n_estimators': 10}
    """

    name = "ExtraTrees"
    classifier = "sklearn.ensemble:ExtraTreesClassifier"
    regressor = "sklearn.ensemble:ExtraTreesRegressor"
    defaults = _FOREST_DEFAULTS

    def default_space(self) -> dict[str, Distribution]:
        """n_estimators, max_depth, min_samples_leaf, max_features."""
        return _forest_space()


class HistGradientBoosting(_Sklearn):
    """scikit-learn ``HistGradientBoostingClassifier`` / ``HistGradientBoostingRegressor``.

    Examples
    --------
    >>> HistGradientBoosting().search_space()["learning_rate"]
    Float(low=0.01, high=0.3, log=True)
    """

    name = "HistGradientBoosting"
    classifier = "sklearn.ensemble:HistGradientBoostingClassifier"
    regressor = "sklearn.ensemble:HistGradientBoostingRegressor"

    def default_space(self) -> dict[str, Distribution]:
        """learning_rate, max_iter, max_leaf_nodes, min_samples_leaf, l2_regularization."""
        return {
            "learning_rate": Float(0.01, 0.3, log=True),
            "max_iter": Int(50, 400),
            "max_leaf_nodes": Int(8, 128, log=True),
            "min_samples_leaf": Int(5, 100, log=True),
            "l2_regularization": Float(1e-6, 10.0, log=True),
        }
