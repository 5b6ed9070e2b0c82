"""The therapist's episode page (routine outcome monitoring): access and audit, flags, trends and
item answers, contacts with their forms, attendance, discharge, the closure note, a query count
that does not grow with the history, and bad input answered with 400."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from rph_pwa.assets import fingerprinted_name
from rph_pwa.db import utcnow
from rph_pwa.measures import get
from rph_pwa.models import Appointment, AuditEvent, Episode, FormRequest, MeasureResponse, Referral
from rph_pwa.services import outcomes
from rph_pwa.therapist.episode_forms import DischargeForm, InstrumentsForm, OfferingChangeForm
from rph_pwa.therapist.forms import IntakeChecklistForm, OfferingsForm
from tests.conftest import post_form, refresh
from tests.factories import (
    PASSWORD,
    add_episode_contact,
    add_episode_response,
    make_monitored_episode,
    make_resident,
    make_staff,
    make_team,
)

OSLO = ZoneInfo("Europe/Oslo")


def _page(client, episode_id: int) -> str:
    response = client.get(f"/therapist/episodes/{episode_id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _oslo(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def _requests(db, appointment_id: int) -> list[str]:
    return sorted(db.scalars(select(FormRequest.instrument_code).where(FormRequest.appointment_id == appointment_id)))


# --- Access ------------------------------------------------------------------------------------

def test_other_team_gets_404_for_page_and_actions_and_leaves_no_audit_event(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    stranger = make_monitored_episode(db, team=theirs,
                                      resident=make_resident(db, team=theirs, name="Ikke Ditt Forløp"))
    staff_there = make_staff(db, teams=[theirs])[0]
    contact = add_episode_contact(db, episode=stranger, staff=staff_there, starts_at=utcnow())
    stranger.urgent_since = utcnow()
    actions.login_staff(db, mine)
    url = f"/therapist/episodes/{stranger.id}"
    response = client.get(url)
    assert response.status_code == 404 and "Ikke Ditt Forløp" not in response.get_data(as_text=True)
    page = "/therapist/"
    assert post_form(client, f"{url}/contacts", {"day": "2027-01-10", "time": "10:00", "duration": "45",
                                                 "kind": "treatment", "mode": "office"},
                     prefix="book", page=page).status_code == 404
    assert post_form(client, f"{url}/contacts", {"day": "nonsense"},
                     prefix="book", page=page).status_code == 404  # not a 400 page
    assert post_form(client, f"{url}/contacts/{contact.id}/attendance", {"status": "attended"},
                     prefix="attendance", page=page).status_code == 404
    assert post_form(client, f"{url}/followed-up", {}, prefix="urgent", page=page).status_code == 404
    assert post_form(client, f"{url}/discharge", {"work_status_end": "working", "sick_leave_end": "none",
                                                "end_reason": "completed"},
                     prefix="discharge", page=page).status_code == 404
    refresh(db)
    assert list(db.scalars(select(AuditEvent).where(AuditEvent.subject_id == stranger.resident_id))) == []
    saved = db.get(Episode, stranger.id)
    assert saved.discharged_at is None and saved.urgent_since is not None
    assert db.get(Appointment, contact.id).status == "booked"


def test_own_team_page_is_audited_and_shows_the_episode(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team, resident=make_resident(db, team=team, name="Kari Forløp"))
    staff = actions.login_staff(db, team)
    page = _page(client, episode.id)
    assert "Episode of care: Kari Forløp" in page and "Individual therapy" in page
    assert "Referred" in page and "First treatment" in page and "Not yet" in page
    assert "Working; sick leave: Partly (graded)" in page
    app_js = fingerprinted_name(client.application, "js/app.js")  # the URL names the file's content
    assert "<script" not in page.replace(f'<script src="/static/{app_js}" defer></script>', "")
    assert "style=" not in page and "<style" not in page
    refresh(db)
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.subject_id == episode.resident_id)))
    assert [(e.actor_id, e.action, e.object_type, e.object_id, e.team_id) for e in events] == [
        (staff.id, "view_episode", "episode", episode.id, team.id)]
    referral_page = client.get(f"/therapist/referrals/{episode.referral_id}").get_data(as_text=True)
    assert f'href="/therapist/episodes/{episode.id}">Open the episode of care</a>' in referral_page


# --- Flags -------------------------------------------------------------------------------------

def _response(code: str, total: int, day: int, flags: str = "") -> MeasureResponse:
    return MeasureResponse(instrument_code=code, total=total, band="", flags=flags,
                           submitted_at=datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(days=day))


def _scored(phq: list[int], gad: list[int]) -> list[MeasureResponse]:
    rows = [_response("PHQ-9", t, i) for i, t in enumerate(phq)] + [_response("GAD-7", t, i) for i, t in enumerate(gad)]
    return sorted(rows, key=lambda r: r.submitted_at)


@pytest.mark.parametrize("phq, gad, deterioration, not_on_track, scored", [
    ([8], [6], False, False, 1),
    ([8, 15], [6, 6], True, False, 2),            # PHQ-9 up 7 (reliable change is 6)
    ([8, 13], [6, 9], False, False, 2),           # up 5 and 3: not reliable
    ([8, 8], [6, 10], True, False, 2),            # GAD-7 up 4
    ([12, 12, 11], [9, 9, 9], False, False, 3),   # only three scored contacts: too early to say
    ([12, 12, 11, 10], [9, 9, 9, 8], False, True, 4),
    ([15, 12, 10, 8], [9, 9, 9, 8], False, False, 4),   # PHQ-9 down 7: reliable improvement, on track
    ([15, 12, 10, 8], [5, 7, 9, 9], True, True, 4),     # better on one, reliably worse on the other
    ([12, 12, 11, 10, 9], [9, 9, 9, 8], False, True, 4),  # scored contacts need both forms
])
def test_reliable_change_flags_from_hand_made_scores(phq, gad, deterioration, not_on_track, scored):
    flags, _result = outcomes.episode_flags(Episode(urgent_since=None), _scored(phq, gad), [])
    assert (flags.reliable_deterioration, flags.not_on_track, flags.scored_contacts) == (
        deterioration, not_on_track, scored)
    assert flags.urgent is False


def test_hours_count_attended_contacts_only():
    def contact(status: str, minutes: int) -> Appointment:
        return Appointment(status=status, duration_minutes=minutes)

    some = [contact("attended", 60), contact("attended", 90), contact("attended", 240), contact("cancelled", 120),
            contact("no_show", 60), contact("booked", 45)]
    flags, _ = outcomes.episode_flags(Episode(), [], some)
    assert (flags.hours_used, flags.over_budget) == (6.5, False)
    exactly = [contact("attended", 60)] * 15
    assert outcomes.episode_flags(Episode(), [], exactly)[0].over_budget is False
    over = exactly + [contact("attended", 15), contact("cancelled", 240)]
    flags, _ = outcomes.episode_flags(Episode(), [], over)
    assert (flags.hours_used, flags.over_budget) == (15.2, True)


def test_urgent_follows_the_episode_mark_and_is_cleared_by_following_up():
    item9 = [_response("PHQ-9", 12, 0, flags="item9"), _response("GAD-7", 8, 0)]
    assert outcomes.episode_flags(Episode(urgent_since=utcnow()), item9, [])[0].urgent is True
    # After "Followed up" the recent item-9 answer no longer keeps the flag up.
    assert outcomes.episode_flags(Episode(urgent_since=None), item9, [])[0].urgent is False


def test_flags_on_the_page_and_closing_the_flag_with_a_note_clears_urgent(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    start = (datetime.now(OSLO) - timedelta(days=40)).date()
    for i, (phq, gad) in enumerate([(10, 8), (14, 9), (16, 10), (17, 12)]):
        add_episode_response(db, episode=episode, code="PHQ-9", total=phq, at=_oslo(start + timedelta(days=7 * i)),
                             item9=1 if i == 3 else 0)
        add_episode_response(db, episode=episode, code="GAD-7", total=gad, at=_oslo(start + timedelta(days=7 * i)))
    for i, minutes in enumerate([60, 90, 240, 120]):
        add_episode_contact(db, episode=episode, staff=staff, starts_at=_oslo(start + timedelta(days=7 * i), 9),
                            status="cancelled" if i == 3 else "attended", minutes=minutes)
    episode.urgent_since = _oslo(start + timedelta(days=21), 12)
    actions.login_staff(db, team)
    page = _page(client, episode.id)
    flags = page[page.index('id="flags"'):page.index("</section>")]
    assert re.search(r'badge badge--urgent">Urgent</span>\s*PHQ-9 item 9', flags)
    assert re.search(r'badge badge--urgent">Clearly worse</span>\s*Scores are worse than at the first measurement '
                     r'by more than measurement error \(PHQ-9 10 → 17, GAD-7 8 → 12\)', flags)
    assert re.search(r'class="badge">Not on track</span>\s*Not clearly better after 4 scored contacts', flags)
    assert "6.5 of 15 hours used" in flags and "Over budget" not in flags
    url = f"/therapist/episodes/{episode.id}"
    assert f'href="{url}/urgent-flag"' in flags and ">Follow up and close with a note</a>" in flags
    # "Followed up" leads to the flag (a mark made before flags existed gets one), closed only with a note.
    response = client.get(f"{url}/urgent-flag")
    assert response.status_code == 302 and "/therapist/urgent/" in response.headers["Location"]
    flag_url = response.headers["Location"]
    assert post_form(client, f"{flag_url}/close", {"note": "  "}, prefix="close", page=flag_url).status_code == 400
    refresh(db)
    assert db.get(Episode, episode.id).urgent_since is not None
    response = post_form(client, f"{flag_url}/close", {"note": "Called; no plans, safety plan made."},
                         prefix="close", page=flag_url)
    assert response.status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).urgent_since is None
    page = _page(client, episode.id)
    assert ">Urgent</span>" not in page[page.index('id="flags"'):page.index("</section>")]


def test_over_budget_is_highlighted(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    for i in range(4):
        add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() - timedelta(days=30 - i),
                            status="attended", minutes=240)
    actions.login_staff(db, team)
    page = _page(client, episode.id)
    assert re.search(r'badge badge--urgent">Over budget</span>\s*16 of 15 hours used', page)


# --- Trends and item answers ---------------------------------------------------------------------

def test_trend_chart_table_and_item_answers(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    # 31 March 22:30 UTC is already 1 April in Oslo.
    first = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)
    last = datetime(2026, 4, 20, 10, 0, tzinfo=timezone.utc)
    add_episode_response(db, episode=episode, code="PHQ-9", total=16, at=first, item9=2)
    add_episode_response(db, episode=episode, code="PHQ-9", total=11, at=first + timedelta(days=7))
    add_episode_response(db, episode=episode, code="PHQ-9", total=7, at=last)
    add_episode_response(db, episode=episode, code="WSAS", total=22, at=first)
    actions.login_staff(db, team)
    page = _page(client, episode.id)
    assert '<svg class="chart"' in page and 'aria-labelledby="chart-phq9-t chart-phq9-d"' in page
    assert ('<desc id="chart-phq9-d">PHQ-9 went from 16 on 01.04.2026 to 7 on 20.04.2026 (3 measurements).</desc>'
            in page)
    assert '<desc id="chart-wsas-d">WSAS was 22 on 01.04.2026 (one measurement).</desc>' in page
    assert ">01.04</text>" in page and ">20.04</text>" in page and ">31.03</text>" not in page
    table = re.search(r'<table class="table" id="trend-phq9-table">(.*?)</table>', page, re.S).group(1)
    assert "<caption>PHQ-9 scores by date</caption>" in table
    assert re.findall(r"<td>(\d+)</td><td>([^<]+)</td>", table) == [
        ("16", "Moderately severe"), ("11", "Moderate"), ("7", "Mild")]
    assert "chart-gad7" not in page  # no GAD-7 scores, no empty chart
    phq9 = get("PHQ-9", 1)
    details = re.findall(r"<details[^>]*>(.*?)</details>", page, re.S)
    assert len(details) == 4
    flagged = next(d for d in details if "PHQ-9 on" in d and ": 16 (" in d)
    assert 'badge badge--urgent">Item 9 above 0</span>' in flagged
    assert f"9. {phq9.items[8].text['en']}" in flagged
    assert '<strong class="badge badge--urgent">2</strong> (More than half the days)' in flagged
    assert "<summary>" in flagged and "Answers to PHQ-9, item by item" in flagged
    calm = next(d for d in details if ": 7 (" in d)
    assert "badge--urgent" not in calm and "(Not at all)" in calm


# --- Contacts, forms and attendance --------------------------------------------------------------

def test_booking_contacts_plans_forms_and_wsas_on_first_every_fourth_and_last(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    first_day = datetime.now(OSLO).date() + timedelta(days=10)
    for i in range(6):
        data = {"day": (first_day + timedelta(days=7 * i)).isoformat(), "time": "10:30", "duration": "45",
                "kind": "treatment", "mode": "office", "place": "Rådhuset, rom 2"}
        if i == 5:
            data["is_last"] = "y"
        response = post_form(client, f"{url}/contacts", data, prefix="book", page=url)
        assert response.status_code == 302 and response.headers["Location"].endswith(url)
    refresh(db)
    contacts = list(db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)
                               .order_by(Appointment.starts_at)))
    assert [c.is_last for c in contacts] == [False] * 5 + [True]
    assert contacts[0].starts_at == _oslo(first_day, 10, 30).astimezone(timezone.utc)
    assert contacts[0].starts_at.astimezone(OSLO).time() == time(10, 30)
    with_wsas = ["GAD-7", "PHQ-9", "WSAS"]
    without = ["GAD-7", "PHQ-9"]
    assert [_requests(db, c.id) for c in contacts] == [with_wsas, without, without, with_wsas, without, with_wsas]
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contacts[0].id)).first()
    assert request.opens_at == contacts[0].starts_at - timedelta(hours=48)
    page = _page(client, episode.id)
    assert "The contact is booked, and the forms before it are planned." in page
    row = re.search(rf'<tr id="contact-{contacts[0].id}">(.*?)</tr>', page, re.S).group(1)
    assert "Treatment" in row and "At the office, Rådhuset, rom 2" in row and "45 min" in row and "Booked" in row
    assert "PHQ-9: open from" in row and "WSAS: open from" in row


def test_form_states_answered_not_yet_and_open_from(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    soon = outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind="check_in", mode="phone", place=None,
                                 starts_at=utcnow() + timedelta(hours=20), duration_minutes=30)
    later = outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind="course_meeting", mode="video",
                                  place=None, starts_at=_oslo(datetime.now(OSLO).date() + timedelta(days=20), 9),
                                  duration_minutes=90)
    answered = add_episode_response(db, episode=episode, code="PHQ-9", total=13, at=utcnow())
    phq = db.scalars(select(FormRequest).where(FormRequest.appointment_id == soon.id,
                                               FormRequest.instrument_code == "PHQ-9")).one()
    phq.response_id = answered.id
    db.commit()
    page = _page(client, episode.id)
    soon_row = re.search(rf'<tr id="contact-{soon.id}">(.*?)</tr>', page, re.S).group(1)
    assert "Guided self-help check-in" in soon_row and "By phone" in soon_row
    assert "PHQ-9: answered, total 13" in soon_row and "GAD-7: not yet answered" in soon_row
    later_row = re.search(rf'<tr id="contact-{later.id}">(.*?)</tr>', page, re.S).group(1)
    opens = (later.starts_at - timedelta(hours=48)).astimezone(OSLO)
    assert "Course meeting" in later_row and "90 min" in later_row
    assert f"GAD-7: open from {opens.month}/{opens.day}/{opens.strftime('%y')}" in later_row


def test_attendance_dates_first_contact_and_first_treatment(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    other = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    base = utcnow() - timedelta(days=30)
    assessment = add_episode_contact(db, episode=episode, staff=staff, starts_at=base, kind="assessment")
    early = add_episode_contact(db, episode=episode, staff=staff, starts_at=base + timedelta(days=7))
    late = add_episode_contact(db, episode=episode, staff=staff, starts_at=base + timedelta(days=14))
    elsewhere = add_episode_contact(db, episode=other, staff=staff, starts_at=base)
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"

    def mark(contact, status: str):
        return post_form(client, f"{url}/contacts/{contact.id}/attendance", {"status": status},
                         prefix="attendance", page=url)

    assert mark(assessment, "attended").status_code == 302
    refresh(db)
    saved = db.get(Episode, episode.id)
    assert saved.first_contact_at == assessment.starts_at and saved.first_treatment_at is None
    assert mark(late, "attended").status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).first_treatment_at == late.starts_at
    # Marked afterwards, an earlier attended treatment still dates the first treatment.
    assert mark(early, "attended").status_code == 302
    assert mark(early, "no_show").status_code == 302 and mark(early, "attended").status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).first_treatment_at == early.starts_at
    assert mark(late, "cancelled").status_code == 302
    assert "The contact is marked cancelled." in _page(client, episode.id)
    # A contact of another episode cannot be changed through this one.
    assert mark(elsewhere, "attended").status_code == 404
    refresh(db)
    assert db.get(Appointment, elsewhere.id).status == "booked" and db.get(Episode, other.id).first_contact_at is None
    assert [db.get(Appointment, c.id).status for c in (assessment, early, late)] == ["attended", "attended",
                                                                                      "cancelled"]
    page = _page(client, episode.id)
    row = re.search(rf'<tr id="contact-{late.id}">(.*?)</tr>', page, re.S).group(1)
    assert "<td>Cancelled</td>" in row and 'value="cancelled"' not in row and 'value="attended"' in row


# --- Discharge and closure note ------------------------------------------------------------------

def test_discharge_sets_dates_status_and_work_at_end(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    response = post_form(client, f"{url}/discharge",
                         {"work_status_end": "job_seeking", "sick_leave_end": "none", "end_reason": "completed"},
                         prefix="discharge", page=url)
    assert response.status_code == 302
    refresh(db)
    saved = db.get(Episode, episode.id)
    assert saved.discharged_at is not None and abs(saved.discharged_at - utcnow()) < timedelta(minutes=5)
    assert (saved.work_status_end, saved.sick_leave_end, saved.end_reason) == ("job_seeking", "none", "completed")
    assert db.get(Referral, episode.referral_id).status == "closed"
    page = _page(client, episode.id)
    assert "Looking for work; sick leave: No" in page and "Book a contact" not in page
    assert "Arbeid ved slutt: arbeidssøkende" in page
    booked = post_form(client, f"{url}/contacts", {"day": "2027-01-10", "time": "10:00", "duration": "45",
                                                   "kind": "treatment", "mode": "office"}, prefix="book", page=url)
    assert booked.status_code == 302
    assert "The episode has ended, so no more contacts can be booked." in _page(client, episode.id)
    refresh(db)
    assert list(db.scalars(select(Appointment).where(Appointment.episode_id == episode.id))) == []


def test_closure_note_has_start_and_end_scores_and_a_copy_button(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    episode.referred_at = datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)  # 1 March in Oslo
    start = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    for i, (phq, gad) in enumerate([(16, 12), (12, 9), (7, 5)]):
        add_episode_response(db, episode=episode, code="PHQ-9", total=phq, at=start + timedelta(days=7 * i))
        add_episode_response(db, episode=episode, code="GAD-7", total=gad, at=start + timedelta(days=7 * i))
        add_episode_contact(db, episode=episode, staff=staff, starts_at=start + timedelta(days=7 * i),
                            status="attended", minutes=60)
    actions.login_staff(db, team)
    page = _page(client, episode.id)
    note = re.search(r'<pre id="closure-note">(.*?)</pre>', page, re.S).group(1)
    assert "henvist 01.03.2026" in note
    assert "PHQ-9: 16 ved start, 7 ved slutt." in note and "GAD-7: 12 ved start, 5 ved slutt." in note
    assert "Gjennomførte kontakter: 3 (behandling: 3), 3.0 timer behandling." in note
    assert '<button type="button" class="button--secondary" data-copy-target="closure-note"' in page


# --- Query count ---------------------------------------------------------------------------------

def _history(db, *, team, staff, size: int) -> Episode:
    """An episode with `size` contacts (forms planned, most answered) and PHQ-9/GAD-7 responses."""
    episode = make_monitored_episode(db, team=team)
    first = utcnow() - timedelta(days=7 * size)
    for i in range(size):
        at = first + timedelta(days=7 * i)
        contact = outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind="treatment", mode="office",
                                        place="Rom 1", starts_at=at, duration_minutes=45)
        outcomes.record_attendance(db, actor=staff, appointment_id=contact.id, status="attended")
        for code, total in (("PHQ-9", 10 + i % 5), ("GAD-7", 8 + i % 4)):
            response = add_episode_response(db, episode=episode, code=code, total=total, at=at - timedelta(hours=3))
            request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                           FormRequest.instrument_code == code)).one()
            request.response_id = response.id
    db.commit()
    return episode


def test_episode_page_query_count_does_not_grow_with_the_history(db, actions, client, count_queries):
    team = make_team(db)
    staff = actions.login_staff(db, team)
    # One contact (fewer answers than the page shows in full), three, and thirty.
    episodes = [_history(db, team=team, staff=staff, size=size) for size in (1, 3, 30)]
    counts, pages = [], []
    for episode in episodes:
        with count_queries() as statements:
            response = client.get(f"/therapist/episodes/{episode.id}")
        assert response.status_code == 200
        counts.append([s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))])
        pages.append(response.get_data(as_text=True))
    assert len(counts[0]) == len(counts[1]) == len(counts[2]), counts
    # Every statement is a different one: nothing is read row by row.
    assert len(set(counts[2])) == len(counts[2]), counts[2]
    assert sum(s.startswith("INSERT INTO audit_event") for s in counts[2]) == 1  # the read is audited once
    # Issue 15: the newest answers in full, the older ones a link away (they were all here).
    assert pages[2].count("<details") == outcomes.LATEST_ANSWERS
    assert f"Show {60 - outcomes.LATEST_ANSWERS} older answers" in pages[2]
    assert pages[0].count("<details") == 2 and "older answers" not in pages[0]


# --- Bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message, kept", [
    ({"day": "2026-13-45", "time": "10:00", "duration": "45", "kind": "treatment", "mode": "video",
      "place": "Videolenke"}, "Not a valid date value", "Videolenke"),
    ({"day": "0202-01-01", "time": "", "duration": "45", "kind": "treatment", "mode": "phone"},
     "Enter the time.", None),
    ({"day": "2027-01-10", "time": "10:00", "duration": "5", "kind": "treatment", "mode": "office"},
     "Enter a length from 15 to 240 minutes.", 'value="5"'),
    ({"day": "2027-01-10", "time": "10:00", "duration": "241", "kind": "treatment", "mode": "office"},
     "Enter a length from 15 to 240 minutes.", 'value="241"'),
    ({"day": "2027-01-10", "time": "10:00", "duration": "99999999999999999999999", "kind": "treatment",
      "mode": "office"}, "Enter a length from 15 to 240 minutes.", None),
    ({"day": "2027-01-10", "time": "10:00", "duration": "en time", "kind": "treatment", "mode": "office"},
     "Not a valid integer value", None),
    ({"day": "2027-01-10", "time": "25:61", "duration": "45", "kind": "treatment", "mode": "office"},
     "Not a valid time value", None),
    ({"day": "2027-01-10", "time": "10:00", "duration": "45", "kind": "therapy_dog", "mode": "office"},
     "Not a valid choice", None),
    ({"day": "2027-01-10", "time": "10:00", "duration": "45", "kind": "treatment", "mode": "carrier-pigeon",
      "place": "Taket"}, "Not a valid choice", "Taket"),
    ({"day": "2027-01-10", "time": "10:00", "duration": "45", "kind": "treatment", "mode": "office",
      "place": "Rom\x001"}, "invisible control character", "Rom\ufffd1"),
    ({"day": "2027-01-10", "time": "10:00", "duration": "45", "kind": "treatment", "mode": "office",
      "place": "x" * 201}, "Use at most 200 characters.", "x" * 201),
    ({}, "Enter the date.", None),
])
def test_bad_booking_input_is_a_400_with_the_error_and_what_was_typed(db, actions, client, data, message, kept):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    response = post_form(client, f"{url}/contacts", data, prefix="book", page=url)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message.lower() in page.lower() and 'id="error-summary"' in page
    if kept:
        assert kept in page
    refresh(db)
    assert list(db.scalars(select(Appointment).where(Appointment.episode_id == episode.id))) == []


@pytest.mark.parametrize("action, prefix, data, message", [
    ("discharge", "discharge", {}, "Choose the work status at the end."),
    ("discharge", "discharge", {"work_status_end": "working", "sick_leave_end": "none"},
     "Choose why the episode ends."),
    ("discharge", "discharge", {"work_status_end": "working", "sick_leave_end": "none", "end_reason": "bored"},
     "Not a valid choice"),
    ("discharge", "discharge", {"work_status_end": "astronaut", "sick_leave_end": "none", "end_reason": "completed"},
     "Not a valid choice"),
    ("discharge", "discharge", {"work_status_end": "working", "sick_leave_end": "half", "end_reason": "completed"},
     "Not a valid choice"),
    ("contacts/{contact}/attendance", "attendance", {"status": "booked"}, "Not a valid choice"),
    ("contacts/{contact}/attendance", "attendance", {"status": "<script>"}, "Not a valid choice"),
    ("contacts/{contact}/attendance", "attendance", {}, "Choose attended, did not attend or cancelled."),
])
def test_bad_action_input_is_a_400_and_changes_nothing(db, actions, client, action, prefix, data, message):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    contact = add_episode_contact(db, episode=episode, staff=make_staff(db, teams=[team])[0], starts_at=utcnow())
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    response = post_form(client, f"{url}/{action.format(contact=contact.id)}", data, prefix=prefix, page=url)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    refresh(db)
    assert db.get(Episode, episode.id).discharged_at is None and db.get(Appointment, contact.id).status == "booked"


def test_unknown_ids_and_missing_csrf_are_not_500(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    episode.urgent_since = utcnow()
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    assert client.get("/therapist/episodes/0").status_code == 404
    assert client.get("/therapist/episodes/99999999999999999999999").status_code == 404
    assert client.get("/therapist/episodes/9223372036854775807").status_code == 404
    assert post_form(client, f"{url}/contacts/99999999999999999999999/attendance",
                     {"status": "attended"}, prefix="attendance", page=url).status_code == 404
    assert post_form(client, f"{url}/contacts/2147483647/attendance",
                     {"status": "attended"}, prefix="attendance", page=url).status_code == 404
    # The old "Followed up" button is gone: closing needs a note.
    assert client.post(f"{url}/followed-up", data={}).status_code == 404
    assert client.post(f"{url}/discharge", data={"discharge-work_status_end": "working",
                                                 "discharge-sick_leave_end": "none",
                                                 "discharge-end_reason": "completed"}).status_code == 400
    refresh(db)
    saved = db.get(Episode, episode.id)
    assert saved.urgent_since is not None and saved.discharged_at is None


def test_page_renders_in_bokmal(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    add_episode_response(db, episode=episode, code="PHQ-9", total=12, at=utcnow() - timedelta(days=3), item9=1)
    add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() - timedelta(days=3), status="attended",
                        minutes=90)
    episode.urgent_since = utcnow()
    staff, secret = make_staff(db, teams=[team])
    staff.locale = "nb"
    db.commit()
    actions.staff_login(staff.username, PASSWORD, secret)
    response = client.get(f"/therapist/episodes/{episode.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'lang="nb"' in page and "1,5 av 15 timer" in page


# --- Markup --------------------------------------------------------------------------------------

def test_the_episode_pages_choice_lists_are_the_shared_choice_groups(app):
    """The episode page writes its radio buttons and checkboxes out directly (issue 15: WTForms'
    widget per option was a third of its rendering); they must stay `choice_group`'s markup, with
    and without errors, checked or not."""
    template = app.jinja_env.from_string(
        '{% from "_macros/forms.html" import choice_group %}{% from "therapist/_episode_choices.html" import '
        'choice_list %}{{ choice_group(f, hint=hint) }}|{{ choice_list(f, hint=hint) }}')
    with app.test_request_context():
        saved = [DischargeForm(formdata=None, prefix="discharge", end_reason="other", work_status_end="working",
                               sick_leave_end="graded"),
                 InstrumentsForm(formdata=None, prefix="instruments", instruments=["PHQ-9", "WSAS"]),
                 OfferingChangeForm(formdata=None, prefix="change", offerings=["course"])]
        posted = [DischargeForm(formdata=MultiDict(), prefix="discharge"),
                  OfferingChangeForm(formdata=MultiDict({"change-note": "Kort notat"}), prefix="change")]
        for form in posted:
            assert not form.validate()
        fields = [f for form in saved + posted for f in form if f.type in ("RadioField", "MultiCheckboxField")]
        assert len(fields) == 9 and sum(bool(f.errors) for f in fields) == 4
        for f in fields:
            for hint in (None, "Choosing none is allowed."):
                shared, ours = template.render(f=f, hint=hint).split("|")
                assert " ".join(ours.split()) == " ".join(shared.split()), f.id


def test_the_referral_pages_checkboxes_are_the_shared_fields(app):
    """The referral page's intake checklist and offerings are written out directly as well; they
    must stay the markup of `field` and of the offerings' own loop."""
    template = app.jinja_env.from_string(
        '{% from "_macros/forms.html" import field %}{% from "therapist/_episode_choices.html" import checkbox, '
        'option_boxes %}{% if boxes %}{% for option in f %}<div class="checkbox">{{ option(required=False) }} '
        '{{ option.label() }}</div>{% endfor %}|{{ option_boxes(f) }}{% else %}{{ field(f) }}|{{ checkbox(f) }}'
        '{% endif %}')
    with app.test_request_context():
        checklist = IntakeChecklistForm(formdata=None, prefix="checklist", why_now=True, goals=True)
        offerings = OfferingsForm(formdata=None, prefix="offerings", offerings=["course", "group"])
        fields = [(f, False) for f in checklist if f.type == "BooleanField"] + [(offerings.offerings, True)]
        assert len(fields) == 16
        for f, boxes in fields:
            shared, ours = template.render(f=f, boxes=boxes).split("|")
            assert re.sub(r">\s+<", "><", ours.strip()) == re.sub(r">\s+<", "><", shared.strip()), f.id
        assert 'checked id="checklist-why_now"' in template.render(f=checklist.why_now, boxes=False)
