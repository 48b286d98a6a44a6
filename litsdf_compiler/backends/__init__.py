"""Backend registry: every subpackage of this package that exposes ``BACKEND`` is a backend.

Adding a backend means adding a folder here; nothing else changes. Importing a backend
package must be cheap: heavy libraries are imported inside ``available()`` / ``execute()``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Backend, BackendDeclined, Verdict

__all__ = ["Backend", "BackendDeclined", "Verdict", "registry", "get_backend"]


@cache
def registry() -> dict[str, Backend]:
    """All discovered backends by name, in priority order."""
    found: list[Backend] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        backend = getattr(module, "BACKEND", None)
        if isinstance(backend, Backend):
            found.append(backend)
    found.sort(key=lambda b: (b.priority, b.name))
    return {b.name: b for b in found}


def get_backend(name: str) -> Backend:
    """The backend called ``name``; ``ValueError`` listing the known names otherwise."""
    backends = registry()
    if name not in backends:
        known = ", ".join(sorted(backends))
        raise ValueError(f"unknown backend {name!r}; known backends: {known}")
    return backends[name]
