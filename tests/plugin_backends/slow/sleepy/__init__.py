"""``sleepy``: a backend that is deterministically slow, for the adaptive selector's tests.

It is the pandas backend (it runs every plan, exactly) that first sleeps ``sleepy_seconds``
(a setting, default 0.25 s), and it states the strongest static preference for every plan
(rank -1, below :data:`~litsdf_compiler.backends.preference.PREFERRED`): the static selector
always picks it, so a test sees the adaptive selector learn that another backend is faster.
It lives in ``tests/plugin_backends/slow/`` (a folder without ``__init__.py``), so the toy's
``LITSDF_BACKEND_PATH=tests/plugin_backends`` does not register it; the tests that need it
set ``LITSDF_BACKEND_PATH=tests/plugin_backends/slow`` in a subprocess.
"""

from __future__ import annotations

import time
from typing import Any

from litsdf_compiler.backends.pandas import PandasBackend
from litsdf_compiler.backends.preference import Preference, Setting, Settings
from litsdf_compiler.ir.base import Node

__all__ = ["BACKEND", "SleepyBackend"]


class SleepyBackend(PandasBackend):
    """pandas after a pause of ``sleepy_seconds``; preferred by the static selector."""

    name = "sleepy"
    priority = 95
    settings = (
        Setting("seconds", 0.25, "How long every execution sleeps before running (seconds)."),
    )

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference:
        """Every plan, before any other backend (rank -1)."""
        return Preference(f"sleepy is preferred for every plan (sleeps {settings.seconds} s)", -1.0)

    def execute(self, plan: Node) -> Any:
        """Sleep, then run ``plan`` with pandas."""
        from litsdf_compiler import selector

        time.sleep(selector.settings(self.name).seconds)
        return super().execute(plan)


BACKEND = SleepyBackend()
