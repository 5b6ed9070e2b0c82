"""Control characters are refused once for every form (a field error, what was typed kept, never a
500 — PostgreSQL cannot store NUL), a NUL anywhere else in a request is a clear 400 before any
view runs, and names lose bidi overrides and zero-width characters."""
from __future__ import annotations

import html
import json
import uuid

import pytest
from sqlalchemy import func, select

from rph_pwa.models import OnwardService, Passkey, Referral, Role, SafetyPlan, SafetyPlanVersion, User
from rph_pwa.services.accounts import create_staff
from rph_pwa.services.text_input import clean_name, has_control_characters
from tests.client.referral_helpers import post_step
from tests.conftest import form_token, post_form, random_address, refresh
from tests.factories import PASSWORD, email, make_referral, make_resident, make_team, unique

CONTROL_ERROR = "invisible control character"
NUL_PAGE = "invisible control character (NUL)"
CONTROLS = ["\x00", "\x1b", "\x7f", "\x85"]


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English interface text, each from an address of its own (so the
    per-address rate limits of the referral and sign-in are not shared with other test files)."""
    client.set_cookie("lang", "en")
    client.environ_base["REMOTE_ADDR"] = random_address()


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _resident(db, actions, team=None):
    address = email()
    resident = make_resident(db, team=team or make_team(db), email=address)
    resident.locale = "en"
    db.commit()
    actions.resident_login(address)
    return resident


def _draft(db, client) -> dict:
    """The answers of the draft this browser holds, as stored."""
    from rph_pwa.pending_referral import DRAFT_SESSION_KEY
    from rph_pwa.services.referral_drafts import draft_data, load_draft

    with client.session_transaction() as browser_session:
        key = browser_session[DRAFT_SESSION_KEY]
    refresh(db)
    return draft_data(load_draft(db, key))


# --- The rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "multiline", "refused"), [
    ("Kari", False, False), ("Kari Nordmann", False, False), ("Æøå ü ñ 日本", False, False),
    ("a\x00b", False, True), ("a\x1bb", False, True), ("a\x7fb", False, True), ("a\x85b", False, True),
    ("a\x9fb", False, True), ("a\tb", False, True), ("a\nb", False, True),
    ("a\tb\nc\r\nd", True, False), ("a\x00b", True, True), ("a\x1bb", True, True), ("a\x0bb", True, True),
])
def test_which_characters_are_control_characters(text, multiline, refused):
    assert has_control_characters(text, multiline=multiline) is refused


# --- Forms: a field error, what was typed kept, no 500 (SQLite and PostgreSQL) ------------------

@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field", ["username", "password"])
def test_staff_login_refuses_control_characters_with_a_field_error(client, char, field):
    data = {"username": "ad" + "min", "password": PASSWORD, field: f"ad{char}min"}
    response = post_form(client, "/staff/login", data)
    page = _page(response)
    assert response.status_code == 400
    assert CONTROL_ERROR in page and 'id="error-summary"' in page
    assert 'value="ad\ufffdmin"' in page if field == "username" else 'value="admin"' in page


@pytest.mark.parametrize("char", CONTROLS)
def test_email_code_request_refuses_control_characters(client, mailbox, char):
    address = f"{unique('kari')}{char}@example.no"
    response = post_form(client, "/login/code", {"email": address})
    assert response.status_code == 400
    assert CONTROL_ERROR in _page(response)
    assert not [m for m in mailbox.messages if "kari" in str(m["To"]) and char in str(m["To"])]


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field", ["name", "description", "phone", "url"])
def test_onward_directory_refuses_control_characters_and_stores_nothing(db, actions, client, char, field):
    team = make_team(db)
    actions.login_staff(db, team)
    data = {"team": str(team.id), "name": "Frisklivssentralen", "description": "Trening i gruppe",
            "phone": "22 33 44 55", "url": "https://frisklivssentralen.example.no"}
    data[field] = data[field][:4] + char + data[field][4:]
    response = post_form(client, "/therapist/directory", data, prefix="service")
    page = _page(response)
    assert response.status_code == 400
    assert CONTROL_ERROR in page
    kept = data[field][:4] + "\ufffd" + data[field][5:]
    assert kept in page
    refresh(db)
    assert db.scalar(select(func.count()).select_from(OnwardService).where(OnwardService.team_id == team.id)) == 0


@pytest.mark.parametrize("char", CONTROLS)
def test_assessment_booking_refuses_a_control_character_in_the_place(db, actions, client, char):
    team = make_team(db)
    referral = make_referral(db, team=team)
    actions.login_staff(db, team)
    url = f"/therapist/referrals/{referral.id}"
    response = post_form(client, f"{url}/assessment", {"day": "2030-06-03", "time": "10:00", "mode": "office",
                                                   "place": f"Rom{char}12"}, page=url, prefix="book")
    page = _page(response)
    assert response.status_code == 400
    assert CONTROL_ERROR in page and "Rom\ufffd12" in page
    refresh(db)
    assert db.get(Referral, referral.id).status == "new"


@pytest.mark.parametrize("char", CONTROLS)
def test_referral_steps_refuse_control_characters_and_keep_what_was_typed(db, client, char):
    municipality = make_team(db).municipalities[0]
    db.commit()
    first = post_step(client, 1, {"age": f"3{char}4", "municipality": municipality.id, "crisis": "no"})
    assert first.status_code == 400 and CONTROL_ERROR in _page(first)
    assert post_step(client, 1, {"age": "34", "municipality": municipality.id, "crisis": "no"}).status_code == 302
    troubles = {"problems": ["sleep"], "own_words": f"Jeg sover{char} dårlig.", "duration": "3_12m",
                "goals": "Sove bedre.", "earlier_help": ""}
    second = post_step(client, 2, troubles)
    page = _page(second)
    assert second.status_code == 400 and CONTROL_ERROR in page
    assert "Jeg sover\ufffd dårlig." in page and "Sove bedre." in page
    # Multi-line text keeps its line breaks and tabs.
    troubles["own_words"] = "Jeg sover dårlig.\r\n\tOg bekymrer meg."
    assert post_step(client, 2, troubles).status_code == 302


@pytest.mark.parametrize("char", CONTROLS)
def test_referral_contact_step_refuses_control_characters(db, client, char):
    municipality = make_team(db).municipalities[0]
    db.commit()
    assert post_step(client, 1, {"age": "34", "municipality": municipality.id, "crisis": "no"}).status_code == 302
    response = post_step(client, 9, {"name": f"Kari{char} Nordmann", "phone": "412 34 567", "email": "",
                                     "contact_times": "", "voicemail_ok": "no", "sms_ok": "yes",
                                     "meeting_municipality": "0", "gp_consent": "no", "gp_name": "",
                                     "interpreter": "no", "language_needs": "", "gender": "woman"})
    page = _page(response)
    assert response.status_code == 400 and CONTROL_ERROR in page and "Kari\ufffd Nordmann" in page


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field", ["people_to_ask-0-name", "people_to_ask-0-phone", "warning_signs"])
def test_safety_plan_refuses_control_characters_and_saves_nothing(db, actions, client, char, field):
    resident = _resident(db, actions)
    data = {"warning_signs": "Jeg trekker meg unna.\r\nJeg sover lite.", "people_to_ask-0-name": "Kari",
            "people_to_ask-0-phone": "412 34 567"}
    data[field] = data[field][:2] + char + data[field][2:]
    response = post_form(client, "/me/safety-plan/edit", data)
    page = _page(response)
    assert response.status_code == 400
    kept = (data[field][:2] + "\ufffd" + data[field][3:]).split("\r\n")[0]
    assert CONTROL_ERROR in page and kept in page
    refresh(db)
    assert db.scalar(select(func.count(SafetyPlanVersion.id)).join(SafetyPlan)
                     .where(SafetyPlan.resident_id == resident.id)) == 0


# --- The last line of defence: NUL outside a form ----------------------------------------------

@pytest.mark.parametrize("url", ["/find-team?municipality=%00", "/find-team?x%00=1", "/therapist/triage?before=1%00",
                                 "/%00", "/referral/step/1%00", "/hjelp/%00"])
def test_nul_in_the_url_is_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert NUL_PAGE in _page(response)


def test_nul_in_a_form_field_name_is_a_clear_400(client):
    token = form_token(client, "/login/code")
    response = client.post("/login/code", data={"csrf_token": token, "email": "kari@example.no", "x\x00": "1"})
    assert response.status_code == 400 and NUL_PAGE in _page(response)


@pytest.mark.parametrize("body", [b'{"name": "Tele\\u0000fon", "credential": {}}',
                                  b'{"name": "Tele\x00fon", "credential": {}}'])
def test_nul_in_a_passkey_json_body_is_a_json_400(client, body):
    token = form_token(client, "/login/code")
    response = client.post("/auth/passkey/register/verify", data=body, headers={"X-CSRFToken": token},
                           content_type="application/json")
    assert response.status_code == 400
    assert NUL_PAGE in response.get_json()["error"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client):
    token = form_token(client, "/login/code")
    response = client.post("/auth/passkey/register/verify", data=b'{"name": "C:\\\\u0000", "credential": {}}',
                           headers={"X-CSRFToken": token}, content_type="application/json")
    assert response.status_code == 400
    assert NUL_PAGE not in response.get_json()["error"]  # the ceremony's own answer, not the NUL guard


# --- Names: no bidi overrides or zero-width characters -----------------------------------------

SPOOFED = "\u202e\u200bKari\u200d \u2066Nordmann\u2069\ufeff\u2060 "


def test_clean_name_strips_bidi_and_zero_width_characters():
    assert clean_name(SPOOFED) == "Kari Nordmann"
    assert clean_name("  Ola \u200f  Normann\u200e ") == "Ola Normann"
    assert clean_name("Kari \u202aNord\u202cmann") == "Kari Nordmann"


def test_profile_name_is_stored_without_bidi_or_zero_width_characters(db, actions, client):
    resident = _resident(db, actions)
    profile = {"display_name": SPOOFED, "phone": "", "contact_note": ""}
    assert post_form(client, "/me/profile", profile).status_code == 302
    refresh(db)
    assert db.get(User, resident.id).display_name == "Kari Nordmann"


def test_referral_contact_name_is_stored_without_bidi_or_zero_width_characters(db, client):
    municipality = make_team(db).municipalities[0]
    db.commit()
    assert post_step(client, 1, {"age": "34", "municipality": municipality.id, "crisis": "no"}).status_code == 302
    assert post_step(client, 9, {"name": SPOOFED, "phone": "412 34 567", "email": "", "contact_times": "",
                                 "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality": "0",
                                 "gp_consent": "no", "gp_name": "\u202eDr. Lege", "interpreter": "no",
                                 "language_needs": "", "gender": "woman"}).status_code == 302
    contact = _draft(db, client)["contact"]
    assert (contact["name"], contact["gp_name"]) == ("Kari Nordmann", "Dr. Lege")


def test_safety_plan_contact_names_are_stored_without_bidi_or_zero_width_characters(db, actions, client):
    from rph_pwa.services.safety_plans import current_plan

    resident = _resident(db, actions)
    response = post_form(client, "/me/safety-plan/edit", {"people_to_ask-0-name": SPOOFED,
                                                       "people_to_ask-0-phone": "412 34 567"})
    assert response.status_code == 302
    refresh(db)
    plan = current_plan(db, resident=db.get(User, resident.id))
    assert plan.content.people_to_ask == (("Kari Nordmann", "412 34 567"),)


def test_onward_service_name_is_stored_without_bidi_or_zero_width_characters(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team)
    response = post_form(client, "/therapist/directory", {"team": str(team.id), "name": SPOOFED, "description": "",
                                                      "phone": "", "url": ""}, prefix="service")
    assert response.status_code == 302
    refresh(db)
    assert db.scalars(select(OnwardService.name).where(OnwardService.team_id == team.id)).all() == ["Kari Nordmann"]


def test_passkey_names_are_stored_without_bidi_or_zero_width_characters(db, actions, client):
    resident = _resident(db, actions)
    passkey = Passkey(user_id=resident.id, credential_id=uuid.uuid4().bytes, public_key=b"not-a-real-key",
                      name="Telefon")
    db.add(passkey)
    db.commit()
    response = post_form(client, f"/account/passkeys/{passkey.id}/rename", {"name": SPOOFED}, page="/account/passkeys")
    assert response.status_code == 302
    refresh(db)
    assert db.get(Passkey, passkey.id).name == "Kari Nordmann"


def test_passkey_names_from_json_lose_controls_bidi_and_zero_width_characters():
    from rph_pwa.services.passkeys import clean_name as passkey_name

    assert passkey_name("\u202eMin\x1b telefon\u200b") == "Min telefon"
    assert passkey_name("\u200b\u200b") == "Passkey"


def test_staff_names_are_stored_without_bidi_or_zero_width_characters(db):
    staff, _secret = create_staff(db, username=unique("staff"), password=PASSWORD, role=Role.THERAPIST,
                                  display_name=SPOOFED)
    assert staff.display_name == "Kari Nordmann"
    db.rollback()


def test_json_names_are_not_touched_by_the_nul_guard_when_clean(client):
    """A clean JSON body passes the guard (the ceremony answers for itself)."""
    token = form_token(client, "/login/code")
    response = client.post("/auth/passkey/register/verify", data=json.dumps({"name": "Telefon"}),
                           headers={"X-CSRFToken": token}, content_type="application/json")
    assert response.status_code in (400, 403)
    assert NUL_PAGE not in response.get_json()["error"]


def test_a_400_digit_number_gets_the_fields_range_message_not_a_500(app):
    """WTForms' NumberRange turns the number into a float and fails on a huge one: the app's forms
    treat it as missing, so the field's own message is shown."""
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField
    from wtforms.validators import NumberRange

    from rph_pwa.forms import BaseForm

    class Places(BaseForm):
        places = IntegerField(validators=[NumberRange(1, 200, "Enter 1 to 200 places.")])

    with app.test_request_context(method="POST"):
        form = Places(formdata=MultiDict({"places": "9" * 400}), meta={"csrf": False})
        assert not form.validate()
        assert form.places.errors == ["Enter 1 to 200 places."]
        ok = Places(formdata=MultiDict({"places": "12"}), meta={"csrf": False})
        assert ok.validate() and ok.places.data == 12
