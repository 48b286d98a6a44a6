"""``Algorithm``: the base class of every algorithm, built-in or written by a user.

The scikit-learn contract (``__init__(**params)`` stores params, ``fit`` returns self, fitted
attributes end in ``_``) plus what AutoML needs: a search space, fixed hyperparameters,
copies with trial parameters, the task kind set by the trainer, and saving / loading.

A custom algorithm either overrides ``build()`` to return a scikit-learn-style estimator
(the base ``fit`` / ``predict`` / ``predict_proba`` then drive it), or overrides ``fit``,
``predict`` and ``predict_proba`` itself.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import inspect
import json
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from sklearn.exceptions import NotFittedError

from litmus_automl.space import Categorical, Distribution, Float, Int, from_dict

__all__ = ["KINDS", "Algorithm", "infer_kind"]

KINDS: frozenset[str] = frozenset({"binary", "multiclass", "regression"})
_META = "algorithm.json"
_PICKLE = "algorithm.joblib"


def _saved_class(spec: str, src: Path) -> Any:
    """The class ``module:qualname`` names, from a module that is already imported."""
    module, _, qualname = spec.partition(":")
    if module not in sys.modules:
        raise ValueError(
            f"{str(src)!r} was saved from class {spec}, whose module {module!r} is not "
            "imported; import it first (loading never imports a module a file names)"
        )
    target: Any = sys.modules[module]
    for part in qualname.split("."):
        if part.startswith("__") or not hasattr(target, part):
            raise ValueError(f"{str(src)!r} names class {spec}, which does not exist")
        target = getattr(target, part)
    return target


def infer_kind(y: Any) -> str:
    """The task kind a label array suggests (used when ``configure`` was not called)."""
    values = np.asarray(y)
    if values.dtype.kind == "f":  # TaskData.y: float64 for regression, integer codes otherwise
        return "regression"
    return "binary" if len(np.unique(values)) <= 2 else "multiclass"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _unknown_message(
    algorithm: str, unknown: Sequence[str], valid: Collection[str], aliases: Collection[str] = ()
) -> str:
    """``"X: unknown parameters ['max_dept'] (did you mean 'max_depth'?); valid: ..."``."""
    names = sorted({*valid, *aliases})
    close = {n: difflib.get_close_matches(n, names, n=3, cutoff=0.6) for n in unknown}
    found = {n: " or ".join(map(repr, c)) for n, c in close.items() if c}
    hint = ""
    if len(unknown) == 1 and found:
        hint = f" (did you mean {found[unknown[0]]}?)"
    elif found:
        hint = f" (did you mean: {'; '.join(f'{n!r} -> {c}' for n, c in found.items())})"
    return (
        f"{algorithm}: unknown parameters {sorted(unknown)}{hint}; "
        f"valid: {', '.join(sorted(valid))}"
    )


def _probes(dist: Distribution) -> list[Any]:
    """The values that bound a search dimension: both ends of a range (the last one a step
    reaches), or every choice."""
    if isinstance(dist, Categorical):
        return list(dist.choices)
    if isinstance(dist, Int):
        return [dist.low, dist.low + (dist.high - dist.low) // dist.step * dist.step]
    return [dist.low, dist.high]


class Algorithm:
    """Base class of algorithms (scikit-learn estimator contract + a search space).

    Parameters
    ----------
    **params
        Hyperparameters, stored as given (``get_params`` returns them).

    Attributes
    ----------
    name : str
        The registry name (class attribute; defaults to the class name).
    kinds : frozenset of str
        The task kinds the algorithm supports (class attribute).
    task_kind, n_classes, seed, n_jobs, device
        Set by the trainer with ``configure``.
    estimator_ : object
        The fitted underlying estimator (when ``build`` is used).

    Examples
    --------
    A custom algorithm that wraps a scikit-learn estimator:

    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from litmus_automl.space import Int
    >>> class KNN(Algorithm):
    ...     kinds = frozenset({"binary", "multiclass"})
    ...     def default_space(self):
    ...         return {"n_neighbors": Int(1, 30)}
    ...     def build(self):
    ...         return KNeighborsClassifier(**self.get_params())
    >>> knn = KNN().hyperparams(weights="distance")
    >>> sorted(knn.search_space()), knn.get_params()
    (['n_neighbors'], {'weights': 'distance'})
    """

    name: ClassVar[str] = "Algorithm"
    kinds: ClassVar[frozenset[str]] = KINDS
    aliases: ClassVar[Mapping[str, str]] = MappingProxyType({})
    pickled: ClassVar[bool] = True
    """Whether ``save`` stores the object with joblib (pickle), so that ``load`` needs
    ``allow_pickle=True``; ``False`` for algorithms that override ``_save_model`` /
    ``_load_model`` with a data-only format."""
    """Other parameter names mapped to the canonical one (``eta`` -> ``learning_rate``)."""

    # configuration, set by ``configure`` (class-level defaults for subclasses that do not
    # call ``super().__init__``)
    task_kind: str | None = None
    n_classes: int | None = None
    seed: int = 0
    n_jobs: int = 1
    device: str | None = None
    _space: Mapping[str, Distribution] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def __init__(self, **params: Any) -> None:
        self._params: dict[str, Any] = self._canonical(params)
        self.check_params(self._params)

    # ---- parameters ----------------------------------------------------------------------

    def _canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        given: dict[str, str] = {}
        for key, value in params.items():
            name = self.aliases.get(key, key)
            if name in out:
                first = given[name]
                raise ValueError(f"{self.name}: {first!r} and {key!r} name the same parameter")
            out[name], given[name] = value, key
        return out

    def valid_params(self) -> Collection[str] | None:
        """The hyperparameter names the algorithm accepts, or None for any (override)."""
        return None

    def check_value(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` (the reason) when ``value`` is not valid for ``name`` (override).

        Called for a fixed value and, for a search dimension, for each end of its range and
        each of its choices.
        """

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Refuse unknown names and out-of-range values or search spaces.

        Parameters
        ----------
        params : mapping
            Canonical parameter names to values or search distributions.

        Raises
        ------
        ValueError
            Naming the algorithm, the parameter, close matches of an unknown name, the value
            (or the end of the search range) and what is expected.
        """
        valid = self.valid_params()
        if valid is not None:
            unknown = [k for k in params if k not in valid]
            if unknown:
                raise ValueError(_unknown_message(self.name, unknown, valid, self.aliases))
        for key, value in params.items():
            if isinstance(value, (Int, Float, Categorical)):
                for probe in _probes(value):
                    try:
                        self.check_value(key, probe)
                    except ValueError as err:
                        raise ValueError(
                            f"{self.name}: the search space {key}={value!r} reaches "
                            f"{probe!r}, which is not valid: {err}"
                        ) from None
            else:
                try:
                    self.check_value(key, value)
                except ValueError as err:
                    raise ValueError(f"{self.name}: {key}={value!r} is not valid: {err}") from None

    @classmethod
    def _init_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in list(sig.parameters.values())[1:]
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters (the scikit-learn ``get_params``)."""
        own = dict(self.__dict__.get("_params", {}))
        for name in self._init_names():  # sklearn-style subclasses that store attributes
            if name in self.__dict__:
                own[name] = self.__dict__[name]
        return own

    def set_params(self, **params: Any) -> Algorithm:
        """Set hyperparameters in place and return ``self`` (the scikit-learn ``set_params``)."""
        params = self._canonical(params)
        self.check_params(params)
        own = self.__dict__.setdefault("_params", {})
        for name, value in params.items():
            if name in self._init_names():
                setattr(self, name, value)
            own[name] = value
        return self

    def default_space(self) -> dict[str, Distribution]:
        """The default search space (override; may depend on ``self.task_kind``)."""
        return {}

    def search_space(self) -> dict[str, Distribution]:
        """The space to tune: the default space, updated by ``search``, minus fixed params."""
        fixed = self.get_params()
        space = {**self.default_space(), **self._space}
        return {k: v for k, v in space.items() if k not in fixed}

    def _copy(self, params: Mapping[str, Any], space: Mapping[str, Distribution]) -> Algorithm:
        new = copy.copy(self)
        for attr in [a for a in vars(new) if a.endswith("_") and not a.startswith("_")]:
            delattr(new, attr)  # fitted attributes
        new.__dict__["_params"] = {}
        for name in self._init_names():
            new.__dict__.pop(name, None)
        new.set_params(**params)
        new._space = dict(space)
        return new

    def hyperparams(self, **fixed: Any) -> Algorithm:
        """A copy with these hyperparameters fixed (and removed from the search space).

        Examples
        --------
        >>> from litmus_automl.algorithms import XGBoost
        >>> XGBoost().hyperparams(max_depth=5).get_params()
        {'max_depth': 5}
        """
        fixed = self._canonical(fixed)
        self.check_params(fixed)
        space = {k: v for k, v in self._space.items() if k not in fixed}
        return self._copy({**self.get_params(), **fixed}, space)

    def search(self, **space: Distribution | list[Any] | tuple[Any, ...]) -> Algorithm:
        """A copy whose search space is updated with these distributions.

        A list or tuple is read as ``Categorical(choices)``; a searched parameter is no longer
        fixed.

        Examples
        --------
        >>> from litmus_automl.algorithms import XGBoost
        >>> from litmus_automl.space import Int
        >>> XGBoost().search(max_depth=Int(3, 6)).search_space()["max_depth"]
        Int(low=3, high=6, log=False, step=1)
        """
        dists: dict[str, Distribution] = {}
        for key, value in self._canonical(space).items():
            if isinstance(value, (list, tuple)):
                value = Categorical(value)
            if not isinstance(value, (Int, Float, Categorical)):
                raise TypeError(
                    f"{self.name}.search({key}=...): expected Int, Float, Categorical or a "
                    f"list of choices, got {value!r} (use .hyperparams to fix a value)"
                )
            dists[key] = value
        self.check_params(dists)
        params = {k: v for k, v in self.get_params().items() if k not in dists}
        return self._copy(params, {**self._space, **dists})

    def with_params(self, trial_params: Mapping[str, Any]) -> Algorithm:
        """A new, unfitted copy with ``trial_params`` set (configuration kept)."""
        return self._copy({**self.get_params(), **self._canonical(trial_params)}, self._space)

    def configure(
        self,
        kind: str,
        n_classes: int | None = None,
        seed: int = 0,
        n_jobs: int = 1,
        device: str | None = None,
    ) -> Algorithm:
        """Set the task kind and resources (called by the trainer); returns ``self``.

        Raises
        ------
        ValueError
            When the algorithm doesn't support ``kind``, or a hyperparameter or search range
            is not valid for it (the configuration is then left unchanged).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown task kind {kind!r}; expected one of {sorted(KINDS)}")
        if kind not in self.kinds:
            supported = ", ".join(sorted(self.kinds))
            raise ValueError(f"{self.name} does not support {kind} tasks (supports: {supported})")
        if kind == "binary" and n_classes not in (None, 2):
            raise ValueError(f"a binary task has 2 classes, got n_classes={n_classes}")
        before = (self.task_kind, self.n_classes)
        self.task_kind, self.n_classes = kind, n_classes
        try:  # some parameter checks depend on the task kind (classifier or regressor)
            self.check_params({**self._space, **self.get_params()})
        except ValueError:
            self.task_kind, self.n_classes = before
            raise
        self.seed, self.n_jobs = seed, n_jobs
        if device is not None:
            self.device = device
        return self

    # ---- fit / predict -------------------------------------------------------------------

    def build(self) -> Any:
        """The unfitted underlying estimator (override, or override ``fit`` instead)."""
        raise NotImplementedError(f"{type(self).__name__}: override build() or fit()")

    def fit(self, X: Any, y: Any) -> Algorithm:
        """Fit on features ``X`` and labels ``y`` (integer codes or floats); returns ``self``."""
        if self.task_kind is None:
            kind = infer_kind(y)
            self.configure(kind, None if kind == "regression" else int(np.max(y)) + 1)
        elif self.task_kind not in self.kinds:
            self.configure(self.task_kind, self.n_classes)  # raises the clear error
        estimator = self.build()
        estimator.fit(X, y)
        self.estimator_ = estimator
        self._set_fit_attrs(X, y)
        return self

    def _set_fit_attrs(self, X: Any, y: Any) -> None:
        self.n_features_in_ = int(np.shape(X)[1])
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        if self.task_kind != "regression":
            n = self.n_classes if self.n_classes is not None else int(np.max(y)) + 1
            self.classes_ = np.arange(n)

    def _check_fitted(self) -> Any:
        estimator = self.__dict__.get("estimator_")
        if estimator is None:
            raise NotFittedError(f"{self.name} is not fitted yet; call fit(X, y) first")
        return estimator

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (integer codes) or values (regression)."""
        out = np.asarray(self._check_fitted().predict(X))
        return out.astype(np.float64) if self.task_kind == "regression" else out.astype(np.int64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_rows, n_classes)``.

        Raises
        ------
        NotImplementedError
            For regression, or an estimator without probabilities.
        """
        estimator = self._check_fitted()
        if self.task_kind == "regression" or not hasattr(estimator, "predict_proba"):
            raise NotImplementedError(f"{self.name} gives no probabilities for this task")
        return np.asarray(estimator.predict_proba(X), dtype=np.float64)

    # ---- save / load ---------------------------------------------------------------------

    def save(self, directory: str | Path) -> list[str]:
        """Save the fitted algorithm into ``directory``; returns the paths written.

        ``algorithm.json`` holds the class, params, configuration and the sha256 of every
        model file, checked by ``load``. The base class stores itself with joblib (pickle:
        load only files you trust; the hash detects corruption, not tampering); built-in
        algorithms store their model in its native format.
        """
        if not any(a.endswith("_") and not a.startswith("_") for a in vars(self)):
            raise NotFittedError(f"{self.name} is not fitted yet; fit it before save()")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        files = self._save_model(out)
        cls = type(self)
        meta = {
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "name": self.name,
            "params": self.get_params(),
            "space": {k: v.to_dict() for k, v in self._space.items()},
            "config": {
                "task_kind": self.task_kind,
                "n_classes": self.n_classes,
                "seed": self.seed,
                "n_jobs": self.n_jobs,
                "device": self.device,
            },
            "fitted": {
                "n_features_in": getattr(self, "n_features_in_", None),
                "feature_names_in": _jsonable(getattr(self, "feature_names_in_", None))
                if hasattr(self, "feature_names_in_")
                else None,
            },
            "sha256": {name: _sha256(out / name) for name in files},
        }
        (out / _META).write_text(json.dumps(meta, indent=2, default=_jsonable))
        return [str(out / _META), *(str(out / name) for name in files)]

    @classmethod
    def load(cls, directory: str | Path, allow_pickle: bool = False) -> Algorithm:
        """Load an algorithm saved by ``save`` (checking the sha256 of its files).

        The class named in ``algorithm.json`` must already be imported (loading never
        imports a module a file names) and be a subclass of ``cls``.

        Parameters
        ----------
        directory : str or Path
            What ``save`` wrote.
        allow_pickle : bool
            Needed for algorithms stored with joblib (``pickled``: custom algorithms that
            keep the base ``save``): unpickling runs code, so load only files you trust.

        Raises
        ------
        FileNotFoundError
            When ``directory`` holds no saved algorithm.
        ValueError
            When a file's hash differs from the one recorded, the class doesn't match or
            is not imported, or the file is a pickle and ``allow_pickle`` is false.
        """
        src = Path(directory)
        if not (src / _META).exists():
            raise FileNotFoundError(f"no saved algorithm in {str(src)!r} (no {_META})")
        meta = json.loads((src / _META).read_text())
        for name, digest in meta["sha256"].items():
            if not (src / name).exists() or _sha256(src / name) != digest:
                raise ValueError(f"{str(src / name)!r} is missing or its sha256 does not match")
        target = _saved_class(str(meta["class"]), src)
        if not (isinstance(target, type) and issubclass(target, cls)):
            raise ValueError(f"{meta['class']} in {str(src)!r} is not a {cls.__name__}")
        if target.pickled and not allow_pickle:
            raise ValueError(
                f"{str(src)!r} holds a pickled {meta['class']} (joblib); unpickling runs "
                "code, so pass allow_pickle=True only for files you trust"
            )
        return target._load_model(src, meta)

    def _save_model(self, directory: Path) -> list[str]:
        """Write the fitted model; return the file names (override for a native format)."""
        import joblib

        joblib.dump(self, directory / _PICKLE)
        return [_PICKLE]

    @classmethod
    def _load_model(cls, directory: Path, meta: Mapping[str, Any]) -> Algorithm:
        """Read what ``_save_model`` wrote (override together with it)."""
        import joblib

        obj = joblib.load(directory / _PICKLE)
        if not isinstance(obj, cls):
            raise ValueError(f"{str(directory / _PICKLE)!r} does not hold a {cls.__name__}")
        return obj

    @classmethod
    def _from_meta(cls, meta: Mapping[str, Any]) -> Algorithm:
        """An unfitted instance with the saved params, space and configuration."""
        obj = cls(**meta["params"])
        obj._space = {k: from_dict(v) for k, v in meta["space"].items()}
        config = meta["config"]
        if config["task_kind"] is not None:
            obj.configure(
                config["task_kind"],
                config["n_classes"],
                config["seed"],
                config["n_jobs"],
                config.get("device"),
            )
        fitted = meta.get("fitted", {})
        if fitted.get("n_features_in") is not None:
            obj.n_features_in_ = fitted["n_features_in"]
        if fitted.get("feature_names_in") is not None:
            obj.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
        if obj.task_kind not in (None, "regression") and obj.n_classes is not None:
            obj.classes_ = np.arange(obj.n_classes)
        return obj

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
