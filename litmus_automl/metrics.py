"""Metrics: a registry of named metrics, ``Metric(name, params)``, and custom metrics.

Labels are what ``TaskData.y`` gives: integer codes into ``classes_`` for classification (the
positive class of a binary task is code 1), float64 for regression. ``y_proba`` is the
``(n_rows, n_classes)`` matrix of ``predict_proba`` (a 1-D array is read as the probability of
the positive class of a binary task).

A custom metric is a ``Metric`` subclass that overrides ``compute`` and sets
``greater_is_better`` and ``needs``, or a plain callable ``f(y_true, y_pred) -> float``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np
from sklearn import metrics as skm

__all__ = ["KINDS", "METRICS", "Metric", "metric"]

KINDS: frozenset[str] = frozenset({"binary", "multiclass", "regression"})
_CLASSIFICATION = frozenset({"binary", "multiclass"})
_REQUIRED = object()  # marks a builtin metric parameter that has no default


@dataclass(frozen=True)
class _Builtin:
    """A registry entry: ``fn(kind, y_true, y_pred, y_proba, **params) -> float``."""

    fn: Callable[..., float]
    greater_is_better: bool
    needs: str
    kinds: frozenset[str]
    params: Mapping[str, Any] = field(default_factory=dict)


def _positive_scores(y_proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(y_proba, dtype=np.float64)
    if proba.ndim == 1:
        return proba
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    raise ValueError(f"a binary metric needs probabilities of shape (n, 2), got {proba.shape}")


def _proba_matrix(y_proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(y_proba, dtype=np.float64)
    return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba


def _average(kind: str, average: str | None) -> str:
    return average if average is not None else ("binary" if kind == "binary" else "weighted")


def _f1(kind: str, y_true: Any, y_pred: Any, y_proba: Any, average: str | None = None) -> float:
    avg = _average(kind, average)
    return float(skm.f1_score(y_true, y_pred, average=avg, zero_division=0))


def _precision(
    kind: str, y_true: Any, y_pred: Any, y_proba: Any, average: str | None = None
) -> float:
    avg = _average(kind, average)
    return float(skm.precision_score(y_true, y_pred, average=avg, zero_division=0))


def _recall(kind: str, y_true: Any, y_pred: Any, y_proba: Any, average: str | None = None) -> float:
    avg = _average(kind, average)
    return float(skm.recall_score(y_true, y_pred, average=avg, zero_division=0))


def _roc_auc(kind: str, y_true: Any, y_pred: Any, y_proba: Any) -> float:
    if kind == "binary":
        return float(skm.roc_auc_score(y_true, _positive_scores(y_proba)))
    proba = _proba_matrix(y_proba)
    labels = np.arange(proba.shape[1])
    return float(
        skm.roc_auc_score(y_true, proba, multi_class="ovr", average="weighted", labels=labels)
    )


def _log_loss(kind: str, y_true: Any, y_pred: Any, y_proba: Any) -> float:
    proba = _proba_matrix(y_proba)
    return float(skm.log_loss(y_true, proba, labels=np.arange(proba.shape[1])))


def _curve(y_true: Any, y_proba: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Precision, recall and coverage at every distinct threshold ``score >= t``."""
    scores = _positive_scores(y_proba)
    truth = np.asarray(y_true) == 1
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_truth = scores[order], truth[order]
    true_pos = np.cumsum(sorted_truth)
    predicted = np.arange(1, len(scores) + 1)
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    true_pos, predicted = true_pos[last_of_tie], predicted[last_of_tie]
    n_pos = float(truth.sum())
    recall = true_pos / n_pos if n_pos else np.zeros(len(true_pos))
    return true_pos / predicted, recall, predicted / len(scores), n_pos


def _coverage_at_precision(
    kind: str, y_true: Any, y_pred: Any, y_proba: Any, precision: float
) -> float:
    prec, _, coverage, _ = _curve(y_true, y_proba)
    ok = prec >= precision - 1e-12
    return float(coverage[ok].max()) if ok.any() else 0.0


def _precision_at_recall(kind: str, y_true: Any, y_pred: Any, y_proba: Any, recall: float) -> float:
    prec, rec, _, n_pos = _curve(y_true, y_proba)
    ok = rec >= recall - 1e-12
    return float(prec[ok].max()) if n_pos and ok.any() else 0.0


def _sk(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., float]:
    def run(kind: str, y_true: Any, y_pred: Any, y_proba: Any) -> float:
        return float(fn(y_true, y_pred, **kwargs))

    return run


_ALL, _CLS, _REG, _BIN = KINDS, _CLASSIFICATION, frozenset({"regression"}), frozenset({"binary"})
_AVG = {"average": None}

METRICS: dict[str, _Builtin] = {
    "accuracy": _Builtin(_sk(skm.accuracy_score), True, "label", _CLS),
    "balanced_accuracy": _Builtin(_sk(skm.balanced_accuracy_score), True, "label", _CLS),
    "f1": _Builtin(_f1, True, "label", _CLS, _AVG),
    "precision": _Builtin(_precision, True, "label", _CLS, _AVG),
    "recall": _Builtin(_recall, True, "label", _CLS, _AVG),
    "roc_auc": _Builtin(_roc_auc, True, "proba", _CLS),
    "log_loss": _Builtin(_log_loss, False, "proba", _CLS),
    "rmse": _Builtin(_sk(skm.root_mean_squared_error), False, "label", _REG),
    "mae": _Builtin(_sk(skm.mean_absolute_error), False, "label", _REG),
    "r2": _Builtin(_sk(skm.r2_score), True, "label", _REG),
    "coverage_at_precision": _Builtin(
        _coverage_at_precision, True, "proba", _BIN, {"precision": _REQUIRED}
    ),
    "precision_at_recall": _Builtin(
        _precision_at_recall, True, "proba", _BIN, {"recall": _REQUIRED}
    ),
}
"""The built-in metrics by name (read-only by convention; subclass ``Metric`` to add one)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _infer_kind(y_true: Any, y_proba: Any) -> str:
    if y_proba is not None:
        proba = np.asarray(y_proba)
        return "binary" if proba.ndim == 1 or proba.shape[1] == 2 else "multiclass"
    values = np.asarray(y_true)
    if values.dtype.kind == "f":  # TaskData.y: float64 for regression, integer codes otherwise
        return "regression"
    return "binary" if len(np.unique(values)) <= 2 else "multiclass"


class Metric:
    """A metric, built-in by name or custom by subclassing.

    Parameters
    ----------
    name : str, optional
        A name from ``METRICS`` (``accuracy``, ``roc_auc``, ``coverage_at_precision``, ...).
        A subclass may leave it out: it then defaults to the class attribute ``name`` or the
        class name in snake_case.
    params : mapping, optional
        Parameters of the metric, e.g. ``{"precision": 0.85}`` for ``coverage_at_precision``.

    Attributes
    ----------
    name : str
    params : dict
    greater_is_better : bool
        Whether a larger value is better (the tuner maximizes or minimizes accordingly).
    needs : {"label", "proba"}
        Whether ``compute`` reads predicted labels or predicted probabilities.
    kinds : frozenset of str
        The task kinds the metric applies to.

    Examples
    --------
    >>> import numpy as np
    >>> Metric("accuracy").evaluate("binary", np.array([0, 1, 1]), np.array([0, 1, 0]))
    0.6666666666666666
    >>> m = Metric("coverage_at_precision", {"precision": 0.85})
    >>> m.key
    'coverage_at_precision(precision=0.85)'

    A custom metric:

    >>> class TopRowCorrect(Metric):
    ...     greater_is_better = True
    ...     needs = "label"
    ...     def compute(self, y_true, y_pred, y_proba):
    ...         return float(y_true[0] == y_pred[0])
    >>> TopRowCorrect().evaluate("binary", np.array([1, 0]), np.array([1, 1]))
    1.0
    """

    name: str = ""
    greater_is_better: bool = True
    needs: str = "label"
    kinds: frozenset[str] = KINDS
    _NEEDS: ClassVar[frozenset[str]] = frozenset({"label", "proba"})

    def __init__(self, name: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"Metric params must be a dict, got {type(params).__name__}")
        self.params: dict[str, Any] = dict(params or {})
        self._builtin: _Builtin | None = None
        if type(self).compute is Metric.compute:  # a built-in, looked up by name
            if not isinstance(name, str):
                raise TypeError(f"Metric name must be a str, got {name!r}")
            self._builtin = self._lookup(name)
            self.greater_is_better = self._builtin.greater_is_better
            self.needs = self._builtin.needs
            self.kinds = self._builtin.kinds
        self.name = name or type(self).name or _snake(type(self).__name__)
        if self.needs not in self._NEEDS:
            raise ValueError(f"metric {self.name!r}: needs must be 'label' or 'proba'")

    def _lookup(self, name: str) -> _Builtin:
        builtin = METRICS.get(name)
        if builtin is None:
            known = ", ".join(sorted(METRICS))
            raise ValueError(f"unknown metric {name!r}; known metrics: {known}")
        unknown = sorted(set(self.params) - set(builtin.params))
        if unknown:
            allowed = ", ".join(sorted(builtin.params)) or "none"
            raise ValueError(f"metric {name!r}: unknown params {unknown} (allowed: {allowed})")
        for key, default in builtin.params.items():
            if key not in self.params:
                if default is _REQUIRED:
                    raise ValueError(
                        f"metric {name!r} needs the param {key!r}, e.g. {{{key!r}: 0.9}}"
                    )
                self.params[key] = default
        for key in ("precision", "recall"):
            value = self.params.get(key) if key in builtin.params else None
            if value is not None and not 0.0 < float(value) <= 1.0:
                raise ValueError(f"metric {name!r}: {key} must be in (0, 1], got {value!r}")
        return builtin

    @property
    def key(self) -> str:
        """A readable, unique label: the name, with the non-default params in brackets."""
        shown = {k: v for k, v in self.params.items() if v is not None}
        if not shown:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def compute(self, y_true: np.ndarray, y_pred: np.ndarray, y_proba: np.ndarray | None) -> float:
        """The metric value; override this in a subclass to write a custom metric.

        Parameters
        ----------
        y_true : ndarray
            True labels (integer codes for classification, floats for regression).
        y_pred : ndarray
            Predicted labels, same encoding as ``y_true``.
        y_proba : ndarray or None
            Predicted probabilities ``(n_rows, n_classes)``, or None when not available.

        Returns
        -------
        float
        """
        assert self._builtin is not None
        kind = _infer_kind(y_true, y_proba)
        return self._builtin.fn(kind, y_true, y_pred, y_proba, **self.params)

    def evaluate(
        self,
        kind: str,
        y_true: Any,
        y_pred: Any = None,
        y_proba: Any = None,
    ) -> float:
        """Check that the metric applies to a task of ``kind`` and compute it.

        Parameters
        ----------
        kind : {"binary", "multiclass", "regression"}
            The task kind.
        y_true, y_pred, y_proba : array-like
            As for ``compute``; ``y_pred`` may be None for a metric that needs probabilities,
            ``y_proba`` may be None for one that needs labels.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            When the metric doesn't apply to ``kind`` or the input it needs is missing.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown task kind {kind!r}; expected one of {sorted(KINDS)}")
        if kind not in self.kinds:
            applies = ", ".join(sorted(self.kinds))
            raise ValueError(
                f"metric {self.key!r} does not apply to a {kind} task (it applies to: {applies})"
            )
        if self.needs == "proba" and y_proba is None:
            raise ValueError(
                f"metric {self.key!r} needs predicted probabilities (predict_proba), got none"
            )
        if self.needs == "label" and y_pred is None:
            raise ValueError(f"metric {self.key!r} needs predicted labels, got none")
        y_true = np.asarray(y_true)
        y_pred = None if y_pred is None else np.asarray(y_pred)
        y_proba = None if y_proba is None else np.asarray(y_proba)
        if self._builtin is not None:
            return float(self._builtin.fn(kind, y_true, y_pred, y_proba, **self.params))
        return float(self.compute(y_true, y_pred, y_proba))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        params = f", {self.params!r}" if self.params else ""
        return f"{type(self).__name__}({self.name!r}{params})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Metric)
            and (other.name, other.params) == (self.name, self.params)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.name))


class _CallableMetric(Metric):
    """A metric from a plain function ``f(y_true, y_pred) -> float``."""

    def __init__(self, fn: Callable[[Any, Any], float]) -> None:
        name = getattr(fn, "__name__", None) or type(fn).__name__
        if name == "<lambda>":
            name = "lambda"
        super().__init__(name)
        self.fn = fn
        self.greater_is_better = not name.lower().endswith(("loss", "error"))

    def compute(self, y_true: np.ndarray, y_pred: np.ndarray, y_proba: np.ndarray | None) -> float:
        return float(self.fn(y_true, y_pred))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CallableMetric) and other.fn is self.fn

    def __hash__(self) -> int:
        return hash(self.fn)


def metric(spec: str | Metric | type[Metric] | Callable[[Any, Any], float]) -> Metric:
    """Resolve a metric spec to a ``Metric``.

    Parameters
    ----------
    spec : str, Metric, Metric subclass or callable
        A registry name (``"roc_auc"``), a ``Metric`` (returned as is), a ``Metric`` subclass
        (instantiated without arguments), or a callable ``f(y_true, y_pred) -> float`` named by
        its ``__name__`` (greater is better unless the name ends in "loss" or "error").

    Returns
    -------
    Metric

    Examples
    --------
    >>> metric("rmse").greater_is_better
    False
    >>> def hinge_loss(y_true, y_pred):
    ...     return 0.0
    >>> m = metric(hinge_loss)
    >>> (m.name, m.greater_is_better)
    ('hinge_loss', False)
    """
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        return Metric(spec)
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if callable(spec):
        return _CallableMetric(cast(Callable[[Any, Any], float], spec))
    raise TypeError(
        f"a metric is a name, a Metric, or a callable(y_true, y_pred); got {type(spec).__name__}"
    )
