"""The staff side of reminders over HTTP: one appointment's reminders (another team's is 404, the
read is audited, "no channel can reach" is said plainly), the marks on I dag and the episode
page, the team lead's lead time and the drop-out routine's buttons, with hostile input."""
from __future__ import annotations

import secrets
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_date, local_to_utc, local_today
from rph_pwa.models import AuditEvent, Reminder, ReminderDelivery, Role
from rph_pwa.services import dropout, triage
from tests.conftest import post_form, refresh
from tests.factories import add_episode_contact, make_monitored_episode, make_resident, make_staff, make_team
from tests.factories import email as address


def _appointment(db, team, *, answer: bool = False, email: bool = True):
    """An episode of `team` with a contact booked at noon today (its resident with or without an
    e-mail address), and a reminder by push that failed then went by e-mail."""
    therapist, _ = make_staff(db, teams=[team])
    resident = make_resident(db, team=team, email=address() if email else None)
    episode = make_monitored_episode(db, team=team, resident=resident)
    resident.reminder_channels = "push,email"
    now = utcnow()
    contact = add_episode_contact(db, episode=episode, staff=therapist, starts_at=local_to_utc(local_today(), time(12)))
    if answer:
        contact.resident_answer, contact.resident_answered_at = "coming", now
    db.add(Reminder(resident_id=resident.id, kind="appointment", key=f"test:{contact.id}", appointment_id=contact.id,
                    starts_at=contact.starts_at, due_at=contact.starts_at - timedelta(hours=24), done_at=now,
                    outcome="delivered", deliveries=[
                        ReminderDelivery(channel="push", state="failed", token=secrets.token_urlsafe(32),
                                         attempts=3, failed_at=now, last_error="Gone"),
                        ReminderDelivery(channel="email", state="sent", token=secrets.token_urlsafe(32),
                                         sent_at=now)]))
    db.commit()
    return episode, contact


def test_the_reminders_page_shows_each_delivery_and_is_audited(db, actions, client):
    team = make_team(db)
    episode, contact = _appointment(db, team, answer=True)
    me = actions.login_staff(db, team)
    response = client.get(f"/therapist/appointments/{contact.id}/reminders")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Appointment reminder, 24 hours before", "Outcome: Delivered.", "Failed", "(Gone)", "E-mail",
                 "Coming", "Reminders can reach the person by: E-mail."):
        assert text in page, text
    refresh(db)
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == me.id, AuditEvent.object_type == "reminders",
                                                 AuditEvent.object_id == contact.id)).all()
    assert len(events) == 1 and events[0].subject_id == episode.resident_id


def test_another_teams_appointment_is_not_found_and_not_audited(db, actions, client):
    _episode, contact = _appointment(db, make_team(db))
    me = actions.login_staff(db, make_team(db))
    assert client.get(f"/therapist/appointments/{contact.id}/reminders").status_code == 404
    assert client.get("/therapist/appointments/99999999999999999999/reminders").status_code == 404
    refresh(db)
    assert db.scalars(select(AuditEvent).where(AuditEvent.actor_id == me.id)).all() == []


def test_no_channel_is_said_plainly_on_the_page_i_dag_and_the_episode(db, actions, client):
    team = make_team(db)
    episode, contact = _appointment(db, team, email=False)  # push chosen, but no device subscribed
    me = actions.login_staff(db, team)
    contact.staff_id = me.id
    db.commit()
    warning = "No reminder can reach this person: call"
    assert warning in client.get(f"/therapist/appointments/{contact.id}/reminders").get_data(as_text=True)
    today = client.get("/therapist/").get_data(as_text=True)
    assert warning in today and f"/therapist/appointments/{contact.id}/reminders" in today
    page = client.get(f"/therapist/episodes/{episode.id}").get_data(as_text=True)
    assert warning in page and f"/therapist/appointments/{contact.id}/reminders" in page


def test_the_resident_s_answer_shows_on_i_dag(db, actions, client):
    team = make_team(db)
    _episode, contact = _appointment(db, team, answer=True)
    me = actions.login_staff(db, team)
    contact.staff_id = me.id
    db.commit()
    today = client.get("/therapist/").get_data(as_text=True)
    assert '<span class="badge">Coming</span>' in today
    assert "No reminder can reach this person" not in today


# --- The team lead's lead time ---------------------------------------------------------------------

@pytest.mark.parametrize("hours", ["23", "49", "-24", "abc", "", "1e3", "36.5", "9" * 5000])
def test_bad_lead_times_are_refused(db, actions, client, hours):
    team = make_team(db)
    actions.login_staff(db, team, role=Role.TEAM_LEAD)
    response = post_form(client, f"/therapist/teams/{team.id}/reminders", {"hours": hours}, page="/therapist/slots",
                         prefix="reminders")
    assert response.status_code == 400
    assert "Enter" in response.get_data(as_text=True)
    refresh(db)
    assert db.get(type(team), team.id).reminder_hours_before == 24


def test_a_team_lead_sets_the_lead_time(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team, role=Role.TEAM_LEAD)
    response = post_form(client, f"/therapist/teams/{team.id}/reminders", {"hours": "48"}, page="/therapist/slots",
                         prefix="reminders", follow=True)
    assert response.status_code == 200 and "The reminder time is saved." in response.get_data(as_text=True)
    assert "Residents are reminded 48 hours before an appointment." in response.get_data(as_text=True)
    refresh(db)
    assert db.get(type(team), team.id).reminder_hours_before == 48


def test_the_lead_time_needs_a_csrf_token_and_the_team_s_lead(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team)  # a therapist, not the lead
    assert client.post(f"/therapist/teams/{team.id}/reminders", data={"reminders-hours": "30"}).status_code == 400
    response = post_form(client, f"/therapist/teams/{team.id}/reminders", {"hours": "30"}, page="/therapist/slots",
                         prefix="reminders")
    assert response.status_code == 404
    refresh(db)
    assert db.get(type(team), team.id).reminder_hours_before == 24


# --- The drop-out routine's buttons ------------------------------------------------------------------

def _notice_due(db, team, me):
    episode = make_monitored_episode(db, team=team)
    episode.responsible_id = me.id
    now = utcnow()
    contact = add_episode_contact(db, episode=episode, staff=me, starts_at=now - timedelta(days=30))
    dropout.mark_attendance(db, actor=me, appointment_id=contact.id, status="no_show", now=now - timedelta(days=29))
    for days in (20, 10):
        triage.log_contact_attempt(db, actor=me, referral_id=episode.referral_id, method="phone",
                                   outcome="no_answer", note=None, now=now - timedelta(days=days))
    db.commit()
    return episode


@pytest.mark.parametrize("deadline", ["yesterday", "today", "2026-02-30", "", "0202-01-01", "far", "x" * 100_000])
def test_bad_deadlines_are_refused(db, actions, client, deadline):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _notice_due(db, team, me)
    today = local_date(utcnow())
    value = {"yesterday": (today - timedelta(days=1)).isoformat(), "today": today.isoformat(),
             "far": (today + timedelta(days=dropout.DEADLINE_MAX_DAYS + 1)).isoformat()}.get(deadline, deadline)
    url = f"/therapist/episodes/{episode.id}"
    response = post_form(client, f"{url}/dropout-notice", {"deadline": value}, page=url, prefix="dropout")
    assert response.status_code in (400, 413)
    refresh(db)
    assert db.get(type(episode), episode.id).dropout_notice_at is None


def test_the_notice_and_the_close_from_the_episode_page(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _notice_due(db, team, me)
    url = f"/therapist/episodes/{episode.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="dropout-heading"' in page and "Send the written notice with a deadline" in page
    assert "Drop-out routine: send the written notice" in client.get("/therapist/").get_data(as_text=True)
    assert client.post(f"{url}/dropout-notice", data={"dropout-deadline": "2099-01-01"}).status_code == 400  # CSRF
    deadline = local_date(utcnow()) + timedelta(days=14)
    response = post_form(client, f"{url}/dropout-notice", {"deadline": deadline.isoformat()}, page=url,
                         prefix="dropout", follow=True)
    assert "The written notice and its deadline are recorded." in response.get_data(as_text=True)
    # Closing before the deadline is refused with a message, nothing saved.
    response = post_form(client, f"{url}/dropout-close", {}, page=url, follow=True)
    assert "cannot be closed as dropped out now" in response.get_data(as_text=True)
    refresh(db)
    episode = db.get(type(episode), episode.id)
    assert episode.dropout_deadline == deadline and episode.discharged_at is None
    # The deadline passed: the close leads to the closure note.
    episode.dropout_notice_at -= timedelta(days=20)
    episode.dropout_deadline = local_date(utcnow()) - timedelta(days=1)
    db.commit()
    assert "close as dropped out" in client.get("/therapist/").get_data(as_text=True)
    response = post_form(client, f"{url}/dropout-close", {}, page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith("#closure-note-heading")
    page = client.get(url).get_data(as_text=True)
    assert "Now write the closure note" in page and 'id="closure-note"' in page
    refresh(db)
    assert db.get(type(episode), episode.id).end_reason == "dropped_out"
    assert client.post(f"{url}/dropout-close").status_code == 400  # no CSRF token
