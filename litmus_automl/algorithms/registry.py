"""The algorithm registry: names to ``Algorithm`` classes."""

from __future__ import annotations

from typing import Any

from litmus_automl.algorithms.base import Algorithm
from litmus_automl.algorithms.sklearn import (
    ExtraTrees,
    HistGradientBoosting,
    LogisticRegression,
    RandomForest,
    Ridge,
)
from litmus_automl.algorithms.xgboost import XGBoost

__all__ = ["get", "names", "register"]

_REGISTRY: dict[str, type[Algorithm]] = {}


def register(cls: type[Algorithm], name: str | None = None) -> type[Algorithm]:
    """Register an ``Algorithm`` subclass under ``name`` (default: its ``name``); usable as a
    class decorator.

    Examples
    --------
    >>> class Mine(Algorithm):
    ...     pass
    >>> _ = register(Mine)
    >>> "Mine" in names()
    True
    """
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        raise TypeError(f"register() takes an Algorithm subclass, got {cls!r}")
    key = name or cls.name
    existing = _REGISTRY.get(key)
    if existing is not None and existing is not cls:
        raise ValueError(f"an algorithm named {key!r} is already registered ({existing})")
    _REGISTRY[key] = cls
    return cls


for _cls in (XGBoost, LogisticRegression, Ridge, RandomForest, ExtraTrees, HistGradientBoosting):
    register(_cls)


def names() -> list[str]:
    """The registered algorithm names."""
    return list(_REGISTRY)


def get(spec: Any) -> Algorithm:
    """An ``Algorithm`` from a registry name (case-insensitive), an instance (returned as is)
    or an ``Algorithm`` subclass (instantiated).

    Examples
    --------
    >>> get("xgboost")
    XGBoost()
    """
    if isinstance(spec, Algorithm):
        return spec
    if isinstance(spec, type) and issubclass(spec, Algorithm):
        return spec()
    if isinstance(spec, str):
        cls = _REGISTRY.get(spec) or {k.lower(): v for k, v in _REGISTRY.items()}.get(spec.lower())
        if cls is None:
            raise ValueError(f"unknown algorithm {spec!r}; known algorithms: {', '.join(names())}")
        return cls()
    raise TypeError(
        f"an algorithm is a registry name or an Algorithm (subclass), got {type(spec).__name__}"
    )
