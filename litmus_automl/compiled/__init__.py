"""Models compiled for the one-row serving path: tree ensembles and linear models as numeric
arrays, evaluated without the training library.

A bundle stores the compiled form beside the native model (which stays the reference) as
two files, covered by the manifest's sha256 table and signature like every other file::

    compiled/compiled.json   format, version, family ("trees" or "linear"), settings
    compiled/arrays.npz      the numeric arrays (read with allow_pickle=False)

:func:`compile_model` converts a trained model and checks the compiled form against the
native model on probe rows built from the model's own split thresholds (declining when they
differ: beyond 1e-6 or another label for trees, any bit for linear models); :func:`save`
writes it; :func:`load` reads it back, refusing arrays of the wrong type or shape, indices
out of range, NaN thresholds or values that are not finite (:class:`CompiledFormatError`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .base import CompiledFormatError, CompiledModel, Predictor
from .convert import Declined, convert
from .linear import Linear
from .trees import TreeEnsemble

__all__ = [
    "ARRAYS",
    "FILES",
    "FORMAT",
    "META",
    "CompiledFormatError",
    "CompiledModel",
    "Declined",
    "Linear",
    "TreeEnsemble",
    "compile_model",
    "listed_files",
    "load",
    "probe_rows",
    "save",
    "verify",
    "write_part",
]

FORMAT = "litmus-compiled-model"
VERSION = 1
META = "compiled.json"
ARRAYS = "arrays.npz"
FILES = [META, ARRAYS]
FAMILIES: dict[str, type[CompiledModel]] = {"trees": TreeEnsemble, "linear": Linear}
SINGLE_ROWS = 16
TOLERANCE = 1e-6
"""The largest difference allowed between a compiled tree ensemble's answer and the native
model's (linear models must give the same bits)."""


# probes and verification ----------------------------------------------------------------------
def probe_rows(compiled: CompiledModel, n_features: int, rows: int = 64) -> np.ndarray:
    """Rows that walk many paths of ``compiled``: for trees each feature takes one of its
    split thresholds exactly, its float32 neighbours, a value past every split, NaN (when
    the ensemble takes NaN) or 0; for linear models values around the scaler's mean."""
    rng = np.random.default_rng(0)
    if isinstance(compiled, Linear):
        mean = 0.0 if compiled.mean is None else compiled.mean
        scale = 1.0 if compiled.scale is None else compiled.scale
        return np.asarray(mean + scale * rng.standard_normal((rows, n_features)))
    assert isinstance(compiled, TreeEnsemble)
    inner = compiled.left != -1
    out = np.zeros((rows, n_features))
    for f in range(n_features):
        t = compiled.threshold[inner & (compiled.feature == f)]
        if t.size == 0:
            continue
        t32 = t.astype(np.float32)
        up = np.nextafter(t32, np.float32(np.inf)).astype(np.float64)
        down = np.nextafter(t32, np.float32(-np.inf)).astype(np.float64)
        pool = np.concatenate([t, up, down, [t.max() + 1.0, t.min() - 1.0, 0.0]])
        if compiled.nan_ok:
            pool = np.append(pool, np.nan)
        out[:, f] = rng.choice(pool, size=rows)
    return out


def verify(
    compiled: CompiledModel,
    native: Predictor,
    kind: str,
    n_features: int,
    threshold: float = 0.5,
    rows: np.ndarray | None = None,
) -> str:
    """What differs between ``compiled`` and ``native`` on ``rows`` (default
    :func:`probe_rows`, and one row of zeros), all rows at once and the first
    :data:`SINGLE_ROWS` one at a time (a one-row call takes another path in XGBoost);
    "" when they agree: the same bits for a linear model, within :data:`TOLERANCE` and the
    same labels for trees."""
    x = np.vstack([np.zeros((1, n_features)), probe_rows(compiled, n_features)])
    x = x if rows is None else np.asarray(rows, dtype=np.float64)
    fast = compiled.predictor(kind, native)
    exact = isinstance(compiled, Linear)
    singles = [x[i : i + 1] for i in range(min(len(x), SINGLE_ROWS))]
    for batch in [*singles, x]:
        want = np.asarray(native(batch))
        got = np.asarray(fast(batch))
        if got.shape != want.shape or got.dtype != want.dtype:
            return f"output {got.dtype}{got.shape}, native {want.dtype}{want.shape}"
        if exact and not np.array_equal(got, want):
            return "a linear output differs from the native one"
        diff = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
        if not diff <= TOLERANCE:
            return f"an output differs from the native one by {diff:.3g} (> {TOLERANCE})"
        if kind == "classification" and not np.array_equal(
            _labels(got, threshold), _labels(want, threshold)
        ):
            return "a predicted class differs from the native one"
    return ""


def _labels(proba: np.ndarray, threshold: float) -> np.ndarray:
    if proba.shape[1] == 2:
        return (proba[:, 1] >= threshold).astype(np.intp)
    return proba.argmax(axis=1)


def compile_model(
    model: Any,
    model_format: str,
    kind: str,
    native: Predictor,
    n_features: int,
    threshold: float | None = None,
) -> tuple[CompiledModel | None, str]:
    """``(compiled form, "")`` of ``model``, or ``(None, reason)`` when it has none or the
    form does not give the native answers (:func:`verify`).

    Parameters
    ----------
    model : object
        The trained model, as the bundle stores it (``model_format``).
    model_format : str
        Its key of :data:`litmus_automl.model_io.MODEL_IO`.
    kind : {"classification", "regression"}
        The task.
    native : callable
        The native predictor (``MODEL_IO[model_format].predictor(model, kind)``).
    n_features : int
        The number of features the model takes.
    threshold : float, optional
        The binary decision threshold the labels are compared at (default 0.5).
    """
    try:
        compiled = convert(model, model_format, kind)
        compiled.check(n_features, f"the compiled {type(model).__name__}")
    except (Declined, CompiledFormatError) as err:
        return None, str(err)
    except ImportError as err:  # pragma: no cover - a library missing at export
        return None, f"cannot inspect the model ({err})"
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # another library layout
        return None, f"cannot convert {type(model).__name__}: {type(err).__name__}: {err}"
    problem = verify(compiled, native, kind, n_features, 0.5 if threshold is None else threshold)
    if problem:
        return None, f"the compiled form disagrees with the native model: {problem}"
    return compiled, ""


# files ----------------------------------------------------------------------------------------
def save(compiled: CompiledModel, directory: Path) -> list[str]:
    """Write ``compiled`` under ``directory``; the files written (relative to it)."""
    meta = {"format": FORMAT, "version": VERSION, "family": compiled.family, **compiled.meta()}
    (directory / META).write_text(json.dumps(meta, indent=2))
    with open(directory / ARRAYS, "wb") as f:
        np.savez(f, **compiled.arrays())  # type: ignore[arg-type]
    return list(FILES)


def load(directory: Path, n_features: int) -> CompiledModel:
    """Read and check a compiled model written by :func:`save`.

    Only JSON and NumPy arrays are read (``allow_pickle=False``); the arrays are checked
    (:meth:`CompiledModel.check`) before anything evaluates them.

    Raises
    ------
    CompiledFormatError
        A missing or malformed file, another format or version, an unknown family, or
        arrays that fail the checks; the message names the file and the field.
    """
    meta_file, arrays_file = directory / META, directory / ARRAYS
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CompiledFormatError(f"{meta_file}: cannot be read as JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise CompiledFormatError(f"{meta_file}: format {got!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise CompiledFormatError(
            f"{meta_file}: version {meta.get('version')!r} is not supported (expected {VERSION})"
        )
    family = FAMILIES.get(meta.get("family"))  # type: ignore[arg-type]
    if family is None:
        raise CompiledFormatError(
            f"{meta_file}: family {meta.get('family')!r}; expected one of {sorted(FAMILIES)}"
        )
    try:
        with np.load(arrays_file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise CompiledFormatError(
            f"{arrays_file}: not a NumPy archive of plain arrays ({err})"
        ) from None
    compiled = family.from_parts(arrays, meta, str(arrays_file))
    compiled.check(n_features, str(arrays_file))
    return compiled


# the bundle's entries ---------------------------------------------------------------------------
def write_part(
    root: Path,
    prefix: PurePosixPath,
    model: Any,
    model_format: str,
    kind: str,
    native: Predictor,
    n_features: int,
    threshold: float | None,
) -> dict[str, Any]:
    """Compile ``model`` (:func:`compile_model`) into ``root / prefix`` (created); the
    manifest's entry for it: ``{"format", "family", "files"}`` (the files as paths under
    ``prefix``), or ``{"declined": reason}`` when it has no compiled form."""
    compiled, why = compile_model(model, model_format, kind, native, n_features, threshold)
    if compiled is None:
        return {"declined": why}
    (root / prefix).mkdir(parents=True)
    files = [str(prefix / f) for f in save(compiled, root / prefix)]
    return {"format": FORMAT, "family": compiled.family, "files": files}


def listed_files(entry: Any, prefix: PurePosixPath, manifest: Path) -> list[str]:
    """The compiled files a manifest entry lists ([] for an older bundle, or a model with no
    compiled form): exactly :data:`FILES` under ``prefix``.

    Raises
    ------
    BundleError
        When the entry lists other files (naming ``manifest`` and the field).
    """
    if entry is None or (isinstance(entry, dict) and "files" not in entry):
        return []
    want = [str(prefix / f) for f in FILES]
    if not isinstance(entry, dict) or entry.get("files") != want:
        got = entry.get("files") if isinstance(entry, dict) else entry
        raise CompiledFormatError(f"{manifest}: model.compiled.files is {got!r}; expected {want}")
    return want
