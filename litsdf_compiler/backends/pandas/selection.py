"""How the selector asks the ``pandas`` backend: the default for every plan.

pandas is the reference: it runs every plan, so it states the :data:`DEFAULT` rank for all of
them and any backend that prefers a plan (a lower rank) is tried first.
"""

from __future__ import annotations

from ...ir.base import Node
from ..base import Backend
from ..preference import DEFAULT, Preference, Settings

__all__ = ["PandasSelection"]


class PandasSelection(Backend):
    """The ``pandas`` backend's preference: the default, behind any backend preferring a plan."""

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference:
        """Every plan, at the :data:`DEFAULT` rank."""
        size = "input size unknown before reading" if rows is None else f"{rows} rows"
        return Preference(f"{size}: the default backend", DEFAULT)
