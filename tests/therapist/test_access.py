"""Object-level access: residents see only their own pages; staff only their teams' residents,
and every allowed staff read is audited (and no event is written for a refused one)."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import AuditEvent, Role
from tests.factories import PASSWORD, email, make_resident, make_staff, make_team


def _events(db, subject_id: int) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_id == subject_id))


def test_therapist_reads_own_teams_resident_and_the_read_is_audited(db, actions, client):
    team = make_team(db)
    resident = make_resident(db, team=team, name="Synnøve Særnavn")
    therapist = actions.login_staff(db, team)
    response = client.get(f"/therapist/residents/{resident.id}")
    assert response.status_code == 200
    assert "Synnøve Særnavn" in response.get_data(as_text=True)
    event = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == resident.id)).one()
    assert (event.actor_id, event.action, event.team_id) == (therapist.id, "view_resident", team.id)


def test_therapist_of_another_team_gets_404_and_no_audit_event(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    stranger = make_resident(db, team=theirs, name="Ikke Din")
    actions.login_staff(db, mine)
    response = client.get(f"/therapist/residents/{stranger.id}")
    assert response.status_code == 404
    assert "Ikke Din" not in response.get_data(as_text=True)
    assert _events(db, stranger.id) == 0
    assert f"/therapist/residents/{stranger.id}" not in client.get("/therapist/").get_data(as_text=True)


def test_therapist_in_two_teams_reaches_both(db, actions, client):
    a, b = make_team(db), make_team(db)
    ra, rb = make_resident(db, team=a), make_resident(db, team=b)
    actions.login_staff(db, a, b)
    assert client.get(f"/therapist/residents/{ra.id}").status_code == 200
    assert client.get(f"/therapist/residents/{rb.id}").status_code == 200


def test_admin_has_no_access_to_residents(db, actions, client):
    team = make_team(db)
    resident = make_resident(db, team=team)
    actions.login_staff(db, team, role=Role.ADMIN)
    assert client.get(f"/therapist/residents/{resident.id}").status_code == 404
    assert _events(db, resident.id) == 0


def test_resident_cannot_open_staff_pages_or_others_records(db, actions, client):
    team = make_team(db)
    me_email = email()
    make_resident(db, team=team, email=me_email, name="Meg Selv")
    other = make_resident(db, team=team, name="Annen Person")
    db.commit()
    actions.resident_login(me_email)
    assert client.get(f"/therapist/residents/{other.id}").status_code == 403
    assert client.get("/therapist/audit").status_code == 403
    profile = client.get("/me/profile").get_data(as_text=True)
    assert "Meg Selv" in profile and "Annen Person" not in profile
    assert _events(db, other.id) == 0


def test_team_lead_browses_audit_log_of_own_teams_only(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    lead, lead_secret = make_staff(db, role=Role.TEAM_LEAD, teams=[mine])
    therapist, _ = make_staff(db, teams=[mine, theirs])
    r_mine, r_theirs = make_resident(db, team=mine), make_resident(db, team=theirs)
    db.commit()
    from rph_pwa.services.residents import open_resident

    open_resident(db, actor=therapist, resident_id=r_mine.id)
    open_resident(db, actor=therapist, resident_id=r_theirs.id)
    db.commit()
    actions.staff_login(lead.username, PASSWORD, lead_secret)
    page = client.get("/therapist/audit").get_data(as_text=True)
    assert f"#{r_mine.id}<" in page and f"#{r_theirs.id}<" not in page


def test_therapist_cannot_browse_the_audit_log(db, actions, client):
    therapist, secret = make_staff(db, teams=[make_team(db)])
    db.commit()
    actions.staff_login(therapist.username, PASSWORD, secret)
    assert client.get("/therapist/audit").status_code == 403


def test_resident_sees_who_opened_their_record(db, actions, client):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    address = email()
    resident = make_resident(db, team=team, email=address)
    db.commit()
    from rph_pwa.services.residents import open_resident

    open_resident(db, actor=therapist, resident_id=resident.id)
    db.commit()
    actions.resident_login(address)
    page = client.get("/me/access-log").get_data(as_text=True)
    assert therapist.display_name in page


# --- A team with an open episode keeps access (issue 8, blocker 1) -----------------------------

def _moved_resident(db):
    """A resident of `old` with an open episode there, who has since moved to `new`."""
    from tests.factories import make_referral

    old, new, stranger = make_team(db), make_team(db), make_team(db)
    resident = make_resident(db, team=old)
    episode = make_referral(db, team=old, resident=resident).episode
    resident.team_id = new.id
    db.flush()
    return resident, episode, old, new, stranger


def test_team_with_an_open_episode_keeps_access_after_the_resident_moves(db):
    from rph_pwa.db import utcnow
    from rph_pwa.services.access import resident_for_staff
    from rph_pwa.services.errors import NotFound
    from rph_pwa.services.residents import residents_for_staff

    resident, episode, old, new, stranger = _moved_resident(db)
    old_therapist, _ = make_staff(db, teams=[old])
    new_therapist, _ = make_staff(db, teams=[new])
    outsider, _ = make_staff(db, teams=[stranger])
    db.flush()
    for staff in (old_therapist, new_therapist):
        assert resident_for_staff(db, actor=staff, resident_id=resident.id).id == resident.id
        assert resident.id in {item.id for item in residents_for_staff(db, actor=staff)}
    try:
        resident_for_staff(db, actor=outsider, resident_id=resident.id)
        raise AssertionError("a team without an episode or the resident must not reach them")
    except NotFound:
        pass
    episode.discharged_at = utcnow()
    db.flush()
    try:
        resident_for_staff(db, actor=old_therapist, resident_id=resident.id)
        raise AssertionError("a discharged episode no longer gives access")
    except NotFound:
        pass
    assert resident.id not in {item.id for item in residents_for_staff(db, actor=old_therapist)}


def test_team_with_an_open_episode_can_open_the_safety_plan(db, actions, client):
    resident, _episode, old, _new, _stranger = _moved_resident(db)
    old_therapist, secret = make_staff(db, teams=[old])
    db.commit()
    actions.staff_login(old_therapist.username, PASSWORD, secret)
    assert client.get(f"/therapist/residents/{resident.id}").status_code == 200
    assert client.get(f"/therapist/residents/{resident.id}/safety-plan").status_code == 200


def test_resident_access_check_is_one_query(db, count_queries):
    from rph_pwa.services.access import resident_for_staff

    resident, _episode, old, _new, _stranger = _moved_resident(db)
    therapist, _ = make_staff(db, teams=[old])
    db.flush()
    with count_queries(db.get_bind()) as statements:
        role = therapist.role  # loaded before counting
        assert resident_for_staff(db, actor=therapist, resident_id=resident.id).id == resident.id
    assert role == "therapist" and len(statements) == 1, statements
