"""``XGBoost``: gradient-boosted trees (``XGBClassifier`` / ``XGBRegressor`` by task kind)."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from litmus_automl.algorithms.base import Algorithm
from litmus_automl.space import Distribution, Float, Int

__all__ = ["XGBoost", "cuda_available"]

_OBJECTIVES = {
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "regression": "reg:squarederror",
}
_FORMATS = ("ubj", "json")


@functools.cache
def cuda_available() -> bool:
    """Whether XGBoost can train on a CUDA device here (built with CUDA and a GPU visible)."""
    import xgboost as xgb

    if not xgb.build_info().get("USE_CUDA"):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = xgb.DMatrix(np.zeros((2, 1)), label=np.array([0.0, 1.0]))
            booster = xgb.train({"device": "cuda", "verbosity": 0}, data, num_boost_round=1)
        config = json.loads(booster.save_config())
    except Exception:  # any failure to use the device means: no usable GPU
        return False
    device = str(config["learner"]["generic_param"].get("device", "cpu"))
    return device.startswith("cuda")


class XGBoost(Algorithm):
    """XGBoost gradient-boosted trees, ``tree_method="hist"``.

    Parameters
    ----------
    **params
        Any ``XGBClassifier`` / ``XGBRegressor`` parameter. ``eta``, ``lambda``, ``alpha`` and
        ``num_boost_round`` are read as ``learning_rate``, ``reg_lambda``, ``reg_alpha`` and
        ``n_estimators``. ``device="cuda"`` trains on a GPU.

    Notes
    -----
    The objective follows the task kind: ``binary:logistic``, ``multi:softprob`` or
    ``reg:squarederror``. The model is saved in XGBoost's native UBJSON (or JSON) format.

    Examples
    --------
    >>> from litmus_automl.space import Float, Int
    >>> algo = XGBoost().search(max_depth=Int(3, 10), eta=Float(0.01, 0.3, log=True))
    >>> algo.search_space()["learning_rate"]
    Float(low=0.01, high=0.3, log=True)
    >>> XGBoost().hyperparams(max_depth=5, n_estimators=20).get_params()
    {'max_depth': 5, 'n_estimators': 20}
    """

    name = "XGBoost"
    aliases: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "eta": "learning_rate",
            "lambda": "reg_lambda",
            "alpha": "reg_alpha",
            "num_boost_round": "n_estimators",
        }
    )

    def default_space(self) -> dict[str, Distribution]:
        """max_depth, learning_rate, n_estimators, subsample, colsample_bytree, min_child_weight."""
        return {
            "max_depth": Int(3, 10),
            "learning_rate": Float(0.01, 0.3, log=True),
            "n_estimators": Int(50, 400),
            "subsample": Float(0.6, 1.0),
            "colsample_bytree": Float(0.5, 1.0),
            "min_child_weight": Float(1.0, 10.0, log=True),
        }

    def _device(self) -> str:
        return str(self.get_params().get("device") or self.device or "cpu")

    def _check_device(self) -> None:
        device = self._device()
        if device.startswith(("cuda", "gpu")) and not cuda_available():
            raise RuntimeError(
                f"{self.name}: device={device!r} was requested but no CUDA device is available "
                f"(XGBoost built with CUDA: {_built_with_cuda()}); use device='cpu'"
            )

    def configure(
        self,
        kind: str,
        n_classes: int | None = None,
        seed: int = 0,
        n_jobs: int = 1,
        device: str | None = None,
    ) -> Algorithm:
        """Set the task kind and resources; ``device="cuda"`` without a GPU raises RuntimeError."""
        super().configure(kind, n_classes, seed, n_jobs, device)
        self._check_device()
        return self

    def build(self) -> Any:
        """An unfitted ``XGBClassifier`` or ``XGBRegressor``."""
        import xgboost as xgb

        self._check_device()
        kind = self.task_kind or "binary"
        params: dict[str, Any] = {
            "tree_method": "hist",
            "objective": _OBJECTIVES[kind],
            "n_jobs": self.n_jobs,
            "random_state": self.seed,
            "enable_categorical": True,
        }
        if self.device is not None:
            params["device"] = self.device
        params.update(self.get_params())
        deadline = getattr(self, "deadline", None)
        if deadline is not None:  # a tuning trial's time budget: stop boosting when it passes
            self.deadline_stop_ = _DeadlineStop(deadline)
            params["callbacks"] = [self.deadline_stop_]
        cls = xgb.XGBRegressor if kind == "regression" else xgb.XGBClassifier
        return cls(**params)

    def save(self, directory: str | Path, format: str = "ubj") -> list[str]:
        """Save in XGBoost's native format (``"ubj"`` or ``"json"``); returns the paths."""
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {_FORMATS}, got {format!r}")
        self._format = format
        return super().save(directory)

    def _save_model(self, directory: Path) -> list[str]:
        name = f"model.{getattr(self, '_format', 'ubj')}"
        self._check_fitted().save_model(directory / name)
        return [name]

    @classmethod
    def _load_model(cls, directory: Path, meta: Mapping[str, Any]) -> Algorithm:
        import xgboost as xgb

        obj = cls._from_meta(meta)
        files = [n for n in meta["sha256"] if n.startswith("model.")]
        if not files:
            raise ValueError(f"{str(directory)!r}: no XGBoost model file recorded")
        kind = obj.task_kind or "binary"
        model = xgb.XGBRegressor() if kind == "regression" else xgb.XGBClassifier()
        model.load_model(directory / files[0])
        obj.estimator_ = model
        return obj


def _deadline_callback_base() -> type:
    import xgboost as xgb

    return xgb.callback.TrainingCallback  # type: ignore[no-any-return]


class _DeadlineStop:
    """An XGBoost training callback that stops boosting once ``time.monotonic()`` passes
    ``deadline`` (``hit`` says whether it did: the model is then incomplete)."""

    def __new__(cls, deadline: float) -> Any:
        base = _deadline_callback_base()

        class DeadlineStop(base):  # type: ignore[misc, valid-type]
            def __init__(self, deadline: float) -> None:
                super().__init__()
                self.deadline = deadline
                self.hit = False

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                import time

                self.hit = time.monotonic() > self.deadline
                return self.hit

        return DeadlineStop(deadline)


def _built_with_cuda() -> bool:
    import xgboost as xgb

    return bool(xgb.build_info().get("USE_CUDA"))
