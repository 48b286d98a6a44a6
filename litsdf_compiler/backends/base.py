"""The backend contract: ``available()``, ``supports(plan)`` and ``execute(plan)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

from ..ir.base import Node, walk

__all__ = ["Backend", "BackendDeclined", "Verdict"]


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
