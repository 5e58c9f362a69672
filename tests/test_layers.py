"""The layers of DESIGN.md hold: a package imports only the packages below it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nocturna"

BELOW: dict[str, set[str]] = {
    "core": set(),
    "images": {"core"},
    "devices": {"core", "images"},
    "components": {"core", "devices"},
    "scheduler": {"core"},
    "notify": {"core"},
    "network": {"core"},
    "instrument": {"core", "images", "devices", "components"},
    "loops": {"core", "images", "devices", "components", "instrument"},
    "observatory": {"core", "images", "devices", "components", "instrument", "loops",
                    "scheduler"},
    "states": {"core", "images", "devices", "components", "instrument", "loops",
               "scheduler", "observatory"},
    "runtime": {"core", "images", "devices", "components", "instrument", "loops",
                "scheduler", "observatory", "states", "notify", "network"},
}
"""What each layer may import (the servers and the CLI on top may import any of them)."""

FORBIDDEN_MODULES = {"observatory": ("nocturna.devices.sim",)}
"""Modules a layer must not import although their package is below it."""


def imports_of(package: str) -> dict[str, set[str]]:
    """``nocturna.*`` modules imported anywhere in ``package`` (lazy imports too), with
    the files that import them."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("nocturna."):
                    found.setdefault(name, set()).add(path.name)
    return found


def test_every_layer_imports_only_the_layers_below_it():
    problems = []
    for package, allowed in BELOW.items():
        for module, files in imports_of(package).items():
            target = module.split(".")[1]
            if target != package and target not in allowed:
                problems.append(f"{package} ({', '.join(sorted(files))}) imports {module}")
            for forbidden in FORBIDDEN_MODULES.get(package, ()):
                if module.startswith(forbidden):
                    problems.append(f"{package} ({', '.join(sorted(files))}) imports {module}")
    assert not problems, "\n".join(problems)
