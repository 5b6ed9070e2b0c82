"""Urgent flags: raised by an urgent referral and by item 9 on a form, never duplicated while open,
listed oldest first for the actor's teams only, every read audited, actions recorded, closed only
with a note (service, HTTP and database), the episode's urgent mark ending with its last open flag,
and closed flags kept and listed."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rph_pwa.db import utcnow
from rph_pwa.measures import get
from rph_pwa.models import AuditEvent, Episode, FormRequest, Role, UrgentFlag, UrgentFlagAction, User
from rph_pwa.models.safety import FLAG_ACTIONS
from rph_pwa.services import outcomes, urgent_flags
from rph_pwa.services.errors import Conflict, NotFound
from rph_pwa.services.referral_drafts import save_section, start_draft
from rph_pwa.services.referral_submission import submit_referral
from rph_pwa.therapist.urgent_views import ACTION_LABELS
from tests.conftest import post_form, refresh
from tests.factories import (
    make_monitored_episode,
    make_referral,
    make_resident,
    make_staff,
    make_team,
    referral_answers,
)


def _audit(db, resident_id: int) -> list[tuple]:
    return [(e.actor_id, e.action, e.object_type, e.object_id) for e in db.scalars(
        select(AuditEvent).where(AuditEvent.subject_id == resident_id).order_by(AuditEvent.id))]


def _flags(db, resident_id: int) -> list[UrgentFlag]:
    return list(db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident_id).order_by(UrgentFlag.id)))


def _submit_referral(db, *, team, crisis: str, item9: int):
    """A complete draft submitted through the service, as the review step does."""
    resident = make_resident(db, team=team)
    stored = referral_answers()
    draft, key = start_draft(db, eligibility={"age": 30, "municipality_id": team.municipalities[0].id,
                                              "crisis": crisis, "complete": True})
    for section in ("troubles", "work", "contact"):
        save_section(db, draft=draft, section=section, values=stored[section])
    for code in ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C"):
        answers = [0] * len(get(code).items)
        if code == "PHQ-9":
            answers[8] = item9
        save_section(db, draft=draft, section=code, values={"answers": answers, "functioning": 0, "complete": True})
    return submit_referral(db, draft_key=key, resident=resident).referral


def _form_with_item9(db, *, episode, therapist, item9: int = 2):
    """Book a contact (its forms open now) and let the resident send a PHQ-9 with item 9."""
    contact = outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="treatment",
                                    starts_at=utcnow() + timedelta(hours=24), duration_minutes=45, mode="phone",
                                    place=None)
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    answers = [1] * 9
    answers[8] = item9
    resident = db.get(User, episode.resident_id)
    return outcomes.submit_form(db, resident=resident, request_id=request.id, answers=answers, functioning=0)


def _flag(db, team, *, reason: str = "item9", days_ago: int = 0, name: str = "Test Testesen", episode=None):
    resident = make_resident(db, team=team, name=name) if episode is None else None
    return urgent_flags.raise_flag(db, resident_id=episode.resident_id if episode else resident.id, team_id=team.id,
                                   reason=reason, episode_id=episode.id if episode else None,
                                   now=utcnow() - timedelta(days=days_ago))


# --- Raising -----------------------------------------------------------------------------------

def test_urgent_referral_raises_one_flag_per_reason_for_the_referral_team(db):
    team = make_team(db)
    referral = _submit_referral(db, team=team, crisis="yes", item9=1)
    assert referral.urgent_reason == "item9,crisis"
    flags = _flags(db, referral.resident_id)
    assert sorted(f.reason for f in flags) == ["crisis", "item9"]
    assert all((f.team_id, f.referral_id, f.episode_id, f.closed_at) == (team.id, referral.id, None, None)
               for f in flags)
    calm = _submit_referral(db, team=team, crisis="no", item9=0)
    assert not calm.urgent and _flags(db, calm.resident_id) == []


def test_item9_on_a_form_raises_one_flag_on_the_episode_and_marks_it_urgent(db):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    episode = make_monitored_episode(db, team=team)
    assert _form_with_item9(db, episode=episode, therapist=therapist).urgent
    [flag] = _flags(db, episode.resident_id)
    assert (flag.reason, flag.team_id, flag.episode_id, flag.closed_at) == ("item9", team.id, episode.id, None)
    since = db.get(Episode, episode.id).urgent_since
    assert since == flag.raised_at
    _form_with_item9(db, episode=episode, therapist=therapist, item9=3)  # another form: the open flag is reused
    assert [f.id for f in _flags(db, episode.resident_id)] == [flag.id]
    assert db.get(Episode, episode.id).urgent_since == since
    assert not _form_with_item9(db, episode=episode, therapist=therapist, item9=0).urgent
    assert len(_flags(db, episode.resident_id)) == 1


def test_an_open_referral_flag_is_reused_by_a_form_and_gains_the_episode(db):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    referral = _submit_referral(db, team=team, crisis="no", item9=2)
    [flag] = _flags(db, referral.resident_id)
    _form_with_item9(db, episode=referral.episode, therapist=therapist)
    assert [f.id for f in _flags(db, referral.resident_id)] == [flag.id]
    assert (flag.referral_id, flag.episode_id) == (referral.id, referral.episode.id)
    urgent_flags.close_flag(db, actor=therapist, flag_id=flag.id, note="Called the same day.")
    assert db.get(Episode, referral.episode.id).urgent_since is None


def test_no_duplicate_open_flag_for_a_reason_but_a_new_one_after_closing(db):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    first = _flag(db, team)
    again = urgent_flags.raise_flag(db, resident_id=first.resident_id, team_id=team.id, reason="item9")
    crisis = urgent_flags.raise_flag(db, resident_id=first.resident_id, team_id=team.id, reason="crisis")
    assert again.id == first.id and crisis.id != first.id
    urgent_flags.close_flag(db, actor=therapist, flag_id=first.id, note="Followed up by phone.")
    later = urgent_flags.raise_flag(db, resident_id=first.resident_id, team_id=team.id, reason="item9")
    assert later.id not in (first.id, crisis.id)
    assert len(_flags(db, first.resident_id)) == 3
    with pytest.raises(ValueError):
        urgent_flags.raise_flag(db, resident_id=first.resident_id, team_id=team.id, reason="sad")


# --- Listing and reading -------------------------------------------------------------------------

def test_open_flags_are_oldest_first_for_my_teams_only_and_every_row_is_audited(db):
    mine, theirs = make_team(db), make_team(db)
    therapist = make_staff(db, teams=[mine])[0]
    newer, older, middle = _flag(db, mine, days_ago=1), _flag(db, mine, days_ago=5), _flag(db, mine, days_ago=3)
    foreign = _flag(db, theirs, days_ago=9)
    closed = _flag(db, mine, days_ago=7)
    urgent_flags.close_flag(db, actor=therapist, flag_id=closed.id, note="Safety plan made; calmer.")
    flags = urgent_flags.open_flags(db, actor=therapist)
    assert [f.id for f in flags] == [older.id, middle.id, newer.id]
    for flag in (older, middle, newer):
        assert _audit(db, flag.resident_id) == [(therapist.id, "view_urgent_flag", "urgent_flag_summary", flag.id)]
    assert _audit(db, foreign.resident_id) == []
    assert [f.id for f in urgent_flags.closed_flags(db, actor=therapist)] == [closed.id]
    assert urgent_flags.count_open(db, actor=therapist) == 3
    admin = make_staff(db, role=Role.ADMIN, teams=[mine])[0]
    with pytest.raises(NotFound):
        urgent_flags.open_flags(db, actor=admin)
    with pytest.raises(NotFound):
        urgent_flags.flag_for_staff(db, actor=therapist, flag_id=foreign.id)


def test_list_page_shows_open_and_closed_flags_and_is_linked_from_workspace_and_triage(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    colleague = make_staff(db, teams=[mine])[0]
    waiting = _flag(db, mine, days_ago=2, name="Åse Venter")
    urgent_flags.add_action(db, actor=colleague, flag_id=waiting.id, kind="called", note="No answer.")
    done = _flag(db, mine, reason="crisis", days_ago=4, name="Bjørn Ferdig")
    urgent_flags.close_flag(db, actor=colleague, flag_id=done.id, note="Referred to DPS; they took over.")
    _flag(db, theirs, name="Ikke Ditt Flagg")
    staff = actions.login_staff(db, mine)
    response = client.get("/therapist/urgent")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Ikke Ditt Flagg" not in page
    open_part, closed_part = page[page.index('id="open-flags"'):page.index('id="closed-flags"')], \
        page[page.index('id="closed-flags"'):]
    assert "Åse Venter" in open_part and "PHQ-9 item 9 above 0" in open_part
    assert "Called the person" in open_part and f'href="/therapist/urgent/{waiting.id}"' in open_part
    assert "Bjørn Ferdig" in closed_part and "Referred to DPS; they took over." in closed_part
    assert "Said they are in crisis now" in closed_part
    refresh(db)
    assert _audit(db, waiting.resident_id)[-1] == (staff.id, "view_urgent_flag", "urgent_flag_summary", waiting.id)
    assert _audit(db, done.resident_id)[-1] == (staff.id, "view_urgent_flag", "urgent_flag_summary", done.id)
    workspace = client.get("/therapist/").get_data(as_text=True)
    assert 'href="/therapist/urgent">Urgent flags: 1 open</a>' in workspace
    triage = client.get("/therapist/triage").get_data(as_text=True)
    assert "1 urgent flag is open" in triage and 'href="/therapist/urgent"' in triage


def test_list_page_queries_do_not_grow_with_the_flags(db, actions, client, count_queries):
    team = make_team(db)
    colleague = make_staff(db, teams=[team])[0]
    actions.login_staff(db, team)

    def add(n: int) -> None:
        for _ in range(n):
            flag = _flag(db, team)
            urgent_flags.add_action(db, actor=colleague, flag_id=flag.id, kind="called", note=None)
            closed = _flag(db, team, reason="crisis")
            urgent_flags.close_flag(db, actor=colleague, flag_id=closed.id, note="Done.")
        db.commit()

    with count_queries() as statements:
        add(2)
        statements.clear()
        assert client.get("/therapist/urgent").status_code == 200
        few = len(statements)
        add(6)
        statements.clear()
        assert client.get("/therapist/urgent").status_code == 200
        many = len(statements)
    assert many == few, statements


def test_flag_page_is_audited_and_other_teams_get_404_without_an_audit_event(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    own = _flag(db, mine, name="Kari Flagg")
    foreign = _flag(db, theirs, name="Ikke Ditt Flagg")
    staff = actions.login_staff(db, mine)
    response = client.get(f"/therapist/urgent/{own.id}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Urgent flag: Kari Flagg" in page
    assert 'name="action-csrf_token"' in page and 'name="close-csrf_token"' in page
    assert "style=" not in page and "<style" not in page
    page_url = f"/therapist/urgent/{own.id}"
    url = f"/therapist/urgent/{foreign.id}"
    assert client.get(url).status_code == 404 and client.get("/therapist/urgent/0").status_code == 404
    assert post_form(client, f"{url}/actions", {"kind": "called"}, prefix="action", page=page_url).status_code == 404
    assert post_form(client, f"{url}/actions", {"kind": "nonsense"}, prefix="action", page=page_url).status_code == 404
    assert post_form(client, f"{url}/close", {"note": "Mine now."}, prefix="close", page=page_url).status_code == 404
    assert post_form(client, f"{url}/close", {"note": ""}, prefix="close", page=page_url).status_code == 404
    refresh(db)
    assert _audit(db, foreign.resident_id) == []
    saved = db.get(UrgentFlag, foreign.id)
    assert saved.closed_at is None and saved.actions == []
    assert _audit(db, own.resident_id)[0] == (staff.id, "view_urgent_flag", "urgent_flag", own.id)


# --- Actions and closing --------------------------------------------------------------------------

def test_actions_are_recorded_with_staff_and_kind(db, actions, client):
    team = make_team(db)
    flag = _flag(db, team)
    staff = actions.login_staff(db, team)
    url = f"/therapist/urgent/{flag.id}"
    response = post_form(client, f"{url}/actions", {"kind": "risk_assessment", "note": "Psykolog Hansen."},
                         prefix="action", page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert post_form(client, f"{url}/actions", {"kind": "called", "note": ""},
                     prefix="action", page=url).status_code == 302
    bad = post_form(client, f"{url}/actions", {"kind": "hugged", "note": "Kept text"}, prefix="action", page=url)
    assert bad.status_code == 400 and "Kept text" in bad.get_data(as_text=True)
    refresh(db)
    rows = list(db.scalars(select(UrgentFlagAction).where(UrgentFlagAction.flag_id == flag.id)
                           .order_by(UrgentFlagAction.id)))
    assert [(a.staff_id, a.kind, a.note) for a in rows] == [(staff.id, "risk_assessment", "Psykolog Hansen."),
                                                           (staff.id, "called", None)]
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Formal suicide risk assessment by a doctor or psychologist" in page and "Psykolog Hansen." in page
    refresh(db)  # an SQLite reader with an old snapshot could not write
    with pytest.raises(ValueError):
        urgent_flags.add_action(db, actor=staff, flag_id=flag.id, kind="hugged", note=None)
    urgent_flags.close_flag(db, actor=staff, flag_id=flag.id, note="Assessed; low risk, plan agreed.")
    with pytest.raises(Conflict):
        urgent_flags.add_action(db, actor=staff, flag_id=flag.id, kind="called", note=None)
    assert set(ACTION_LABELS) == set(FLAG_ACTIONS)


def test_closing_needs_a_note_in_http_service_and_database(db, actions, client):
    team = make_team(db)
    flag = _flag(db, team)
    staff = actions.login_staff(db, team)
    url = f"/therapist/urgent/{flag.id}"
    for note in ("", "   "):
        response = post_form(client, f"{url}/close", {"note": note}, prefix="close", page=url)
        assert response.status_code == 400
        assert "Write what was done and why the flag can be closed." in html.unescape(response.get_data(as_text=True))
    long_note = "Ringte. " + "x" * 2100
    response = post_form(client, f"{url}/close", {"note": long_note}, prefix="close", page=url)
    assert response.status_code == 400 and long_note in response.get_data(as_text=True)  # the text is kept
    refresh(db)
    assert db.get(UrgentFlag, flag.id).closed_at is None
    with pytest.raises(ValueError):
        urgent_flags.close_flag(db, actor=staff, flag_id=flag.id, note="  ")
    raw = db.get(UrgentFlag, flag.id)
    raw.closed_at, raw.closed_by_id = utcnow(), staff.id
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    raw = db.get(UrgentFlag, flag.id)
    raw.closing_note = "A note but not closed"
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    response = post_form(client, f"{url}/close", {"note": "Called; safety plan made together."},
                         prefix="close", page=url)
    assert response.status_code == 302
    refresh(db)
    saved = db.get(UrgentFlag, flag.id)
    assert saved.closed_at is not None and saved.closed_by_id == staff.id
    assert saved.closing_note == "Called; safety plan made together."
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Called; safety plan made together." in page and 'action="' + url + '/close"' not in page
    with pytest.raises(Conflict):
        urgent_flags.close_flag(db, actor=staff, flag_id=flag.id, note="Again.")


def test_closing_ends_the_episode_mark_only_with_its_last_open_flag(db):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    episode = make_monitored_episode(db, team=team)
    item9 = urgent_flags.raise_flag(db, resident_id=episode.resident_id, team_id=team.id, reason="item9",
                                    episode_id=episode.id)
    crisis = urgent_flags.raise_flag(db, resident_id=episode.resident_id, team_id=team.id, reason="crisis",
                                     episode_id=episode.id)
    assert db.get(Episode, episode.id).urgent_since is not None
    assert [(e.episode_id, e.flag_id) for e in outcomes.urgent_episodes(db, actor=therapist)] == [
        (episode.id, item9.id)]
    urgent_flags.close_flag(db, actor=therapist, flag_id=item9.id, note="Called.")
    assert db.get(Episode, episode.id).urgent_since is not None
    urgent_flags.close_flag(db, actor=therapist, flag_id=crisis.id, note="Seen at legevakt, stable.")
    assert db.get(Episode, episode.id).urgent_since is None
    assert outcomes.urgent_episodes(db, actor=therapist) == []


def test_clear_urgent_no_longer_clears_silently(db):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    episode = make_monitored_episode(db, team=team)
    episode.urgent_since = utcnow()  # a mark made before flags existed
    db.flush()
    with pytest.raises(ValueError):
        outcomes.clear_urgent(db, actor=therapist, episode_id=episode.id)
    assert db.get(Episode, episode.id).urgent_since is not None and _flags(db, episode.resident_id) == []
    outcomes.clear_urgent(db, actor=therapist, episode_id=episode.id, note="Called; no current plans.")
    [flag] = _flags(db, episode.resident_id)
    assert flag.closing_note == "Called; no current plans." and db.get(Episode, episode.id).urgent_since is None


def test_closed_flags_stay_listed_and_are_never_deleted(db, actions, client):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    referral = make_referral(db, team=team, urgent=True)
    flag = urgent_flags.raise_flag(db, resident_id=referral.resident_id, team_id=team.id, reason="crisis",
                                   referral_id=referral.id)
    urgent_flags.add_action(db, actor=therapist, flag_id=flag.id, kind="referred_legevakt", note="Drove there.")
    urgent_flags.close_flag(db, actor=therapist, flag_id=flag.id, note="Legevakt took over the same evening.")
    actions.login_staff(db, team)
    page = html.unescape(client.get("/therapist/urgent").get_data(as_text=True))
    closed_part = page[page.index('id="closed-flags"'):]
    assert "Legevakt took over the same evening." in closed_part
    flag_page = html.unescape(client.get(f"/therapist/urgent/{flag.id}").get_data(as_text=True))
    assert "Referred to the out-of-hours doctor (legevakt)" in flag_page and "Drove there." in flag_page
    assert f'href="/therapist/referrals/{referral.id}"' in flag_page
    refresh(db)
    assert db.scalar(select(func.count()).select_from(UrgentFlag).where(UrgentFlag.id == flag.id)) == 1
