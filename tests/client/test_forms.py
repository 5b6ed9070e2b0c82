"""Forms before every contact, and the resident's own progress page."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import Episode, FormRequest, MeasureResponse
from rph_pwa.services import outcomes
from tests.conftest import post_form
from tests.factories import form_answers, make_booked_contact


def _episode_with_contact(db, *, hours_ahead: int = 24):
    return make_booked_contact(db, hours_ahead=hours_ahead)


_answers = form_answers


def test_first_contact_asks_phq9_gad7_and_wsas_and_they_open_48_hours_before(db):
    *_, episode, contact = _episode_with_contact(db)
    requests = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id)).all()
    assert {r.instrument_code for r in requests} == {"PHQ-9", "GAD-7", "WSAS"}
    assert all(r.opens_at == contact.starts_at - timedelta(hours=48) for r in requests)


def test_resident_fills_in_a_form_once_and_sees_progress(db, actions, client):
    _team, _therapist, resident, address, episode, contact = _episode_with_contact(db)
    actions.resident_login(address)
    home = client.get("/me").get_data(as_text=True)
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "GAD-7")).one()
    assert f"/me/forms/{request.id}" in home
    url = f"/me/forms/{request.id}"
    assert post_form(client, url, _answers("GAD-7", 1)).status_code == 302
    again = post_form(client, url, _answers("GAD-7", 3), page="/me")
    assert again.status_code == 302  # already sent: redirected, nothing new stored
    db.commit()
    responses = db.scalars(select(MeasureResponse).where(MeasureResponse.episode_id == episode.id,
                                                         MeasureResponse.instrument_code == "GAD-7")).all()
    assert [r.total for r in responses] == [14, 7]  # the referral's 14 (factory), then this form's 7
    page = client.get("/me/progress").get_data(as_text=True)
    assert "14" in page and "7" in page and "<svg" in page
    assert "alvorlig" not in page.lower() and "severe" not in page.lower()  # no frightening labels


def test_incomplete_or_off_scale_form_is_refused_and_kept_as_draft(db, actions, client):
    *_, address, _episode, contact = _episode_with_contact(db)
    actions.resident_login(address)
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    url = f"/me/forms/{request.id}"
    partial = {"item1": "2", "item2": "1"}
    assert post_form(client, url, partial).status_code == 400
    assert post_form(client, url, _answers("PHQ-9", 1, item3=7)).status_code == 400
    page = client.get(url).get_data(as_text=True)
    assert 'name="item1" type="radio" value="2" checked' in page or 'checked' in page
    db.commit()
    db.refresh(request)
    assert request.response_id is None and request.draft is not None


def test_item9_on_a_form_flags_the_episode_and_notifies_the_team(db, actions, client, mailbox):
    team, *_rest, address, episode, contact = _episode_with_contact(db)
    actions.resident_login(address)
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    response = post_form(client, f"/me/forms/{request.id}", _answers("PHQ-9", 1, item9=2))
    assert response.status_code == 200 and "116 123" in response.get_data(as_text=True)
    db.commit()
    db.expire_all()  # the sessions keep loaded rows after commit (expire_on_commit=False)
    assert db.get(Episode, episode.id).urgent_since is not None
    body = mailbox.to(team.inbox_email)[-1].get_body(("plain",)).get_content().lower()
    assert "phq" not in body and "psyk" not in body


def test_forms_are_closed_before_48_hours_and_to_other_residents(db, actions, client):
    *_, address, _episode, contact = _episode_with_contact(db, hours_ahead=72)
    other_team, *_x, other_address, _e, other_contact = _episode_with_contact(db)
    actions.resident_login(address)
    early = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id)).first()
    foreign = db.scalars(select(FormRequest).where(FormRequest.appointment_id == other_contact.id)).first()
    assert client.get(f"/me/forms/{early.id}").status_code == 404
    assert client.get(f"/me/forms/{foreign.id}").status_code == 404


def test_progress_page_uses_the_same_number_of_queries_for_any_history(db, actions, client, count_queries):
    _team, _therapist, resident, address, episode, _contact = _episode_with_contact(db)
    actions.resident_login(address)

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/me/progress").status_code == 200
        return len(statements)

    short = queries()
    for i in range(30):
        db.add(MeasureResponse(resident_id=resident.id, episode_id=episode.id, instrument_code="PHQ-9",
                               instrument_version="1", answers=[1] * 9, total=9, band="mild",
                               flags="", submitted_at=utcnow() + timedelta(minutes=i)))
    db.commit()
    assert db.scalar(select(func.count()).select_from(MeasureResponse)
                     .where(MeasureResponse.resident_id == resident.id)) > 30
    assert queries() == short


def test_session_feedback_is_asked_about_the_last_attended_talk(db):
    from rph_pwa.measures import score

    _team, therapist, _resident, _address, episode, first = _episode_with_contact(db)
    outcomes.record_attendance(db, actor=therapist, appointment_id=first.id, status="attended")
    second = outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="treatment",
                                   starts_at=first.starts_at + timedelta(days=7), duration_minutes=45,
                                   mode="phone", place=None)
    db.commit()
    codes = lambda contact: {r.instrument_code for r in db.scalars(  # noqa: E731
        select(FormRequest).where(FormRequest.appointment_id == contact.id))}
    assert "SESSION-FEEDBACK" not in codes(first)
    assert codes(second) == {"PHQ-9", "GAD-7", "SESSION-FEEDBACK"}
    assert (score("SESSION-FEEDBACK", [2, 2, 2, 3]).band, score("SESSION-FEEDBACK", [2, 2, 2, 4]).band) == \
        ("concern", "good")
