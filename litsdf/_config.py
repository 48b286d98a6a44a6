"""``litsdf.options``: the default backend and the fallback policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Options", "options", "option_context"]

_FALLBACK_MODES = ("warn", "raise", "silent")


class Options:
    """Global settings.

    Attributes
    ----------
    backend : str
        ``"auto"`` (the selector picks) or a backend name from :func:`litsdf.backends`.
    fallback : {"warn", "raise", "silent"}
        What happens when pandas API that litsdf does not trace is called: run it in pandas
        and warn with :class:`litsdf.FallbackWarning`, raise :class:`litsdf.FallbackError`, or
        run it silently.
    optimize : bool
        Run the plan optimizer before executing (default True); ``False`` runs the plan as
        traced.

    Examples
    --------
    >>> import litsdf
    >>> litsdf.options.fallback = "raise"
    >>> litsdf.options.fallback = "warn"
    """

    __slots__ = ("_backend", "_fallback", "_optimize")

    def __init__(self) -> None:
        self._backend = "auto"
        self._fallback = "warn"
        self._optimize = True

    @property
    def optimize(self) -> bool:
        return self._optimize

    @optimize.setter
    def optimize(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"options.optimize must be True or False; got {value!r}")
        self._optimize = value

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        from litsdf_compiler.backends import registry

        if value != "auto" and value not in registry():
            known = ", ".join(["auto", *registry()])
            raise ValueError(f"options.backend must be one of {known}; got {value!r}")
        self._backend = value

    @property
    def fallback(self) -> str:
        return self._fallback

    @fallback.setter
    def fallback(self, value: str) -> None:
        if value not in _FALLBACK_MODES:
            raise ValueError(f"options.fallback must be one of {_FALLBACK_MODES}; got {value!r}")
        self._fallback = value

    def __repr__(self) -> str:
        return (
            f"Options(backend={self.backend!r}, fallback={self.fallback!r}, "
            f"optimize={self.optimize!r})"
        )


options = Options()


@contextlib.contextmanager
def option_context(**settings: Any) -> Iterator[Options]:
    """Set options inside a ``with`` block and restore them afterwards.

    Examples
    --------
    >>> import litsdf
    >>> with litsdf.option_context(backend="pandas", fallback="raise"):
    ...     pass
    """
    old = {k: getattr(options, k) for k in settings}
    try:
        for k, v in settings.items():
            if not hasattr(options, k):
                raise AttributeError(f"unknown option {k!r}")
            setattr(options, k, v)
        yield options
    finally:
        for k, v in old.items():
            setattr(options, k, v)
