"""The draft endpoint of forms before a contact (used by static/js/form-drafts.js)."""
from __future__ import annotations

from sqlalchemy import select

from rph_pwa.assets import fingerprinted_name
from rph_pwa.measures import get
from rph_pwa.models import FormRequest
from rph_pwa.services import outcomes
from tests.conftest import csrf_token
from tests.factories import make_booked_contact, make_staff, make_team


def _open_form(db, team, therapist):
    """A resident with a contact booked in 20 hours: their address and the id of their PHQ-9 form."""
    _team, _therapist, resident, address, _episode, _contact = make_booked_contact(
        db, hours_ahead=20, team=team, therapist=therapist)
    request = db.scalars(select(FormRequest).where(FormRequest.resident_id == resident.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    return address, request.id


def _draft(db, request_id: int) -> dict:
    db.rollback()
    return outcomes.form_draft(db.get(FormRequest, request_id))


def test_the_draft_endpoint_keeps_only_the_forms_questions_and_only_for_its_owner(db, actions, client):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    address, request_id = _open_form(db, team, therapist)
    _, someone_elses = _open_form(db, team, therapist)
    keys = [item.key for item in get("PHQ-9").items]
    actions.resident_login(address)
    page = client.get(f"/me/forms/{request_id}").get_data(as_text=True)
    token = csrf_token(page)
    script = fingerprinted_name(client.application, "js/form-drafts.js")  # the URL names the file's content
    assert f'data-draft-url="/me/forms/{request_id}/draft"' in page and script in page

    url = f"/me/forms/{request_id}/draft"
    assert client.post(url, data={keys[0]: "2"}).status_code == 400  # no CSRF token: nothing kept
    assert _draft(db, request_id) == {}
    response = client.post(url, data={"csrf_token": token, keys[0]: "2", "evil": "x" * 5000, keys[1]: "9" * 500})
    assert response.status_code == 200
    draft = _draft(db, request_id)
    assert draft[keys[0]] == ["2"] and "evil" not in draft and len(draft[keys[1]][0]) <= 40
    assert client.post(f"/me/forms/{someone_elses}/draft", data={"csrf_token": token, keys[0]: "3"}).status_code == 404
    assert _draft(db, someone_elses) == {}

    answers = {key: "0" for key in keys} | {"functioning": "0", "csrf_token": token}
    assert client.post(f"/me/forms/{request_id}", data=answers).status_code == 302
    assert client.post(url, data={"csrf_token": token, keys[0]: "1"}).status_code == 409  # sent: no draft again
    assert _draft(db, request_id) == {}
