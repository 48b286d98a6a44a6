"""Metrics against hand-computed values, the registry, custom metrics and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_wine
from sklearn.naive_bayes import GaussianNB

from litmus_automl import Metric
from litmus_automl.metrics import METRICS, metric

Y = np.array([0, 1, 1, 0, 1])
PRED = np.array([0, 1, 0, 0, 1])
SCORES = np.array([0.1, 0.8, 0.2, 0.3, 0.9])
PROBA = np.column_stack([1 - SCORES, SCORES])


def ev(name: str, kind: str = "binary", y=Y, pred=PRED, proba=PROBA, **params) -> float:
    return Metric(name, params or None).evaluate(kind, y, pred, proba)


def test_registry_names() -> None:
    assert set(METRICS) == {
        "accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc", "log_loss",
        "rmse", "mae", "r2", "coverage_at_precision", "precision_at_recall",
    }  # fmt: skip


def test_binary_label_metrics_by_hand() -> None:
    # TP=2 FP=0 FN=1 TN=2
    assert ev("accuracy") == pytest.approx(4 / 5)
    assert ev("precision") == pytest.approx(1.0)
    assert ev("recall") == pytest.approx(2 / 3)
    assert ev("f1") == pytest.approx(0.8)
    assert ev("balanced_accuracy") == pytest.approx((1 + 2 / 3) / 2)


def test_binary_proba_metrics_by_hand() -> None:
    # 6 positive/negative pairs, one discordant (0.2 < 0.3)
    assert ev("roc_auc") == pytest.approx(5 / 6)
    assert ev("roc_auc", proba=SCORES) == pytest.approx(5 / 6)  # 1-D: positive-class scores
    y, p = np.array([0, 1]), np.array([[0.8, 0.2], [0.4, 0.6]])
    assert ev("log_loss", y=y, proba=p) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert Metric("log_loss").greater_is_better is False
    assert Metric("log_loss").needs == "proba" and Metric("accuracy").needs == "label"


def test_regression_by_hand() -> None:
    y, pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    assert ev("rmse", "regression", y, pred, None) == pytest.approx(math.sqrt(4 / 3))
    assert ev("mae", "regression", y, pred, None) == pytest.approx(2 / 3)
    assert ev("r2", "regression", y, pred, None) == pytest.approx(1 - 4 / 2)
    assert Metric("rmse").greater_is_better is False and Metric("r2").greater_is_better


def test_multiclass_matches_sklearn() -> None:
    wine = load_wine()
    model = GaussianNB().fit(wine.data[::2], wine.target[::2])
    X, y = wine.data[1::2], wine.target[1::2]
    pred, proba = model.predict(X), model.predict_proba(X)
    assert ev("f1", "multiclass", y, pred, proba) == pytest.approx(
        skm.f1_score(y, pred, average="weighted")
    )
    assert ev("recall", "multiclass", y, pred, proba) == pytest.approx(
        skm.recall_score(y, pred, average="weighted")
    )
    assert ev("f1", "multiclass", y, pred, proba, average="macro") == pytest.approx(
        skm.f1_score(y, pred, average="macro")
    )
    assert ev("roc_auc", "multiclass", y, pred, proba) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    )
    assert ev("log_loss", "multiclass", y, pred, proba) == pytest.approx(skm.log_loss(y, proba))


RANKED_Y = np.array([1, 1, 0, 1, 0, 0])
RANKED_S = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
# top-k precision: 1, 1, 2/3, 3/4, 3/5, 1/2; coverage k/6; recall 1/3, 2/3, 2/3, 1, 1, 1


@pytest.mark.parametrize(
    ("precision", "expected"), [(0.85, 2 / 6), (0.75, 4 / 6), (0.5, 1.0), (1.0, 2 / 6)]
)
def test_coverage_at_precision(precision: float, expected: float) -> None:
    m = Metric("coverage_at_precision", {"precision": precision})
    assert m.evaluate("binary", RANKED_Y, None, RANKED_S) == pytest.approx(expected)


def test_coverage_and_precision_at_recall_edge_cases() -> None:
    # ties: a threshold takes all tied rows; at 0.9 precision is 1/2, at 0.5 it's 3/4
    y, s = np.array([1, 0, 1, 1]), np.array([0.9, 0.9, 0.5, 0.5])
    assert Metric("coverage_at_precision", {"precision": 0.7}).evaluate(
        "binary", y, None, s
    ) == pytest.approx(1.0)
    assert Metric("coverage_at_precision", {"precision": 0.8}).evaluate("binary", y, None, s) == 0
    r = Metric("precision_at_recall", {"recall": 2 / 3})
    assert r.evaluate("binary", RANKED_Y, None, RANKED_S) == pytest.approx(1.0)
    r = Metric("precision_at_recall", {"recall": 1.0})
    assert r.evaluate("binary", RANKED_Y, None, RANKED_S) == pytest.approx(3 / 4)
    assert r.evaluate("binary", np.zeros(4, dtype=int), None, s) == 0.0  # no positives


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown metric 'auc'; known metrics: accuracy, "):
        Metric("auc")
    with pytest.raises(ValueError, match="'roc_auc' does not apply to a regression task"):
        ev("roc_auc", "regression")
    with pytest.raises(ValueError, match="'rmse' does not apply to a binary task"):
        ev("rmse")
    with pytest.raises(ValueError, match=r"coverage_at_precision.*multiclass task"):
        Metric("coverage_at_precision", {"precision": 0.9}).evaluate("multiclass", Y, PRED, PROBA)
    with pytest.raises(ValueError, match="'roc_auc' needs predicted probabilities"):
        ev("roc_auc", proba=None)
    with pytest.raises(ValueError, match="'accuracy' needs predicted labels"):
        ev("accuracy", pred=None)
    with pytest.raises(ValueError, match="needs the param 'precision'"):
        Metric("coverage_at_precision")
    with pytest.raises(ValueError, match=r"unknown params \['recall'\]"):
        Metric("coverage_at_precision", {"precision": 0.9, "recall": 0.1})
    with pytest.raises(ValueError, match=r"unknown params \['x'\] \(allowed: none\)"):
        Metric("accuracy", {"x": 1})
    with pytest.raises(ValueError, match=r"precision must be in \(0, 1\]"):
        Metric("coverage_at_precision", {"precision": 1.5})
    with pytest.raises(TypeError, match="params must be a dict"):
        Metric("accuracy", [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown task kind 'ranking'"):
        ev("accuracy", "ranking")
    with pytest.raises(TypeError, match="a metric is a name"):
        metric(3)  # type: ignore[arg-type]


def test_key_repr_eq() -> None:
    m = Metric("coverage_at_precision", {"precision": 0.85})
    assert m.key == "coverage_at_precision(precision=0.85)"
    assert Metric("f1").key == "f1"  # the default average is not shown
    assert repr(m) == "Metric('coverage_at_precision', {'precision': 0.85})"
    assert m == Metric("coverage_at_precision", {"precision": 0.85}) != Metric("accuracy")
    assert len({Metric("f1"), Metric("f1")}) == 1


def test_callable_metrics() -> None:
    def mean_abs_error(y_true, y_pred):
        return float(np.mean(np.abs(y_true - y_pred)))

    def hits(y_true, y_pred):
        return float(np.sum(y_true == y_pred))

    m = metric(mean_abs_error)
    assert (m.name, m.greater_is_better, m.needs) == ("mean_abs_error", False, "label")
    assert m.evaluate("regression", [1.0, 2.0], [2.0, 2.0]) == pytest.approx(0.5)
    assert metric(hits).greater_is_better and metric(hits).evaluate("binary", Y, PRED) == 4.0
    assert metric(lambda a, b: 0.0).name == "lambda"
    assert metric("accuracy") == Metric("accuracy")
    same = Metric("r2")
    assert metric(same) is same


def test_custom_metric_subclass() -> None:
    class MeanTopScore(Metric):
        """The mean positive-class probability of the true positives (a made-up metric)."""

        name = "mean_top_score"
        greater_is_better = True
        needs = "proba"
        kinds = frozenset({"binary"})

        def compute(self, y_true, y_pred, y_proba):
            scale = self.params.get("scale", 1.0)
            return float(y_proba[y_true == 1, 1].mean() * scale)

    m = MeanTopScore(params={"scale": 2.0})
    assert m.name == "mean_top_score" and m.key == "mean_top_score(scale=2.0)"
    assert m.evaluate("binary", Y, None, PROBA) == pytest.approx(2 * (0.8 + 0.2 + 0.9) / 3)
    with pytest.raises(ValueError, match="does not apply to a regression task"):
        m.evaluate("regression", Y, None, PROBA)
    assert metric(MeanTopScore).name == "mean_top_score"

    class Agreement(Metric):  # no name given: the class name in snake_case
        def compute(self, y_true, y_pred, y_proba):
            return float(np.mean(y_true == y_pred))

    assert Agreement().name == "agreement"
    assert Agreement().evaluate("multiclass", [0, 2, 1], [0, 2, 2]) == pytest.approx(2 / 3)

    class Bad(Metric):
        needs = "scores"

        def compute(self, y_true, y_pred, y_proba):
            return 0.0

    with pytest.raises(ValueError, match="needs must be 'label' or 'proba'"):
        Bad()


def test_builtin_compute_infers_kind() -> None:
    assert Metric("f1").compute(Y, PRED, None) == pytest.approx(0.8)
    assert Metric("roc_auc").compute(Y, PRED, PROBA) == pytest.approx(5 / 6)
    y, pred = np.array([1.5, 2.0]), np.array([1.0, 2.0])
    assert Metric("mae").compute(y, pred, None) == pytest.approx(0.25)
