"""AUDIT rules: a person who never drinks answers question 1 only and scores 0; AUDIT-C cut-offs
are sex-specific and configurable; WSAS shows the scale's printed end labels."""
from __future__ import annotations

import pytest

from rph_pwa.measures import get, score
from rph_pwa.measures.instruments.auditc import bands_for, cutoff_for
from rph_pwa.measures.registry import asked


def test_never_drinking_scores_zero_without_the_later_items():
    result = score("AUDIT-C", [0, None, None])
    assert (result.total, result.band, result.answers) == (0, "low", (0, 0, 0))


def test_never_drinking_scores_the_later_items_zero_whatever_was_sent():
    assert score("AUDIT-C", [0, 4, 4]).total == 0


def test_a_drinker_must_answer_every_item():
    with pytest.raises(ValueError, match="item2"):
        score("AUDIT-C", [1, None, 2])
    assert score("AUDIT-C", [1, 2, 3]).total == 6


def test_only_auditc_question_1_gates():
    auditc = get("AUDIT-C")
    assert auditc.gated_items({"item1": 0}) == ("item2", "item3")
    assert auditc.gated_items({"item1": 1}) == ()
    assert get("PHQ-9").gated_items({"item1": 0}) == ()
    with pytest.raises(ValueError):
        score("PHQ-9", [0, None, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(("gender", "cutoff"), [("woman", 3), ("man", 4), ("other", 3), ("unspecified", 3),
                                                (None, 3)])
def test_auditc_cutoff_by_sex_unknown_gets_the_lower(gender, cutoff):
    assert cutoff_for(gender) == cutoff
    assert score("AUDIT-C", [1, 0, cutoff - 2], bands=bands_for(gender)).band == "low"
    assert score("AUDIT-C", [1, 0, cutoff - 1], bands=bands_for(gender)).band == "elevated"


def test_auditc_cutoffs_are_configurable():
    assert cutoff_for("woman", women=5, men=6) == 5
    assert cutoff_for("man", women=5, men=6) == 6
    assert cutoff_for(None, women=7, men=6) == 6
    assert score("AUDIT-C", [1, 1, 2], bands=bands_for("man", women=5, men=6)).band == "low"


REFERRAL = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")


def test_unverified_instruments_are_off_unless_turned_on():
    assert not get("AUDIT-C").verified_wording and not get("DUDIT-C").verified_wording
    assert asked(REFERRAL) == asked(REFERRAL, []) == ("PHQ-9", "GAD-7", "WSAS")
    assert asked(REFERRAL, ["AUDIT-C"]) == ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C")
    assert asked(REFERRAL, ["AUDIT-C", "DUDIT-C"]) == REFERRAL


def test_only_unverified_substance_instruments_offer_rather_talk():
    assert get("AUDIT-C").allow_decline and get("DUDIT-C").allow_decline
    assert not any(get(code).allow_decline for code in ("PHQ-9", "GAD-7", "WSAS"))


def test_wsas_end_labels_are_the_handbooks(appendices):
    wsas = get("WSAS")
    assert [label["nb"] for label in wsas.end_labels] == ["0 = ikke svekket i det hele tatt",
                                                         "8 = svært alvorlig svekket"]
    instructions = " ".join(wsas.instructions["nb"].split())
    assert "0 betyr at du ikke anser deg svekket i det hele tatt" in instructions
    assert "8 betyr at du anser deg svært alvorlig svekket" in instructions
    assert instructions in appendices["WSAS"]
