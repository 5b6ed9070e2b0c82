"""The safety plan: the resident writes it, their team adds to it, every save is a version, only the
resident and their team's clinical staff reach it (staff reads and edits audited), phone numbers
become one-tap links, and the content is encrypted at rest."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, text

from rph_pwa.models import AuditEvent, SafetyPlan, SafetyPlanVersion
from rph_pwa.services.safety_plans import normalise_phone, tel_href
from tests.conftest import Actions, post_form
from tests.factories import PASSWORD, email, make_resident, make_safety_plan, make_staff, make_team

TEXT_PARTS = ("warning_signs", "coping_alone", "distractions", "safer_surroundings", "reasons_for_living")


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English interface text (the catalogs translate it for real users)."""
    client.set_cookie("lang", "en")



def plan_form(**values) -> dict:
    """The edit form as a browser posts it: every text area and all 8 + 8 rows (blank unless given).

    Rows are given as people=[(name, phone), ...] and professionals=[...]."""
    data = {name: values.get(name, "") for name in TEXT_PARTS}
    for part, key in (("people_to_ask", "people"), ("professionals", "professionals")):
        rows = list(values.get(key, ()))
        for i in range(8):
            name, phone = rows[i] if i < len(rows) else ("", "")
            data[f"{part}-{i}-name"], data[f"{part}-{i}-phone"] = name, phone
    return data


def events(db, subject_id: int, action: str | None = None) -> list[AuditEvent]:
    db.rollback()
    query = select(AuditEvent).where(AuditEvent.subject_id == subject_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


def section(page: str, part_id: str) -> str:
    """The HTML of one part of the plan page."""
    return re.search(rf'<section[^>]*aria-labelledby="{part_id}">(.*?)</section>', page, re.S).group(1)


def versions(db, resident_id: int) -> list[SafetyPlanVersion]:
    db.rollback()
    return list(db.scalars(select(SafetyPlanVersion).join(SafetyPlan).where(SafetyPlan.resident_id == resident_id)
                           .order_by(SafetyPlanVersion.number)))


@pytest.fixture
def staff_client(app, mailbox):
    """A second browser, for a staff member working while the resident is signed in elsewhere."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client, Actions(client, mailbox)


def _resident(db, team=None):
    address = email()
    team = team or make_team(db)
    resident = make_resident(db, team=team, email=address, name="Kari Plansen")
    return team, resident, address


# --- Phone numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "shown", "href"), [
    ("+47 412 34 567", "412 34 567", "tel:+4741234567"),
    ("+4741234567", "412 34 567", "tel:+4741234567"),
    ("0047 412 34 567", "412 34 567", "tel:+4741234567"),
    ("41234567", "412 34 567", "tel:+4741234567"),
    ("412 34 567", "412 34 567", "tel:+4741234567"),
    (" 412-34-567 ", "412 34 567", "tel:+4741234567"),
    ("98765432", "987 65 432", "tel:+4798765432"),
    ("22400040", "22 40 00 40", "tel:+4722400040"),
    ("+47 22 40 00 40", "22 40 00 40", "tel:+4722400040"),
    ("800 12 345", "800 12 345", "tel:+4780012345"),
    ("113", "113", "tel:113"),
    ("116117", "116 117", "tel:116117"),
    ("116 123", "116 123", "tel:116123"),
    ("1881", "1881", "tel:1881"),
    ("+46 70 123 45 67", "+46701234567", "tel:+46701234567"),
])
def test_phone_numbers_are_normalised_for_display_and_linked(typed, shown, href):
    assert normalise_phone(typed) == shown
    assert tel_href(typed) == href
    assert normalise_phone(shown) == shown  # idempotent: a saved number is saved again unchanged


@pytest.mark.parametrize("typed", ["", "   ", "abc", "412 34 56x", "12", "1234567", "412345678", "+47 113",
                                   "+47 4123 45 67 89", "+1", "２２４０００４０", "41234567²"])
def test_phone_numbers_that_are_not_numbers_are_refused_with_a_message(typed):
    with pytest.raises(ValueError, match=r"\w"):
        normalise_phone(typed)


# --- The resident ------------------------------------------------------------------------------

def test_a_new_plan_starts_with_the_team_and_crisis_numbers_as_one_tap_links(db, actions, client):
    team, _resident_user, address = _resident(db)
    db.commit()
    actions.resident_login(address)
    assert "/me/safety-plan" in client.get("/me").get_data(as_text=True)
    response = client.get("/me/safety-plan")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    professionals = section(page, "part-professionals")
    for href in ("tel:+4722334455", "tel:116117", "tel:113", "tel:116123", "tel:+4722400040"):
        assert f'href="{href}"' in professionals
    assert 'href="tel:113"' in section(page, "part-danger")  # always on the plan, whatever was written
    assert team.name in page and "Fastlege" in page
    assert re.search(r'<div class="safety-plan"\s+data-offline-plan>', page)
    assert '<button type="button" class="button--secondary" data-print>' in page
    assert 'id="plan-updated"' in page and "style=" not in page
    edit = client.get("/me/safety-plan/edit").get_data(as_text=True)
    assert 'value="Kirkens SOS"' in edit and 'value="22 40 00 40"' in edit


def test_resident_and_therapist_build_the_plan_in_versions(db, actions, client, staff_client):
    team, resident, address = _resident(db)
    therapist, secret = make_staff(db, teams=[team])
    db.commit()
    actions.resident_login(address)

    first = post_form(client, "/me/safety-plan/edit", plan_form(warning_signs="Jeg slutter å svare på meldinger.",
                                                          people=[("Mamma", "+47 412 34 567")]))
    assert first.status_code == 302 and first.headers["Location"].endswith("/me/safety-plan")
    second = post_form(client, "/me/safety-plan/edit", plan_form(
        warning_signs="Jeg slutter å svare på meldinger.\nJeg sover dårlig.",
        reasons_for_living="Hunden min, Tassen.",
        people=[("Mamma", "412 34 567")]))
    assert second.status_code == 302

    s_client, s_actions = staff_client
    s_actions.staff_login(therapist.username, PASSWORD, secret)
    edit = s_client.get(f"/therapist/residents/{resident.id}/safety-plan/edit")
    assert edit.status_code == 200 and "Hunden min, Tassen." in edit.get_data(as_text=True)
    third = post_form(s_client, f"/therapist/residents/{resident.id}/safety-plan/edit", plan_form(
        warning_signs="Jeg slutter å svare på meldinger.\nJeg sover dårlig.",
        reasons_for_living="Hunden min, Tassen.",
        coping_alone="Gå tur med Tassen rundt vannet.", people=[("Mamma", "412 34 567"), ("Nabo Per", "98765432")]))
    assert third.status_code == 302
    assert third.headers["Location"].endswith(f"/therapist/residents/{resident.id}/safety-plan")

    saved = versions(db, resident.id)
    assert [(v.number, v.author_id) for v in saved] == [(1, resident.id), (2, resident.id), (3, therapist.id)]
    edits = events(db, resident.id, "edit_safety_plan")
    assert [(e.actor_id, e.team_id) for e in edits] == [(therapist.id, team.id)]

    page = client.get("/me/safety-plan").get_data(as_text=True)
    assert "Jeg sover dårlig." in page and "Hunden min, Tassen." in page  # the resident's words
    assert "Gå tur med Tassen rundt vannet." in page and "Nabo Per" in page  # the therapist's addition
    people = section(page, "part-people-to-ask")
    assert 'href="tel:+4741234567">412 34 567</a>' in people and 'href="tel:+4798765432">987 65 432</a>' in people
    updated = re.search(r'<p id="plan-updated"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert therapist.display_name in updated and "therapist" in updated

    staff_page = s_client.get(f"/therapist/residents/{resident.id}/safety-plan")
    assert staff_page.status_code == 200
    html = staff_page.get_data(as_text=True)
    history = html[html.index('id="history-h"'):]
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]+</td><td>([^<]+)</td></tr>", history)
    assert [n for n, _who in rows] == ["3", "2", "1"]
    assert therapist.display_name in rows[0][1] and "(therapist)" in rows[0][1]
    assert "Kari Plansen (resident)" in rows[1][1] and "Kari Plansen (resident)" in rows[2][1]
    assert "data-offline-plan" not in html  # only the resident's own page is kept offline
    # Three audited reads: the edit page, its re-read for the CSRF token, and the plan page.
    assert [e.actor_id for e in events(db, resident.id, "view_safety_plan")] == [therapist.id] * 3


def test_empty_parts_are_allowed(db, actions, client):
    _team, resident, address = _resident(db)
    db.commit()
    actions.resident_login(address)
    assert post_form(client, "/me/safety-plan/edit", plan_form()).status_code == 302
    assert post_form(client, "/me/safety-plan/edit", plan_form(reasons_for_living="Barna mine.")).status_code == 302
    assert [v.number for v in versions(db, resident.id)] == [1, 2]
    page = client.get("/me/safety-plan").get_data(as_text=True)
    assert "Barna mine." in page and page.count("Nothing written here yet.") == 6


def test_a_bad_phone_number_is_an_error_on_its_row_and_everything_typed_is_kept(db, actions, client):
    _team, resident, address = _resident(db)
    db.commit()
    actions.resident_login(address)
    response = post_form(client, "/me/safety-plan/edit", plan_form(
        warning_signs="Tunge tanker om kvelden.", people=[("Mamma", "412 34 567"), ("Pappa", "ring meg")],
        professionals=[("Fastlege", "")]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tunge tanker om kvelden." in page and 'value="Mamma"' in page and 'value="ring meg"' in page
    assert 'href="#people_to_ask-1-phone"' in page  # the error summary points at the row
    bad = re.search(r'<input[^>]*id="people_to_ask-1-phone"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in bad and "people_to_ask-1-phone-error" in bad
    assert 'id="people_to_ask-1-phone-error"' in page and "412 34 567" in page
    good = re.search(r'<input[^>]*id="people_to_ask-0-phone"[^>]*>', page).group(0)
    assert "aria-invalid" not in good
    assert versions(db, resident.id) == []

    nameless = post_form(client, "/me/safety-plan/edit", plan_form(people=[("", "412 34 567")]))
    assert nameless.status_code == 400 and 'id="people_to_ask-0-name-error"' in nameless.get_data(as_text=True)
    assert versions(db, resident.id) == []


def test_bad_input_is_a_400_not_a_500(db, actions, client):
    _team, resident, address = _resident(db)
    db.commit()
    actions.resident_login(address)
    too_long = post_form(client, "/me/safety-plan/edit", plan_form(coping_alone="x" * 2001))
    assert too_long.status_code == 400 and 'id="coping_alone-error"' in too_long.get_data(as_text=True)
    # Line breaks count once, though browsers send two characters (CRLF) for each.
    assert post_form(client, "/me/safety-plan/edit", plan_form(coping_alone="x\r\n" * 700)).status_code == 302
    assert client.post("/me/safety-plan/edit", data=plan_form()).status_code == 400  # no CSRF token
    odd_rows = {**plan_form(), "people_to_ask-²-name": "x", "people_to_ask-99999999999999-name": "y",
                "people_to_ask-0-phone": ["1", "2"], "professionals-0-name": "n" * 121}
    assert post_form(client, "/me/safety-plan/edit", odd_rows).status_code == 400
    many_rows = plan_form()
    many_rows.update({f"people_to_ask-{i}-name": f"Venn {i}" for i in range(20)})
    assert post_form(client, "/me/safety-plan/edit", many_rows).status_code == 302  # 8 rows kept, the rest ignored
    saved = versions(db, resident.id)
    assert len(saved) == 2 and json.dumps(saved[-1].content).count("Venn ") == 8


def test_content_is_encrypted_at_rest(db, actions, client):
    _team, resident, address = _resident(db)
    db.commit()
    actions.resident_login(address)
    assert post_form(client, "/me/safety-plan/edit", plan_form(
        safer_surroundings="Gi tablettene til søsteren min SECRET-PLAN-91c2", people=[("Søster", "41234567")],
    )).status_code == 302
    db.rollback()
    raw = db.execute(text("SELECT v.content FROM safety_plan_version v JOIN safety_plan p ON p.id = v.plan_id "
                          "WHERE p.resident_id = :id"), {"id": resident.id}).scalar_one()
    assert raw.startswith("gAAAA") and "SECRET-PLAN-91c2" not in raw and "41234567" not in raw
    assert "SECRET-PLAN-91c2" in json.dumps(versions(db, resident.id)[0].content)  # decrypted through the model


# --- Who may see it ----------------------------------------------------------------------------

def test_another_resident_sees_only_their_own_plan(db, actions, client):
    team, owner, _owner_address = _resident(db)
    make_safety_plan(db, resident=owner, warning_signs="PRIVATE-OWNER-TEXT")
    other_address = email()
    make_resident(db, team=team, email=other_address, name="Annen Beboer")
    db.commit()
    actions.resident_login(other_address)
    page = client.get("/me/safety-plan")
    assert page.status_code == 200 and "PRIVATE-OWNER-TEXT" not in page.get_data(as_text=True)
    assert "Not saved yet." in page.get_data(as_text=True)
    assert client.get(f"/therapist/residents/{owner.id}/safety-plan").status_code in (302, 403)
    assert post_form(client, "/me/safety-plan/edit", plan_form(warning_signs="Mitt eget.")).status_code == 302
    db.rollback()
    assert [json.dumps(v.content).count("PRIVATE-OWNER-TEXT") for v in versions(db, owner.id)] == [1]
    assert "Mitt eget." in client.get("/me/safety-plan").get_data(as_text=True)


def test_staff_of_another_team_get_404_and_leave_no_audit_event(db, actions, client):
    _team, resident, _address = _resident(db)
    make_safety_plan(db, resident=resident, warning_signs="PRIVATE-PLAN-TEXT")
    stranger, secret = make_staff(db, teams=[make_team(db)])
    db.commit()
    actions.staff_login(stranger.username, PASSWORD, secret)
    base = f"/therapist/residents/{resident.id}/safety-plan"
    for response in (client.get(base), client.get(f"{base}/edit"),
                     post_form(client, f"{base}/edit", plan_form(warning_signs="Overskrevet")),
                     post_form(client, f"{base}/edit", plan_form(people=[("X", "not a number")]))):
        assert response.status_code == 404
        assert "PRIVATE-PLAN-TEXT" not in response.get_data(as_text=True)
    assert events(db, resident.id) == []
    assert len(versions(db, resident.id)) == 1


def test_own_team_read_of_a_plan_not_yet_written_is_audited_and_shows_the_start(db, actions, client):
    team, resident, _address = _resident(db)
    therapist, secret = make_staff(db, teams=[team])
    db.commit()
    actions.staff_login(therapist.username, PASSWORD, secret)
    assert f"/therapist/residents/{resident.id}/safety-plan" in client.get(
        f"/therapist/residents/{resident.id}").get_data(as_text=True)
    page = client.get(f"/therapist/residents/{resident.id}/safety-plan")
    assert page.status_code == 200 and 'href="tel:113"' in page.get_data(as_text=True)
    viewed = events(db, resident.id, "view_safety_plan")
    assert [(e.actor_id, e.object_type, e.object_id) for e in viewed] == [(therapist.id, "safety_plan", None)]
    assert db.scalar(select(func.count()).select_from(SafetyPlan).where(SafetyPlan.resident_id == resident.id)) == 0


def test_history_service_lists_versions_newest_first_and_keeps_residents_apart(db):
    from rph_pwa.services.errors import NotFound
    from rph_pwa.services.safety_plans import history

    team, resident, _address = _resident(db)
    therapist, _secret = make_staff(db, teams=[team])
    make_safety_plan(db, resident=resident, warning_signs="Første")
    make_safety_plan(db, resident=resident, author=therapist, warning_signs="Første", coping_alone="Andre")
    other = make_resident(db, team=team)
    rows = history(db, actor=resident, resident_id=resident.id)
    assert [(v.number, v.author_name, v.author_role) for v in rows] == [
        (2, therapist.display_name, "therapist"), (1, "Kari Plansen", "resident")]
    with pytest.raises(NotFound):
        history(db, actor=other, resident_id=resident.id)
    assert len(history(db, actor=therapist, resident_id=resident.id)) == 2
    assert [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.subject_id == resident.id))] == [
        "edit_safety_plan", "view_safety_plan"]
    db.rollback()
