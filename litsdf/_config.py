"""``litsdf.options``: the default backend, the fallback policy and each backend's settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Options", "BackendSettings", "options", "option_context"]

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
    selector : {"static", "adaptive"}
        How ``backend="auto"`` picks: ``"static"`` (default) by the preferences the backends
        state from their settings (``litsdf calibrate``); ``"adaptive"`` by a bandit that
        learns, per plan shape and input size, which backend runs fastest here (timed runs
        kept in ``selector.sqlite`` of the cache folder, ``$LITSDF_CACHE_DIR``, shared by every
        process), the static order as its prior; exploration stays within about 2x of the
        best known time (see :mod:`litsdf_compiler.adaptive`). ``explain()`` shows the arms.
    optimize : bool
        Run the plan optimizer before executing (default True); ``False`` runs the plan as
        traced.
    <backend>_<setting> : int or float
        Every setting of every backend (see :meth:`backend_settings`) is also an option
        spelled ``<backend>_<setting>``, so that ``option_context`` can set it for a block;
        the backends' own settings decide which backend ``backend="auto"`` tries first for an
        input size (measured by ``litsdf calibrate``).
    narrow_csv_reads : bool
        Let the optimizer read only the columns and leading rows a program uses from the CSV
        files read while this is set (``usecols=``, ``nrows=``). Default False: that is exact
        only for well-formed files, since pandas' full read raises on a line with more fields
        than the header, or a value that fails its ``dtype``, anywhere in the file. Parquet
        reads are always narrowed (exact).

    Examples
    --------
    >>> import litsdf
    >>> litsdf.options.fallback = "raise"
    >>> litsdf.options.fallback = "warn"
    >>> name = litsdf.backends()[0].name
    >>> settings = litsdf.options.backend_settings(name)
    """

    __slots__ = ("_backend", "_fallback", "_narrow_csv_reads", "_optimize")

    def __init__(self) -> None:
        self._backend = "auto"
        self._fallback = "warn"
        self._optimize = True
        self._narrow_csv_reads = False

    @property
    def narrow_csv_reads(self) -> bool:
        return self._narrow_csv_reads

    @narrow_csv_reads.setter
    def narrow_csv_reads(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"options.narrow_csv_reads must be True or False; got {value!r}")
        self._narrow_csv_reads = value

    @property
    def optimize(self) -> bool:
        return self._optimize

    @optimize.setter
    def optimize(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"options.optimize must be True or False; got {value!r}")
        self._optimize = value

    @property
    def selector(self) -> str:
        from litsdf_compiler import adaptive

        return adaptive.mode()

    @selector.setter
    def selector(self, value: str) -> None:
        from litsdf_compiler import adaptive

        adaptive.set_mode(value)

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

    def backend_settings(self, backend: str) -> BackendSettings:
        """The settings of ``backend``, read and set as attributes.

        Parameters
        ----------
        backend : str
            A backend name from :func:`litsdf.backends`.

        Returns
        -------
        BackendSettings
            A live view: reading an attribute gives the value in force (set in this process,
            else the profile saved by ``litsdf calibrate``, else the backend's default);
            setting one validates it and applies it to this process.

        Raises
        ------
        ValueError
            An unknown backend (naming the known ones).

        Examples
        --------
        >>> import litsdf
        >>> view = litsdf.options.backend_settings(litsdf.backends()[0].name)
        >>> values = view.as_dict()  # {setting: value in force}
        """
        from litsdf_compiler.backends import get_backend

        get_backend(backend)  # (an unknown name fails here, naming the known ones)
        return BackendSettings(backend)

    def __getattr__(self, name: str) -> Any:
        backend, setting = _setting_option(name)
        return getattr(BackendSettings(backend), setting)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        backend, setting = _setting_option(name)
        setattr(BackendSettings(backend), setting, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(f"{b}_{s}" for b, s in _setting_options())})

    def __repr__(self) -> str:
        settings = "".join(
            f"{b}_{s}={getattr(BackendSettings(b), s)!r}, " for b, s in _setting_options()
        )
        return (
            f"Options(backend={self.backend!r}, fallback={self.fallback!r}, "
            f"optimize={self.optimize!r}, selector={self.selector!r}, {settings}"
            f"narrow_csv_reads={self.narrow_csv_reads!r})"
        )


class BackendSettings:
    """The settings of one backend as attributes (from :meth:`Options.backend_settings`).

    Attributes
    ----------
    backend : str
        The backend's name.
    source : str
        Where the values in force come from (``"built-in defaults"``, ``"profile <path>"``,
        ``"set by the user"``).
    """

    __slots__ = ("backend",)

    def __init__(self, backend: str) -> None:
        object.__setattr__(self, "backend", backend)

    @property
    def source(self) -> str:
        from litsdf_compiler import selector

        return selector.settings(self.backend).source

    def as_dict(self) -> dict[str, Any]:
        """``{setting: value in force}``."""
        from litsdf_compiler import selector

        return dict(selector.settings(self.backend))

    def describe(self) -> dict[str, str]:
        """``{setting: what it means}``."""
        from litsdf_compiler.backends import get_backend

        return {s.name: s.doc for s in get_backend(self.backend).settings}

    def __getattr__(self, name: str) -> Any:
        from litsdf_compiler import selector

        return getattr(selector.settings(self.backend), name)

    def __setattr__(self, name: str, value: Any) -> None:
        from litsdf_compiler import selector

        selector.set_settings(self.backend, **{name: value})

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.as_dict()})

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"<{self.backend} settings: {values or 'none'} ({self.source})>"


def _setting_options() -> list[tuple[str, str]]:
    """``(backend, setting)`` for every setting of every backend, in registry order."""
    from litsdf_compiler.backends import registry

    return [(name, s.name) for name, b in registry().items() for s in b.settings]


def _setting_option(option: str) -> tuple[str, str]:
    """The ``(backend, setting)`` an option ``<backend>_<setting>`` names."""
    if not option.startswith("__"):
        for backend, setting in _setting_options():
            if option == f"{backend}_{setting}":
                return backend, setting
    raise AttributeError(f"unknown option {option!r}")


options = Options()


@contextlib.contextmanager
def option_context(**settings: Any) -> Iterator[Options]:
    """Set options inside a ``with`` block and restore them afterwards.

    Examples
    --------
    >>> import litsdf
    >>> with litsdf.option_context(optimize=False, fallback="raise"):
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
