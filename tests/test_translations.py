"""Bokmål and nynorsk catalogs are complete, and every placeholder survives translation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "rph_pwa" / "translations"


@pytest.mark.parametrize("lang", ["nb", "nn"])
def test_catalog_is_complete_with_placeholders(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        template = read_po(handle)
    assert {m.id for m in template if m.id} <= {m.id for m in catalog if m.id}, "run make translations-update"
    for message in catalog:
        if not message.id:
            continue
        # Plural messages hold tuples: (singular, plural) ids and one string per plural form.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"{lang}: untranslated {message.id!r}"
        # nb and nn have two plural forms: the first answers the singular id (which may leave the
        # number out, "the next working day"), the second the plural id.
        for index, string in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]
            wanted = sorted(set(re.findall(r"%\(\w+\)[sd]", source)))
            assert sorted(set(re.findall(r"%\(\w+\)[sd]", string))) == wanted, f"{lang}: {message.id!r}"


def test_pages_render_in_bokmal_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="nb"' in html and "Logg inn" in html
