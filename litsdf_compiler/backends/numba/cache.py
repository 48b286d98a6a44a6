"""Kernel cache: generated sources written as module files, jitted with ``cache=True``.

A kernel is identified by the hash of its generated source (which names no column and no
literal value: literals are arguments), so equal expression *shapes* share one compiled
function. The module file lives in the cache directory (``LITSDF_CACHE_DIR``, default
``~/.cache/litsdf/numba``); numba stores the machine code next to it, so a second process
loads the compiled kernel from disk instead of compiling again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "load_kernel", "KERNEL_VERSION"]

KERNEL_VERSION = "1"
"""Bumped when the code generator changes what a given source means."""

_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Directory holding the generated kernel modules (created on first use)."""
    root = os.environ.get("LITSDF_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "litsdf"
    path = base / "numba"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_once(path: Path, source: str) -> None:
    """Write ``source`` to ``path`` atomically, unless it is there already (numba keys its
    on-disk cache on the file's modification time: rewriting it would invalidate it)."""
    if path.exists():
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(source)
    os.replace(tmp, path)


def load_kernel(source: str, name: str = "kernel") -> Any:
    """The jitted function ``name`` defined by module text ``source`` (cached in memory by
    source hash, on disk by numba)."""
    digest = hashlib.sha1(f"{KERNEL_VERSION}\n{source}".encode()).hexdigest()[:20]
    key = f"{digest}:{name}"
    fn = _LOADED.get(key)
    if fn is not None:
        return fn
    with _LOCK:
        fn = _LOADED.get(key)
        if fn is None:
            modname = f"litsdf_k_{digest}"
            module = sys.modules.get(modname)
            if module is None:
                path = cache_dir() / f"{modname}.py"
                _write_once(path, source)
                spec = importlib.util.spec_from_file_location(modname, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[modname] = module
                spec.loader.exec_module(module)
            fn = _LOADED[key] = getattr(module, name)
    return fn
