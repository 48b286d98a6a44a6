"""The backend contract: ``available()``, ``supports(plan)`` and ``execute(plan)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..ir.base import Node, walk
from ..ir.relations import Source
from .preference import Calibration, Preference, Setting, Settings

__all__ = [
    "Backend",
    "BackendDeclined",
    "Verdict",
    "Preference",
    "Setting",
    "Settings",
    "Calibration",
]


class BackendDeclined(NotImplementedError):
    """The backend asked for cannot run this plan exactly as pandas would (the message says
    why): the one way a backend declines."""


class Verdict(NamedTuple):
    """A yes/no answer with the reason (always given when the answer is no)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class Backend(ABC):
    """One execution layout. Subclasses implement ``visit_<Node>`` kernels.

    ``supports(plan)`` is *derived*: a plan is supported when every node in it has a
    ``visit_<NodeName>`` method and the optional ``check_<NodeName>(node)`` accepts it, so it
    cannot claim support for a node it cannot run.
    """

    name: str = ""
    priority: int = 100
    """Lower runs first when several backends support a plan under ``backend="auto"``."""

    def available(self) -> Verdict:
        """Whether the backend's libraries and hardware are present here."""
        return Verdict(True)

    def supports(self, plan: Node) -> Verdict:
        """Whether every node of ``plan`` can be executed exactly as pandas would."""
        for n in walk(plan):
            kind = type(n).__name__
            if getattr(self, f"visit_{kind}", None) is None:
                return Verdict(False, f"{self.name} has no lowering for {kind}")
            check = getattr(self, f"check_{kind}", None)
            if check is not None:
                verdict: Verdict = check(n)
                if not verdict:
                    return verdict
        return Verdict(True)

    @abstractmethod
    def execute(self, plan: Node) -> Any:
        """Run ``plan`` and return a pandas DataFrame (or a scalar for a scalar plan)."""

    # selection: how the selector asks a backend (it names none itself) ----------------------
    settings: tuple[Setting, ...] = ()
    """The backend's tunables (defaults and validation); the values in force are passed to
    :meth:`preference` and set with ``litsdf.options.backend_settings(name)``."""

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        """Whether this backend wants to run ``plan`` on an input of ``rows`` rows (``None``:
        unknown before reading) under ``backend="auto"``, and why.

        Backends that state a preference are tried first, by rank (then priority); the others
        follow in priority order. The default states none.
        """
        return None

    def calibrate(
        self, quick: bool = False, report: Callable[[str], Any] = print
    ) -> Calibration | None:
        """Measure this backend's settings on this machine (``litsdf calibrate``); ``None``
        when it has nothing to measure (the default). ``report`` receives one line of text per
        measurement; ``quick`` measures fewer, smaller inputs."""
        return None

    def program(self, plan: Node, inputs: Sequence[Source]) -> Callable[..., Any] | None:
        """A compiled form of ``plan`` for repeated runs on inputs of the same schema, or
        ``None`` (the default: the caller substitutes the data and calls :meth:`execute`).

        Called with one DataFrame per placeholder of ``inputs`` (in that order, each with the
        placeholder's columns and dtypes), it returns what :meth:`execute` would for ``plan``
        with those frames as its Sources. Only asked for a plan :meth:`supports`.
        """
        return None
