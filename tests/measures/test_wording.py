"""The bokmål PHQ-9, GAD-7 and WSAS texts are the handbook's, word for word, in the handbook's order.

The handbook (Rask psykisk helsehjelp, appendices VEDLEGG 1–3) is kept outside the repo; its
appendices are committed in tests/measures/expected_wording.json (the `appendices` fixture), whitespace
collapsed because its PDF text extraction splits lines and pads with no-break spaces. Where the
handbook is at ../shared/seeds, that file is also checked against it.
"""
from __future__ import annotations

import pytest

from rph_pwa.measures import Instrument, get
from scripts.expected_wording import APPENDIX, HANDBOOK, extract_appendices, normalise


def test_committed_wording_is_the_handbooks(appendices):
    if not HANDBOOK.is_file():
        pytest.skip(f"the RPH handbook text is not at {HANDBOOK} (kept outside the repo)")
    handbook = extract_appendices(HANDBOOK.read_text(encoding="utf-8"))
    assert appendices == handbook, "the handbook changed: run scripts/expected_wording.py and review the diff"


def wording(defn: Instrument) -> list[tuple[str, str]]:
    """(where, bokmål text) of everything the handbook prints, in its order."""
    texts = [("instructions", defn.instructions["nb"])]
    texts += [(f"option {o.value}", o.label["nb"]) for o in defn.options]
    texts += [(item.key, item.text["nb"]) for item in defn.items]
    if defn.functioning_question:
        texts.append(("functioning question", defn.functioning_question.text["nb"]))
        texts += [(f"functioning option {o.value}", o.label["nb"]) for o in defn.functioning_question.options]
    texts += [(f"attribution paragraph {n}", paragraph)
              for n, paragraph in enumerate(defn.attribution["nb"].split("\n\n"), start=1)]
    return texts


@pytest.mark.parametrize("code", list(APPENDIX))
def test_bokmal_wording_is_verbatim_and_in_order(appendices, code):
    defn = get(code)
    section = appendices[code]
    assert defn.verified_wording
    assert normalise(defn.title["nb"]).casefold() in section.casefold(), f"{code} title"
    position = 0
    for where, value in wording(defn):
        if code == "WSAS" and where.startswith("option"):
            continue  # the digits 0–8 appear everywhere; the scale is checked below
        found = section.find(normalise(value), position)
        assert found >= 0, f"{code} {where} is not verbatim (or out of order) in the handbook: {value!r}"
        position = found + len(normalise(value))


def test_wsas_scale_is_0_to_8(appendices):
    section = appendices["WSAS"]
    assert section.count("0 1 2 3 4 5 6 7 8") == len(get("WSAS").items)
    assert [o.label["nb"] for o in get("WSAS").options] == [str(n) for n in range(9)]


@pytest.mark.parametrize("code", list(APPENDIX))
def test_each_item_is_the_whole_numbered_item(appendices, code):
    # Catch a dropped word at either end: the handbook prints "<n>. <text>" then the scale.
    section = appendices[code]
    for number, item in enumerate(get(code).items, start=1):
        assert f"{number}. {normalise(item.text['nb'])} 0" in section, f"{code} {item.key}"
