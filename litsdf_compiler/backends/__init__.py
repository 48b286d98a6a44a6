"""Backend registry: every package that exposes ``BACKEND`` (a :class:`Backend`) is a backend.

Three places are searched, and adding a backend edits none of our files:

* the subpackages of this package (the built-in backends);
* the folders listed in the environment variable ``LITSDF_BACKEND_PATH`` (separated by
  ``os.pathsep``): each subfolder with an ``__init__.py`` exposing ``BACKEND`` is a backend
  (e.g. ``LITSDF_BACKEND_PATH=/opt/mybackends`` with ``/opt/mybackends/toy/__init__.py``);
* the entry points of the group ``litsdf_compiler.backends`` of installed distributions, each
  naming a :class:`Backend` instance or a module exposing ``BACKEND`` (in ``pyproject.toml``:
  ``[project.entry-points."litsdf_compiler.backends"] toy = "toy_backend"``).

Importing a backend package must be cheap: heavy libraries are imported inside
``available()`` / ``execute()``. Two backends with one name are an error naming both. The
registry is read once per process.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from .base import Backend, BackendDeclined, Verdict

__all__ = [
    "Backend",
    "BackendDeclined",
    "Verdict",
    "registry",
    "get_backend",
    "BACKEND_PATH",
    "ENTRY_POINT_GROUP",
]

BACKEND_PATH = "LITSDF_BACKEND_PATH"
"""The environment variable listing folders of backend packages."""
ENTRY_POINT_GROUP = "litsdf_compiler.backends"
"""The entry-point group of backends installed as distributions."""


def _builtin() -> list[tuple[Backend, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        name = f"{__name__}.{info.name}"
        backend = getattr(importlib.import_module(name), "BACKEND", None)
        if isinstance(backend, Backend):
            found.append((backend, name))
    return found


def _import_folder(package: Path) -> ModuleType:
    """Import the package in folder ``package`` under a private module name."""
    digest = hashlib.sha1(str(package.resolve()).encode()).hexdigest()[:10]
    name = "_litsdf_backend_" + re.sub(r"\W", "_", package.name) + "_" + digest
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (before running it: its relative imports find it)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _from_path(value: str) -> list[tuple[Backend, str]]:
    found = []
    for entry in filter(None, value.split(os.pathsep)):
        folder = Path(entry)
        if not folder.is_dir():
            raise ValueError(f"{BACKEND_PATH}: {entry!r} is not a folder")
        for package in sorted(folder.iterdir()):
            if not (package / "__init__.py").is_file():
                continue
            try:
                module = _import_folder(package)
            except Exception as err:
                raise ImportError(
                    f"{BACKEND_PATH}: importing the backend package {package} failed: "
                    f"{type(err).__name__}: {err}"
                ) from err
            backend = getattr(module, "BACKEND", None)
            if isinstance(backend, Backend):
                found.append((backend, str(package)))
    return found


def _from_entry_points() -> list[tuple[Backend, str]]:
    found = []
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {point.name} = {point.value}"
        try:
            value = point.load()
        except Exception as err:
            raise ImportError(f"{ENTRY_POINT_GROUP}: loading {where} failed: {err}") from err
        backend = getattr(value, "BACKEND", value)
        if not isinstance(backend, Backend):
            raise TypeError(
                f"{ENTRY_POINT_GROUP}: {where} is neither a Backend nor a module exposing "
                f"BACKEND; got {type(backend).__name__}"
            )
        found.append((backend, where))
    return found


@cache
def registry() -> dict[str, Backend]:
    """All discovered backends by name, in priority order (then by name).

    Raises
    ------
    ValueError
        Two backends with the same name (both places are named), a backend without a name,
        or a ``LITSDF_BACKEND_PATH`` entry that is not a folder.
    ImportError
        A backend package of ``LITSDF_BACKEND_PATH`` or an entry point that fails to import.
    """
    found = _builtin() + _from_path(os.environ.get(BACKEND_PATH, "")) + _from_entry_points()
    where: dict[str, str] = {}
    for backend, place in found:
        if not backend.name:
            raise ValueError(f"the backend of {place} has no name (set Backend.name)")
        if backend.name in where:
            raise ValueError(
                f"two backends are called {backend.name!r}: {where[backend.name]} and {place}"
            )
        where[backend.name] = place
    ordered = sorted((b for b, _ in found), key=lambda b: (b.priority, b.name))
    return {b.name: b for b in ordered}


def get_backend(name: str) -> Backend:
    """The backend called ``name``; ``ValueError`` listing the known names otherwise."""
    backends = registry()
    if name not in backends:
        known = ", ".join(sorted(backends))
        raise ValueError(f"unknown backend {name!r}; known backends: {known}")
    return backends[name]
