"""Definitions are immutable and self-consistent; texts exist in every language; text() falls back."""
from __future__ import annotations

import dataclasses

import pytest

from rph_pwa.measures import INSTRUMENTS, LANGUAGES, VERSIONS, get, localized, text
from rph_pwa.measures.definitions import Band, FrozenMap, Instrument, Item, Option, Text

VALIDATED = ("PHQ-9", "GAD-7", "WSAS")


def all_texts(defn: Instrument):
    """(where, Text) for every text of an instrument."""
    yield "title", defn.title
    yield "instructions", defn.instructions
    yield "attribution", defn.attribution
    questions = list(defn.items) + ([defn.functioning_question] if defn.functioning_question else [])
    for item in questions:
        yield item.key, item.text
        for option in defn.options_for(item) if item in defn.items else item.options:
            yield f"{item.key} option {option.value}", option.label


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_every_text_is_in_every_language(code):
    for where, texts in all_texts(get(code)):
        for lang in LANGUAGES:
            assert texts.get(lang, "").strip(), f"{code} {where} lacks {lang}"


VALIDATED = ["PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C"]


@pytest.mark.parametrize("code", VALIDATED)
def test_nynorsk_is_the_bokmal_wording(code):
    # No validated nynorsk version exists of any of these instruments (our own feedback form has one).
    for where, texts in all_texts(get(code)):
        assert texts["nn"] == texts["nb"], f"{code} {where}"


def test_registry():
    assert list(INSTRUMENTS) == [*VALIDATED, "SESSION-FEEDBACK"]
    assert set(VERSIONS) == {(code, 1) for code in INSTRUMENTS}
    assert get("WSAS") is VERSIONS[("WSAS", 1)] is get("WSAS", 1)
    with pytest.raises(TypeError):
        INSTRUMENTS["X"] = get("WSAS")  # type: ignore[index]


@pytest.mark.parametrize(("code", "items", "values", "maximum", "functioning", "verified"), [
    ("PHQ-9", 9, range(0, 4), 27, True, True),
    ("GAD-7", 7, range(0, 4), 21, True, True),
    ("WSAS", 5, range(0, 9), 40, False, True),
    ("AUDIT-C", 3, range(0, 5), 12, False, False),
    ("DUDIT-C", 4, range(0, 5), 16, False, False),
])
def test_shape(code, items, values, maximum, functioning, verified):
    defn = get(code)
    assert len(defn.items) == items
    assert defn.item_keys == tuple(f"item{n}" for n in range(1, items + 1))
    for item in defn.items:
        assert [o.value for o in defn.options_for(item)] == list(values)
    assert (defn.min_total, defn.max_total) == (0, maximum)
    assert (defn.functioning_question is not None) == functioning
    if functioning:
        assert [o.value for o in defn.functioning_question.options] == [0, 1, 2, 3]
    assert defn.verified_wording is verified


def test_definitions_are_immutable():
    defn = get("PHQ-9")
    with pytest.raises(dataclasses.FrozenInstanceError):
        defn.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        defn.items[0].text["nb"] = "endret"  # type: ignore[index]
    with pytest.raises(TypeError):
        defn.flag_items["item1"] = "risk"  # type: ignore[index]
    assert isinstance(defn.items, tuple) and isinstance(defn.bands, tuple)
    assert hash(defn) == hash(get("PHQ-9"))


def test_plain_dicts_become_read_only_texts():
    option = Option(0, {"nb": "Nei", "en": "No"})
    assert isinstance(option.label, Text) and option.label == {"nb": "Nei", "en": "No"}


def _instrument(**changes) -> Instrument:
    fields = dict(
        code="T", version=1, title=localized(nb="T", en="T"), instructions=localized(nb="i", en="i"),
        items=(Item("a", localized(nb="a", en="a")),),
        options=(Option(0, localized(nb="0", en="0")), Option(1, localized(nb="1", en="1"))),
        bands=(Band(0, 1, "all"),),
    )
    fields.update(changes)
    return Instrument(**fields)


@pytest.mark.parametrize(("changes", "pattern"), [
    ({"bands": (Band(0, 0, "low"),)}, "bands end at 0, expected 1"),
    ({"bands": (Band(1, 1, "high"),)}, "starts at 1, expected 0"),
    ({"bands": (Band(0, 0, "x"), Band(1, 1, "x"))}, "appears twice"),
    ({"flag_items": FrozenMap(b="risk")}, "unknown items"),
    ({"options": ()}, "no options and there is no shared scale"),
    ({"items": ()}, "no items"),
    ({"items": (Item("a", localized(nb="a", en="a")),) * 2}, "item keys repeat"),
    ({"version": 0}, "positive int"),
    ({"functioning_question": Item("f", localized(nb="f", en="f"))}, "needs its own options"),
    ({"options": (Option(1, localized(nb="1", en="1")), Option(0, localized(nb="0", en="0")))}, "ascending"),
])
def test_inconsistent_definitions_are_refused(changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        _instrument(**changes)


def test_band_needs_min_not_above_max():
    with pytest.raises(ValueError, match="min 3 above max 2"):
        Band(3, 2, "x")


@pytest.mark.parametrize(("texts", "lang", "expected"), [
    ({"nb": "bokmål", "nn": "nynorsk", "en": "English"}, "nn", "nynorsk"),
    ({"nb": "bokmål", "en": "English"}, "nn", "bokmål"),
    ({"en": "English"}, "nn", "English"),
    ({"nb": "bokmål", "en": "English"}, "en", "English"),
    ({"nb": "bokmål"}, "en", "bokmål"),
    ({"nn": "nynorsk", "en": "English"}, "nb", "nynorsk"),
    ({"nb": "bokmål", "en": "English"}, "de", "bokmål"),
    ({"nb": "", "en": "English"}, "nb", "English"),
    ({"se": "sámegiella"}, "nb", "sámegiella"),
])
def test_text_fallback(texts, lang, expected):
    assert text(texts, lang) == expected
    assert text(Text(texts), lang) == expected


def test_text_of_nothing():
    with pytest.raises(LookupError):
        text({}, "nb")


def test_validated_instruments_show_bokmal_to_nynorsk_readers():
    item = get("PHQ-9").items[0]
    assert text(item.text, "nn") == text(item.text, "nb") == "Liten interesse for eller glede av å gjøre ting."
    assert text(item.text, "en") == "Little interest or pleasure in doing things"
