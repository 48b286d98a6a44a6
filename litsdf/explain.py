"""``DataFrame.explain``: the logical plan, the backend decision and the fallbacks."""

from __future__ import annotations

from typing import Any

from litsdf_compiler import engine
from litsdf_compiler.ir.explain import fallback_sources, plan_dict, render_plan
from litsdf_compiler.ir.relations import Relation
from litsdf_compiler.ir.serde import to_json

from . import _core
from ._config import options

__all__ = ["explain"]

_STAGES = ("logical", "backend", "fallbacks")


def _backend_part(plan: Relation) -> dict[str, Any]:
    ran = _core.last_decision(plan)
    if ran is not None:
        return {
            "backend": ran.backend,
            "reason": ran.reason,
            "ran": True,
            "seconds": ran.seconds,
            "declined": [list(d) for d in ran.declined],
        }
    try:
        _, decision = engine.select(plan, options.backend)
    except engine.BackendDeclined as err:
        return {"backend": None, "reason": str(err), "ran": False, "declined": []}
    return {
        "backend": decision.backend,
        "reason": decision.reason,
        "ran": False,
        "declined": [list(d) for d in decision.declined],
    }


def explain(plan: Relation, stage: str | None = None, format: str = "text") -> Any:
    """Explain ``plan``; see :meth:`litsdf.DataFrame.explain`."""
    if stage is not None and stage not in _STAGES:
        raise ValueError(f"stage must be one of {_STAGES} or None; got {stage!r}")
    if format == "json":
        return to_json(plan, indent=1)
    if format not in ("text", "dict"):
        raise ValueError(f"format must be 'text', 'dict' or 'json'; got {format!r}")
    falls = [f"{s.origin[len('fallback ') :]}" for s in fallback_sources(plan)]
    parts: dict[str, Any] = {
        "logical": plan_dict(plan),
        "backend": _backend_part(plan),
        "fallbacks": falls,
    }
    if format == "dict":
        return parts if stage is None else parts[stage]
    text: dict[str, str] = {}
    text["logical"] = "== logical plan ==\n" + render_plan(plan)
    b = parts["backend"]
    verb = "ran on" if b["ran"] else "would run on"
    lines = [
        f"== backend ==\n{verb}: {b['backend']} ({b['reason']}); "
        f"options.backend={options.backend!r}"
    ]
    lines += [f"  declined {name}: {why}" for name, why in b["declined"]]
    text["backend"] = "\n".join(lines)
    text["fallbacks"] = "== fallbacks ==\n" + ("\n".join(f"  {f}" for f in falls) or "  none")
    if stage is not None:
        return text[stage]
    return "\n".join(text[s] for s in _STAGES)
