"""The package's layers, checked on every import statement (lazy ones included).

``docs/architecture.md`` draws these layers; this test keeps the drawing true. A module
may import from its own layer and the ones below it, never from a layer above: the pure
statistics never reach for Flask, and no domain module reaches into a feature package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cxalign"

# Lowest first. The longest matching prefix decides a module's layer.
LAYERS: dict[str, int] = {
    # 0. Pure computation: no Flask, no database, importable anywhere.
    "cxalign.scoring": 0,
    "cxalign.instruments.spec": 0,
    "cxalign.instruments.loader": 0,
    "cxalign.reports.charts": 0,
    # 1. Core: settings, extensions, the models and the small services every feature uses.
    "cxalign.config": 1,
    "cxalign.extensions": 1,
    "cxalign.models": 1,
    "cxalign.security": 1,
    "cxalign.audit": 1,
    "cxalign.access": 1,
    "cxalign.accounts": 1,
    "cxalign.mail": 1,
    "cxalign.cli": 1,
    "cxalign.errors": 1,
    "cxalign.navigation": 1,
    "cxalign.templating": 1,
    # 2. Domain over the database: instruments stored, answers analysed, reports built.
    "cxalign.instruments.store": 2,
    "cxalign.analysis": 2,
    "cxalign.reports": 2,
    # 3. Features: blueprints with their forms, operations and commands.
    "cxalign.auth": 3,
    "cxalign.main": 3,
    "cxalign.organisations": 3,
    "cxalign.instruments": 3,
    "cxalign.surveys": 3,
    "cxalign.respond": 3,
    "cxalign.results": 3,
    "cxalign.exports": 3,
    "cxalign.api": 3,
    # 4. The application: the factory that assembles the features, and the demo.
    "cxalign.demo": 4,
    "cxalign": 4,
}
# Third-party packages the pure layer must not touch.
NOT_PURE = ("flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug", "weasyprint")


def layer_of(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise AssertionError(f"{module} has no layer: add it to LAYERS and docs/architecture.md")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from cxalign.x import y`` may name a submodule y: count the deeper one.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_import_climbs_a_layer(path: Path):
    name = module_name(path)
    own = layer_of(name)
    climbing = []
    for line, target in imports_of(path):
        top = target.split(".")[0]
        if own == 0 and top in NOT_PURE:
            climbing.append(f"line {line}: {target} (the pure layer imports no Flask or database)")
        if top != "cxalign" or target == "cxalign":
            continue
        # ``from cxalign.models import Survey`` gives cxalign.models.Survey: layer of the prefix.
        if layer_of(target) > own:
            climbing.append(f"line {line}: {target} (layer {layer_of(target)} > {own})")
    assert not climbing, f"{name} (layer {own}) imports from above:\n" + "\n".join(climbing)
