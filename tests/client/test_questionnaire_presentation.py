"""How questionnaires and referral fields are presented to a resident (issue 9): WSAS end labels,
contact field autocomplete and input modes, errors that name their question, the municipality
placeholder, where to turn without a team, AUDIT-C "never", the functioning question only with
problems, no citation on resident pages, and the substance questions (why we ask, "I would rather
talk about it", off unless turned on, sex-specific AUDIT-C cut-offs)."""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import select

from rph_pwa.models import MeasureResponse, Referral
from tests.client.referral_helpers import instrument_answers, post_step, send_with_new_account
from tests.factories import email, make_municipality, make_team

PHQ9, GAD7, WSAS, AUDITC, DUDITC, CONTACT = 4, 5, 6, 7, 8, 9


def _start(db, client, **eligibility):
    team = make_team(db)
    db.commit()
    data = {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no", **eligibility}
    assert post_step(client, 1, data).status_code == 302
    assert post_step(client, 2, {"problems": ["sleep"], "duration": "gt_1y", "goals": "Sove"}).status_code == 302
    assert post_step(client, 3, {"work_status": "working", "sick_leave": "none",
                                 "return_to_work": "not_relevant"}).status_code == 302
    return team


def _tag(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*\bname="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def _summary(html: str) -> list[str]:
    block = re.search(r'id="error-summary".*?</ul>', html, re.S)
    assert block, "no error summary"
    return [re.sub(r"\s+", " ", e).strip() for e in re.findall(r"<li><a [^>]*>(.*?)</a></li>", block.group(0), re.S)]


@contextmanager
def _setting(app, name, value):
    old = app.config[name]
    app.config[name] = value
    try:
        yield
    finally:
        app.config[name] = old


def _referral(db, team) -> Referral:
    db.commit()
    return db.scalars(select(Referral).where(Referral.team_id == team.id)).one()


def _responses(db, referral) -> dict[str, MeasureResponse]:
    return {r.instrument_code: r for r in db.scalars(select(MeasureResponse)
                                                     .where(MeasureResponse.referral_id == referral.id))}


# --- WSAS -------------------------------------------------------------------------------------

def test_wsas_shows_the_printed_end_labels_with_every_item_as_a_compact_scale(db, client):
    _start(db, client)
    html = client.get(f"/referral/step/{WSAS}").get_data(as_text=True)
    groups = re.findall(r'<fieldset class="field choice-group scale-group".*?</fieldset>', html, re.S)
    assert len(groups) == 5
    for group in groups:
        assert "0 = ikke svekket i det hele tatt" in group and "8 = svært alvorlig svekket" in group
        assert len(re.findall(r'<input[^>]*type="radio"', group)) == 9 and "<legend>" in group
        ends = re.search(r'<p class="scale-ends" id="([^"]+)"', group).group(1)
        assert f'aria-describedby="{ends}"' in group  # the end labels are read with the item
    assert "Min evne til å arbeide eller studere." in html  # validated wording kept


# --- Contact fields, errors, municipality, unserved ---------------------------------------------

def test_contact_fields_have_autocomplete_and_the_phone_opens_the_phone_keyboard(db, client):
    _start(db, client)
    html = client.get(f"/referral/step/{CONTACT}").get_data(as_text=True)
    name, phone, mail = _tag(html, "name"), _tag(html, "phone"), _tag(html, "email")
    assert 'autocomplete="name"' in name
    assert 'type="tel"' in phone and 'autocomplete="tel"' in phone and 'inputmode="tel"' in phone
    assert 'type="email"' in mail and 'autocomplete="email"' in mail and 'inputmode="email"' in mail


def test_each_contact_error_names_its_question(db, client):
    _start(db, client)
    response = post_step(client, CONTACT, {})
    assert response.status_code == 400
    errors = _summary(response.get_data(as_text=True))
    assert len(errors) == len(set(errors)) >= 6, errors  # no "Choose yes or no." four times
    assert "Velg ja eller nei." not in errors and "Choose yes or no." not in errors


def test_instrument_errors_name_the_question(db, client):
    _start(db, client)
    response = post_step(client, PHQ9, instrument_answers("PHQ-9", 1, {"item3": "", "item7": ""}))
    assert response.status_code == 400
    errors = _summary(response.get_data(as_text=True))
    assert len(errors) == 2 and len(set(errors)) == 2 and all(re.search(r"\b[37]\b", e) for e in errors), errors


def test_the_age_error_reads_naturally(db, client):
    team = make_team(db)
    db.commit()
    for age in ("tretti", "", "200"):
        response = post_step(client, 1, {"age": age, "municipality": team.municipalities[0].id, "crisis": "no"})
        assert response.status_code == 400
        errors = _summary(response.get_data(as_text=True))
        # Not WTForms' "Not a valid integer value", nor "your age in years" ("alderen din i år").
        assert errors and not any(w in e for e in errors for w in ("integer", "i år", "in years")), errors


def test_the_municipality_picker_preselects_nothing_and_is_required(db, client):
    make_team(db)
    db.commit()
    html = client.get("/referral/step/1").get_data(as_text=True)
    select_tag = re.search(r'<select[^>]*name="municipality".*?</select>', html, re.S).group(0)
    first = re.search(r"<option[^>]*>", select_tag).group(0)
    assert 'value=""' in first and "required" in _tag(html, "municipality")
    assert re.findall(r"<option[^>]*selected[^>]*>", select_tag) in ([], [first])  # only the placeholder
    response = post_step(client, 1, {"age": 30, "municipality": "", "crisis": "no"})
    assert response.status_code == 400 and _summary(response.get_data(as_text=True))


def test_no_team_yet_says_where_to_turn_instead(db, client):
    lonely = make_municipality(db, name="Utenteam")
    db.commit()
    html = post_step(client, 1, {"age": 40, "municipality": lonely.id, "crisis": "no"}).get_data(as_text=True)
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    assert "Utenteam" in main
    assert 'href="tel:116117"' in main  # legevakt, one tap, on the page itself (not only the header)
    assert "fastlege" in main and re.search(r"helsetjeneste|health service", main, re.I)


# --- AUDIT-C "never", the functioning question, no citation for residents --------------------------

def test_a_person_who_never_drinks_answers_question_1_only_and_scores_0(db, client, mailbox):
    team = _start(db, client)
    for number, code in ((PHQ9, "PHQ-9"), (GAD7, "GAD-7"), (WSAS, "WSAS")):
        assert post_step(client, number, instrument_answers(code, 1)).status_code == 302
    response = post_step(client, AUDITC, {"item1": "0"})
    assert response.status_code == 302, _summary(response.get_data(as_text=True))
    assert post_step(client, DUDITC, instrument_answers("DUDIT-C", 0)).status_code == 302
    address = email()
    assert post_step(client, CONTACT, _contact(address)).status_code == 302
    send_with_new_account(client, mailbox, address)
    auditc = _responses(db, _referral(db, team))["AUDIT-C"]
    assert auditc.answers == [0, 0, 0] and auditc.total == 0 and auditc.band == "low"


def test_a_drinker_still_answers_every_auditc_question(db, client):
    _start(db, client)
    response = post_step(client, AUDITC, {"item1": "2"})
    assert response.status_code == 400 and len(_summary(response.get_data(as_text=True))) == 2


def test_the_functioning_question_is_not_needed_without_problems(db, client):
    _start(db, client)
    html = client.get(f"/referral/step/{PHQ9}").get_data(as_text=True)
    assert 'data-functioning="true"' in html
    none = instrument_answers("PHQ-9", 0)
    del none["functioning"]
    assert post_step(client, PHQ9, none).status_code == 302
    some = instrument_answers("PHQ-9", 1)
    del some["functioning"]
    response = post_step(client, PHQ9, some)
    assert response.status_code == 400 and len(_summary(response.get_data(as_text=True))) == 1


def test_the_citation_and_scoring_guide_are_not_on_resident_pages(db, client):
    _start(db, client)
    for number in (PHQ9, GAD7, WSAS):
        html = client.get(f"/referral/step/{number}").get_data(as_text=True)
        assert "skåringsveiledning" not in html and "Spitzer" not in html and "Mundt" not in html
        assert "attribution" not in html


# --- Substance questions ------------------------------------------------------------------------

def test_substance_steps_say_why_we_ask_and_offer_rather_talk(db, client, mailbox):
    team = _start(db, client)
    for number, code in ((PHQ9, "PHQ-9"), (GAD7, "GAD-7"), (WSAS, "WSAS")):
        assert post_step(client, number, instrument_answers(code, 1)).status_code == 302
    html = client.get(f"/referral/step/{AUDITC}").get_data(as_text=True)
    assert 'class="why-we-ask"' in html and 'name="declined"' in html
    assert post_step(client, AUDITC, {"declined": "y"}).status_code == 302
    assert post_step(client, DUDITC, {"declined": "y"}).status_code == 302
    address = email()
    assert post_step(client, CONTACT, _contact(address)).status_code == 302
    send_with_new_account(client, mailbox, address)
    referral = _referral(db, team)
    assert set(_responses(db, referral)) == {"PHQ-9", "GAD-7", "WSAS"}  # not scored
    assert referral.answers["questionnaires_declined"] == {"AUDIT-C": "would_rather_talk",
                                                                     "DUDIT-C": "would_rather_talk"}
    for number in (PHQ9, GAD7, WSAS):  # the validated instruments offer no way round
        assert 'name="declined"' not in client.get(f"/referral/step/{number}").get_data(as_text=True)



def test_staff_see_rather_talk_and_unverified_wording(app, db, client, mailbox, actions):
    team = _start(db, client)
    for number, code in ((PHQ9, "PHQ-9"), (GAD7, "GAD-7"), (WSAS, "WSAS")):
        assert post_step(client, number, instrument_answers(code, 1)).status_code == 302
    assert post_step(client, AUDITC, instrument_answers("AUDIT-C", 1)).status_code == 302
    assert post_step(client, DUDITC, {"declined": "y"}).status_code == 302
    address = email()
    assert post_step(client, CONTACT, _contact(address)).status_code == 302
    send_with_new_account(client, mailbox, address)
    referral = _referral(db, team)
    staff_client = app.test_client()
    type(actions)(staff_client, mailbox).login_staff(db, team)
    page = staff_client.get(f"/therapist/referrals/{referral.id}").get_data(as_text=True)
    rows = {re.sub(r"<[^>]+>|\s+", " ", row).strip()
            for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", page, re.S)}
    auditc = next(r for r in rows if r.startswith("AUDIT-C"))
    dudit = next(r for r in rows if r.startswith("DUDIT-C"))
    assert "Wording not verified" in auditc and "Wording not verified" in dudit
    assert "Would rather talk about it" in dudit
    assert not any(r.startswith("PHQ-9") and "not verified" in r for r in rows)
    assert "skåringsveiledning" in page or "Spitzer" in page  # the citation is for staff
    queue = staff_client.get("/therapist/triage").get_data(as_text=True)
    assert re.search(r"AUDIT-C: \d+ \([^)]*\) <span class=\"badge\">Wording not verified", queue)


def test_unverified_instruments_are_off_by_default_and_never_required(app, db, client, mailbox):
    with _setting(app, "UNVERIFIED_INSTRUMENTS", []):
        team = _start(db, client)
        for number, code in ((PHQ9, "PHQ-9"), (GAD7, "GAD-7"), (WSAS, "WSAS")):
            assert post_step(client, number, instrument_answers(code, 1)).status_code == 302
        html = client.get("/referral/step/7").get_data(as_text=True)
        assert 'name="phone"' in html and "AUDIT" not in html  # the contact step follows WSAS
        assert client.get("/referral/step/8").status_code == 404
        address = email()
        assert post_step(client, 7, _contact(address)).status_code == 302
        send_with_new_account(client, mailbox, address)
        assert set(_responses(db, _referral(db, team))) == {"PHQ-9", "GAD-7", "WSAS"}


def test_auditc_band_uses_the_referrals_gender_and_the_configured_cut_offs(app, db, client, mailbox):
    with _setting(app, "AUDITC_CUTOFF_WOMEN", 3), _setting(app, "AUDITC_CUTOFF_MEN", 4):
        bands = {}
        for gender in ("woman", "man", "unspecified"):
            other = app.test_client()
            team = _start(db, other)
            for number, code in ((PHQ9, "PHQ-9"), (GAD7, "GAD-7"), (WSAS, "WSAS")):
                assert post_step(other, number, instrument_answers(code, 1)).status_code == 302
            assert post_step(other, AUDITC, {"item1": "1", "item2": "0", "item3": "2"}).status_code == 302  # 3
            assert post_step(other, DUDITC, instrument_answers("DUDIT-C", 0)).status_code == 302
            address = email()
            assert post_step(other, CONTACT, {**_contact(address), "gender": gender}).status_code == 302
            send_with_new_account(other, mailbox, address)
            bands[gender] = _responses(db, _referral(db, team))["AUDIT-C"].band
    assert bands == {"woman": "elevated", "man": "low", "unspecified": "elevated"}


def _contact(address: str) -> dict:
    return {"name": "Test Person", "phone": "412 34 567", "email": address, "contact_times": "",
            "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality": "0", "gp_consent": "no",
            "gp_name": "", "interpreter": "no", "language_needs": "", "gender": "woman"}
