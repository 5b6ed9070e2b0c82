"""The docs match the code: every file they name exists, and the architecture page names every
service module and every table."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import rph_pwa.models  # noqa: F401 - fills the metadata
from rph_pwa.db import Base

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: A code span that names a file or folder in the repository: a path with a known extension or a
#: trailing slash. URLs (leading slash, scheme) are routes, not files.
PATH = re.compile(r"`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*(?:\.(?:py|js|md|html|toml|json|cfg|txt|css|"
                  r"webmanifest|ini|pot?|sh)|/))`")
#: Where a relative name in the docs may be rooted.
BASES = (ROOT, ROOT / "rph_pwa")


def _named_paths(doc: Path) -> set[str]:
    return {m for m in PATH.findall(doc.read_text(encoding="utf-8")) if "/" in m or m.endswith(".md")}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_the_docs_name_exists(doc):
    missing = sorted(p for p in _named_paths(doc) if not any((base / p).exists() for base in BASES))
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


def test_architecture_names_every_service_module_and_table():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(p.stem for p in (ROOT / "rph_pwa" / "services").glob("*.py") if p.stem != "__init__")
    unnamed = [m for m in modules if f"`{m}`" not in text and f"services/{m}.py" not in text]
    assert not unnamed, f"docs/architecture.md does not name these service modules: {unnamed}"
    tables = sorted(Base.metadata.tables)
    unnamed = [t for t in tables if f"`{t}`" not in text]
    assert not unnamed, f"docs/architecture.md does not name these tables: {unnamed}"
