"""My caseload (services/caseload.py): episodes I am responsible for with phase, next contact,
scores with trend and flags; sorted and filtered; constant queries; audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import AuditEvent, Role
from rph_pwa.services import caseload as svc
from rph_pwa.services.errors import NotFound
from tests.conftest import cold_statement_count
from tests.factories import (
    add_episode_contact,
    add_episode_response,
    make_referral,
    make_resident,
    make_staff,
    make_team,
)


def _mine(db, team, me, name: str, *, offerings: str = "individual"):
    episode = make_referral(db, team=team, resident=make_resident(db, team=team, name=name)).episode
    episode.responsible_id = me.id
    episode.offerings = offerings
    db.flush()
    return episode


def test_rows_with_phase_next_contact_trend_and_flags(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    other, _ = make_staff(db, teams=[team])
    now = utcnow()
    _mine(db, team, me, "Bente Venter", offerings="")
    treated = _mine(db, team, me, "Arne Behandles", offerings="course")
    for days in (7, 8):
        add_episode_contact(db, episode=treated, staff=me, starts_at=now - timedelta(days=days), status="attended",
                            minutes=390)
    soon = add_episode_contact(db, episode=treated, staff=me, starts_at=now + timedelta(days=2))
    add_episode_contact(db, episode=treated, staff=me, starts_at=now + timedelta(days=9))
    add_episode_response(db, episode=treated, code="PHQ-9", total=20, at=treated.referred_at + timedelta(minutes=5))
    treated.urgent_since = now
    colleagues = _mine(db, team, me, "Ikke Min")
    colleagues.responsible_id = other.id
    ended = _mine(db, team, me, "Ferdig")
    ended.discharged_at = now
    db.commit()

    rows = svc.caseload(db, actor=me, now=now).rows
    assert [r.name for r in rows] == ["Arne Behandles", "Bente Venter"]
    arne, bente = rows
    assert (arne.phase, bente.phase) == ("in_treatment", "waiting_assessment")
    assert arne.next_contact == soon.starts_at and bente.next_contact is None
    assert arne.offerings == ["course"] and bente.offerings == []
    phq = arne.score("PHQ-9")
    assert (phq.total, phq.change, phq.trend) == (20, 4, "up")
    assert "urgent" in arne.flag_keys and "near_budget" in arne.flag_keys and arne.flags.hours_used == 13
    assert bente.flag_keys == []

    assert [r.name for r in svc.caseload(db, actor=me, sort="next_contact", now=now).rows][0] == "Arne Behandles"
    assert [r.name for r in svc.caseload(db, actor=me, sort="phq9", now=now).rows][0] == "Arne Behandles"
    assert [r.name for r in svc.caseload(db, actor=me, sort="phase", now=now).rows][0] == "Bente Venter"
    flagged = svc.caseload(db, actor=me, filters=svc.CaseloadFilters(flagged_only=True), now=now).rows
    assert [r.name for r in flagged] == ["Arne Behandles"]
    assert svc.caseload(db, actor=me, filters=svc.CaseloadFilters(offering="individual"), now=now).rows == []
    by_phase = svc.caseload(db, actor=me, filters=svc.CaseloadFilters(phase="waiting_assessment"), now=now).rows
    assert [r.name for r in by_phase] == ["Bente Venter"]


def test_bad_sort_and_filters_are_value_errors_and_admins_get_not_found(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    with pytest.raises(ValueError):
        svc.caseload(db, actor=me, sort="drop table")
    with pytest.raises(ValueError):
        svc.CaseloadFilters(phase="nowhere")
    with pytest.raises(ValueError):
        svc.CaseloadFilters(offering="magic")
    with pytest.raises(NotFound):
        svc.caseload(db, actor=admin)


def test_a_team_i_left_is_not_on_my_caseload_and_the_list_is_audited(app, db):
    mine, left = make_team(db), make_team(db)
    me, _ = make_staff(db, teams=[mine])
    kept = _mine(db, mine, me, "Min")
    _mine(db, left, me, "Gammelt Team")
    db.commit()
    now = utcnow()
    assert [r.episode_id for r in svc.caseload(db, actor=me, now=now).rows] == [kept.id]
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == me.id)).all()
    assert [(e.subject_id, e.action, e.object_type, e.object_id) for e in events] == [
        (kept.resident_id, "view_episode", "caseload_row", kept.id)]


def test_query_count_does_not_grow_with_rows(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    now = utcnow()

    def add(n: int) -> None:
        for i in range(n):
            episode = _mine(db, team, me, f"Person {i}")
            for d in range(3):
                add_episode_contact(db, episode=episode, staff=me, starts_at=now - timedelta(days=d + 1),
                                    status="attended")
                add_episode_response(db, episode=episode, code="PHQ-9", total=10 + d, at=now - timedelta(days=d))
            add_episode_contact(db, episode=episode, staff=me, starts_at=now + timedelta(days=3))
        db.commit()

    add(1)
    few = cold_statement_count(db, lambda: svc.caseload(db, actor=me, now=now).rows)
    add(8)
    assert cold_statement_count(db, lambda: svc.caseload(db, actor=me, now=now).rows) == few


def test_pages_keep_the_order_carry_scores_and_audit_only_what_is_shown(app, db, monkeypatch):
    monkeypatch.setattr(svc, "PAGE_SIZE", 2)  # five episodes make three pages
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    now = utcnow()
    for i, name in enumerate(["Eva", "Anne", "Dina", "Carl", "Berit"]):
        episode = _mine(db, team, me, name)
        add_episode_response(db, episode=episode, code="PHQ-9", total=10 + i,
                             at=episode.referred_at + timedelta(minutes=5))
    db.commit()
    first = svc.caseload(db, actor=me, now=now)
    assert (first.total, first.page, first.pages) == (5, 1, 3)
    assert [r.name for r in first.rows] == ["Anne", "Berit"]
    assert all(r.score("PHQ-9") is not None for r in first.rows)  # scores read for the page's rows
    last = svc.caseload(db, actor=me, page=99, now=now)
    assert (last.page, [r.name for r in last.rows]) == (3, ["Eva"])
    assert [r.name for r in svc.caseload(db, actor=me, page=2, now=now).rows] == ["Carl", "Dina"]
    by_score = svc.caseload(db, actor=me, sort="phq9", now=now)
    assert [r.score("PHQ-9").total for r in by_score.rows] == [14, 13]
    audited = db.scalars(select(AuditEvent.subject_id).where(AuditEvent.actor_id == me.id,
                                                             AuditEvent.at == now)).all()
    assert len(audited) == 2 + 1 + 2 + 2  # the rows shown on each of the four pages
