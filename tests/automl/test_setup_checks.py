"""``train`` checks every task's whole setup before anything trains (``check_setup`` runs
the same checks without training), and leaves the caller's algorithm objects as they were."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression as SkLogistic

import litmus_automl as litmus
from litmus_automl import Algorithm, RandomForest, XGBoost
from litmus_automl.train import check_setup


class Counted(Algorithm):
    """A real algorithm (scikit-learn's logistic regression) that counts its fits."""

    name = "Counted"
    kinds = frozenset({"binary", "multiclass"})
    fits: ClassVar[list[int]] = []

    def build(self) -> Any:
        Counted.fits.append(1)
        return SkLogistic(max_iter=200)


def _tasks() -> tuple[litmus.TaskData, litmus.TaskData]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "z": rng.normal(size=60)})
    binary = frame.assign(y=(frame["x"] > 0).astype(int))
    regression = frame.assign(y=frame["x"] * 2.0 + frame["z"])
    return (
        litmus.TaskData.create("b", "binary", {"train": binary}, {"label": "y"}, k_fold=2),
        litmus.TaskData.create("r", "regression", {"train": regression}, {"label": "y"}, k_fold=2),
    )


@pytest.mark.parametrize(
    ("algorithms", "metrics", "tasks", "message"),
    [
        (
            [Counted, RandomForest().hyperparams(criterion="squared_error", n_estimators=3)],
            None,
            "b",
            r"task 'b': RandomForest: criterion='squared_error' is not valid",
        ),
        ([Counted], {"validation": ["rmse"]}, "b", r"metrics\['validation'\]: 'rmse' does not"),
        ([Counted], None, "br", r"task 'r': Counted does not support regression tasks"),
        ([Counted], None, "bb", r"task names must be unique; repeated: \['b'\]"),
    ],
)
def test_refused_before_anything_trains(
    algorithms: list[Any], metrics: Any, tasks: str, message: str
) -> None:
    by_name = dict(zip("br", _tasks(), strict=True))
    data = [by_name[t] for t in tasks]
    for run in (check_setup, lambda *a: litmus.train(*a, progress=False)):
        Counted.fits.clear()
        with pytest.raises(ValueError, match=message):
            run(data, algorithms, metrics)
        assert Counted.fits == []  # nothing was fit, not even the valid first algorithm


def test_train_leaves_the_given_algorithm_unconfigured() -> None:
    binary, regression = _tasks()
    algo = XGBoost(n_estimators=3, max_depth=2)
    results = litmus.train([binary, regression], algorithm=[algo], progress=False)
    assert algo.task_kind is None and not hasattr(algo, "estimator_")
    assert results["b"].best.model.task_kind == "binary"
    assert results["r"].best.model.task_kind == "regression"
    Counted.fits.clear()
    check_setup(binary, [Counted, algo], {"validation": ["accuracy"]})
    assert Counted.fits == []
