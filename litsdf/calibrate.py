"""``litsdf calibrate``: measure on this machine the settings each backend selects by.

Every available backend of the registry that can calibrate itself
(:meth:`~litsdf_compiler.backends.base.Backend.calibrate`) measures where it starts (or stops)
winning against the reference on representative plans; the settings found are saved as the
profile the selector loads (:func:`litsdf_compiler.selector.profile_path`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litsdf_compiler import selector
from litsdf_compiler.backends import registry
from litsdf_compiler.backends.preference import Calibration, Settings

__all__ = ["calibrate"]


def calibrate(
    quick: bool = False,
    save: bool = True,
    path: str | None = None,
    report: Callable[[str], Any] = print,
) -> dict[str, Settings]:
    """Measure each backend's settings here and (by default) save them as the profile.

    Parameters
    ----------
    quick : bool
        Fewer, smaller sizes (seconds instead of about a minute).
    save : bool
        Write the profile (see :func:`litsdf_compiler.selector.profile_path`).
    path : str, optional
        Where to write it instead of the default profile path.
    report : callable
        Receives one line of text per measurement, then one line per setting found
        (``<backend>_<setting> = <value>``, as ``litsdf.options`` spells it).

    Returns
    -------
    dict of str to Settings
        The settings found, by backend name (as read back from the profile when saved).
    """
    found: dict[str, Calibration] = {}
    for name, backend in registry().items():
        available = backend.available()
        if not available:
            if backend.settings:
                report(f"{name}: not calibrated ({available.reason})")
            continue
        result = backend.calibrate(quick=quick, report=report)
        if result is not None:
            found[name] = result
    settings = {
        name: Settings(name, registry()[name].settings, c.settings, "litsdf calibrate")
        for name, c in found.items()
    }
    for name, values in settings.items():
        for key, value in values.items():
            report(f"{name}_{key} = {value}")
    if save:
        where = selector.save_profile(found, path)
        settings = selector.load_profile(where)
        report(f"saved the profile to {where}")
        if where != selector.profile_path():
            report(f"(the selector reads {selector.profile_path()}: set LITSDF_PROFILE={where})")
    return settings
