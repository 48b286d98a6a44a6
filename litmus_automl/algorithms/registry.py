"""The algorithm registry: names to ``Algorithm`` classes."""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["configured", "get", "names", "register"]

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


def configured(
    algo: Algorithm, spec: Mapping[str, Any], where: str, error: type[Exception] = ValueError
) -> Algorithm:
    """``algo`` with the ``hyperparams`` and ``search`` of a YAML algorithm entry
    (``{name: ..., hyperparams: {...}, search: {param: {int: [..]}, ...}}``) applied.

    Raises ``error`` (the caller's error type) naming the key path under ``where``.
    """
    from litmus_automl.space import from_config

    for key in ("hyperparams", "search"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            raise error(f"{where}.{key}: expected a mapping of parameter -> value")
    if spec.get("hyperparams"):
        try:
            algo = algo.hyperparams(**spec["hyperparams"])
        except (TypeError, ValueError) as err:
            raise error(f"{where}.hyperparams: {err}") from err
    if spec.get("search"):
        space = {k: from_config(f"{where}.search.{k}", v, error) for k, v in spec["search"].items()}
        try:
            algo = algo.search(**space)
        except (TypeError, ValueError) as err:
            raise error(f"{where}.search: {err}") from err
    return algo
