"""The inference bundle: a directory holding everything a trained model needs to predict.

Layout::

    <path>/manifest.json     format, version, created time, library versions, task, input
                             schema, feature names, metrics, model files, sha256 of every
                             other file (and of the manifest's own content)
    <path>/preprocess.json   the fitted preprocessing plan (:class:`Preprocessor` JSON)
    <path>/model/...         the model in its native format (see :data:`MODEL_IO`)

:func:`export` writes one; :func:`load` checks it (format, version, hashes) and returns an
:class:`InferenceModel` whose ``predict`` / ``predict_proba`` take a dict (one row, served
without building a pandas object), a list of dicts or a DataFrame.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .preprocess import PreprocessFormatError, Preprocessor

__all__ = [
    "BundleError",
    "InferenceModel",
    "ModelIO",
    "MODEL_IO",
    "export",
    "load",
]

FORMAT = "litmus-bundle"
VERSION = 1
MANIFEST = "manifest.json"
PREPROCESS = "preprocess.json"
MODEL_DIR = "model"
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
        raise BundleError(f"model/xgboost.json: unknown XGBoost class {name!r}")
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
            f"model/model.skops holds types outside {SKOPS_TRUSTED_PREFIXES}: {refused}; "
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


# the inference model --------------------------------------------------------------------------
class InferenceModel:
    """Preprocessing, model and post-processing, ready to predict.

    Parameters
    ----------
    preprocessor : Preprocessor
        The fitted preprocessing plan.
    model : object
        The trained model, called through ``MODEL_IO[model_format].predictor``.
    model_format : str
        A key of :data:`MODEL_IO`.
    kind : {"classification", "regression"}
        The task.
    classes : list, optional
        Original label of each class index (the model predicts indices ``0..k-1``).
    threshold : float, optional
        Binary classification: predict ``classes[1]`` when ``P(class 1) >= threshold``
        (default 0.5). Multi-class predicts the most probable class.

    Examples
    --------
    >>> m = load("bundle_dir")  # doctest: +SKIP
    >>> m.predict({"age": 39, "workclass": "State-gov"})  # doctest: +SKIP
    '<=50K'
    """

    def __init__(
        self,
        preprocessor: Preprocessor,
        model: Any,
        model_format: str,
        kind: str,
        classes: list[Any] | None = None,
        threshold: float | None = None,
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        if kind not in ("classification", "regression"):
            raise ValueError(f"kind must be 'classification' or 'regression'; got {kind!r}")
        if model_format not in MODEL_IO:
            raise BundleError(f"unknown model format {model_format!r}; known: {list(MODEL_IO)}")
        self.preprocessor = preprocessor
        self.model = model
        self.model_format = model_format
        self.kind = kind
        self.classes = list(classes) if classes is not None else None
        self.threshold = 0.5 if threshold is None else float(threshold)
        self.manifest = dict(manifest or {})
        self._raw = MODEL_IO[model_format].predictor(model, kind)
        self._labels = np.asarray(self.classes, dtype=object) if self.classes else None

    # features -------------------------------------------------------------------------------
    def _features(self, x: Any) -> tuple[np.ndarray, str]:
        """The feature matrix of ``x`` and its shape of answer: "row", "list" or "array"."""
        pre = self.preprocessor
        if isinstance(x, Mapping):
            return pre.transform_row(x).reshape(1, -1), "row"
        if isinstance(x, (list, tuple)):
            return pre.transform_rows(x), "list"
        if hasattr(x, "columns"):  # a pandas or litsdf DataFrame
            return pre.transform(x), "array"
        raise TypeError(
            f"predict takes a dict, a list of dicts or a DataFrame; got {type(x).__name__}"
        )

    # answers --------------------------------------------------------------------------------
    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities: 1-D for a dict, 2-D (rows x classes) otherwise.

        Raises
        ------
        TypeError
            On a regression model.
        """
        if self.kind != "classification":
            raise TypeError("predict_proba needs a classification model; this one regresses")
        features, shape = self._features(x)
        proba = self._raw(features)
        return proba[0] if shape == "row" else proba

    def predict(self, x: Any) -> Any:
        """Predictions: one label (a float for regression) for a dict, a list for a list of
        dicts, a NumPy array for a DataFrame. Labels are the original class values."""
        features, shape = self._features(x)
        if self.kind == "regression":
            values = self._raw(features)
            if shape == "row":
                return float(values[0])
            return values.tolist() if shape == "list" else np.asarray(values, dtype=np.float64)
        proba = self._raw(features)
        if proba.shape[1] == 2:
            index = (proba[:, 1] >= self.threshold).astype(np.intp)
        else:
            index = proba.argmax(axis=1)
        if shape == "row":
            i = int(index[0])
            return self.classes[i] if self.classes else i
        labels = self._labels[index] if self._labels is not None else index
        return labels.tolist() if shape == "list" else labels

    def __repr__(self) -> str:
        return (
            f"<InferenceModel {self.kind} {self.model_format} "
            f"{len(self.preprocessor.inputs)} inputs -> {len(self.preprocessor.feature_names)} "
            "features>"
        )


# export ---------------------------------------------------------------------------------------
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name, dist in (
        ("litsdf", "litsdf"),
        ("numpy", "numpy"),
        ("pandas", "pandas"),
        ("sklearn", "scikit-learn"),
        ("xgboost", "xgboost"),
    ):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest_digest(manifest: Mapping[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _json_value(v: Any, what: str) -> Any:
    v = v.item() if isinstance(v, np.generic) else v
    try:
        json.dumps(v)
    except TypeError as err:
        raise BundleError(f"{what} {v!r} cannot be written to JSON ({err})") from None
    return v


def export(
    path: str | os.PathLike[str],
    preprocessor: Preprocessor,
    model: Any,
    model_format: str,
    kind: str,
    classes: list[Any] | None,
    threshold: float | None,
    metrics: Mapping[str, Any],
    label: str,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a bundle directory at ``path`` (which must not exist, or be empty).

    Parameters
    ----------
    path : path-like
        The bundle directory to create.
    preprocessor : Preprocessor
        The fitted preprocessing.
    model : object
        The trained model; ``MODEL_IO[model_format].save`` writes it.
    model_format : str
        ``"xgboost"``, ``"sklearn"``, ``"pickle"`` or another key of :data:`MODEL_IO`.
    kind : {"classification", "regression"}
        The task.
    classes : list, optional
        The original label of each class index (classification).
    threshold : float, optional
        Binary decision threshold on ``P(class 1)`` (default 0.5 at load).
    metrics : dict
        Scores to record (JSON values).
    label : str
        The target column's name.
    extra : dict, optional
        More JSON values to record under ``"extra"``.

    Returns
    -------
    pathlib.Path
        The bundle directory.
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BundleError(f"{target} exists and is not an empty directory: not overwriting it")
    io = MODEL_IO.get(model_format)
    if io is None:
        raise BundleError(f"unknown model format {model_format!r}; known: {list(MODEL_IO)}")
    if kind not in ("classification", "regression"):
        raise BundleError(f"kind must be 'classification' or 'regression'; got {kind!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (work / PREPROCESS).write_text(preprocessor.to_json())
        (work / MODEL_DIR).mkdir()
        written = io.save(model, work / MODEL_DIR)
        files = [f"{MODEL_DIR}/{PurePosixPath(f)}" for f in written]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
            "task": {
                "kind": kind,
                "label": _json_value(label, "label"),
                "classes": None
                if classes is None
                else [_json_value(c, "class label") for c in classes],
                "threshold": None if threshold is None else float(threshold),
            },
            "input_schema": {str(k): str(v) for k, v in preprocessor.inputs.items()},
            "feature_names": preprocessor.feature_names,
            "metrics": _json_value(dict(metrics), "metrics"),
            "model": {"format": model_format, "files": files},
            "hashes": {f: _sha256(work / f) for f in [PREPROCESS, *files]},
            "extra": _json_value(dict(extra or {}), "extra"),
        }
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


# load -----------------------------------------------------------------------------------------
def _read_manifest(root: Path) -> dict[str, Any]:
    file = root / MANIFEST
    if not root.is_dir():
        raise BundleError(f"{root}: no such bundle directory")
    if not file.is_file():
        raise BundleError(f"{file}: missing; {root} is not a litmus bundle")
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{file}: not valid JSON ({err}); tampered or truncated") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise BundleError(f"{file}: format {got!r}, expected {FORMAT!r}")
    if manifest.get("version") != VERSION:
        raise BundleError(
            f"{file}: bundle format version {manifest.get('version')!r} is not supported by "
            f"this litmus (expected version {VERSION})"
        )
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise BundleError(f"{file}: content does not match its manifest_sha256 (tampered)")
    return manifest


def _check_files(root: Path, manifest: Mapping[str, Any]) -> None:
    hashes = manifest.get("hashes")
    files = manifest.get("model", {}).get("files")
    if not isinstance(hashes, dict) or not isinstance(files, list):
        raise BundleError(f"{root / MANIFEST}: missing 'hashes' or 'model.files'")
    for name in [PREPROCESS, *files]:
        if name not in hashes:
            raise BundleError(f"{root / MANIFEST}: no sha256 recorded for {name}")
    for name, digest in hashes.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise BundleError(f"{root / MANIFEST}: file {name!r} lies outside the bundle")
        file = root / rel
        if not file.is_file():
            raise BundleError(f"{file}: missing from the bundle")
        if _sha256(file) != digest:
            raise BundleError(f"{file}: sha256 does not match the manifest (tampered or truncated)")


def load(path: str | os.PathLike[str], allow_pickle: bool = False) -> InferenceModel:
    """Load a bundle written by :func:`export`, checking it first.

    Parameters
    ----------
    path : path-like
        The bundle directory.
    allow_pickle : bool
        Allow loading pickled code (a ``"pickle"`` model, UDFs in the preprocessing). Only
        for bundles you trust: unpickling runs arbitrary code.

    Returns
    -------
    InferenceModel

    Raises
    ------
    BundleError
        Missing manifest, another format or version, a file missing, tampered or truncated
        (its sha256 differs), a model format that is unknown or needs ``allow_pickle``.
    """
    root = Path(path)
    manifest = _read_manifest(root)
    _check_files(root, manifest)
    fmt = manifest["model"].get("format")
    io = MODEL_IO.get(fmt)
    if io is None:
        raise BundleError(f"{root / MANIFEST}: unknown model format {fmt!r}")
    if io.requires_pickle and not allow_pickle:
        raise BundleError(
            f"{root / MODEL_DIR}: model format {fmt!r} is a pickle, which runs code when "
            "loaded; pass allow_pickle=True only for a bundle you trust"
        )
    try:
        pre = Preprocessor.from_json((root / PREPROCESS).read_text(), allow_pickle=allow_pickle)
    except PreprocessFormatError as err:
        raise BundleError(f"{root / PREPROCESS}: {err}") from err
    files = [str(PurePosixPath(f).relative_to(MODEL_DIR)) for f in manifest["model"]["files"]]
    model = io.load(root / MODEL_DIR, files)
    task = manifest.get("task", {})
    return InferenceModel(
        pre,
        model,
        fmt,
        task.get("kind"),
        task.get("classes"),
        task.get("threshold"),
        manifest=manifest,
    )
