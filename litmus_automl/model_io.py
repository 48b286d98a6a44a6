"""Model formats of a bundle: how each is saved, loaded and called (:data:`MODEL_IO`).

Each format writes the model in its native form (XGBoost UBJ, scikit-learn via skops) or,
for code you trust, a cloudpickle. :mod:`litmus_automl.bundle` re-exports everything here.

A skops file is loaded only when every object in it is of a type in
:data:`SKOPS_TRUSTED_TYPES` and is rebuilt by a skops loader in :data:`SKOPS_TRUSTED_LOADERS`
(no functions, methods, ``functools.partial`` or ``operator`` callables): exactly what the
scikit-learn models litmus trains hold. skops trusts every scikit-learn estimator by default
(``FunctionTransformer`` and its function included); this list does not.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BundleError",
    "ModelIO",
    "MODEL_IO",
    "Predictor",
    "SKOPS_TRUSTED_LOADERS",
    "SKOPS_TRUSTED_TYPES",
    "check_skops_file",
    "skops_types",
]

SKOPS_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # containers and values of an estimator's state
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.tuple",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "numpy.random._generator.Generator",
        "numpy.uint64",
        # LogisticRegression, Ridge (standardized: a Pipeline with a StandardScaler)
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        # RandomForest*, ExtraTrees* and their trees
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._forest.ExtraTreesRegressor",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.tree._classes.ExtraTreeRegressor",
        "sklearn.tree._tree.Tree",
        # HistGradientBoosting* and their losses, links, binning and predictors
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.preprocessing._label.LabelEncoder",
    }
)
"""Every type a scikit-learn model file of a bundle may hold: exactly the types of the
models litmus trains and exports (``tests/automl/test_bundle_security.py`` re-derives the list
from real trained models). A file holding any other type is refused, naming it and the file."""

SKOPS_TRUSTED_LOADERS: frozenset[str] = frozenset(
    {
        "CachedNode",  # a second reference to an object already read (and checked)
        "DictNode",
        "JsonNode",
        "ListNode",
        "LossNode",
        "NdArrayNode",  # read with numpy.load(allow_pickle=False)
        "ObjectNode",
        "RandomGeneratorNode",
        "TreeNode",
        "TupleNode",
        "TypeNode",
    }
)
"""The skops loaders a scikit-learn model file of a bundle may use. Absent on purpose:
``FunctionNode``, ``MethodNode``, ``PartialNode``, ``OperatorFuncNode`` (callables) and
``ReduceNode``-style constructors."""

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


def _skops_nodes(value: Any, file: Path) -> Iterator[tuple[str, str]]:
    """``(type name, loader)`` of every object described in a skops schema."""
    if isinstance(value, dict):
        keys = ("__module__", "__class__", "__loader__")
        if any(k in value for k in keys):
            module, name, loader = (value.get(k) for k in keys)
            if not all(isinstance(v, str) for v in (module, name, loader)):
                raise BundleError(
                    f"{file}: an object in schema.json lacks a text __module__, __class__ "
                    f"or __loader__ ({module!r}, {name!r}, {loader!r}); not a skops file"
                )
            yield f"{module}.{name}", str(loader)
        for v in value.values():
            yield from _skops_nodes(v, file)
    elif isinstance(value, list):
        for v in value:
            yield from _skops_nodes(v, file)


def skops_types(file: Path) -> tuple[set[str], set[str]]:
    """The type names and the skops loaders of every object in the skops file ``file``.

    Read from the file's ``schema.json`` as JSON: nothing is imported or built.

    Raises
    ------
    BundleError
        When ``file`` is not a zip archive holding a JSON ``schema.json``.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{file}: not a skops file ({err})") from None
    types, loaders = set(), set()
    for name, loader in _skops_nodes(schema, file):
        types.add(name)
        loaders.add(loader)
    return types, loaders


def check_skops_file(file: Path, also: frozenset[str] = frozenset()) -> list[str]:
    """Refuse a skops file holding a type outside :data:`SKOPS_TRUSTED_TYPES` (and ``also``)
    or using a loader outside :data:`SKOPS_TRUSTED_LOADERS`; the (trusted) types it holds
    otherwise.

    Raises
    ------
    BundleError
        Naming the file and each type or loader refused.
    """
    types, loaders = skops_types(file)
    refused = sorted(types - SKOPS_TRUSTED_TYPES - also)
    if refused:
        raise BundleError(
            f"{file} holds types that litmus does not train: {refused}; refusing to load it "
            "(a custom estimator you trust: export it with model format 'pickle' and load "
            "with allow_pickle=True)"
        )
    odd = sorted(loaders - SKOPS_TRUSTED_LOADERS)
    if odd:
        raise BundleError(
            f"{file} holds objects rebuilt by skops loaders {odd} (functions, methods or "
            "other callables), which litmus models never hold; refusing to load it"
        )
    return sorted(types)


def _check_nodes(left: Any, right: Any, leaf: Any, feature: Any, n_features: int) -> str:
    """What is wrong with a tree's node arrays ("" if nothing): every inner node's children
    come after it and inside the array (no cycle, no read past the end), its feature is one
    of the model's ``n_features``."""
    n = len(left)
    inner = np.flatnonzero(~np.asarray(leaf, dtype=bool))
    if n == 0:
        return "no nodes"
    for name, child in (("left", left), ("right", right)):
        c = np.asarray(child, dtype=np.int64)[inner]
        if np.any((c <= inner) | (c >= n)):
            return f"a {name} child index not after its node or past the last of {n} nodes"
    f = np.asarray(feature, dtype=np.int64)[inner]
    if np.any((f < 0) | (f >= n_features)):
        return f"a split on a feature outside [0, {n_features})"
    return ""


def _check_trees(model: Any, n_features: int | None, file: Path, seen: set[int]) -> None:
    """Refuse trees (``sklearn.tree._tree.Tree``, HistGradientBoosting's ``TreePredictor``)
    whose node arrays scikit-learn would index out of bounds or loop over: their predict
    code does not check them (skops does not trust ``TreePredictor`` for that reason)."""
    if id(model) in seen:
        return
    seen.add(id(model))
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    problem = ""
    if isinstance(model, Tree):
        left, right = model.children_left, model.children_right
        problem = _check_nodes(left, right, left == -1, model.feature, model.n_features)
    elif isinstance(model, TreePredictor):
        nodes = model.nodes
        problem = _check_nodes(
            nodes["left"],
            nodes["right"],
            nodes["is_leaf"],
            nodes["feature_idx"],
            n_features if n_features is not None else 0,
        )
        cats = nodes["bitset_idx"][nodes["is_categorical"].astype(bool)]
        if not problem and np.any(cats >= len(model.raw_left_cat_bitsets)):
            problem = "a categorical split past its bitsets"
    elif isinstance(model, (list, tuple)):
        for m in model:
            _check_trees(m, n_features, file, seen)
    elif isinstance(model, dict):
        for m in model.values():
            _check_trees(m, n_features, file, seen)
    elif type(model).__module__.startswith("sklearn.") and hasattr(model, "__dict__"):
        n_features = getattr(model, "n_features_in_", n_features)
        for m in vars(model).values():
            _check_trees(m, n_features, file, seen)
    if problem:
        raise BundleError(f"{file}: a {type(model).__name__} has {problem}; refusing it")


def _skops_load(directory: Path, files: list[str]) -> Any:
    import skops.io

    file = directory / "model.skops"
    trusted = check_skops_file(file)
    model = skops.io.load(file, trusted=trusted)
    _check_trees(model, None, file, set())
    return model


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
