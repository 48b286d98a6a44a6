"""Model formats of a bundle: how each is saved, loaded and called (:data:`MODEL_IO`).

Each format writes the model in its native form (XGBoost UBJ, scikit-learn via skops) or,
for code you trust, a cloudpickle. :mod:`litmus_automl.bundle` re-exports everything here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BundleError", "ModelIO", "MODEL_IO", "Predictor", "SKOPS_TRUSTED_PREFIXES"]

SKOPS_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
"""Modules whose types a scikit-learn model file may hold (anything else is refused)."""

Predictor = Callable[[np.ndarray], np.ndarray]


class BundleError(ValueError):
    """A bundle that cannot be written or loaded (missing, tampered, truncated, other version)."""


# model formats --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelIO:
    """How one model format is saved, loaded and called.

    Attributes
    ----------
    save : callable
        ``save(model, directory) -> list[str]``: writes the model under ``directory``, returns
        the files written (relative to ``directory``).
    load : callable
        ``load(directory, files) -> model``.
    predictor : callable
        ``predictor(model, kind) -> f`` where ``f(X)`` takes a float64 2-D array and gives
        class probabilities (2-D) for ``"classification"``, values (1-D) for ``"regression"``.
    requires_pickle : bool
        Loading runs arbitrary code: only with ``load(..., allow_pickle=True)``.
    """

    save: Callable[[Any, Path], list[str]]
    load: Callable[[Path, list[str]], Any]
    predictor: Callable[[Any, str], Predictor]
    requires_pickle: bool = False


def _xgb_save(model: Any, directory: Path) -> list[str]:
    import xgboost

    if not isinstance(model, (xgboost.XGBModel, xgboost.Booster)):
        raise TypeError(f"model format 'xgboost' needs an XGBoost model; got {type(model)}")
    model.save_model(directory / "model.ubj")
    (directory / "xgboost.json").write_text(json.dumps({"class": type(model).__name__}))
    return ["model.ubj", "xgboost.json"]


def _xgb_load(directory: Path, files: list[str]) -> Any:
    import xgboost

    name = json.loads((directory / "xgboost.json").read_text())["class"]
    classes = {
        "Booster": xgboost.Booster,
        "XGBClassifier": xgboost.XGBClassifier,
        "XGBRegressor": xgboost.XGBRegressor,
        "XGBRFClassifier": xgboost.XGBRFClassifier,
        "XGBRFRegressor": xgboost.XGBRFRegressor,
    }
    if name not in classes:
        raise BundleError(f"{directory / 'xgboost.json'}: unknown XGBoost class {name!r}")
    model = classes[name]()
    model.load_model(directory / "model.ubj")
    return model


def _xgb_row_predictor(booster: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """One-row prediction through XGBoost's C API (``XGBoosterPredictFromDense``) on a
    single-thread copy of the booster: the same predictor as ``inplace_predict`` without its
    per-call Python work (~half the time) or a thread pool for one row. None when this
    XGBoost does not expose the call."""
    try:
        import ctypes

        from xgboost.core import _LIB, _check_call, c_bst_ulong
    except ImportError:  # pragma: no cover - another XGBoost layout
        return None
    single = booster.copy()
    single.set_param({"nthread": 1})
    best = booster.attr("best_iteration")
    config = json.dumps(
        {
            "type": 0,
            "training": False,
            "iteration_begin": 0,
            "iteration_end": 0 if best is None else int(best) + 1,
            "strict_shape": False,
            "missing": float("nan"),
            "cache_id": 0,
        }
    ).encode()
    call = _LIB.XGBoosterPredictFromDense

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        iface = json.dumps(
            {"data": (x.ctypes.data, True), "shape": x.shape, "typestr": "<f8", "version": 3}
        ).encode()
        shape = ctypes.POINTER(c_bst_ulong)()
        dims = c_bst_ulong()
        out = ctypes.POINTER(ctypes.c_float)()
        handle = single.handle
        _check_call(
            call(
                handle,
                iface,
                config,
                None,
                ctypes.byref(shape),
                ctypes.byref(dims),
                ctypes.byref(out),
            )
        )
        size = 1
        for i in range(dims.value):
            size *= shape[i]
        return np.ctypeslib.as_array(out, shape=(size,)).copy()

    return predict


def _xgb_predictor(model: Any, kind: str) -> Predictor:
    import xgboost

    booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
    best = booster.attr("best_iteration")
    stop = 0 if best is None else int(best) + 1  # as XGBModel.predict: up to the best round
    inplace = booster.inplace_predict

    def batch(x: np.ndarray) -> np.ndarray:
        return inplace(x, iteration_range=(0, stop), validate_features=False)  # type: ignore[no-any-return]

    row = _xgb_row_predictor(booster)
    if row is not None:
        probe = np.zeros((1, booster.num_features()))
        if not np.array_equal(row(probe), np.ravel(batch(probe))):  # pragma: no cover
            row = None

    def raw(x: np.ndarray) -> np.ndarray:
        if row is not None and x.shape[0] == 1:
            out = row(x)
            classes = out.shape[0]
            return out if kind == "regression" or classes == 1 else out.reshape(1, classes)
        return batch(x)

    if kind == "regression":
        return raw

    def proba(x: np.ndarray) -> np.ndarray:
        out = raw(x)
        if out.ndim == 1:  # binary:logistic gives P(class 1), as XGBClassifier.predict_proba
            return np.vstack((1 - out, out)).T
        return out

    return proba


def _skops_save(model: Any, directory: Path) -> list[str]:
    import skops.io

    skops.io.dump(model, directory / "model.skops")
    return ["model.skops"]


def _skops_load(directory: Path, files: list[str]) -> Any:
    import skops.io

    file = directory / "model.skops"
    untrusted = skops.io.get_untrusted_types(file=file)
    refused = [t for t in untrusted if not t.startswith(SKOPS_TRUSTED_PREFIXES)]
    if refused:
        raise BundleError(
            f"{file} holds types outside {SKOPS_TRUSTED_PREFIXES}: {refused}; "
            "refusing to load them (use model format 'pickle' with allow_pickle=True for "
            "custom estimators you trust)"
        )
    return skops.io.load(file, trusted=untrusted)


def _estimator_predictor(model: Any, kind: str) -> Predictor:
    if kind == "regression":
        return lambda x: np.asarray(model.predict(x), dtype=np.float64)
    if not hasattr(model, "predict_proba"):
        raise BundleError(f"{type(model).__name__} has no predict_proba: cannot classify")
    return model.predict_proba  # type: ignore[no-any-return]


def _pickle_save(model: Any, directory: Path) -> list[str]:
    import cloudpickle

    with open(directory / "model.pkl", "wb") as f:
        cloudpickle.dump(model, f)
    return ["model.pkl"]


def _pickle_load(directory: Path, files: list[str]) -> Any:
    import pickle

    with open(directory / "model.pkl", "rb") as f:
        return pickle.load(f)


MODEL_IO: dict[str, ModelIO] = {
    "xgboost": ModelIO(_xgb_save, _xgb_load, _xgb_predictor),
    "sklearn": ModelIO(_skops_save, _skops_load, _estimator_predictor),
    "pickle": ModelIO(_pickle_save, _pickle_load, _estimator_predictor, requires_pickle=True),
}
"""Model format -> :class:`ModelIO`. Register a format by adding an entry."""
