"""The inference bundle: a directory holding everything a trained model needs to predict.

Layout of a single model (:func:`export`)::

    <path>/manifest.json     format, version, created time, library versions, task, input
                             schema, feature names, metrics, model files, sha256 of every
                             other file (and of the manifest's own content)
    <path>/preprocess.json   the fitted preprocessing plan (:class:`Preprocessor` JSON)
    <path>/model/...         the model in its native format (see :data:`MODEL_IO`)
    <path>/compiled/...      the model compiled for the one-row path, when it has a form
                             (:mod:`litmus_automl.compiled`: numeric arrays, no code); the
                             manifest's ``model.compiled`` lists its files, or says why not
    <path>/signature.json    only when signed (``key=`` or ``LITMUS_BUNDLE_KEY``): the
                             HMAC-SHA256 of the canonical manifest (format, algorithm, hex)

Layout of an ensemble (:func:`export_ensemble`), the same format and version::

    <path>/manifest.json                 as above, with ``"ensemble": [{"dir": "members/<i>",
                                         "weight": w, "model": {...}}, ...]`` and
                                         ``"model": {"format": "ensemble", "files": []}``
    <path>/preprocess.json               a note listing the members (not a plan)
    <path>/members/<i>/preprocess.json   member i's fitted preprocessing plan
    <path>/members/<i>/model/...         member i's model in its native format
    <path>/members/<i>/compiled/...      member i's compiled model, when it has one

A reader that predates ensembles checks every file's sha256, then refuses the bundle with
"unknown model format 'ensemble'". A reader that predates compiled models checks their
sha256 and serves the native model; a bundle without them (an older one) is served natively.

The compiled form answers the one-row path (and small lists of rows) without the training
library; the native model stays in the bundle as the reference: at export and again at load
the two are compared on probe rows (:func:`litmus_automl.compiled.verify`), and a bundle
whose compiled form disagrees is refused.

The sha256 hashes catch accidents (a truncated copy, a flipped bit), not an attacker: whoever
can edit the files can recompute them. A signed bundle (``export(..., key=...)``) loads with
``load(path, key=...)`` only if its manifest, and so every file's hash, is exactly as signed.

:func:`export` writes one; :func:`load` checks it (format, version, hashes) and returns an
:class:`InferenceModel` (an :class:`EnsembleModel` for an ensemble) whose ``predict`` /
``predict_proba`` take a dict (one row, served without building a pandas object), a list of
dicts or a DataFrame.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from . import _bundle_checks as checks
from . import compiled as compiled_models
from ._bundle_checks import KEY_ENV, Key
from .model_io import (
    MODEL_IO,
    SKOPS_TRUSTED_LOADERS,
    SKOPS_TRUSTED_TYPES,
    BundleError,
    ModelIO,
    Predictor,
)
from .preprocess import PreprocessFormatError, Preprocessor

__all__ = [
    "KEY_ENV",
    "BundleError",
    "EnsembleModel",
    "InferenceModel",
    "ModelIO",
    "MODEL_IO",
    "SKOPS_TRUSTED_LOADERS",
    "SKOPS_TRUSTED_TYPES",
    "Predictor",
    "export",
    "export_ensemble",
    "load",
]

FORMAT = "litmus-bundle"
VERSION = 1
MANIFEST = "manifest.json"
PREPROCESS = "preprocess.json"
MODEL_DIR = "model"
COMPILED_DIR = "compiled"
COMPILED_MAX_ROWS = 256
"""The most rows served by a compiled model at once (one thread); more go to the native
model, which spreads a batch over threads."""
MEMBERS_DIR = "members"
ENSEMBLE = "ensemble"
"""The ``model.format`` of an ensemble bundle (no :data:`MODEL_IO` entry, on purpose)."""

Member = tuple[Preprocessor, Any, str, float]
"""One ensemble member: ``(preprocessor, model, model_format, weight)``."""


def _check_weights(weights: Sequence[Any]) -> list[float]:
    """The weights as floats, if they are all positive and sum to 1 (else ValueError)."""
    if len(weights) == 0:
        raise ValueError("an ensemble needs at least one member")
    try:
        ws = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ValueError(f"ensemble weights must be numbers; got {list(weights)!r}") from None
    if not all(math.isfinite(w) and w > 0 for w in ws):
        raise ValueError(f"ensemble weights must be positive; got {ws}")
    total = math.fsum(ws)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"ensemble weights must sum to 1; got {ws} (sum {total!r})")
    return ws


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
    manifest : dict, optional
        The bundle's manifest (kept as ``self.manifest``).
    compiled : CompiledModel, optional
        The model compiled for the one-row path (:mod:`litmus_automl.compiled`): it answers
        up to :data:`COMPILED_MAX_ROWS` rows at once, the native model the rest.

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
        compiled: compiled_models.CompiledModel | None = None,
    ) -> None:
        if model_format not in MODEL_IO:
            raise BundleError(f"unknown model format {model_format!r}; known: {list(MODEL_IO)}")
        self._set_task(kind, classes, threshold, manifest)
        self.preprocessor = preprocessor
        self.model = model
        self.model_format = model_format
        self._native = MODEL_IO[model_format].predictor(model, kind)
        self.compiled = compiled
        self._fast = None if compiled is None else compiled.predictor(self.kind, self._native)

    def _raw(self, features: np.ndarray) -> np.ndarray:
        """The model's outputs for a feature matrix: compiled for a few rows, else native."""
        if self._fast is not None and features.shape[0] <= COMPILED_MAX_ROWS:
            return self._fast(features)
        return self._native(features)

    def _set_task(
        self,
        kind: str,
        classes: list[Any] | None,
        threshold: float | None,
        manifest: Mapping[str, Any] | None,
    ) -> None:
        kind, classes, threshold = checks.check_task(kind, classes, threshold)
        self.kind = kind
        self.classes = classes
        self.threshold = 0.5 if threshold is None else threshold
        self.manifest = dict(manifest or {})
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

    def _outputs(self, x: Any) -> tuple[np.ndarray, str]:
        """Class probabilities (2-D) or values (1-D) for ``x``, and the shape of answer."""
        if type(x) is dict and self._fast is not None:  # the one-row path, shortest
            return self._fast(self.preprocessor.transform_row(x).reshape(1, -1)), "row"
        features, shape = self._features(x)
        return self._raw(features), shape

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
        proba, shape = self._outputs(x)
        return proba[0] if shape == "row" else proba

    def predict(self, x: Any) -> Any:
        """Predictions: one label (a float for regression) for a dict, a list for a list of
        dicts, a NumPy array for a DataFrame. Labels are the original class values."""
        out, shape = self._outputs(x)
        if shape == "row":  # scalars: the same comparison as the array one below
            if self.kind == "regression":
                return float(out[0])
            row = out[0]
            i = int(row[1] >= self.threshold) if row.shape[0] == 2 else int(row.argmax())
            return self.classes[i] if self.classes else i
        if self.kind == "regression":
            return out.tolist() if shape == "list" else np.asarray(out, dtype=np.float64)
        if out.shape[1] == 2:
            index = (out[:, 1] >= self.threshold).astype(np.intp)
        else:
            index = out.argmax(axis=1)
        labels = self._labels[index] if self._labels is not None else index
        return labels.tolist() if shape == "list" else labels

    def __repr__(self) -> str:
        return (
            f"<InferenceModel {self.kind} {self.model_format} "
            f"{len(self.preprocessor.inputs)} inputs -> {len(self.preprocessor.feature_names)} "
            "features>"
        )


class EnsembleModel(InferenceModel):
    """A weighted average of models, each with its own preprocessing, ready to predict.

    ``predict_proba`` is ``sum(w_i * p_i)`` over the members' class probabilities (in member
    order, in float64); ``predict`` thresholds it (binary) or takes its argmax (multi-class)
    and decodes the class labels. For regression the members' values are averaged. A dict is
    served member by member through ``transform_row`` and the member's one-row predictor: no
    pandas object is built.

    Parameters
    ----------
    members : sequence of (Preprocessor, model, model_format, weight)
        The members; the weights must be positive and sum to 1.
    kind, classes, threshold, manifest
        As :class:`InferenceModel`.
    compiled : sequence of CompiledModel or None, optional
        Each member's compiled model (None for a member served natively).

    Attributes
    ----------
    members : tuple of (InferenceModel, float)
        Each member served alone, and its weight. An ensemble has no single ``preprocessor``
        or ``model``; ``model_format`` is ``"ensemble"``.
    """

    def __init__(
        self,
        members: Sequence[Member],
        kind: str,
        classes: list[Any] | None = None,
        threshold: float | None = None,
        manifest: Mapping[str, Any] | None = None,
        compiled: Sequence[compiled_models.CompiledModel | None] | None = None,
    ) -> None:
        members = list(members)
        weights = _check_weights([m[3] for m in members])
        forms = list(compiled) if compiled is not None else [None] * len(members)
        if len(forms) != len(members):
            raise ValueError(f"{len(forms)} compiled models for {len(members)} members")
        self._set_task(kind, classes, threshold, manifest)
        self.model_format = ENSEMBLE
        self.compiled = None
        self._fast = None
        self.members = tuple(
            (InferenceModel(pre, model, fmt, kind, classes, threshold, compiled=c), w)
            for (pre, model, fmt, _), w, c in zip(members, weights, forms, strict=True)
        )

    def _outputs(self, x: Any) -> tuple[np.ndarray, str]:
        total: np.ndarray | None = None
        shape = "array"
        for member, weight in self.members:
            out, shape = member._outputs(x)
            part = weight * np.asarray(out, dtype=np.float64)
            if total is not None and part.shape != total.shape:
                raise BundleError(
                    f"ensemble members disagree on the output shape: {total.shape} vs "
                    f"{part.shape} ({member.model_format} member)"
                )
            total = part if total is None else total + part
        assert total is not None
        return total, shape

    def __repr__(self) -> str:
        parts = ", ".join(f"{m.model_format} x {w:g}" for m, w in self.members)
        return f"<EnsembleModel {self.kind} [{parts}]>"


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
    return hashlib.sha256(checks.canonical(manifest)).hexdigest()


def _json_value(v: Any, what: str) -> Any:
    v = v.item() if isinstance(v, np.generic) else v
    try:
        json.dumps(v)
    except TypeError as err:
        raise BundleError(f"{what} {v!r} cannot be written to JSON ({err})") from None
    return v


def _write(
    path: str | os.PathLike[str],
    parts: Sequence[tuple[Preprocessor, Any, str]],
    weights: list[float] | None,
    kind: str,
    classes: list[Any] | None,
    threshold: float | None,
    metrics: Mapping[str, Any],
    label: str,
    extra: Mapping[str, Any] | None,
    key: Key | None,
    compile_models: bool = True,
) -> Path:
    """Write a bundle of one model (``weights`` None) or an ensemble of ``parts``, signed
    with ``key`` (or :data:`KEY_ENV`) when there is one, each model compiled when it can be
    (and ``compile_models``)."""
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BundleError(f"{target} exists and is not an empty directory: not overwriting it")
    for _, _, fmt in parts:
        if fmt not in MODEL_IO:
            raise BundleError(f"unknown model format {fmt!r}; known: {list(MODEL_IO)}")
    kind, classes, threshold = checks.check_task(kind, classes, threshold)
    secret = checks.resolve_key(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        hashed, entries, schema = [PREPROCESS], list[dict[str, Any]](), dict[str, str]()
        for i, (pre, model, fmt) in enumerate(parts):
            where = PurePosixPath(*([] if weights is None else [MEMBERS_DIR, str(i)]))
            (work / where / MODEL_DIR).mkdir(parents=True)
            (work / where / PREPROCESS).write_text(pre.to_json())
            written = MODEL_IO[fmt].save(model, work / where / MODEL_DIR)
            files = [str(where / MODEL_DIR / PurePosixPath(f)) for f in written]
            hashed += [*([] if weights is None else [str(where / PREPROCESS)]), *files]
            entry: dict[str, Any] = {"format": fmt, "files": files}
            if compile_models:
                native = MODEL_IO[fmt].predictor(model, kind)
                entry["compiled"] = compiled_models.write_part(
                    work,
                    where / COMPILED_DIR,
                    model,
                    fmt,
                    kind,
                    native,
                    len(pre.feature_names),
                    threshold,
                )
                hashed += entry["compiled"].get("files", [])
            entries.append({"dir": str(where), "model": entry})
            if weights is not None:
                entries[-1].update(weight=weights[i], feature_names=pre.feature_names)
            for k, v in pre.inputs.items():
                schema.setdefault(str(k), str(v))
        if weights is not None:  # the root plan is a note: a reader without ensembles checks
            # every hash, then refuses the model format "ensemble"
            members = [f"{e['dir']}/{PREPROCESS}" for e in entries]
            (work / PREPROCESS).write_text(json.dumps({"ensemble_plans": members}, indent=2))
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
            "input_schema": schema,
            "feature_names": parts[0][0].feature_names if weights is None else None,
            "metrics": _json_value(dict(metrics), "metrics"),
            "model": entries[0]["model"] if weights is None else {"format": ENSEMBLE, "files": []},
            **({} if weights is None else {ENSEMBLE: entries}),
            "hashes": {f: _sha256(work / f) for f in hashed},
            "extra": _json_value(dict(extra or {}), "extra"),
        }
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if secret is not None:
            checks.write_signature(work, manifest, secret)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


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
    key: Key | None = None,
    compile_models: bool = True,
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
    key : bytes or str, optional
        Sign the bundle with this HMAC-SHA256 key (a str is used as its UTF-8 bytes): a
        ``signature.json`` beside the manifest, checked by ``load(path, key=...)``. Without
        it, the key in the environment variable ``LITMUS_BUNDLE_KEY`` if set; else unsigned.
    compile_models : bool
        Also store the model compiled for the one-row path when it has an exact compiled
        form (:mod:`litmus_automl.compiled`; the manifest's ``model.compiled`` says why
        not otherwise). False writes the native model only.

    Returns
    -------
    pathlib.Path
        The bundle directory.
    """
    part = (preprocessor, model, model_format)
    return _write(
        path, [part], None, kind, classes, threshold, metrics, label, extra, key, compile_models
    )


def export_ensemble(
    path: str | os.PathLike[str],
    members: Sequence[Member],
    kind: str,
    classes: list[Any] | None,
    threshold: float | None,
    metrics: Mapping[str, Any],
    label: str,
    extra: Mapping[str, Any] | None = None,
    key: Key | None = None,
    compile_models: bool = True,
) -> Path:
    """Write an ensemble bundle at ``path`` (which must not exist, or be empty); :func:`load`
    gives an :class:`EnsembleModel`.

    Member ``i``'s ``preprocess.json`` and ``model/`` go under ``members/<i>/``; the manifest's
    ``"ensemble"`` lists each member's directory, weight and model files, and its sha256 table
    covers every member file.

    Parameters
    ----------
    members : sequence of (Preprocessor, model, model_format, weight)
        Each member's fitted preprocessing, trained model, its key of :data:`MODEL_IO` and
        its weight. The weights must be positive and sum to 1 (else ValueError).
    path, kind, classes, threshold, metrics, label, extra, key, compile_models
        As :func:`export`, for the ensemble (each member compiled on its own).
    """
    members = list(members)
    weights = _check_weights([m[3] for m in members])
    parts = [(pre, model, fmt) for pre, model, fmt, _ in members]
    return _write(
        path, parts, weights, kind, classes, threshold, metrics, label, extra, key, compile_models
    )


# load -----------------------------------------------------------------------------------------
def _read_manifest(root: Path) -> dict[str, Any]:
    file = root / MANIFEST
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


def _parts(root: Path, manifest: Mapping[str, Any]) -> list[tuple[PurePosixPath, dict[str, Any]]]:
    """``(directory, model entry)`` of each part to load: the bundle root for a single model,
    ``members/<i>`` for each member of an ensemble."""
    where = root / MANIFEST
    if ENSEMBLE not in manifest:
        model = manifest.get("model")
        if not isinstance(model, dict) or not isinstance(model.get("files"), list):
            raise BundleError(f"{where}: missing 'hashes' or 'model.files'")
        return [(PurePosixPath(), model)]
    entries = manifest[ENSEMBLE]
    if not isinstance(entries, list) or not entries:
        raise BundleError(f"{where}: 'ensemble' must be a non-empty list of members")
    out = []
    for i, e in enumerate(entries):
        ok = (
            isinstance(e, dict)
            and isinstance(e.get("dir"), str)
            and isinstance(e.get("model"), dict)
            and isinstance(e["model"].get("files"), list)
        )
        if not ok:
            raise BundleError(f"{where}: ensemble member {i} lacks 'dir' or 'model.files'")
        checks.inside(root, e["dir"], f"ensemble[{i}].dir")
        if e["dir"] != f"{MEMBERS_DIR}/{i}":
            raise BundleError(
                f"{where}: ensemble[{i}].dir is {e['dir']!r}; member {i} lies in "
                f"'{MEMBERS_DIR}/{i}'"
            )
        out.append((PurePosixPath(e["dir"]), e["model"]))
    return out


def _check_files(root: Path, manifest: Mapping[str, Any]) -> None:
    hashes = manifest.get("hashes")
    if not isinstance(hashes, dict):
        raise BundleError(f"{root / MANIFEST}: missing 'hashes' or 'model.files'")
    required = [PREPROCESS]
    for where, model in _parts(root, manifest):
        required += [str(where / PREPROCESS), *model["files"], *_compiled_files(root, where, model)]
    for name in required:
        if name not in hashes:
            raise BundleError(f"{root / MANIFEST}: no sha256 recorded for {name}")
    for name, digest in hashes.items():
        file = checks.inside(root, name, "hashes")
        if not file.is_file():
            raise BundleError(f"{file}: missing from the bundle")
        if _sha256(file) != digest:
            raise BundleError(f"{file}: sha256 does not match the manifest (tampered or truncated)")


def _compiled_files(root: Path, where: PurePosixPath, model: Mapping[str, Any]) -> list[str]:
    """The compiled model's files the manifest lists for the part at ``where`` ([] if none)."""
    return compiled_models.listed_files(
        model.get("compiled"), where / COMPILED_DIR, root / MANIFEST
    )


def _load_part(
    root: Path, where: PurePosixPath, model: Mapping[str, Any], allow_pickle: bool
) -> tuple[Preprocessor, Any, str, compiled_models.CompiledModel | None]:
    """The preprocessor, model, model format and compiled model (or None) stored under
    ``root / where``."""
    fmt = model.get("format")
    io = MODEL_IO.get(fmt) if isinstance(fmt, str) else None
    if io is None:
        raise BundleError(f"{root / MANIFEST}: unknown model format {fmt!r}")
    if io.requires_pickle and not allow_pickle:
        raise BundleError(
            f"{root / where / MODEL_DIR}: model format {fmt!r} is a pickle, which runs code "
            "when loaded; pass allow_pickle=True only for a bundle you trust"
        )
    plan = root / where / PREPROCESS
    try:
        pre = Preprocessor.from_json(plan.read_text(), allow_pickle=allow_pickle)
    except PreprocessFormatError as err:
        raise BundleError(f"{plan}: {err}") from err
    try:
        files = [str(PurePosixPath(f).relative_to(where / MODEL_DIR)) for f in model["files"]]
    except ValueError:
        raise BundleError(
            f"{root / MANIFEST}: model files {model['files']} are not under {where / MODEL_DIR}"
        ) from None
    assert isinstance(fmt, str)
    native = io.load(root / where / MODEL_DIR, files)
    compiled = None
    if _compiled_files(root, where, model):
        compiled = compiled_models.load(root / where / COMPILED_DIR, len(pre.feature_names))
    return pre, native, fmt, compiled


def _check_part(
    root: Path, where: PurePosixPath, part: InferenceModel, feature_names: Any, field: str
) -> None:
    """Refuse a part whose model does not fit the manifest's task or its features: a
    classifier for a regression (or the reverse), another number of classes, a model that
    does not take the features ``preprocess.json`` gives."""
    manifest = root / MANIFEST
    names = part.preprocessor.feature_names
    if feature_names != names:
        raise BundleError(
            f"{manifest}: {field} {feature_names!r} differs from the features of "
            f"{root / where / PREPROCESS} ({names!r})"
        )
    what = f"the model in {root / where / MODEL_DIR}"
    own = checks.model_kind(part.model, part.model_format)
    if own is not None and own != part.kind:
        raise BundleError(f"{manifest}: task.kind is {part.kind!r}, but {what} is a {own} model")
    try:
        out = part._native(np.zeros((1, len(names))))
    except Exception as err:
        raise BundleError(
            f"{what} cannot predict one row of the {len(names)} features of "
            f"{root / where / PREPROCESS}: {type(err).__name__}: {err}"
        ) from None
    try:
        checks.check_outputs(out, part.kind, part.classes, what)
    except BundleError as err:
        raise BundleError(f"{manifest}: {err}") from None
    if part.compiled is not None:
        problem = compiled_models.verify(
            part.compiled, part._native, part.kind, len(names), part.threshold
        )
        if problem:
            raise BundleError(
                f"{root / where / COMPILED_DIR}: the compiled model does not give the answers "
                f"of {what} ({problem}); refusing the bundle"
            )


def load(
    path: str | os.PathLike[str], allow_pickle: bool = False, key: Key | None = None
) -> InferenceModel:
    """Load a bundle written by :func:`export` or :func:`export_ensemble`, checking it first.

    Checks, before anything in it is read as a model or plan: no symbolic links, devices or
    FIFOs in the bundle and no listed path leaving it; the format and version; the signature
    when there is a key; the sha256 of every file; the task (kind, class labels, threshold,
    ensemble weights). Then that each model is of the task's kind, gives one probability per
    class label (or one value), and takes the features its plan gives; and that a compiled
    model, when the bundle holds one, is plain numeric arrays within bounds
    (:func:`litmus_automl.compiled.load`) and gives the native model's answers on probe rows.

    Parameters
    ----------
    path : path-like
        The bundle directory (it may be reached through a symbolic link; nothing inside it
        may be one).
    allow_pickle : bool
        Allow loading pickled code (a ``"pickle"`` model, UDFs in the preprocessing). Only
        for bundles you trust: unpickling runs arbitrary code.
    key : bytes or str, optional
        The HMAC-SHA256 key the bundle was signed with (a str is used as its UTF-8 bytes);
        without it, the environment variable ``LITMUS_BUNDLE_KEY`` if set. With a key, an
        unsigned bundle or one whose signature does not match is refused. Without any key the
        signature is not checked: a signed bundle loads, checked by its sha256 hashes only.

    Returns
    -------
    InferenceModel
        An :class:`EnsembleModel` when the manifest lists an ``"ensemble"``.

    Raises
    ------
    BundleError
        Missing manifest, another format or version, a file missing, tampered or truncated
        (its sha256 differs), a link or special file inside the bundle, a path leaving it, a
        signature missing or not matching the key, a model format that is unknown or needs
        ``allow_pickle``, a skops model holding types litmus does not train, a task that makes
        no sense or does not fit the model, ensemble weights that are not positive or do not
        sum to 1, a compiled model that is malformed, out of bounds
        (:class:`litmus_automl.compiled.CompiledFormatError`) or disagrees with the native one.
    """
    secret = checks.resolve_key(key)
    given = Path(path)
    if not given.is_dir():
        raise BundleError(f"{given}: no such bundle directory")
    root = given.resolve()
    checks.check_tree(root)
    manifest = _read_manifest(root)
    if secret is not None:
        checks.verify_signature(root, manifest, secret)
    _check_files(root, manifest)
    task = manifest.get("task")
    if not isinstance(task, dict):
        raise BundleError(f"{root / MANIFEST}: 'task' must be an object; got {task!r}")
    try:
        kind, classes, threshold = checks.check_task(
            task.get("kind"), task.get("classes"), task.get("threshold"), field="task."
        )
    except BundleError as err:
        raise BundleError(f"{root / MANIFEST}: {err}") from None
    parts = _parts(root, manifest)
    if ENSEMBLE not in manifest:
        where, entry = parts[0]
        pre, model, fmt, compiled = _load_part(root, where, entry, allow_pickle)
        single = InferenceModel(
            pre, model, fmt, kind, classes, threshold, manifest=manifest, compiled=compiled
        )
        _check_part(root, where, single, manifest.get("feature_names"), "feature_names")
        return single
    weights = [e.get("weight") for e in manifest[ENSEMBLE]]
    try:
        _check_weights(weights)
    except ValueError as err:
        raise BundleError(f"{root / MANIFEST}: {err}") from None
    loaded = [_load_part(root, where, entry, allow_pickle) for where, entry in parts]
    members = [(pre, model, fmt, w) for (pre, model, fmt, _), w in zip(loaded, weights)]
    ensemble = EnsembleModel(
        members,  # type: ignore[arg-type]
        kind,
        classes,
        threshold,
        manifest=manifest,
        compiled=[c for *_, c in loaded],
    )
    for i, ((where, _), (member, _)) in enumerate(zip(parts, ensemble.members, strict=True)):
        names = manifest[ENSEMBLE][i].get("feature_names")
        _check_part(root, where, member, names, f"ensemble[{i}].feature_names")
    return ensemble
