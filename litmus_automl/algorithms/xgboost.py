"""``XGBoost``: gradient-boosted trees (``XGBClassifier`` / ``XGBRegressor`` by task kind)."""

from __future__ import annotations

import functools
import json
import math
import numbers
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from litmus_automl.algorithms.base import Algorithm
from litmus_automl.space import Distribution, Float, Int

__all__ = ["BOOSTER_PARAMS", "CHOICES", "RANGES", "XGBoost", "cuda_available"]

_OBJECTIVES = {
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "regression": "reg:squarederror",
}
_FORMATS = ("ubj", "json")

BOOSTER_PARAMS: frozenset[str] = frozenset(
    {
        # DART booster
        "rate_drop",
        "skip_drop",
        "one_drop",
        "sample_type",
        "normalize_type",
        # objectives' parameters
        "tweedie_variance_power",
        "huber_slope",
        "quantile_alpha",
        "aft_loss_distribution",
        "aft_loss_distribution_scale",
        # tree booster
        "max_cached_hist_node",
        "refresh_leaf",
        "process_type",
        "updater",
    }
)
"""Documented booster parameters the scikit-learn wrapper passes through ``**kwargs`` (not
in ``XGBModel().get_params()``)."""


@dataclass(frozen=True)
class _Range:
    """The valid values of a numeric parameter: ``low``/``high`` (None: unbounded), whether
    the low end is excluded, and whether it must be an integer."""

    low: float | None
    high: float | None = None
    low_open: bool = False
    integer: bool = False

    def check(self, value: Any) -> None:
        number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
        if not number or (self.integer and not isinstance(value, numbers.Integral)):
            raise ValueError(f"expected {self}")
        v = float(value)
        below = self.low is not None and (v <= self.low if self.low_open else v < self.low)
        if math.isnan(v) or below or (self.high is not None and v > self.high):
            raise ValueError(f"expected {self}")

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.high is None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        left = "(" if self.low_open else "["
        return f"{kind} in {left}{self.low:g}, {self.high:g}]"


_UNIT = _Range(0.0, 1.0, low_open=True)
_NON_NEGATIVE = _Range(0.0)
RANGES: Mapping[str, _Range] = MappingProxyType(
    {
        "n_estimators": _Range(1, integer=True),
        "learning_rate": _Range(0.0, low_open=True),
        "max_depth": _Range(0, integer=True),
        "max_leaves": _Range(0, integer=True),
        "max_bin": _Range(2, integer=True),
        "num_parallel_tree": _Range(1, integer=True),
        "max_cat_to_onehot": _Range(1, integer=True),
        "max_cat_threshold": _Range(1, integer=True),
        "subsample": _UNIT,
        "colsample_bytree": _UNIT,
        "colsample_bylevel": _UNIT,
        "colsample_bynode": _UNIT,
        "min_child_weight": _NON_NEGATIVE,
        "gamma": _NON_NEGATIVE,
        "reg_alpha": _NON_NEGATIVE,
        "reg_lambda": _NON_NEGATIVE,
        "max_delta_step": _NON_NEGATIVE,
        "scale_pos_weight": _Range(0.0, low_open=True),
        "rate_drop": _Range(0.0, 1.0),
        "skip_drop": _Range(0.0, 1.0),
        "verbosity": _Range(0, 3, integer=True),
    }
)
"""Valid ranges of numeric parameters, checked before training: XGBoost accepts some
nonsense silently (``n_estimators=-5`` trains no tree, ``learning_rate=0`` or
``subsample=0`` learns nothing) and refuses the rest only when fitting."""
CHOICES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "booster": frozenset({"gbtree", "gblinear", "dart"}),
        "tree_method": frozenset({"auto", "exact", "approx", "hist"}),
        "grow_policy": frozenset({"depthwise", "lossguide"}),
        "sampling_method": frozenset({"uniform", "gradient_based"}),
        "sample_type": frozenset({"uniform", "weighted"}),
        "normalize_type": frozenset({"tree", "forest"}),
    }
)


@functools.cache
def _accepted() -> frozenset[str]:
    import xgboost as xgb

    return frozenset(xgb.XGBModel().get_params()) | BOOSTER_PARAMS


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
        Any ``XGBClassifier`` / ``XGBRegressor`` parameter or documented booster parameter
        (:data:`BOOSTER_PARAMS`); other names are refused, with close matches. ``eta``,
        ``lambda``, ``alpha``, ``num_boost_round`` and ``min_split_loss`` are read as
        ``learning_rate``, ``reg_lambda``, ``reg_alpha``, ``n_estimators`` and ``gamma``.
        Numeric values are range-checked (:data:`RANGES`), also the ends of a search range.
        ``device="cuda"`` trains on a GPU.

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
    pickled: ClassVar[bool] = False  # native UBJ / JSON
    aliases: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "eta": "learning_rate",
            "lambda": "reg_lambda",
            "alpha": "reg_alpha",
            "num_boost_round": "n_estimators",
            "min_split_loss": "gamma",
        }
    )

    def valid_params(self) -> Collection[str]:
        """``XGBModel().get_params()`` and the documented booster parameters
        (:data:`BOOSTER_PARAMS`)."""
        return _accepted()

    def check_value(self, name: str, value: Any) -> None:
        """Range-check a numeric parameter (:data:`RANGES`), or one of a fixed set of choices
        (:data:`CHOICES`); ``None`` means XGBoost's default."""
        if value is None:
            return
        if name in RANGES:
            RANGES[name].check(value)
        elif name in CHOICES and value not in CHOICES[name]:
            raise ValueError(f"expected one of {sorted(CHOICES[name])}")

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
