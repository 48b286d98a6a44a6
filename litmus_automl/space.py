"""Search-space distributions: ``Int``, ``Float`` and ``Categorical``.

Each is a small frozen value that checks itself when built and knows how to ask an Optuna
trial for a value (``suggest``). They are what ``Algorithm.search(...)`` takes and what
``Algorithm.search_space()`` returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["Categorical", "Distribution", "Float", "Int", "from_config", "from_dict"]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Int:
    """An integer in ``[low, high]`` (both ends included).

    Parameters
    ----------
    low, high : int
        The bounds, ``low < high``.
    log : bool, default False
        Sample on a log scale (needs ``low > 0`` and ``step == 1``).
    step : int, default 1
        The spacing of the values.

    Examples
    --------
    >>> Int(3, 10)
    Int(low=3, high=10, log=False, step=1)
    """

    low: int
    high: int
    log: bool = False
    step: int = 1

    def __post_init__(self) -> None:
        for field in ("low", "high", "step"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Int: {field} must be an int, got {value!r}")
        if self.low >= self.high:
            raise ValueError(f"Int: low ({self.low}) must be < high ({self.high})")
        if self.step < 1:
            raise ValueError(f"Int: step must be >= 1, got {self.step}")
        if self.log and self.low <= 0:
            raise ValueError(f"Int: log=True needs low > 0, got low={self.low}")
        if self.log and self.step != 1:
            raise ValueError("Int: log=True needs step=1")

    def suggest(self, trial: Any, name: str) -> int:
        """Ask an Optuna ``trial`` for a value of parameter ``name``."""
        return int(trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log))

    def contains(self, value: object) -> bool:
        """Whether ``value`` is one of the values this distribution can give."""
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (see ``from_dict``)."""
        return {
            "type": "Int",
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }


@dataclass(frozen=True, slots=True)
class Float:
    """A float in ``[low, high]``.

    Parameters
    ----------
    low, high : float
        The bounds, ``low < high``, both finite.
    log : bool, default False
        Sample on a log scale (needs ``low > 0``).

    Examples
    --------
    >>> Float(0.01, 0.3, log=True)
    Float(low=0.01, high=0.3, log=True)
    """

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        for field in ("low", "high"):
            value = getattr(self, field)
            if not _is_number(value) or not math.isfinite(value):
                raise TypeError(f"Float: {field} must be a finite number, got {value!r}")
            object.__setattr__(self, field, float(value))
        if self.low >= self.high:
            raise ValueError(f"Float: low ({self.low}) must be < high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"Float: log=True needs low > 0, got low={self.low}")

    def suggest(self, trial: Any, name: str) -> float:
        """Ask an Optuna ``trial`` for a value of parameter ``name``."""
        return float(trial.suggest_float(name, self.low, self.high, log=self.log))

    def contains(self, value: object) -> bool:
        """Whether ``value`` is one of the values this distribution can give."""
        return _is_number(value) and self.low <= value <= self.high  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (see ``from_dict``)."""
        return {"type": "Float", "low": self.low, "high": self.high, "log": self.log}


_CHOICE_TYPES = (type(None), bool, int, float, str)


@dataclass(frozen=True, slots=True)
class Categorical:
    """One of a fixed list of choices (``None``, bool, int, float or str, as Optuna stores).

    Parameters
    ----------
    choices : sequence
        The choices, at least one, without duplicates.

    Examples
    --------
    >>> Categorical(["gini", "entropy"])
    Categorical(choices=('gini', 'entropy'))
    """

    choices: Sequence[Any]

    def __post_init__(self) -> None:
        choices = self.choices
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise TypeError(f"Categorical: choices must be a list or tuple, got {choices!r}")
        if len(choices) == 0:
            raise ValueError("Categorical: choices must not be empty")
        bad = [c for c in choices if not isinstance(c, _CHOICE_TYPES)]
        if bad:
            raise TypeError(
                f"Categorical: choices must be None, bool, int, float or str; got {bad!r}"
            )
        if len(set(map(repr, choices))) != len(choices):
            raise ValueError(f"Categorical: duplicate choices in {list(choices)!r}")
        object.__setattr__(self, "choices", tuple(choices))

    def suggest(self, trial: Any, name: str) -> Any:
        """Ask an Optuna ``trial`` for a value of parameter ``name``."""
        return trial.suggest_categorical(name, list(self.choices))

    def contains(self, value: object) -> bool:
        """Whether ``value`` is one of the choices."""
        return any(type(c) is type(value) and c == value for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (see ``from_dict``)."""
        return {"type": "Categorical", "choices": list(self.choices)}


Distribution: TypeAlias = Int | Float | Categorical


def from_dict(spec: dict[str, Any]) -> Distribution:
    """Rebuild a distribution from its ``to_dict()`` form.

    Examples
    --------
    >>> from_dict(Int(1, 5).to_dict())
    Int(low=1, high=5, log=False, step=1)
    """
    kind = spec.get("type")
    args = {k: v for k, v in spec.items() if k != "type"}
    if kind == "Int":
        return Int(**args)
    if kind == "Float":
        return Float(**args)
    if kind == "Categorical":
        return Categorical(tuple(args["choices"]))
    raise ValueError(f"unknown distribution type {kind!r} (expected Int, Float or Categorical)")


def from_config(where: str, spec: Any, error: type[Exception] = ValueError) -> Distribution:
    """A distribution from its form in a YAML file a person writes: ``{int: [low, high]}``,
    ``{float: [low, high], log: true}`` or ``{choices: [...]}``.

    Raises ``error`` (the caller's error type) naming ``where`` (the key path) and what was
    expected.

    Examples
    --------
    >>> from_config("search.max_depth", {"int": [2, 8]})
    Int(low=2, high=8, log=False, step=1)
    """
    if not isinstance(spec, dict) or len({"int", "float", "choices"} & set(spec)) != 1:
        raise error(
            f"{where}: expected {{int: [low, high]}}, {{float: [low, high], log: true}} or "
            f"{{choices: [...]}}; got {spec!r}"
        )
    try:
        if "choices" in spec:
            return Categorical(list(spec["choices"]))
        kind = "int" if "int" in spec else "float"
        low, high = spec[kind]
        cls = Int if kind == "int" else Float
        return cls(low, high, log=bool(spec.get("log", False)))
    except (TypeError, ValueError) as err:
        raise error(f"{where}: {err}") from err
