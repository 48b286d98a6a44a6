"""Layers import only downwards: every import of every module (module- and function-level,
relative ones resolved) is parsed with ``ast`` and checked against the layering rules.

ir  <-  semantics  <-  meta, optimizer  <-  lower  <-  backends  <-  engine, selector
(litsdf_compiler)
litsdf_compiler  <-  litsdf  <-  litmus_automl
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("litsdf_compiler", "litsdf", "litmus_automl")


def _module_name(path: Path) -> tuple[str, bool]:
    """Dotted name of the module at ``path`` and whether it is a package ``__init__``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def imported(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """``(line, absolute module)`` for every import in ``source`` (the code of ``module``),
    at any depth (inside functions too); ``from X import a`` yields ``X`` and ``X.a``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package[: len(package) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield node.lineno, base
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{base}.{alias.name}"


def _all_imports() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name, is_package = _module_name(path)
            found[name] = list(imported(path.read_text(), name, is_package))
    return found


IMPORTS = _all_imports()
C = "litsdf_compiler"


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(modules: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """``module:line imports target`` for each import statement breaking the rule (once)."""
    bad: dict[tuple[str, int], str] = {}
    for module, targets in sorted(IMPORTS.items()):
        if _within(module, modules):
            for line, target in targets:
                if _within(target, forbidden):
                    bad.setdefault((module, line), target)
    return [f"{module}:{line} imports {target}" for (module, line), target in bad.items()]


RULES = {
    "ir is the bottom layer": (
        (f"{C}.ir",),
        tuple(f"{C}.{m}" for m in ("semantics", "meta", "optimizer", "lower", "backends", "engine"))
        + (f"{C}.selector", f"{C}.adaptive"),
    ),
    "meta and the optimizer run no backend": (
        (f"{C}.meta", f"{C}.optimizer"),
        (f"{C}.lower", f"{C}.backends", f"{C}.engine", f"{C}.selector", f"{C}.adaptive"),
    ),
    "lowering runs no backend": (
        (f"{C}.lower",),
        (f"{C}.optimizer", f"{C}.backends", f"{C}.engine", f"{C}.selector", f"{C}.adaptive"),
    ),
    "backends do not call back into the engine": (
        (f"{C}.backends",),
        (f"{C}.engine", f"{C}.selector", f"{C}.adaptive"),
    ),
    "the adaptive selector runs under the engine": ((f"{C}.adaptive",), (f"{C}.engine",)),
    "the compiler knows no front end": ((C,), ("litsdf", "litmus_automl")),
    "the front end knows no AutoML": (("litsdf",), ("litmus_automl",)),
}


def test_every_package_is_scanned():
    # the rules below would pass vacuously on an empty scan
    for module in (f"{C}.meta", f"{C}.semantics", f"{C}.optimizer.simplify", "litsdf.frame"):
        assert module in IMPORTS, f"{module} was not found under {ROOT}"
    assert any(target == f"{C}.ir.frames.as_frame" for _, target in IMPORTS[f"{C}.meta"])


@pytest.mark.parametrize("rule", sorted(RULES))
def test_layers_import_only_downwards(rule):
    modules, forbidden = RULES[rule]
    bad = _violations(modules, forbidden)
    assert not bad, f"{rule}: {len(bad)} upward import(s):\n" + "\n".join(bad)


def test_semantics_imports_only_the_ir():
    # ``files`` (file identity at read time) is a leaf: it imports nothing of the package
    allowed = (f"{C}.ir", f"{C}.semantics", f"{C}.files")
    bad = [
        f"{module}:{line} imports {target}"
        for module, targets in sorted(IMPORTS.items())
        if _within(module, (f"{C}.semantics",))
        for line, target in targets
        if _within(target, (C,)) and not _within(target, allowed)
    ]
    assert not bad, "semantics imports outside ir:\n" + "\n".join(bad)
    leaf = [t for _, t in IMPORTS[f"{C}.files"] if _within(t, (C, "litsdf", "litmus_automl"))]
    assert not leaf, f"litsdf_compiler.files must stay a leaf module; it imports {leaf}"


def test_lower_imports_only_ir_meta_and_semantics():
    allowed = (f"{C}.ir", f"{C}.meta", f"{C}.semantics", f"{C}.lower")
    bad = [
        f"{module}:{line} imports {target}"
        for module, targets in sorted(IMPORTS.items())
        if _within(module, (f"{C}.lower",))
        for line, target in targets
        if _within(target, (C,)) and not _within(target, allowed)
    ]
    assert f"{C}.lower.lower" in IMPORTS
    assert not bad, "lower imports outside ir, meta, semantics:\n" + "\n".join(bad)


def test_function_level_and_relative_imports_are_seen():
    source = "import os\ndef f():\n    from ..backends.pandas import as_frame\n"
    got = list(imported(source, f"{C}.optimizer.rule"))
    assert got == [
        (1, "os"),
        (3, f"{C}.backends.pandas"),
        (3, f"{C}.backends.pandas.as_frame"),
    ]
    package_init = list(imported("from . import base\n", f"{C}.ir", is_package=True))
    assert package_init == [(1, f"{C}.ir"), (1, f"{C}.ir.base")]


def test_old_import_of_backend_declined_keeps_working():
    from litsdf_compiler.backends.base import BackendDeclined
    from litsdf_compiler.engine import BackendDeclined as FromEngine

    assert FromEngine is BackendDeclined
