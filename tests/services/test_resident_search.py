"""Find a resident of my teams by exact e-mail or phone (services/resident_search.py), audited."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import AuditEvent, Role
from rph_pwa.services.errors import NotFound
from rph_pwa.services.resident_search import find_resident
from tests.factories import email, make_referral, make_resident, make_staff, make_team


def _find(db, actor, query):
    return find_resident(db, actor=actor, query=query, crypto=current_app.extensions["rph_crypto"], now=utcnow())


def test_exact_email_and_phone_in_any_form_find_my_teams_resident_and_are_audited(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    address = email()
    resident = make_resident(db, team=team, email=address, name="Funnet Person")
    resident.phone = "412 34 567"
    db.commit()
    assert [u.id for u in _find(db, me, f"  {address.upper()} ")] == [resident.id]
    for typed in ("41234567", "+47 412 34 567", "0047 41 23 45 67"):
        assert [u.id for u in _find(db, me, typed)] == [resident.id]
    events = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == resident.id)).all()
    assert {(e.actor_id, e.action, e.object_type) for e in events} == {(me.id, "view_resident", "resident_search")}
    assert len(events) == 4


def test_no_partial_match_and_nothing_for_junk(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    address = email()
    resident = make_resident(db, team=team, email=address)
    resident.phone = "412 34 568"
    db.commit()
    for query in (address[:-3], address.split("@")[0], "412 34", "", "   ", "no digits here", "x" * 300,
                  "@", "\x00"):
        assert _find(db, me, query) == [], query


def test_another_teams_resident_is_not_found_unless_my_team_has_their_open_episode(app, db):
    mine, theirs = make_team(db), make_team(db)
    me, _ = make_staff(db, teams=[mine])
    address = email()
    stranger = make_resident(db, team=theirs, email=address)
    db.commit()
    assert _find(db, me, address) == []
    assert db.scalars(select(AuditEvent).where(AuditEvent.subject_id == stranger.id)).all() == []
    make_referral(db, team=mine, resident=stranger)  # my team now has an open episode of theirs
    db.commit()
    assert [u.id for u in _find(db, me, address)] == [stranger.id]


def test_staff_are_never_found_and_admins_may_not_search(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    colleague.phone = "412 34 569"
    db.commit()
    assert _find(db, me, "412 34 569") == []
    with pytest.raises(NotFound):
        _find(db, admin, "412 34 569")
