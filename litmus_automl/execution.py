"""Where folds run: in this process, or on a Dask cluster (``resources={"train": ...}``).

``{"cpus": 2}`` runs locally with 2 threads per model; ``{"workers": 2}`` starts a
``dask.distributed.LocalCluster`` with 2 worker processes for the run; ``{"cluster":
"tcp://host:8786"}`` connects to a running scheduler. Folds of a trial are submitted together
and gathered, so they run in parallel on the cluster's workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["Executor", "executor_for", "gpu_count"]

_KNOWN = ("cpus", "gpus", "workers", "cluster", "threads_per_worker")


def gpu_count() -> int:
    """Number of CUDA devices visible (0 without a GPU or without ``nvidia-smi``)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


class Executor:
    """Runs ``fn(*args)`` for a list of argument tuples, locally or on a Dask cluster."""

    def __init__(self, cpus: int, gpus: int = 0, client: Any = None, cluster: Any = None):
        self.cpus = cpus
        self.gpus = gpus
        self.client = client
        self._cluster = cluster

    @property
    def where(self) -> str:
        """A short description for progress messages and the leaderboard."""
        if self.client is None:
            return f"local ({self.cpus} cpus)"
        return f"dask {self.client.scheduler.address}"

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], threads: bool = False
    ) -> list[Any]:
        """``[fn(*args) for args in calls]``, on the cluster when there is one, else on
        ``cpus`` local threads when ``threads`` (results in call order either way)."""
        if self.client is None:
            if not threads or self.cpus == 1 or len(calls) < 2:
                return [fn(*args) for args in calls]
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(self.cpus, len(calls))) as pool:
                return list(pool.map(lambda args: fn(*args), calls))
        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        return list(self.client.gather(futures))

    def close(self) -> None:
        """Shut down a cluster this executor started (a connected one is left running)."""
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def executor_for(resources: Mapping[str, Any] | None) -> Executor:
    """The executor for ``resources["train"]`` (see the module docstring)."""
    spec = dict((resources or {}).get("train", {}) or {})
    unknown = sorted(set(spec) - set(_KNOWN))
    if unknown:
        raise ValueError(f"unknown resources['train'] keys {unknown}; known: {list(_KNOWN)}")
    cpus = int(spec.get("cpus", os.cpu_count() or 1))
    if cpus < 1:
        raise ValueError(f"resources['train']['cpus'] must be >= 1; got {cpus}")
    gpus = int(spec.get("gpus", 0))
    if gpus > 0:
        found = gpu_count()
        if found < gpus:
            raise RuntimeError(
                f"resources['train']['gpus'] = {gpus}, but {found} CUDA device(s) are visible "
                "here: drop 'gpus' to train on CPU"
            )
    if "cluster" in spec and "workers" in spec:
        raise ValueError("resources['train']: give 'cluster' (an address) or 'workers', not both")
    if "cluster" in spec:
        from distributed import Client

        return Executor(cpus, gpus, Client(spec["cluster"], timeout=30))
    if "workers" in spec:
        from distributed import Client, LocalCluster

        workers = int(spec["workers"])
        if workers < 1:
            raise ValueError(f"resources['train']['workers'] must be >= 1; got {workers}")
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=int(spec.get("threads_per_worker", 1)),
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
        )
        return Executor(cpus, gpus, Client(cluster), cluster)
    return Executor(cpus, gpus)
