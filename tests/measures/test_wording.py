"""The bokmål PHQ-9, GAD-7 and WSAS texts are the handbook's, word for word, in the handbook's order.

The handbook (Rask psykisk helsehjelp, appendices VEDLEGG 1–3) is compared after collapsing all
whitespace, because its PDF text extraction splits lines and pads with no-break spaces.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rph_pwa.measures import Instrument, get

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDBOOK = REPO_ROOT / ".." / "shared" / "seeds" / "001_825eaccd86211715.txt"

#: Each instrument's appendix runs from its heading to the next one.
APPENDIX = {"PHQ-9": ("VEDLEGG 1", "VEDLEGG 2"), "GAD-7": ("VEDLEGG 2", "VEDLEGG 3"),
            "WSAS": ("VEDLEGG 3", "VEDLEGG 4")}


def normalise(value: str) -> str:
    return " ".join(value.split())


@pytest.fixture(scope="module")
def handbook() -> str:
    if not HANDBOOK.is_file():
        pytest.skip(f"the RPH handbook text is not at {HANDBOOK.resolve()} (kept outside the repo)")
    return normalise(HANDBOOK.read_text(encoding="utf-8"))


def appendix(handbook: str, code: str) -> str:
    start, end = (re.search(rf"\b{heading}\b", handbook) for heading in APPENDIX[code])
    assert start and end and start.start() < end.start(), f"{code}: appendix headings not found"
    return handbook[start.end():end.start()]


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
def test_bokmal_wording_is_verbatim_and_in_order(handbook, code):
    defn = get(code)
    section = appendix(handbook, code)
    assert defn.verified_wording
    assert normalise(defn.title["nb"]).casefold() in section.casefold(), f"{code} title"
    position = 0
    for where, value in wording(defn):
        if code == "WSAS" and where.startswith("option"):
            continue  # the digits 0–8 appear everywhere; the scale is checked below
        found = section.find(normalise(value), position)
        assert found >= 0, f"{code} {where} is not verbatim (or out of order) in the handbook: {value!r}"
        position = found + len(normalise(value))


def test_wsas_scale_is_0_to_8(handbook):
    section = appendix(handbook, "WSAS")
    assert section.count("0 1 2 3 4 5 6 7 8") == len(get("WSAS").items)
    assert [o.label["nb"] for o in get("WSAS").options] == [str(n) for n in range(9)]


@pytest.mark.parametrize("code", list(APPENDIX))
def test_each_item_is_the_whole_numbered_item(handbook, code):
    # Catch a dropped word at either end: the handbook prints "<n>. <text>" then the scale.
    section = appendix(handbook, code)
    for number, item in enumerate(get(code).items, start=1):
        assert f"{number}. {normalise(item.text['nb'])} 0" in section, f"{code} {item.key}"
