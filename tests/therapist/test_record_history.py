"""Pages that stay small as a record grows (issue 15): the episode page shows the newest answers and
the latest contacts in full and links to the older ones, which are paged, access-checked and
audited; the referral page does the same for contact attempts and contacts; charts draw a bounded
number of points. Rows are bulk inserted to keep the tests fast."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, insert, select

from rph_pwa import charts
from rph_pwa.db import utcnow
from rph_pwa.measures import score
from rph_pwa.models import Appointment, AuditEvent, ContactAttempt, MeasureResponse
from rph_pwa.services.outcomes import HISTORY_CHUNK, LATEST_ANSWERS, LATEST_CONTACTS
from rph_pwa.services.triage import LATEST_ATTEMPTS
from tests.factories import make_monitored_episode, make_staff, make_team

PHQ = score("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
GAD = score("GAD-7", [2, 1, 1, 1, 1, 1, 1])


def _answers(db, episode, count: int) -> list[int]:
    """`count` PHQ-9/GAD-7 answers in the episode, a day apart, the newest yesterday; their ids, oldest first."""
    start = utcnow() - timedelta(days=count)
    rows = [{"resident_id": episode.resident_id, "episode_id": episode.id, "instrument_code": result.code,
             "instrument_version": str(result.version), "answers": list(result.answers), "total": result.total,
             "band": result.band, "flags": "", "submitted_at": start + timedelta(days=i)}
            for i, result in enumerate((PHQ, GAD)[i % 2] for i in range(count))]
    db.execute(insert(MeasureResponse.__table__), rows)
    db.commit()
    return list(db.scalars(select(MeasureResponse.id).where(MeasureResponse.episode_id == episode.id)
                           .order_by(MeasureResponse.submitted_at)))


def _contacts(db, episode, staff, count: int) -> None:
    start = utcnow() - timedelta(days=count)
    db.execute(insert(Appointment.__table__), [
        {"episode_id": episode.id, "staff_id": staff.id, "kind": "treatment", "mode": "office",
         "starts_at": start + timedelta(days=i), "duration_minutes": 45, "status": "attended"} for i in range(count)])
    db.commit()


def _audited(db, object_type: str) -> int:
    db.rollback()  # a fresh read: the app committed its events in its own session
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == object_type))


def test_the_episode_page_shows_the_newest_answers_and_links_to_the_older_ones(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team)
    episode = make_monitored_episode(db, team=team)
    ids = _answers(db, episode, 60)

    page = client.get(f"/therapist/episodes/{episode.id}").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'<details id="response-(\d+)"', page)]
    assert shown == ids[::-1][:LATEST_ANSWERS]  # the newest, newest first
    older = 60 - LATEST_ANSWERS
    assert f'<a href="/therapist/episodes/{episode.id}/answers">Show {older} older answers</a>' in page

    before = _audited(db, "episode_answers")
    first = client.get(f"/therapist/episodes/{episode.id}/answers").get_data(as_text=True)
    chunk = [int(i) for i in re.findall(r'<details id="response-(\d+)"', first)]
    assert chunk == ids[::-1][LATEST_ANSWERS:LATEST_ANSWERS + HISTORY_CHUNK]
    assert f"{older} older answers, the newest first." in first
    assert f'href="/therapist/episodes/{episode.id}/answers?page=2"' in first
    second = client.get(f"/therapist/episodes/{episode.id}/answers?page=2").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<details id="response-(\d+)"', second)] == \
        ids[::-1][LATEST_ANSWERS + HISTORY_CHUNK:]
    assert 'rel="next"' not in second and f'href="/therapist/episodes/{episode.id}/answers?page=1"' in second
    assert _audited(db, "episode_answers") == before + 2  # one event per view

    # A page past the end gives the last; a page that is not a number gives the first (never a 500).
    past = client.get(f"/therapist/episodes/{episode.id}/answers?page=99").get_data(as_text=True)
    assert re.findall(r'<details id="response-(\d+)"', past) == re.findall(r'<details id="response-(\d+)"', second)
    assert client.get(f"/therapist/episodes/{episode.id}/answers?page=x").status_code == 200
    assert client.get(f"/therapist/episodes/{episode.id}/answers?page=-3").status_code == 200


def test_older_answers_contacts_and_attempts_are_not_shown_to_another_team(db, actions, client):
    team, other = make_team(db), make_team(db)
    owner, _secret = make_staff(db, teams=[team])
    episode = make_monitored_episode(db, team=team)
    _answers(db, episode, 30)
    _contacts(db, episode, owner, 15)
    actions.login_staff(db, other)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    for path in (f"/therapist/episodes/{episode.id}/answers", f"/therapist/episodes/{episode.id}/earlier-contacts",
                 f"/therapist/referrals/{episode.referral_id}/earlier-attempts"):
        assert client.get(path).status_code == 404, path
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_the_episode_page_shows_the_latest_contacts_and_links_to_the_earlier_ones(db, actions, client):
    team = make_team(db)
    staff = actions.login_staff(db, team)
    episode = make_monitored_episode(db, team=team)
    _contacts(db, episode, staff, LATEST_CONTACTS + 7)

    page = client.get(f"/therapist/episodes/{episode.id}").get_data(as_text=True)
    assert page.count('<tr id="contact-') == LATEST_CONTACTS
    assert f'<a href="/therapist/episodes/{episode.id}/earlier-contacts">Show 7 earlier contacts</a>' in page
    before = _audited(db, "episode_contacts")
    earlier = client.get(f"/therapist/episodes/{episode.id}/earlier-contacts").get_data(as_text=True)
    assert earlier.count('<tr id="contact-') == 7 and "7 earlier contacts, the latest first." in earlier
    assert f'action="/therapist/episodes/{episode.id}/contacts/' in earlier  # still marked from here
    assert _audited(db, "episode_contacts") == before + 1
    # The closure note still counts every attended contact, not only those shown.
    assert f"Gjennomførte kontakter: {LATEST_CONTACTS + 7} (behandling: {LATEST_CONTACTS + 7})" in page


def test_the_referral_page_shows_the_latest_attempts_and_contacts(db, actions, client):
    team = make_team(db)
    staff = actions.login_staff(db, team)
    episode = make_monitored_episode(db, team=team)
    _contacts(db, episode, staff, LATEST_CONTACTS + 4)
    start = utcnow() - timedelta(days=40)
    db.execute(insert(ContactAttempt.__table__), [
        {"referral_id": episode.referral_id, "staff_id": staff.id, "at": start + timedelta(hours=i), "method": "phone",
         "outcome": "no_answer", "note": f"Forsøk {i}."} for i in range(LATEST_ATTEMPTS + 5)])
    db.commit()

    page = client.get(f"/therapist/referrals/{episode.referral_id}").get_data(as_text=True)
    assert f"Forsøk {LATEST_ATTEMPTS + 4}." in page and "Forsøk 4." not in page
    assert (f'<a href="/therapist/referrals/{episode.referral_id}/earlier-attempts">'
            f"Show 5 earlier contact attempts</a>") in page
    assert f'<a href="/therapist/episodes/{episode.id}/earlier-contacts">Show 4 earlier contacts</a>' in page
    before = _audited(db, "contact_attempts")
    earlier = client.get(f"/therapist/referrals/{episode.referral_id}/earlier-attempts").get_data(as_text=True)
    assert all(f"Forsøk {i}." in earlier for i in range(5)) and f"Forsøk {LATEST_ATTEMPTS}." not in earlier
    assert _audited(db, "contact_attempts") == before + 1


def test_episode_and_referral_pages_make_the_same_queries_for_10_and_120_answers(db, actions, client, count_queries):
    team = make_team(db)
    staff = actions.login_staff(db, team)
    short, long = make_monitored_episode(db, team=team), make_monitored_episode(db, team=team)
    for episode, size, contacts in ((short, 10, LATEST_CONTACTS + 2), (long, 120, 60)):
        _answers(db, episode, size)
        _contacts(db, episode, staff, contacts)

    def queries(path: str) -> tuple[int, int]:
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements), len(response.data)

    for page in ("/therapist/episodes/{}", "/therapist/referrals/{}", "/therapist/episodes/{}/answers",
                 "/therapist/episodes/{}/earlier-contacts"):
        ids = (short.id, long.id) if "episodes" in page else (short.referral_id, long.referral_id)
        (few, _), (many, size) = queries(page.format(ids[0])), queries(page.format(ids[1]))
        assert many == few, page
        assert size < 100 * 1024, page


def test_a_chart_draws_a_bounded_number_of_points_that_keep_its_shape():
    points = [charts.ChartPoint(utcnow(), (i * 7) % 23, str(i)) for i in range(1000)]
    points[500] = charts.ChartPoint(utcnow(), 27, "peak")
    kept = charts.downsample(points)
    assert len(kept) <= charts.MAX_POINTS and kept[0] is points[0] and kept[-1] is points[-1]
    assert points[500] in kept and min(p.value for p in kept) == 0
    order = [500 if p.label == "peak" else int(p.label) for p in kept]
    assert order == sorted(order)
    svg = charts.line_chart(points, max_value=27, title="PHQ-9", description="d", chart_id="c")
    assert svg.count("<circle") <= charts.MAX_POINTS and len(svg) < 8 * 1024
    few = points[:5]
    assert charts.downsample(few) == few
