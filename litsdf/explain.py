"""``DataFrame.explain``: the logical plan, the optimized plan (with the rules that fired),
the backend that runs it and why, and the fallbacks in it."""

from __future__ import annotations

from typing import Any

from litsdf_compiler import adaptive, engine
from litsdf_compiler.ir.base import Node
from litsdf_compiler.ir.explain import fallback_sources, plan_dict, render_plan
from litsdf_compiler.ir.relations import Relation
from litsdf_compiler.ir.serde import to_json
from litsdf_compiler.lower import lower, physical_nodes, render_physical

from . import _core
from ._config import options

__all__ = ["explain", "STAGES"]

STAGES = ("logical", "optimized", "physical", "backend", "fallbacks")


def _optimized_part(plan: Relation) -> tuple[Node, dict[str, Any]]:
    ran = _core.last_decision(plan)
    if ran is not None and ran.optimized is not None:
        return ran.optimized, {
            "enabled": bool(ran.rules) or options.optimize,
            "rules": list(ran.rules),
            "seconds": ran.optimize_seconds,
            "plan": plan_dict(ran.optimized),
        }
    optimized, fired, seconds = engine.prepare(plan, options.optimize)
    return optimized, {
        "enabled": options.optimize,
        "rules": list(fired),
        "seconds": seconds,
        "plan": plan_dict(optimized),
    }


def _backend_part(plan: Relation, optimized: Node) -> dict[str, Any]:
    ran = _core.last_decision(plan)
    if ran is not None:
        part = {
            "backend": ran.backend,
            "reason": ran.reason,
            "ran": True,
            "seconds": ran.seconds,
            "declined": [list(d) for d in ran.declined],
        }
        decision = ran
    else:
        try:
            _, decision = engine.select(optimized, options.backend)
        except engine.BackendDeclined as err:
            return {"backend": None, "reason": str(err), "ran": False, "declined": []}
        part = {
            "backend": decision.backend,
            "reason": decision.reason,
            "ran": False,
            "declined": [list(d) for d in decision.declined],
        }
    if decision.adaptive is not None:  # the arms as the store has them now
        part["adaptive"] = adaptive.describe(decision.adaptive)
    return part


def _physical_part(optimized: Node) -> dict[str, Any]:
    try:
        root = lower(optimized)  # type: ignore[arg-type]
    except Exception as err:  # pandas rejects the plan's metadata: no physical form
        return {"text": f"  (no physical form: {type(err).__name__}: {err})", "nodes": []}
    return {
        "text": render_physical(root, indent=1),
        "nodes": [type(n).__name__ for n in physical_nodes(root)],
    }


def explain(plan: Relation, stage: str | None = None, format: str = "text") -> Any:
    """Explain ``plan``; see :meth:`litsdf.DataFrame.explain`."""
    if stage is not None and stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES} or None; got {stage!r}")
    if format == "json":
        return to_json(plan, indent=1)
    if format not in ("text", "dict"):
        raise ValueError(f"format must be 'text', 'dict' or 'json'; got {format!r}")
    optimized, opt = _optimized_part(plan)
    falls = [f"{s.origin[len('fallback ') :]}" for s in fallback_sources(plan)]
    parts: dict[str, Any] = {
        "logical": plan_dict(plan),
        "optimized": opt,
        "physical": _physical_part(optimized),
        "backend": _backend_part(plan, optimized),
        "fallbacks": falls,
    }
    if format == "dict":
        return parts if stage is None else parts[stage]
    text: dict[str, str] = {"logical": "== logical plan ==\n" + render_plan(plan)}
    if opt["enabled"]:
        fired = ", ".join(opt["rules"]) or "none"
        text["optimized"] = f"== optimized plan == (rules fired: {fired})\n" + render_plan(
            optimized
        )
    else:
        text["optimized"] = "== optimized plan ==\n  (optimizer off: options.optimize=False)"
    text["physical"] = "== physical plan ==\n" + parts["physical"]["text"]
    b = parts["backend"]
    verb = "ran on" if b["ran"] else "would run on"
    lines = [
        f"== backend ==\n{verb}: {b['backend']} ({b['reason']}); "
        f"options.backend={options.backend!r}"
    ]
    lines += [f"  declined {name}: {why}" for name, why in b["declined"]]
    if "adaptive" in b:
        lines += adaptive.render(b["adaptive"])
    text["backend"] = "\n".join(lines)
    text["fallbacks"] = "== fallbacks ==\n" + ("\n".join(f"  {f}" for f in falls) or "  none")
    if stage is not None:
        return text[stage]
    return "\n".join(text[s] for s in STAGES)
