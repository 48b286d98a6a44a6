"""Backend selection under ``backend="auto"``: each backend states its own preference.

The selector names no backend. For a plan and its input size it asks every backend of the
registry for a :class:`~litsdf_compiler.backends.preference.Preference` (given the backend's
settings in force); those that state one are tried first, by rank and then priority, the
others follow in priority order (the engine runs the first that supports the plan).

A backend's settings (its :attr:`~litsdf_compiler.backends.base.Backend.settings`) come from,
in this order: values set in this process (:func:`set_settings`, ``litsdf.options``), the
profile written by ``litsdf calibrate`` (:func:`profile_path`), the backend's defaults.

Under ``options.selector = "adaptive"`` this order is the prior of the bandit of
:mod:`litsdf_compiler.adaptive`, which learns the backends' run times per plan shape and size.

The profile is JSON: ``{"format": "litsdf-profile", "version": 2, "backends": {<name>:
{"settings": {...}, "measured": {...}}}}``. A version 1 profile (``"thresholds":
{"<backend>_<setting>": value}``) is read too, each value migrated to its backend's section.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .backends import Backend, get_backend, registry
from .backends.preference import Calibration, Preference, Settings
from .ir.base import Node, walk
from .ir.relations import ReadCsv, ReadParquet, Relation, Source

__all__ = [
    "PROFILE_FORMAT",
    "PROFILE_VERSION",
    "profile_path",
    "load_profile",
    "save_profile",
    "settings",
    "set_settings",
    "reset_settings",
    "estimate_rows",
    "ranked",
]

PROFILE_FORMAT = "litsdf-profile"
PROFILE_VERSION = 2
USER = "set by the user"

_PROFILE: list[dict[str, Settings]] = []
"""The profile's settings by backend name, read once (``reset_settings`` reads it again)."""
_CURRENT: dict[str, Settings] = {}
"""The settings in force by backend name (built lazily from the profile and the defaults)."""


def profile_path() -> Path:
    """``$LITSDF_PROFILE`` or ``~/.cache/litsdf/profile.json``."""
    env = os.environ.get("LITSDF_PROFILE")
    if env:
        return Path(env)
    return Path(os.path.expanduser("~")) / ".cache" / "litsdf" / "profile.json"


def _sections_v1(p: Path, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A version 1 profile's flat ``<backend>_<setting>`` thresholds, by backend."""
    values = doc.get("thresholds")
    if not isinstance(values, dict):
        raise ValueError(f"{p}: 'thresholds' must be an object of non-negative integers")
    sections: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{p}: threshold {key!r} must be a non-negative integer")
        owner = [n for n in registry() if key.startswith(f"{n}_")]
        if not owner:
            continue  # a backend that is not installed here
        name = max(owner, key=len)
        sections.setdefault(name, {})[key[len(name) + 1 :]] = value
    return sections


def _sections_v2(p: Path, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    backends = doc.get("backends")
    if not isinstance(backends, dict):
        raise ValueError(f"{p}: 'backends' must be an object (backend name -> section)")
    sections = {}
    for name, section in backends.items():
        values = section.get("settings") if isinstance(section, dict) else None
        if not isinstance(values, dict):
            raise ValueError(f"{p}: backend {name!r}: 'settings' must be an object")
        sections[name] = values
    return sections


def load_profile(path: str | os.PathLike[str] | None = None) -> dict[str, Settings]:
    """The settings a profile written by :func:`save_profile` holds, by backend name.

    Backends the profile names that are not installed here are left out; backends it does not
    name are not in the result.

    Parameters
    ----------
    path : path, optional
        The profile (default :func:`profile_path`).

    Returns
    -------
    dict of str to Settings

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        Naming the file and what is wrong with it (not JSON, not a profile, an unknown
        version, an unknown setting or a value its setting does not accept).
    """
    p = Path(path) if path is not None else profile_path()
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{p}: not a litsdf profile (invalid JSON: {err})") from err
    if not isinstance(doc, dict) or doc.get("format") != PROFILE_FORMAT:
        raise ValueError(f"{p}: not a litsdf profile (missing format {PROFILE_FORMAT!r})")
    version = doc.get("version")
    if version == 1:
        sections = _sections_v1(p, doc)
    elif version == PROFILE_VERSION:
        sections = _sections_v2(p, doc)
    else:
        raise ValueError(f"{p}: profile version {version!r} is not 1 or {PROFILE_VERSION}")
    backends = registry()
    found = {}
    for name, values in sections.items():
        if name not in backends:
            continue
        try:
            found[name] = Settings(name, backends[name].settings, values, f"profile {p}")
        except (KeyError, ValueError) as err:
            raise ValueError(f"{p}: {err.args[0]}") from err
    return found


def save_profile(
    found: Mapping[str, Calibration], path: str | os.PathLike[str] | None = None
) -> Path:
    """Write the calibrations of ``found`` (backend name -> :class:`Calibration`) as the
    profile (version 2, replacing the file in one step) and return its path; the selector
    reads it again on next use."""
    p = Path(path) if path is not None else profile_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "backends": {
            name: {"settings": dict(c.settings), "measured": c.measured}
            for name, c in sorted(found.items())
        },
    }
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(p)  # never leave a half-written profile
    reset_settings()
    return p


def _profile() -> dict[str, Settings]:
    if not _PROFILE:
        found: dict[str, Settings] = {}
        if profile_path().exists():
            try:
                found = load_profile()
            except (OSError, ValueError) as err:
                warnings.warn(f"ignoring the litsdf profile: {err}", stacklevel=4)
        _PROFILE.append(found)
    return _PROFILE[0]


def settings(backend: str) -> Settings:
    """The settings in force of ``backend``: set by the user, else the saved profile's, else
    its defaults. A profile that cannot be read is reported with a warning and ignored.

    Raises
    ------
    ValueError
        An unknown backend name (listing the known ones).
    """
    hit = _CURRENT.get(backend)
    return hit if hit is not None else _settings_of(get_backend(backend))


def _settings_of(backend: Backend) -> Settings:
    hit = _CURRENT.get(backend.name)
    if hit is None:
        hit = _profile().get(backend.name) or Settings(backend.name, backend.settings)
        _CURRENT[backend.name] = hit
    return hit


def set_settings(backend: str, **values: Any) -> Settings:
    """Set settings of ``backend`` for this process (validated); returns them.

    Raises
    ------
    ValueError
        An unknown backend, or a value its setting does not accept.
    AttributeError
        A setting the backend does not have (naming the ones it has).
    """
    current = settings(backend)
    try:
        new = current.replace(values, USER)
    except KeyError as err:
        raise AttributeError(err.args[0]) from None
    _CURRENT[backend] = new
    return new


def reset_settings() -> None:
    """Forget the values set in this process and read the profile again on next use."""
    _CURRENT.clear()
    _PROFILE.clear()


_PARQUET_ROWS: dict[tuple[str, float], int] = {}


def _parquet_rows(path: str) -> int | None:
    try:
        key = (path, os.path.getmtime(path))
    except OSError:
        return None
    if key not in _PARQUET_ROWS:
        import pyarrow.parquet as pq

        try:
            _PARQUET_ROWS[key] = pq.ParquetFile(path).metadata.num_rows
        except (OSError, ValueError):  # (a directory, an unreadable file: the read says why)
            return None
    return _PARQUET_ROWS[key]


def estimate_rows(plan: Relation) -> int | None:
    """The largest input of ``plan`` in rows (in-memory data, parquet metadata); ``None`` when
    an input's size is unknown without reading it (CSV)."""
    largest = 0
    for n in walk(plan):
        if isinstance(n, Source):
            largest = max(largest, len(n.data.data))
        elif isinstance(n, ReadParquet):
            rows = _parquet_rows(n.path)
            if rows is None:
                return None
            largest = max(largest, rows)
        elif isinstance(n, ReadCsv):
            return None
    return largest


def ranked(
    plan: Node, rows: int | None, backends: Mapping[str, Backend] | None = None
) -> list[tuple[Backend, Preference | None]]:
    """The order in which ``backend="auto"`` tries the backends for ``plan`` on an input of
    ``rows`` rows (``None``: unknown), each with its stated preference.

    Parameters
    ----------
    plan : Node
        The plan to run.
    rows : int or None
        Its input size in rows.
    backends : mapping of str to Backend, optional
        The candidates in priority order (default: the registry).

    Returns
    -------
    list of (Backend, Preference or None)
        The backends that state a preference, by rank (ties in priority order), then the
        others in priority order.
    """
    stated: list[tuple[Backend, Preference]] = []
    rest: list[tuple[Backend, Preference | None]] = []
    for backend in (registry() if backends is None else backends).values():
        wish = backend.preference(plan, rows, _settings_of(backend))
        if wish is None:
            rest.append((backend, None))
        else:
            stated.append((backend, wish))
    stated.sort(key=lambda pair: pair[1].rank)  # (stable: ties keep the priority order)
    return [*stated, *rest]
