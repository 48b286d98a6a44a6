"""Turning the models litmus trains into compiled forms (:func:`convert`).

XGBoost boosters (``gbtree``: ``binary:logistic``, ``multi:softprob`` / ``multi:softmax``,
``reg:squarederror``), scikit-learn's RandomForest / ExtraTrees / HistGradientBoosting
(classifier or regressor) and LogisticRegression / Ridge, standardized or not. Anything else
(categorical splits, vector leaves, other objectives or losses, other estimators) is
declined with the reason: the bundle then serves the native model only.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._kernel import xgb_prob_to_margin
from .base import CompiledModel
from .linear import Linear
from .trees import TreeEnsemble

__all__ = ["Declined", "convert"]


class Declined(Exception):
    """This model has no compiled form (the message says why)."""


def convert(model: Any, model_format: str, kind: str) -> CompiledModel:
    """The compiled form of ``model`` (stored as ``model_format``) for the task ``kind``.

    Raises
    ------
    Declined
        When the model (or a part of it) has no exact compiled form.
    """
    if model_format == "xgboost":
        return _from_xgboost(model, kind)
    if model_format == "sklearn":
        return _from_sklearn(model, kind)
    raise Declined(f"model format {model_format!r} is served natively")


# XGBoost --------------------------------------------------------------------------------------
_XGB_OBJECTIVES = {
    "binary:logistic": "xgb_logistic",
    "multi:softprob": "xgb_softmax",
    "multi:softmax": "xgb_softmax",
    "reg:squarederror": "identity",
}


def _base_margin(text: str, objective: str, outputs: int) -> np.ndarray:
    """The starting margins from ``learner_model_param.base_score`` (XGBoost >= 3 writes a
    list, as ``"[5E-1]"``; older ones one number): a probability for ``binary:logistic``
    (XGBoost's ``ProbToMargin``: ``-log(1 / p - 1)`` in float32), else margins already."""
    values = [float(v) for v in text.strip("[]").split(",")]
    base = np.asarray(values, dtype=np.float32)
    if objective == "binary:logistic":
        base = xgb_prob_to_margin(base)
    if base.size == 1 and outputs > 1:
        base = np.repeat(base, outputs)
    if base.size != outputs:
        raise Declined(f"base_score {text!r} does not give {outputs} margins")
    return base.astype(np.float32)


def _from_xgboost(model: Any, kind: str) -> TreeEnsemble:
    import xgboost

    booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
    learner = json.loads(booster.save_raw("json"))["learner"]
    objective = learner["objective"]["name"]
    if objective not in _XGB_OBJECTIVES:
        raise Declined(f"XGBoost objective {objective!r} is served natively")
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise Declined(f"XGBoost booster {gb.get('name')!r} is served natively")
    param = learner["learner_model_param"]
    if int(param.get("num_target", 1)) != 1:
        raise Declined("multi-target XGBoost models are served natively")
    groups = max(1, int(param.get("num_class", 0)))
    trees = gb["model"]["trees"]
    info = gb["model"]["tree_info"]
    best = booster.attr("best_iteration")
    if best is not None:  # as XGBModel.predict: up to the best round
        trees = trees[: gb["model"]["iteration_indptr"][int(best) + 1]]
    base = _base_margin(param["base_score"], objective, groups)
    feature, left, right, default, threshold, value, roots = [], [], [], [], [], [], []
    start = 0
    for i, tree in enumerate(trees):
        if int(tree["tree_param"].get("size_leaf_vector", 1)) > 1:
            raise Declined("XGBoost vector-leaf trees are served natively")
        if any(tree["split_type"]) or tree.get("categories_nodes"):
            raise Declined("XGBoost categorical splits are served natively")
        lc = np.asarray(tree["left_children"], dtype=np.int64)
        rc = np.asarray(tree["right_children"], dtype=np.int64)
        leaf = lc == -1
        cond = np.asarray(tree["split_conditions"], dtype=np.float32)
        roots.append(start)
        feature.append(np.where(leaf, 0, tree["split_indices"]))
        left.append(np.where(leaf, -1, lc + start))
        right.append(np.where(leaf, -1, rc + start))
        default.append(np.where(leaf, 0, tree["default_left"]))
        threshold.append(np.where(leaf, 0.0, cond.astype(np.float64)))
        value.append(np.where(leaf, cond, np.float32(0)))  # a leaf's value is its condition
        start += len(lc)
        if not 0 <= info[i] < groups:
            raise Declined(f"XGBoost tree {i} adds to output {info[i]} of {groups}")
    if not trees:
        raise Declined("the XGBoost model has no trees")
    cat = np.concatenate
    return TreeEnsemble(
        feature=cat(feature).astype(np.int32),
        left=cat(left).astype(np.int32),
        right=cat(right).astype(np.int32),
        default_left=cat(default).astype(np.int32),
        threshold=cat(threshold).astype(np.float64),
        value=cat(value).astype(np.float32).reshape(-1, 1),
        roots=np.asarray(roots, dtype=np.int32),
        offset=np.asarray(info[: len(trees)], dtype=np.int32),
        base=base,
        to_float32=True,
        strict=True,
        nan_ok=True,
        mean=False,
        post="identity" if kind == "regression" else _XGB_OBJECTIVES[objective],
    )


# scikit-learn ---------------------------------------------------------------------------------
def _from_sklearn(model: Any, kind: str) -> CompiledModel:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = None
    if type(model) is Pipeline:
        steps = [s for _, s in model.steps]
        if len(steps) != 2 or type(steps[0]) is not StandardScaler:
            raise Declined("a Pipeline other than StandardScaler + a linear model")
        scaler, model = steps
    forests = (RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier)
    if type(model) in (LogisticRegression, Ridge):
        return _from_linear(model, scaler, kind)
    if scaler is not None:
        raise Declined(f"StandardScaler before {type(model).__name__}")
    if type(model) in (*forests, ExtraTreesRegressor):
        return _from_forest(model, kind)
    if type(model) in (HistGradientBoostingClassifier, HistGradientBoostingRegressor):
        return _from_hist_gradient_boosting(model, kind)
    raise Declined(f"{type(model).__name__} is served natively")


def _f64(a: Any) -> np.ndarray:
    return np.array(a, dtype=np.float64, copy=True)


def _from_linear(model: Any, scaler: Any, kind: str) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean = scale = None
    if scaler is not None:
        if scaler.with_mean:
            mean = _f64(scaler.mean_)
        if scaler.with_std:
            scale = _f64(scaler.scale_)
    coef, intercept = _f64(model.coef_), _f64(model.intercept_)
    if isinstance(model, LogisticRegression):
        if kind != "classification":
            raise Declined("LogisticRegression for regression")
        post = "expit" if len(model.classes_) <= 2 else "softmax"
    else:
        if kind != "regression" or coef.ndim != 1:
            raise Declined("Ridge with more than one target")
        post = "identity"
    return Linear(coef=coef, intercept=intercept, mean=mean, scale=scale, post=post)


def _tree_nodes(tree: Any, start: int) -> dict[str, np.ndarray]:
    """One scikit-learn ``Tree``'s nodes, numbered from ``start``."""
    lc = tree.children_left.astype(np.int64)
    leaf = lc == -1
    nodes = tree.__getstate__()["nodes"]
    return {
        "feature": np.where(leaf, 0, tree.feature),
        "left": np.where(leaf, -1, lc + start),
        "right": np.where(leaf, -1, tree.children_right.astype(np.int64) + start),
        "default_left": np.where(leaf, 0, nodes["missing_go_to_left"]),
        "threshold": np.where(leaf, 0.0, tree.threshold),
    }


def _stack(parts: list[dict[str, np.ndarray]], name: str, dtype: Any) -> np.ndarray:
    return np.concatenate([p[name] for p in parts]).astype(dtype)


def _from_forest(model: Any, kind: str) -> TreeEnsemble:
    if getattr(model, "n_outputs_", 1) != 1:
        raise Declined("multi-output forests are served natively")
    classify = kind == "classification"
    width = int(model.n_classes_) if classify else 1
    parts, values, roots, start = [], [], [], 0
    for est in model.estimators_:
        tree = est.tree_
        parts.append(_tree_nodes(tree, start))
        if classify:  # DecisionTreeClassifier.predict_proba: normalized, as it does
            proba = tree.value[:, 0, :width]
            normalizer = proba.sum(axis=1)[:, np.newaxis]
            normalizer[normalizer == 0.0] = 1.0
            values.append(proba / normalizer)
        else:
            values.append(tree.value[:, 0, :1])
        roots.append(start)
        start += tree.node_count
    return TreeEnsemble(
        **{n: _stack(parts, n, np.int32) for n in ("feature", "left", "right", "default_left")},
        threshold=_stack(parts, "threshold", np.float64),
        value=np.ascontiguousarray(np.concatenate(values), dtype=np.float64),
        roots=np.asarray(roots, dtype=np.int32),
        offset=np.zeros(len(roots), dtype=np.int32),
        base=np.zeros(width, dtype=np.float64),
        to_float32=True,
        strict=False,
        nan_ok=False,  # whether NaN is allowed depends on the forest's criterion: native
        mean=True,
        post="identity",
    )


def _from_hist_gradient_boosting(model: Any, kind: str) -> TreeEnsemble:
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError

    loss = type(model._loss)
    posts = {HalfSquaredError: "identity", HalfBinomialLoss: "expit"}
    posts[HalfMultinomialLoss] = "softmax"
    if loss not in posts:
        raise Declined(f"HistGradientBoosting with loss {loss.__name__} is served natively")
    parts, values, roots, offset, start = [], [], [], [], 0
    for iteration in model._predictors:
        for k, predictor in enumerate(iteration):
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):
                raise Declined("HistGradientBoosting categorical splits are served natively")
            leaf = nodes["is_leaf"].astype(bool)
            parts.append(
                {
                    "feature": np.where(leaf, 0, nodes["feature_idx"]),
                    "left": np.where(leaf, -1, nodes["left"].astype(np.int64) + start),
                    "right": np.where(leaf, -1, nodes["right"].astype(np.int64) + start),
                    "default_left": np.where(leaf, 0, nodes["missing_go_to_left"]),
                    "threshold": np.where(leaf, 0.0, nodes["num_threshold"]),
                }
            )
            values.append(nodes["value"].astype(np.float64).reshape(-1, 1))
            roots.append(start)
            offset.append(k)
            start += len(nodes)
    if not roots:
        raise Declined("the HistGradientBoosting model has no trees")
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    return TreeEnsemble(
        **{n: _stack(parts, n, np.int32) for n in ("feature", "left", "right", "default_left")},
        threshold=_stack(parts, "threshold", np.float64),
        value=np.concatenate(values),
        roots=np.asarray(roots, dtype=np.int32),
        offset=np.asarray(offset, dtype=np.int32),
        base=np.ascontiguousarray(base),
        to_float32=False,
        strict=False,
        nan_ok=True,
        mean=False,
        post="identity" if kind == "regression" else posts[loss],
    )
