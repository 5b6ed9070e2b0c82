"""Keyword-only factories that make unique rows, so tests never collide."""
from __future__ import annotations

import itertools
import uuid

from flask import current_app
from sqlalchemy.orm import Session

from rph_pwa.models import Municipality, Role, Team, User
from rph_pwa.services.accounts import create_resident, create_staff, set_email

_numbers = itertools.count(5000)
PASSWORD = "a-long-test-password"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_municipality(session: Session, *, name: str | None = None) -> Municipality:
    municipality = Municipality(number=f"{next(_numbers) % 10000:04d}", name=name or unique("Kommune"))
    session.add(municipality)
    session.flush()
    return municipality


def make_team(session: Session, *, municipalities: list[Municipality] | None = None, name: str | None = None) -> Team:
    team = Team(name=name or unique("Team"), phone="12 34 56 78", inbox_email=f"{unique('inbox')}@example.no",
                municipalities=municipalities if municipalities is not None else [make_municipality(session)])
    session.add(team)
    session.flush()
    return team


def make_resident(session: Session, *, team: Team | None = None, municipality: Municipality | None = None,
                  email: str | None = None, name: str = "Test Testesen") -> User:
    if municipality is None:
        municipality = (team or make_team(session)).municipalities[0]
    user = create_resident(session, municipality_id=municipality.id, display_name=name)
    if email:
        set_email(user, email, current_app.extensions["rph_crypto"])
    session.flush()
    return user


def make_staff(session: Session, *, role: Role = Role.THERAPIST, teams: list[Team] | None = None) -> tuple[User, str]:
    """A staff member; returns (user, TOTP secret). The password is PASSWORD."""
    user, secret = create_staff(session, username=unique("staff"), password=PASSWORD, role=role,
                                display_name=unique("Staff"), team_ids=[t.id for t in teams or []])
    return user, secret


def email() -> str:
    return f"{unique('person')}@example.no"
