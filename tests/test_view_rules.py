"""Rules every view module keeps (read with ast, nothing imported): roles are checked through
services/access.py, local time through rph_pwa/localtime.py, routes are declared with `@bp.route`
on the package's blueprint, and no private helper crosses a module boundary."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rph_pwa

BLUEPRINTS = ("auth", "client", "referral", "therapist", "public")
#: The view modules and each package's __init__ (forms and presenters have rules of their own).
VIEW_FILES = sorted(p for b in BLUEPRINTS for p in (Path(rph_pwa.__file__).parent / b).glob("*.py")
                    if p.name == "__init__.py" or p.stem.endswith("views"))


def broken_rules(source: str) -> list[str]:
    """What in `source` breaks the rules, one line each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "role" for side in [node.left, *node.comparators]):
            found.append(f"line {node.lineno}: a role compared by hand (use services.access)")
        elif isinstance(node, ast.Name) and node.id in ("ZoneInfo", "CLINICAL_ROLES"):
            found.append(f"line {node.lineno}: {node.id} (use rph_pwa.localtime / services.access)")
        elif isinstance(node, ast.ImportFrom) and node.module == "zoneinfo":
            found.append(f"line {node.lineno}: zoneinfo (use rph_pwa.localtime)")
        elif isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: private {alias.name} imported from {'.' * node.level}{node.module}"
                      for alias in node.names if alias.name.startswith("_") and alias.name != "__future__"
                      and not (node.module == "flask_babel")]
            if any(alias.name == "Blueprint" for alias in node.names) and node.module == "flask":
                found.append(f"line {node.lineno}: a blueprint made outside its package's __init__")
        elif isinstance(node, ast.FunctionDef) and node.name == "register" and [
                a.arg for a in node.args.args] == ["bp"]:
            found.append(f"line {node.lineno}: register(bp) (declare routes with @bp.route)")
    return found


@pytest.mark.parametrize("path", VIEW_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_view_module_keeps_the_rules(path):
    source = path.read_text(encoding="utf-8")
    broken = broken_rules(source)
    if path.name == "__init__.py":  # the one place a blueprint is made
        broken = [line for line in broken if "outside its package" not in line]
    assert broken == []


def test_the_rules_can_fail():
    source = '''
from flask import Blueprint
from zoneinfo import ZoneInfo
from .forms import _choices
from flask_babel import gettext as _

def register(bp):
    pass

def page():
    if current_user.role == "admin" or user.role in ("lead", "therapist"):
        return ZoneInfo("Europe/Oslo")

def register():
    """A page called register is fine."""
'''
    assert sorted(broken_rules(source), key=lambda line: int(line.split()[1].rstrip(":"))) == [
        "line 2: a blueprint made outside its package's __init__",
        "line 3: zoneinfo (use rph_pwa.localtime)",
        "line 4: private _choices imported from .forms",
        "line 7: register(bp) (declare routes with @bp.route)",
        "line 11: a role compared by hand (use services.access)",
        "line 11: a role compared by hand (use services.access)",
        "line 12: ZoneInfo (use rph_pwa.localtime / services.access)",
    ]
