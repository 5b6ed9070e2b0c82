"""The programmes shipped in rph_pwa/selfhelp/programmes/: every file parses, and every module
meets the content rules (an exercise and a worksheet, 300-900 words, LIX at most 40, a sign-off
status). A broken file fails here, never in the app."""
from __future__ import annotations

from pathlib import Path

import pytest

from rph_pwa.selfhelp import content
from rph_pwa.selfhelp.worksheets import SELFHELP_PLAN, WORKSHEETS

REQUIRED = ("angst-og-bekymring", "nedstemthet", "sovn", "stress", "rusvaner")
PROGRAMMES = content.load_all()
MODULES = [m for p in PROGRAMMES.values() for m in p.modules if m.programme != content.SHARED]
SHARED = content.load_all()[REQUIRED[0]].modules[-1] if REQUIRED[0] in PROGRAMMES else None


def test_the_required_programmes_are_there():
    assert set(REQUIRED) <= set(PROGRAMMES)


@pytest.mark.parametrize("slug", REQUIRED)
def test_each_programme_has_four_modules_and_ends_with_the_self_help_plan(slug):
    programme = PROGRAMMES[slug]
    own = [m for m in programme.modules if m.programme == slug]
    assert len(own) >= 4
    assert [m.order for m in own] == sorted(m.order for m in own)
    closing = programme.modules[-1]
    assert closing.programme == content.SHARED and closing.worksheet == SELFHELP_PLAN
    assert programme.title and programme.for_whom and programme.weeks >= len(own)


@pytest.mark.parametrize("module", MODULES + ([SHARED] if SHARED else []), ids=lambda m: f"{m.programme}/{m.key}")
def test_module_meets_the_content_rules(module):
    assert module.exercise and module.worksheet in WORKSHEETS
    assert module.status in content.STATUSES
    count = len(content.words(module.source))
    assert 300 <= count <= 900, f"{count} words"
    readability = content.lix(module.source)
    assert readability <= 40, f"LIX {readability:.1f}"
    assert "<script" not in module.html[content.BASE_LANGUAGE]


def test_sleep_window_module_says_when_sleep_restriction_is_not_for_you():
    text = " ".join(m.source.lower() for m in PROGRAMMES["sovn"].modules)
    for word in ("bipolar", "epilepsi", "søvnapné", "gravid", "bil"):
        assert word in text, word
    assert "terapeut" in text


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


GOOD = ("---\ntitle: En modul\nminutes: 5\nexercise: Gjør dette.\nworksheet: weekly_goal\nstatus: draft\n---\n"
        "Tekst her.\n")


def _programme(root: Path, module_text: str = GOOD) -> None:
    _write(root / "test", "programme.yml", "title: Test\nfor_whom: Alle\nweeks: 4\n")
    _write(root / "test", "01-en-modul.md", module_text)


def test_a_good_programme_loads(tmp_path):
    _programme(tmp_path)
    programme = content.load_all(tmp_path)["test"]
    assert programme.modules[0].key == "01-en-modul" and programme.modules[0].is_draft


@pytest.mark.parametrize("broken", [
    "title: En modul\n---\nTekst.\n",                                     # no opening line
    "---\ntitle: [unclosed\n---\nTekst.\n",                                # not YAML
    GOOD.replace("worksheet: weekly_goal", "worksheet: diary"),             # unknown worksheet
    GOOD.replace("exercise: Gjør dette.\n", ""),                           # no exercise
    GOOD.replace("status: draft", "status: done"),                          # unknown status
    GOOD.replace("status: draft", "status: reviewed"),                      # reviewed without who/when
    GOOD.replace("minutes: 5", "minutes: fem"),                             # minutes not a number
    GOOD.replace("Tekst her.\n", ""),                                      # no text
])
def test_a_broken_module_fails_loading(tmp_path, broken):
    _programme(tmp_path, broken)
    with pytest.raises(content.ContentError):
        content.load_all(tmp_path)


def test_a_reviewed_module_names_who_and_when(tmp_path):
    signed = "status: reviewed\nreviewed_by: Kari Lege\nreviewed_on: 2026-11-30"
    _programme(tmp_path, GOOD.replace("status: draft", signed))
    module = content.load_all(tmp_path)["test"].modules[0]
    assert not module.is_draft and module.review.by == "Kari Lege" and str(module.review.on) == "2026-11-30"


def test_html_in_a_module_is_never_passed_through(tmp_path):
    _programme(tmp_path, GOOD.replace("Tekst her.", '<script>alert(1)</script> [lenke](javascript:alert(1)) '
                                                   '<img src=x onerror=alert(1)>'))
    html = content.load_all(tmp_path)["test"].modules[0].html["nb"]
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html


def test_a_translation_is_used_for_its_language_and_bokmal_otherwise(tmp_path):
    _programme(tmp_path)
    _write(tmp_path / "test", "01-en-modul.en.md", GOOD.replace("En modul", "A module").replace("Tekst her.", "Text."))
    module = content.load_all(tmp_path)["test"].modules[0]
    assert content.localized(module.titles, "en") == "A module"
    assert content.localized(module.titles, "nn") == "En modul"
    assert "Text." in content.localized(module.html, "en")


def test_lix_of_known_texts():
    assert content.lix("Jeg går. Du går.") == pytest.approx(2.0)
    # 4 words, 1 sentence, 3 long words (over six letters): 4 + 75
    assert content.lix("Søvnrestriksjon hjelper ofte mennesker.") == pytest.approx(4 + 75)
    # a heading without a full stop is a sentence of its own
    assert content.lix("# Om søvn\n\nDu sover.") == pytest.approx(4 / 2)
