"""What :mod:`litmus_automl.bundle` checks beyond the sha256 of each file: the HMAC
signature (authenticity), the files of the bundle directory (no links, devices or paths that
leave it) and the meaning of the manifest's task (kind, labels, threshold) against the model.

The sha256 table in ``manifest.json`` guards against accidents only (a truncated copy, a
flipped bit): anyone who can edit the files can recompute it. The signature, an HMAC-SHA256
over the canonical manifest (which holds every file's sha256), can only be made by a holder
of the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .model_io import BundleError

MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
SIGNATURE_FORMAT = "litmus-bundle-signature"
ALGORITHM = "HMAC-SHA256"
KEY_ENV = "LITMUS_BUNDLE_KEY"
"""The environment variable holding the signing key (text, used as its UTF-8 bytes) when
``export`` / ``load`` get no ``key=``."""
KINDS = ("classification", "regression")

Key = bytes | str


# signing --------------------------------------------------------------------------------------
def canonical(manifest: Mapping[str, Any]) -> bytes:
    """The bytes that ``manifest_sha256`` and the signature cover: the manifest without its
    ``manifest_sha256``, as JSON with sorted keys."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return json.dumps(body, sort_keys=True).encode()


def resolve_key(key: Key | None) -> bytes | None:
    """``key`` as bytes (a str as its UTF-8 bytes); without one, :data:`KEY_ENV`'s value;
    None when neither is set.

    Raises
    ------
    TypeError
        When ``key`` is neither bytes nor str.
    ValueError
        When the key is empty.
    """
    source = "key="
    if key is None:
        key, source = os.environ.get(KEY_ENV), KEY_ENV
        if key is None:
            return None
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key= must be bytes or str; got {type(key).__name__}")
    if not key:
        raise ValueError(f"the signing key ({source}) is empty")
    return bytes(key)


def signature(manifest: Mapping[str, Any], key: bytes) -> str:
    """The hex HMAC-SHA256 of the canonical manifest under ``key``."""
    return hmac.new(key, canonical(manifest), hashlib.sha256).hexdigest()


def write_signature(directory: Path, manifest: Mapping[str, Any], key: bytes) -> None:
    """Write ``signature.json`` (format, algorithm, hex digest) beside the manifest."""
    doc = {"format": SIGNATURE_FORMAT, "algorithm": ALGORITHM, "hmac": signature(manifest, key)}
    (directory / SIGNATURE).write_text(json.dumps(doc, indent=2))


def verify_signature(root: Path, manifest: Mapping[str, Any], key: bytes) -> None:
    """Refuse the bundle unless ``signature.json`` holds the manifest's HMAC under ``key``.

    Raises
    ------
    BundleError
        Unsigned, a malformed signature file, another algorithm, or a signature that does not
        match (another key, or an edited manifest).
    """
    file = root / SIGNATURE
    if not file.is_file():
        raise BundleError(
            f"{root}: the bundle is not signed (no {SIGNATURE}), but a key was given "
            f"(key= or {KEY_ENV}); refusing an unsigned bundle"
        )
    try:
        doc = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{file}: not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != SIGNATURE_FORMAT:
        raise BundleError(f"{file}: not a litmus bundle signature (format {SIGNATURE_FORMAT!r})")
    if doc.get("algorithm") != ALGORITHM:
        raise BundleError(f"{file}: algorithm {doc.get('algorithm')!r}, expected {ALGORITHM!r}")
    given = doc.get("hmac")
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode(), signature(manifest, key).encode()
    ):
        raise BundleError(
            f"{file}: the signature does not match {MANIFEST} under this key (another key, or "
            "the bundle was edited after signing); refusing it"
        )


# files ----------------------------------------------------------------------------------------
def check_tree(root: Path) -> None:
    """Refuse symbolic links, devices, FIFOs and sockets anywhere under ``root`` (which is
    already resolved: the bundle directory itself may be reached through a link).

    Raises
    ------
    BundleError
        Naming the first such path.
    """
    for top, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(top) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise BundleError(
                    f"{path}: a symbolic link inside the bundle; bundles hold plain files only"
                )
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise BundleError(
                    f"{path}: not a regular file or directory (a device, FIFO or socket); "
                    "bundles hold plain files only"
                )


def inside(root: Path, name: Any, field: str) -> Path:
    """``root / name`` for a relative path ``name`` listed in the manifest's ``field``.

    Raises
    ------
    BundleError
        When ``name`` is not text, is empty, absolute, holds ``..`` or leaves ``root``.
    """
    where = root / MANIFEST
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        raise BundleError(f"{where}: {field}: {name!r} is not a relative path in the bundle")
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise BundleError(f"{where}: {field}: {name!r} lies outside the bundle")
    path = root / rel
    if not path.resolve().is_relative_to(root):
        raise BundleError(f"{where}: {field}: {name!r} lies outside the bundle")
    return path


# the task -------------------------------------------------------------------------------------
def check_task(
    kind: Any, classes: Any, threshold: Any, field: str = ""
) -> tuple[str, list[Any] | None, float | None]:
    """The task's kind, labels and threshold if they make sense together.

    A classification has two or more distinct labels (JSON scalars); a regression has none.
    A threshold is a finite number strictly between 0 and 1, for a binary task only.

    Raises
    ------
    BundleError
        Naming the value at fault, after the prefix ``field`` (``"task."`` for the fields of
        ``manifest.json``; ``""`` for the arguments of ``export``).
    """
    if kind not in KINDS:
        raise BundleError(f"{field}kind must be one of {list(KINDS)}; got {kind!r}")
    if kind == "regression":
        if classes is not None:
            raise BundleError(f"{field}classes must be null for a regression; got {classes!r}")
        if threshold is not None:
            raise BundleError(f"{field}threshold must be null for a regression; got {threshold!r}")
        return kind, None, None
    if not isinstance(classes, (list, tuple)) or len(classes) < 2:
        raise BundleError(
            f"{field}classes must list two or more class labels for a classification; "
            f"got {classes!r}"
        )
    labels = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if not all(c is None or isinstance(c, (str, int, float, bool)) for c in labels):
        raise BundleError(f"{field}classes must hold text, numbers or booleans; got {labels!r}")
    if len({(type(c), c) for c in labels}) != len(labels):
        raise BundleError(f"{field}classes must be distinct; got {labels!r}")
    if threshold is None:
        return kind, labels, None
    number = isinstance(threshold, (int, float, np.number)) and not isinstance(threshold, bool)
    if not number or not (math.isfinite(threshold) and 0 < threshold < 1):
        raise BundleError(
            f"{field}threshold must be a number strictly between 0 and 1; got {threshold!r}"
        )
    if len(labels) != 2:
        raise BundleError(
            f"{field}threshold is for a binary classification; this one has {len(labels)} classes"
        )
    return kind, labels, float(threshold)


def model_kind(model: Any, model_format: str) -> str | None:
    """``"classification"`` / ``"regression"`` as the model itself says (an XGBoost objective,
    a scikit-learn estimator type); None when it can't tell (a pickled model)."""
    if model_format == "xgboost":
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        return "classification" if objective.startswith(("binary:", "multi:")) else "regression"
    if model_format == "sklearn":
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(model):
            return "classification"
        return "regression" if is_regressor(model) else None
    return None


def check_outputs(out: Any, kind: str, classes: Sequence[Any] | None, what: str) -> None:
    """Refuse a model whose outputs for one row of zeros do not fit the task: class
    probabilities of shape ``(1, len(classes))``, or one value for a regression."""
    shape = np.shape(out)
    if kind == "classification":
        assert classes is not None
        if shape != (1, len(classes)):
            raise BundleError(
                f"{what} gives class probabilities of shape {shape} for one row, but "
                f"task.classes lists {len(classes)} classes"
            )
    elif shape != (1,):
        raise BundleError(
            f"{what} gives outputs of shape {shape} for one row; a regression gives one value "
            "per row"
        )
