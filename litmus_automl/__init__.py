"""litmus: AutoML on litsdf — tasks, algorithms, metrics and search spaces.

Examples
--------
>>> import litmus_automl as litmus
>>> algo = litmus.XGBoost().search(max_depth=litmus.Int(3, 10))
>>> litmus.Metric("coverage_at_precision", {"precision": 0.85}).key
'coverage_at_precision(precision=0.85)'
"""

from litmus_automl.algorithms import (
    Algorithm,
    ExtraTrees,
    HistGradientBoosting,
    LogisticRegression,
    RandomForest,
    Ridge,
    XGBoost,
)
from litmus_automl.bundle import BundleError, InferenceModel, load
from litmus_automl.metrics import Metric
from litmus_automl.space import Categorical, Float, Int
from litmus_automl.task import TaskData
from litmus_automl.train import Candidate, Result, train
from litmus_automl.tuning import Tune

__all__ = [
    "train",
    "Tune",
    "load",
    "Result",
    "Candidate",
    "InferenceModel",
    "BundleError",
    "Algorithm",
    "Categorical",
    "ExtraTrees",
    "Float",
    "HistGradientBoosting",
    "Int",
    "LogisticRegression",
    "Metric",
    "RandomForest",
    "Ridge",
    "TaskData",
    "XGBoost",
]
