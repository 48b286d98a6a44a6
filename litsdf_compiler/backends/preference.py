"""What a backend says to the selector: its tunable settings, its preference for a plan of a
given input size, and the calibration that measures its settings on this machine.

The selector (:mod:`litsdf_compiler.selector`) names no backend: it asks every backend of the
registry for a :class:`Preference` and keeps each backend's :class:`Settings` (defaults, a
calibrated profile, or values set by the user). The timing helpers at the end are shared by
the backends' ``calibrate`` methods.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "PREFERRED",
    "DEFAULT",
    "Preference",
    "Setting",
    "Settings",
    "Calibration",
    "median_seconds",
    "largest_winning_size",
    "smallest_winning_size",
    "format_seconds",
    "time_plans",
    "speedup_lines",
    "calibrate_min_rows",
]

PREFERRED = 0.0
"""The rank of a backend that is the best choice for a plan (``Preference.rank``)."""
DEFAULT = 1.0
"""The rank the reference backend states for every plan: any backend preferring a plan with a
lower rank is tried before it."""


class Preference(NamedTuple):
    """A backend's wish to run a plan, with the reason ``explain()`` shows when it runs.

    Attributes
    ----------
    reason : str
        Why, in words (e.g. ``"12 rows <= rows_max_rows=1000 (settings from built-in
        defaults)"``).
    rank : float
        Lower is tried first; backends of equal rank are tried in priority order. A backend
        that is the best choice states :data:`PREFERRED`; the reference backend states
        :data:`DEFAULT` for every plan.
    """

    reason: str
    rank: float = PREFERRED


@dataclasses.dataclass(frozen=True)
class Setting:
    """One tunable of a backend (e.g. the largest input it is preferred for).

    Attributes
    ----------
    name : str
        The setting's name within its backend (``max_rows``); ``litsdf.options`` also spells it
        ``<backend>_<name>``.
    default : int or float
        The built-in value; its type is the setting's type (an ``int`` setting takes integers
        only, a ``float`` setting takes any real number).
    doc : str
        What it means, in one sentence.
    minimum : int or float
        The smallest value accepted.
    """

    name: str
    default: int | float
    doc: str
    minimum: int | float = 0

    def check(self, backend: str, value: Any) -> int | float:
        """``value`` if it is a valid value of this setting of ``backend``.

        Raises
        ------
        ValueError
            Naming the backend, the setting and what was expected.
        """
        integral = isinstance(self.default, int)
        kinds: tuple[type, ...] = (int,) if integral else (int, float)
        ok = isinstance(value, kinds) and not isinstance(value, bool)
        if ok and (not math.isfinite(value) or value < self.minimum):
            ok = False
        if not ok:
            what = "integer" if integral else "number"
            article = "an" if integral else "a"
            bound = (
                f"a non-negative {what}"
                if self.minimum == 0
                else f"{article} {what} >= {self.minimum}"
            )
            raise ValueError(
                f"backend {backend!r} setting {self.name!r} must be {bound}; got {value!r}"
            )
        return value  # type: ignore[no-any-return]


class Settings(Mapping[str, Any]):
    """The values in force of one backend's settings, and where they come from.

    Read them as a mapping (``settings["max_rows"]``) or as attributes
    (``settings.max_rows``).

    Parameters
    ----------
    backend : str
        The backend's name.
    declared : sequence of Setting
        The backend's settings (defaults and validation).
    values : mapping of str to value, optional
        Values that replace the defaults; each is validated.
    source : str
        Where ``values`` come from: ``"built-in defaults"``, ``"profile <path>"`` or ``"set by
        the user"``.

    Raises
    ------
    KeyError
        A value for a setting the backend does not declare (naming the known ones).
    ValueError
        A value its setting does not accept.
    """

    __slots__ = ("_declared", "_values", "backend", "source")

    def __init__(
        self,
        backend: str,
        declared: Sequence[Setting],
        values: Mapping[str, Any] | None = None,
        source: str = "built-in defaults",
    ) -> None:
        by_name = {s.name: s for s in declared}
        merged = {s.name: s.default for s in declared}
        for key, value in (values or {}).items():
            if key not in by_name:
                known = ", ".join(by_name) or "none"
                raise KeyError(
                    f"backend {backend!r} has no setting {key!r} (its settings: {known})"
                )
            merged[key] = by_name[key].check(backend, value)
        self.backend = backend
        self.source = source
        self._declared = by_name
        self._values = merged

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            known = ", ".join(self._values) or "none"
            raise AttributeError(
                f"backend {self.backend!r} has no setting {key!r} (its settings: {known})"
            ) from None

    def declared(self, key: str) -> Setting:
        """The :class:`Setting` called ``key`` (``KeyError`` when there is none)."""
        return self._declared[key]

    def replace(self, values: Mapping[str, Any], source: str) -> Settings:
        """These settings with ``values`` changed (validated), from ``source``."""
        return Settings(
            self.backend, tuple(self._declared.values()), {**self._values, **values}, source
        )

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"<Settings of {self.backend!r}: {values} ({self.source})>"


class Calibration(NamedTuple):
    """What a backend's ``calibrate`` found on this machine.

    Attributes
    ----------
    settings : dict
        Setting name -> the value measured (saved in the profile).
    measured : dict
        The measurements behind them (JSON-serializable; kept in the profile for reference).
    """

    settings: dict[str, Any]
    measured: dict[str, Any]


# timing helpers of the backends' calibrations ------------------------------------------------


def median_seconds(run: Callable[[], Any], budget: float = 0.2) -> float:
    """Median time of ``run()`` over 5 batches of calls lasting about ``budget`` seconds in
    all (after one untimed warm-up call)."""
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    inner = max(1, int(budget / 10 / once))
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(inner):
            run()
        samples.append((time.perf_counter() - t0) / inner)
    return sorted(samples)[2]


def largest_winning_size(mine: Mapping[int, float | None], base: Mapping[int, float | None]) -> int:
    """The largest size up to which ``mine`` is at least as fast as ``base`` at every measured
    size (0 when it loses, or did not run, at the smallest); ``None`` times never win."""
    best = 0
    for n in sorted(mine):
        ours, theirs = mine[n], base.get(n)
        if ours is None or theirs is None or ours > theirs:
            break
        best = n
    return best


def smallest_winning_size(
    mine: Mapping[int, float | None], base: Mapping[int, float | None], never: int
) -> int:
    """The smallest size from which ``mine`` is at least as fast as ``base`` at every larger
    measured size; ``never`` when it loses (or did not run) at the largest."""
    found = never
    for n in sorted(mine, reverse=True):
        ours, theirs = mine[n], base.get(n)
        if ours is None or theirs is None or ours > theirs:
            break
        found = n
    return found


def format_seconds(seconds: float | None) -> str:
    """A time for a calibration report (``declined`` for ``None``)."""
    if seconds is None:
        return "declined"
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    return f"{seconds * 1e3:8.2f} ms" if math.isfinite(seconds) else "     inf"


def time_plans(
    backend: Any, plans: Mapping[int, Any], budget: float = 0.2
) -> dict[int, float | None]:
    """``backend.execute(plan)``'s median time for each size's plan; ``None`` where the backend
    declines the plan (``NotImplementedError``, ``BackendDeclined`` included)."""
    out: dict[int, float | None] = {}
    for n, plan in plans.items():
        if not backend.supports(plan):
            out[n] = None
            continue

        def run(p: Any = plan) -> Any:
            return backend.execute(p)

        try:
            out[n] = median_seconds(run, budget)
        except NotImplementedError:
            out[n] = None
    return out


def speedup_lines(
    name: str, reference: str, mine: Mapping[int, float | None], base: Mapping[int, float | None]
) -> list[str]:
    """One report line per size: both times and the speed-up of ``name`` over ``reference``."""
    lines = []
    for n in sorted(mine):
        ours, theirs = mine[n], base.get(n)
        ratio = f"{theirs / ours:6.2f}x" if ours and theirs else "   n/a"
        lines.append(
            f"{name:6s} n={n:<9,d} {reference} {format_seconds(theirs)}  {name} "
            f"{format_seconds(ours)}  {name} speed-up {ratio}"
        )
    return lines


def calibrate_min_rows(
    backend: Any,
    plans: Mapping[int, Any],
    never: int,
    report: Callable[[str], Any] = print,
) -> Calibration:
    """A ``min_rows`` setting measured against the pandas backend: the smallest size of
    ``plans`` (size -> plan) from which ``backend`` is at least as fast at every larger size,
    else ``never``; ``report`` gets one line per size."""
    from .pandas import BACKEND as PANDAS

    base, mine = time_plans(PANDAS, plans), time_plans(backend, plans)
    for line in speedup_lines(backend.name, PANDAS.name, mine, base):
        report(line)
    found = smallest_winning_size(mine, base, never)
    if found == never:
        report(f"{backend.name}: never faster than pandas here (min_rows = {never})")
    sizes = list(plans)
    measured = {
        "sizes": sizes,
        "pandas_s": [base[n] for n in sizes],
        f"{backend.name}_s": [mine[n] for n in sizes],
    }
    return Calibration({"min_rows": found}, measured)
