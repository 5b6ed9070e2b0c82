"""The blueprint packages depend on each other in one direction only.

Walks every module of rph_pwa (ast, so nothing is imported), follows each import (also those
inside functions) and fails when auth, client, referral, therapist and public reach each other in
a circle, directly or through a shared module such as rph_pwa/forms.py.
"""
from __future__ import annotations

import ast
from pathlib import Path

import rph_pwa

ROOT = Path(rph_pwa.__file__).parent
BLUEPRINTS = ("auth", "client", "referral", "therapist", "public")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    """A blueprint package stands for all its modules; any other module stands for itself."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in BLUEPRINTS else module


def imported_modules(path: Path, module: str) -> set[str]:
    """The rph_pwa modules `path` imports (`from . import x` counts as importing x when x is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("rph_pwa.")}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """unit -> the units it imports, for every module under `root` but the app factory (which
    imports every blueprint to register it) and the migrations."""
    modules = {module_name(p, root): p for p in root.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if name == "rph_pwa":
            continue
        targets = {unit(t) for t in imported_modules(path, name) if t in modules and t != "rph_pwa"}
        graph.setdefault(unit(name), set()).update(targets - {unit(name)})
    return graph


def blueprint_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle through a blueprint package, as the path that closes it."""
    cycles = []
    for start in (f"rph_pwa.{b}" for b in BLUEPRINTS):
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycles.append(path + [start])
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return cycles


def test_blueprint_packages_import_each_other_in_one_direction():
    assert blueprint_cycles(import_graph()) == []


def test_the_walk_sees_imports_and_finds_a_circle(tmp_path):
    """The check can fail: two blueprint packages importing each other (one of them only inside a
    function, through a shared module) is a circle."""
    package = tmp_path / "rph_pwa"
    for name, text in {
        "__init__.py": "from .auth import bp\n",
        "shared.py": "def helper():\n    from .client.views import page\n",
        "auth/__init__.py": "from . import views\n",
        "auth/views.py": "from ..shared import helper\n",
        "client/__init__.py": "",
        "client/views.py": "from ..auth import views\n",
    }.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["rph_pwa.auth"] == {"rph_pwa.shared"}
    assert blueprint_cycles(graph) == [["rph_pwa.auth", "rph_pwa.shared", "rph_pwa.client", "rph_pwa.auth"],
                                       ["rph_pwa.client", "rph_pwa.auth", "rph_pwa.shared", "rph_pwa.client"]]
