"""Phone numbers go through one validator (`phonenumbers`): every phone field refuses what is not a
number in use, explains why, and stores one form of each number; the safety plan's helplines stay."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from rph_pwa.models import OnwardService, User
from rph_pwa.services.phones import PhoneNumberError, normalise_phone, parse_phone
from tests.client.referral_helpers import post_step
from tests.conftest import post_form, random_address, refresh
from tests.factories import email, make_resident, make_team

NOT_IN_USE = "not a phone number in use"
COUNTRY_CODE = "country code straight after +"


@pytest.fixture(autouse=True)
def english(client):
    """English interface text, and an address of its own for the per-address rate limits."""
    client.set_cookie("lang", "en")
    client.environ_base["REMOTE_ADDR"] = random_address()


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- The rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("412 34 567", "412 34 567"), ("41234567", "412 34 567"), ("+47 412 34 567", "412 34 567"),
    ("0047 41234567", "412 34 567"), ("+4741234567", "412 34 567"), ("412-34-567", "412 34 567"),
    (" (+47) 412 34 567 ", "412 34 567"), ("22400040", "22 40 00 40"), ("+47 22 40 00 40", "22 40 00 40"),
    ("800 33 321", "800 33 321"), ("+46 70 123 45 67", "+46701234567"), ("0046 70 123 45 67", "+46701234567"),
    ("+1 202 555 0143", "+12025550143"),
])
def test_one_number_has_one_stored_form(typed, stored):
    assert normalise_phone(typed) == stored
    assert normalise_phone(stored) == stored  # idempotent


@pytest.mark.parametrize(("typed", "reason"), [
    ("123", "invalid"), ("12", "invalid"), ("1234567", "invalid"), ("12345678", "invalid"),
    ("412345678", "invalid"), ("+47 1234", "invalid"), ("+46 1", "invalid"), ("00", "invalid"),
    ("+0047 41234567", "country_code"), ("+0046 70 123 45 67", "country_code"),
    ("412 34 56x", "characters"), ("ring meg", "characters"), ("41234567 ext 2", "characters"),
    ("４１２３４５６７", "characters"), ("+", "characters"), ("4" * 41, "characters"), ("   ", "empty"),
])
def test_what_is_not_a_number_in_use_is_refused_with_a_reason(typed, reason):
    with pytest.raises(PhoneNumberError) as refused:
        normalise_phone(typed)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("typed", "stored", "href"), [
    ("113", "113", "113"), ("116117", "116 117", "116117"), ("116 123", "116 123", "116123"),
    ("116 111", "116 111", "116111"), ("22 40 00 40", "22 40 00 40", "+4722400040"), ("110", "110", "110"),
    ("112", "112", "112"),
])
def test_service_numbers_are_valid_only_where_a_field_asks_for_them(typed, stored, href):
    number = parse_phone(typed, service_numbers=True)
    assert (number.display, number.e164) == (stored, href)
    if len(typed.replace(" ", "")) < 8:
        with pytest.raises(PhoneNumberError):
            normalise_phone(typed)


@pytest.mark.parametrize("typed", ["123", "+47 113", "0047 113", "+0047 41234567", "11"])
def test_a_friends_number_is_not_a_service_number(typed):
    with pytest.raises(PhoneNumberError):
        normalise_phone(typed, service_numbers=True)


# --- Every phone field -------------------------------------------------------------------------

def _contact_step(phone: str) -> dict:
    return {"name": "Kari Nordmann", "phone": phone, "email": "", "contact_times": "", "voicemail_ok": "no",
            "sms_ok": "yes", "meeting_municipality": "0", "gp_consent": "no", "gp_name": "",
            "interpreter": "no", "language_needs": "", "gender": "woman"}


def _start_referral(db, client) -> None:
    municipality = make_team(db).municipalities[0]
    db.commit()
    assert post_step(client, 1, {"age": "34", "municipality": municipality.id, "crisis": "no"}).status_code == 302


def _draft_contact(db, client) -> dict:
    from rph_pwa.pending_referral import DRAFT_SESSION_KEY
    from rph_pwa.services.referral_drafts import draft_data, load_draft

    with client.session_transaction() as browser_session:
        key = browser_session[DRAFT_SESSION_KEY]
    refresh(db)
    return draft_data(load_draft(db, key))["contact"]


@pytest.mark.parametrize(("typed", "message"), [("123", NOT_IN_USE), ("+0047 41234567", COUNTRY_CODE),
                                                ("113", NOT_IN_USE), ("12345678", NOT_IN_USE)])
def test_referral_contact_step_refuses_what_is_not_a_number_and_keeps_it(db, client, typed, message):
    _start_referral(db, client)
    response = post_step(client, 9, _contact_step(typed))
    page = _page(response)
    assert response.status_code == 400 and message in page and f'value="{typed}"' in page


@pytest.mark.parametrize(("typed", "stored"), [("412 34 567", "412 34 567"), ("+47 412 34 567", "412 34 567"),
                                               ("0047 41234567", "412 34 567"),
                                               ("+46 70 123 45 67", "+46701234567")])
def test_referral_contact_step_stores_one_form(db, client, typed, stored):
    _start_referral(db, client)
    assert post_step(client, 9, _contact_step(typed)).status_code == 302
    assert _draft_contact(db, client)["phone"] == stored


def _resident(db, actions, team=None):
    address = email()
    resident = make_resident(db, team=team or make_team(db), email=address)
    db.commit()
    actions.resident_login(address)
    return resident


@pytest.mark.parametrize(("typed", "message"), [("123", NOT_IN_USE), ("+0047 41234567", COUNTRY_CODE)])
def test_safety_plan_refuses_a_friends_number_like_123(db, actions, client, typed, message):
    _resident(db, actions)
    response = post_form(client, "/me/safety-plan/edit", {"people_to_ask-0-name": "Venn",
                                                       "people_to_ask-0-phone": typed})
    page = _page(response)
    assert response.status_code == 400 and message in page and f'value="{typed}"' in page


def test_safety_plan_keeps_the_helplines_and_stores_one_form(db, actions, client):
    from rph_pwa.services.safety_plans import current_plan

    resident = _resident(db, actions)
    rows = [("Mamma", "+47 412 34 567"), ("Bror", "0047 41234568"), ("Søster i Sverige", "+46 70 123 45 67")]
    helplines = [("Medisinsk nødhjelp", "113"), ("Legevakt", "116117"), ("Mental Helse", "116 123"),
                 ("Kirkens SOS", "22400040"), ("Alarmtelefonen for barn og unge", "116 111")]
    data = {}
    for part, contacts in (("people_to_ask", rows), ("professionals", helplines)):
        for i, (name, phone) in enumerate(contacts):
            data[f"{part}-{i}-name"], data[f"{part}-{i}-phone"] = name, phone
    response = post_form(client, "/me/safety-plan/edit", data)
    assert response.status_code == 302, _page(response)
    refresh(db)
    plan = current_plan(db, resident=db.get(User, resident.id)).content
    assert [p for _n, p in plan.people_to_ask] == ["412 34 567", "412 34 568", "+46701234567"]
    assert [p for _n, p in plan.professionals] == ["113", "116 117", "116 123", "22 40 00 40", "116 111"]
    page = _page(client.get("/me/safety-plan"))
    for href in ("tel:+4741234567", "tel:+46701234567", "tel:113", "tel:116111", "tel:+4722400040"):
        assert f'href="{href}"' in page


@pytest.mark.parametrize(("typed", "stored"), [("123", None), ("+0047 22 33 44 55", None), ("12 34 56 78", None),
                                               ("116 123", "116 123"), ("0047 22334455", "22 33 44 55"),
                                               ("+47 800 33 321", "800 33 321")])
def test_onward_directory_phone(db, actions, client, typed, stored):
    team = make_team(db)
    actions.login_staff(db, team)
    response = post_form(client, "/therapist/directory", {"team": str(team.id), "name": "Tjenesten", "description": "",
                                                      "phone": typed, "url": ""}, prefix="service")
    refresh(db)
    phones = db.scalars(select(OnwardService.phone).where(OnwardService.team_id == team.id)).all()
    if stored is None:
        assert response.status_code == 400
        assert NOT_IN_USE in _page(response) or COUNTRY_CODE in _page(response)
        assert phones == []
    else:
        assert response.status_code == 302 and phones == [stored]


@pytest.mark.parametrize(("typed", "stored"), [("123", None), ("+0047 41234567", None), ("113", None),
                                               ("+47 412 34 567", "412 34 567"), ("+46 70 123 45 67", "+46701234567")])
def test_profile_phone(db, actions, client, typed, stored):
    resident = _resident(db, actions)
    response = post_form(client, "/me/profile", {"display_name": "Kari", "phone": typed, "contact_note": ""})
    refresh(db)
    if stored is None:
        assert response.status_code == 400
        assert NOT_IN_USE in _page(response) or COUNTRY_CODE in _page(response)
        assert db.get(User, resident.id).phone is None
    else:
        assert response.status_code == 302 and db.get(User, resident.id).phone == stored
