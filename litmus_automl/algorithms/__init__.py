"""Algorithms: the ``Algorithm`` base class, the built-ins and the registry."""

from litmus_automl.algorithms.base import Algorithm
from litmus_automl.algorithms.registry import get, names, register
from litmus_automl.algorithms.sklearn import (
    ExtraTrees,
    HistGradientBoosting,
    LogisticRegression,
    RandomForest,
    Ridge,
)
from litmus_automl.algorithms.xgboost import XGBoost

__all__ = [
    "Algorithm",
    "ExtraTrees",
    "HistGradientBoosting",
    "LogisticRegression",
    "RandomForest",
    "Ridge",
    "XGBoost",
    "get",
    "names",
    "register",
]
