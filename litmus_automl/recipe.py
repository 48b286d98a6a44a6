"""Recipes: a scientist's YAML plan that a non-technical user runs until the model meets its bar.

A recipe (see ``litmus_automl/recipes/cancer_screening.yaml``)::

    name: cancer-screening
    data: {target: target, task: binary, k_fold: 3, test_fraction: 0.25, seed: 0}
    knobs:                                  # what the person running it may change
      time_budget_s: {type: float, default: 30, min: 5, max: 600, help: ...}
    defaults:                               # merged under every step
      algorithms: [LogisticRegression]
      tune: {method: tpe, n_trials: 4, timeout_s: $time_budget_s, seed: 0}
    steps:                                  # tried in order until the bar is met
      - name: three measurements, linear
        preprocess: {columns: [mean texture, mean smoothness, mean symmetry]}
        tune: null                          # fixed parameters
      - name: every measurement, tuned
        algorithms: [LogisticRegression, {name: XGBoost, hyperparams: {n_estimators: 50}}]
    bar: {metric: accuracy, threshold: 0.94, latency_p99_ms: 20}

A value written ``$name`` (the whole value) is the knob ``name``'s value: its default, or what
``--set name=value`` gives (checked against the knob's type and range). A step is its mapping
merged over ``defaults`` (mappings merge key by key, any other value replaces). Each step
trains its algorithms (:func:`litmus_automl.train`, the bar's metric as the validation
objective), takes its best candidate by that validation score, and checks it against the bar:
the metric on the test split, and the p99 latency of the exported bundle's ``predict(dict)``.

:func:`load_recipe` validates everything it can without data (key names, types, ranges,
knobs, algorithm names from the registry, hyperparameters and search ranges for the task
kind, the metric for the task kind); :func:`run_recipe` then checks the data (the target,
every column a step names) before any step trains. Every error is a :class:`RecipeError`
naming the key path (``steps[2].algorithms[0]: unknown algorithm 'xgb'; expected one of ...``).
YAML is read with ``yaml.safe_load``: no code runs from a recipe.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "Bar",
    "DataOptions",
    "Knob",
    "Recipe",
    "RecipeError",
    "Step",
    "example_recipe",
    "load_recipe",
    "parse_recipe",
    "parse_sets",
    "run_recipe",
]

_KNOB_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_TOP_KEYS = ("name", "description", "data", "knobs", "defaults", "steps", "bar")
_STEP_KEYS = ("name", "preprocess", "algorithms", "tune", "ensemble")
_PRE_KEYS = ("columns", "drop", "roles")
_ROLE_KEYS = ("numeric", "categorical", "text", "datetime", "id")
_DATA_KEYS = ("target", "task", "k_fold", "test_fraction", "seed", "roles")
_TUNE_KEYS = ("method", "n_trials", "timeout_s", "seed", "grid_size")
_BAR_KEYS = ("metric", "threshold", "direction", "latency_p99_ms", "latency_p99_us")
_KNOB_KEYS = ("type", "default", "min", "max", "choices", "help")
_KNOB_TYPES = ("int", "float", "bool", "choice")


class RecipeError(ValueError):
    """A recipe (or a ``--set``) that is not what litmus expects; names the key path."""


# knobs ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Knob:
    """A value the person running a recipe may change, with its type and allowed values."""

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""

    def allowed(self) -> str:
        """The allowed values, in words (``10..600``, ``one of a, b``, ``true or false``)."""
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"{'an integer' if self.type == 'int' else 'a number'} in {low}..{high}"

    def check(self, value: Any, where: str) -> Any:
        """``value`` as this knob's type, if it is allowed (else :class:`RecipeError`)."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise RecipeError(f"{where}: expected true or false; got {value!r}")
            return value
        if self.type == "choice":
            if value not in self.choices:
                raise RecipeError(f"{where}: expected {self.allowed()}; got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{where}: expected {self.allowed()}; got {value!r}")
        if self.type == "int" and not float(value).is_integer():
            raise RecipeError(f"{where}: expected {self.allowed()}; got {value!r}")
        if not math.isfinite(value):
            raise RecipeError(f"{where}: expected {self.allowed()}; got {value!r}")
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise RecipeError(f"{where}: {value!r} is outside the allowed {self.allowed()}")
        return int(value) if self.type == "int" else float(value)


def _knob(name: str, spec: Any) -> Knob:
    where = f"knobs.{name}"
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise RecipeError(f"{where}: a knob name is letters, digits and _ (not starting a digit)")
    if not isinstance(spec, dict):
        raise RecipeError(f"{where}: expected {{default: ..., min: ..., max: ...}}; got {spec!r}")
    _known(where, spec, _KNOB_KEYS)
    if "default" not in spec:
        raise RecipeError(f"{where}: missing 'default'")
    default = spec["default"]
    kind = spec.get("type")
    if kind is None:  # from the default, or a choice when choices are given
        if "choices" in spec:
            kind = "choice"
        elif isinstance(default, bool):
            kind = "bool"
        else:
            kind = "int" if isinstance(default, int) else "float"
    if kind not in _KNOB_TYPES:
        raise RecipeError(f"{where}.type: expected one of {', '.join(_KNOB_TYPES)}; got {kind!r}")
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        value = spec.get(key)
        if value is not None and kind in ("bool", "choice"):
            raise RecipeError(f"{where}.{key}: a {kind} knob has no {key}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise RecipeError(f"{where}.{key}: expected a number; got {value!r}")
        bounds[key] = None if value is None else float(value)
    low, high = bounds["min"], bounds["max"]
    if low is not None and high is not None and low > high:
        raise RecipeError(f"{where}: min {low:g} is above max {high:g}")
    choices = spec.get("choices")
    if kind == "choice" and (not isinstance(choices, list) or not choices):
        raise RecipeError(f"{where}.choices: expected a non-empty list of the allowed values")
    if kind != "choice" and choices is not None:
        raise RecipeError(f"{where}.choices: only a knob of type choice has choices")
    helptext = spec.get("help", "")
    if not isinstance(helptext, str):
        raise RecipeError(f"{where}.help: expected a text; got {helptext!r}")
    knob = Knob(name, kind, default, low, high, tuple(choices or ()), helptext)
    return dataclasses.replace(knob, default=knob.check(default, f"{where}.default"))


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``["k=v", ...]`` (``--set`` arguments) as ``{k: value}``; values are read as YAML
    scalars (``120`` an int, ``0.5`` a float, ``true`` a bool, else text)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise RecipeError(f"--set {item!r}: expected KNOB=VALUE, e.g. time_budget_s=120")
        try:
            value = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            value = text
        if isinstance(value, (dict, list)):
            raise RecipeError(f"--set {item!r}: a knob's value is one number, true/false or a word")
        out[name] = value
    return out


def _substitute(
    value: Any, where: str, values: Mapping[str, Any], used: dict[str, list[str]]
) -> Any:
    """``value`` with every ``$knob`` replaced by the knob's value (``used``: knob -> paths)."""
    if isinstance(value, str):
        match = _KNOB_REF.match(value)
        if match is None:
            return value
        name = match.group(1)
        if name not in values:
            known = ", ".join(values) or "none"
            raise RecipeError(f"{where}: {value!r} names no knob (the recipe's knobs: {known})")
        used.setdefault(name, []).append(where)
        return values[name]
    if isinstance(value, dict):
        return {k: _substitute(v, _join(where, k), values, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, f"{where}[{i}]", values, used) for i, v in enumerate(value)]
    return value


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


# the parts of a recipe ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DataOptions:
    """The target column, the task kind, the folds and the test split (without ``--test``)."""

    target: str
    task: str
    k_fold: int = 5
    test_fraction: float = 0.25
    seed: int = 0
    roles: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Bar:
    """The bar a step's model must meet: the metric on the test split against a threshold,
    and (optionally) the p99 latency of the exported bundle's ``predict(dict)``."""

    metric: Any
    threshold: float
    greater_is_better: bool
    latency_p99_s: float | None = None

    @property
    def key(self) -> str:
        """The metric's key in the scores (``accuracy``, ``coverage_at_precision(...)``)."""
        return str(self.metric.key)

    def metric_met(self, value: float) -> bool:
        """Whether the metric ``value`` meets the threshold."""
        if not math.isfinite(value):
            return False
        return value >= self.threshold if self.greater_is_better else value <= self.threshold

    def latency_met(self, p99_s: float) -> bool:
        """Whether a p99 latency (seconds) meets the bar (always, when the bar has none)."""
        return self.latency_p99_s is None or p99_s <= self.latency_p99_s

    def describe(self) -> str:
        """The bar in words: ``accuracy >= 0.94 on the test split, p99 predict(dict) <= 20 ms``."""
        op = ">=" if self.greater_is_better else "<="
        text = f"{self.key} {op} {self.threshold:g} on the test split"
        if self.latency_p99_s is not None:
            text += f", p99 predict(dict) <= {format_seconds(self.latency_p99_s)}"
        return text


def format_seconds(seconds: float) -> str:
    """A duration as ``850 us``, ``12.5 ms`` or ``3.2 s``."""
    if not math.isfinite(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


@dataclasses.dataclass(frozen=True)
class Step:
    """One step: the preprocessing options, the algorithms and the tuning budget."""

    index: int
    name: str
    algorithms: tuple[Any, ...]
    algorithm_specs: tuple[Any, ...]
    tune: Any = None
    columns: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()
    roles: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    ensemble: bool = False

    def describe(self) -> str:
        """What the step tries, in one phrase."""
        names = ", ".join(_spec_name(s) for s in self.algorithm_specs)
        if self.tune is None:
            budget = "fixed parameters"
        else:
            budget = f"{self.tune.method} {self.tune.n_trials} trials"
            if self.tune.timeout_s is not None:
                budget += f" / {self.tune.timeout_s:g} s"
        if self.columns is not None:
            n = len(self.columns)
            cols = f"{n} column{'s' if n != 1 else ''}"
        elif self.drop:
            cols = f"all columns but {len(self.drop)}"
        else:
            cols = "all columns"
        return f"{names} ({budget}) on {cols}" + (" + ensemble" if self.ensemble else "")


def _spec_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    fixed = spec.get("hyperparams") or {}
    inner = ", ".join(f"{k}={v}" for k, v in fixed.items())
    return f"{spec['name']}({inner})" if inner else str(spec["name"])


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A validated recipe, with the knob values in force."""

    name: str
    description: str
    data: DataOptions
    knobs: Mapping[str, Knob]
    values: Mapping[str, Any]
    used: Mapping[str, tuple[str, ...]]
    """Knob -> the key paths that read it."""
    steps: tuple[Step, ...]
    bar: Bar
    source: str = "<recipe>"

    def describe(self) -> str:
        """The recipe in one line (what ``litmus recipe check`` prints)."""
        knobs = ", ".join(f"{k}={self.values[k]!r} ({self.knobs[k].allowed()})" for k in self.knobs)
        return (
            f"recipe {self.name!r}: {len(self.steps)} steps; bar: {self.bar.describe()}; "
            f"knobs: {knobs or 'none'}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain data (for the run report)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "bar": self.bar.describe(),
            "knobs": {
                k: {"value": self.values[k], "allowed": kn.allowed(), "help": kn.help}
                for k, kn in self.knobs.items()
            },
            "steps": [{"name": s.name, "tries": s.describe()} for s in self.steps],
        }


def _known(where: str, mapping: Mapping[str, Any], keys: Sequence[str]) -> None:
    unknown = [k for k in mapping if k not in keys]
    if unknown:
        raise RecipeError(
            f"{_join(where, unknown[0])}: unknown key {unknown[0]!r}; expected one of "
            f"{', '.join(keys)}"
        )


def _mapping(where: str, value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecipeError(f"{where}: expected {what}; got {value!r}")
    return value


def _names(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RecipeError(f"{where}: expected a list of column names; got {value!r}")
    return tuple(value)


def _int(where: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise RecipeError(f"{where}: expected an integer >= {low}; got {value!r}")
    return value


def _roles(where: str, value: Any) -> dict[str, tuple[str, ...]]:
    spec = _mapping(where, value, "{categorical: [...], text: [...], ...}")
    _known(where, spec, _ROLE_KEYS)
    return {role: _names(f"{where}.{role}", cols) for role, cols in spec.items()}


def _data(value: Any) -> DataOptions:
    from .task import KINDS

    spec = _mapping("data", value, "{target: <column>, task: binary|multiclass|regression}")
    _known("data", spec, _DATA_KEYS)
    target = spec.get("target")
    if not isinstance(target, str) or not target:
        raise RecipeError(f"data.target: expected the name of the label column; got {target!r}")
    task = spec.get("task")
    if task not in KINDS:
        raise RecipeError(f"data.task: expected one of {', '.join(KINDS)}; got {task!r}")
    fraction = spec.get("test_fraction", 0.25)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise RecipeError(f"data.test_fraction: expected a number in (0, 1); got {fraction!r}")
    if not 0 < fraction < 1:
        raise RecipeError(f"data.test_fraction: expected a number in (0, 1); got {fraction!r}")
    return DataOptions(
        target=target,
        task=task,
        k_fold=_int("data.k_fold", spec.get("k_fold", 5), 2),
        test_fraction=float(fraction),
        seed=_int("data.seed", spec.get("seed", 0), 0),
        roles=_roles("data.roles", spec.get("roles")),
    )


def _dim(where: str, spec: Any) -> Any:
    from .space import from_config

    if not isinstance(spec, dict) or len({"int", "float", "choices"} & set(spec)) != 1:
        raise RecipeError(
            f"{where}: expected {{int: [low, high]}}, {{float: [low, high], log: true}} or "
            f"{{choices: [...]}}; got {spec!r}"
        )
    _known(where, spec, ("int", "float", "choices", "log"))
    return from_config(where, spec, RecipeError)


def _algorithm(where: str, spec: Any, kind: str) -> Any:
    from .algorithms.registry import configured, get, names

    if isinstance(spec, dict):
        _known(where, spec, ("name", "hyperparams", "search"))
        name, at = spec.get("name"), f"{where}.name"
    else:
        name, at = spec, where
    if not isinstance(name, str):
        raise RecipeError(
            f"{at}: expected an algorithm name or {{name: ..., hyperparams: {{...}}}}; got {name!r}"
        )
    lowered = {n.lower(): n for n in names()}
    if name.lower() not in lowered:
        raise RecipeError(f"{at}: unknown algorithm {name!r}; expected one of {', '.join(names())}")
    algo = get(lowered[name.lower()])
    if isinstance(spec, dict):
        search = spec.get("search")
        if isinstance(search, dict):  # (a dimension with an unknown key is refused first)
            for k, v in search.items():
                _dim(f"{where}.search.{k}", v)
        algo = configured(algo, spec, where, RecipeError)
    try:  # the task kind: a classifier for regression, a bad range for this kind
        algo.with_params({}).configure(kind, None if kind != "binary" else 2)
    except ValueError as err:
        raise RecipeError(f"{at}: {err}") from err
    return algo


def _tune(where: str, spec: Any, objective: str) -> Any:
    from .tuning import Tune

    if spec is None or spec is False:
        return None
    if not isinstance(spec, dict):
        raise RecipeError(f"{where}: expected {{n_trials: ..., timeout_s: ...}} or null")
    _known(where, spec, _TUNE_KEYS)
    for key in ("n_trials", "seed", "grid_size"):
        if key in spec:
            _int(f"{where}.{key}", spec[key], 0 if key == "seed" else 1)
    timeout = spec.get("timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise RecipeError(f"{where}.timeout_s: expected seconds > 0 or null; got {timeout!r}")
    try:
        return Tune(**spec, objective=objective)
    except (TypeError, ValueError) as err:
        raise RecipeError(f"{where}: {err}") from err


def _merge(base: Any, over: Any) -> Any:
    """``over`` merged over ``base``: mappings key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


def _step(index: int, spec: Any, defaults: dict[str, Any], kind: str, objective: str) -> Step:
    where = f"steps[{index}]"
    if not isinstance(spec, dict):
        raise RecipeError(f"{where}: expected a mapping (name, preprocess, algorithms, tune)")
    _known(where, spec, _STEP_KEYS)
    merged = _merge(defaults, spec)
    name = merged.get("name", f"step {index + 1}")
    if not isinstance(name, str) or not name:
        raise RecipeError(f"{where}.name: expected a text; got {name!r}")
    algos = merged.get("algorithms")
    if isinstance(algos, (str, dict)):
        algos = [algos]
    if not isinstance(algos, list) or not algos:
        raise RecipeError(
            f"{where}.algorithms: expected a list of at least one algorithm (in the step or "
            f"in defaults); got {algos!r}"
        )
    algorithms = tuple(_algorithm(f"{where}.algorithms[{i}]", a, kind) for i, a in enumerate(algos))
    pre = _mapping(f"{where}.preprocess", merged.get("preprocess"), "{columns: [...], drop: [...]}")
    _known(f"{where}.preprocess", pre, _PRE_KEYS)
    columns = pre.get("columns")
    columns = None if columns is None else _names(f"{where}.preprocess.columns", columns)
    if columns == ():
        raise RecipeError(f"{where}.preprocess.columns: expected at least one column")
    drop = () if pre.get("drop") is None else _names(f"{where}.preprocess.drop", pre["drop"])
    ensemble = merged.get("ensemble", False)
    if not isinstance(ensemble, bool):
        raise RecipeError(f"{where}.ensemble: expected true or false; got {ensemble!r}")
    return Step(
        index=index,
        name=name,
        algorithms=algorithms,
        algorithm_specs=tuple(algos),
        tune=_tune(f"{where}.tune", merged.get("tune"), objective),
        columns=columns,
        drop=drop,
        roles=_roles(f"{where}.preprocess.roles", pre.get("roles")),
        ensemble=ensemble,
    )


def _bar(spec: Any, kind: str) -> Bar:
    from .metrics import Metric

    spec = _mapping("bar", spec, "{metric: ..., threshold: ...}")
    if not spec:
        raise RecipeError("bar: missing; expected {metric: <name>, threshold: <number>}")
    _known("bar", spec, _BAR_KEYS)
    name = spec.get("metric")
    try:
        if isinstance(name, str):
            metric = Metric(name)
        elif isinstance(name, dict) and "name" in name and set(name) <= {"name", "params"}:
            metric = Metric(name["name"], name.get("params") or {})
        else:
            raise RecipeError("bar.metric: expected a metric name or {name: ..., params: ...}")
    except (TypeError, ValueError) as err:
        if isinstance(err, RecipeError):
            raise
        raise RecipeError(f"bar.metric: {err}") from err
    if kind not in metric.kinds:
        applies = ", ".join(sorted(metric.kinds))
        raise RecipeError(f"bar.metric: {metric.key!r} does not apply to a {kind} task ({applies})")
    threshold = spec.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise RecipeError(f"bar.threshold: expected a number; got {threshold!r}")
    direction = spec.get("direction")
    natural = "higher" if metric.greater_is_better else "lower"
    if direction is not None and direction != natural:
        raise RecipeError(
            f"bar.direction: {metric.key} is better when {natural}, so the bar is "
            f"'{natural}' (a threshold it must reach); got {direction!r}"
        )
    latency = None
    both = [k for k in ("latency_p99_ms", "latency_p99_us") if spec.get(k) is not None]
    if len(both) > 1:
        raise RecipeError("bar: give latency_p99_ms or latency_p99_us, not both")
    if both:
        value = spec[both[0]]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise RecipeError(f"bar.{both[0]}: expected a positive number; got {value!r}")
        latency = value * (1e-3 if both[0].endswith("ms") else 1e-6)
    return Bar(metric, float(threshold), metric.greater_is_better, latency)


def parse_recipe(
    doc: Any, overrides: Mapping[str, Any] | None = None, source: str = "<recipe>"
) -> Recipe:
    """Validate a recipe document (``yaml.safe_load`` output) with ``--set`` overrides.

    Parameters
    ----------
    doc : dict
        The recipe.
    overrides : dict, optional
        Knob -> value (see :func:`parse_sets`); each checked against the knob's range.
    source : str
        Where the recipe came from (for messages).

    Returns
    -------
    Recipe

    Raises
    ------
    RecipeError
        Naming the key path and what was expected.
    """
    if not isinstance(doc, dict):
        raise RecipeError(f"{source}: expected a mapping with data, steps and bar")
    _known("", doc, _TOP_KEYS)
    knob_specs = _mapping("knobs", doc.get("knobs"), "{name: {default: ..., min: ..., max: ...}}")
    knobs = {str(k): _knob(str(k), v) for k, v in knob_specs.items()}
    values = {k: kn.default for k, kn in knobs.items()}
    for name, value in (overrides or {}).items():
        if name not in knobs:
            known = ", ".join(knobs) or "none"
            raise RecipeError(f"--set {name}: unknown knob {name!r}; the recipe's knobs: {known}")
        values[name] = knobs[name].check(value, f"--set {name}={value}")
    used: dict[str, list[str]] = {}
    body = {
        k: _substitute(doc.get(k), k, values, used) for k in ("data", "defaults", "steps", "bar")
    }
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise RecipeError(f"name: expected a text; got {name!r}")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise RecipeError(f"description: expected a text; got {description!r}")
    data = _data(body["data"])
    bar = _bar(body["bar"], data.task)
    defaults = _mapping("defaults", body["defaults"], "{algorithms: [...], tune: {...}}")
    _known("defaults", defaults, _STEP_KEYS[1:])
    steps = body["steps"]
    if not isinstance(steps, list) or not steps:
        raise RecipeError("steps: expected a list of at least one step")
    objective = f"validation.{bar.key}"
    parsed = tuple(_step(i, s, defaults, data.task, objective) for i, s in enumerate(steps))
    unused = [k for k in knobs if k not in used]
    if unused:
        raise RecipeError(
            f"knobs.{unused[0]}: not used anywhere in the recipe (write ${unused[0]} as the "
            "value it sets)"
        )
    return Recipe(
        name=name,
        description=description,
        data=data,
        knobs=knobs,
        values=values,
        used={k: tuple(v) for k, v in used.items()},
        steps=parsed,
        bar=bar,
        source=source,
    )


def load_recipe(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Recipe:
    """Read and validate a recipe file (``yaml.safe_load``; see :func:`parse_recipe`).

    Examples
    --------
    >>> r = load_recipe(example_recipe(), {"time_budget_s": 60})
    >>> len(r.steps), r.values["time_budget_s"]
    (3, 60.0)
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    except (IsADirectoryError, UnicodeDecodeError) as err:
        raise RecipeError(f"{path}: cannot read it as a recipe ({err})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from err
    return parse_recipe(doc, overrides, str(path))


def example_recipe() -> Path:
    """The path of the example recipe shipped with litmus (``cancer_screening.yaml``)."""
    return Path(__file__).parent / "recipes" / "cancer_screening.yaml"


def run_recipe(*args: Any, **kwargs: Any) -> Any:
    """Run a recipe (see :func:`litmus_automl._recipe_run.run_recipe`)."""
    from ._recipe_run import run_recipe as run

    return run(*args, **kwargs)
