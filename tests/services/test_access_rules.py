"""Access checks live in one place (services/access.py): no other service compares roles by hand,
forbidden objects are NotFound whatever the reason, and the actor's teams are looked up once per
database session."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import event

from rph_pwa.models import Role
from rph_pwa.services import access
from rph_pwa.services.errors import NotFound
from tests.factories import make_staff, make_team

SERVICES = Path(access.__file__).resolve().parent
#: Names that only access.py may compare against.
ROLE_NAMES = {"CLINICAL_ROLES"}
#: Membership look-ups that only access.py may test a team id against.
TEAM_LOOKUPS = {"staff_team_ids"}


def _is_role_attribute(node: ast.AST) -> bool:
    """`x.role` (an actor's role or the `User.role` column)."""
    return isinstance(node, ast.Attribute) and node.attr == "role"


def _is_role_value(node: ast.AST) -> bool:
    """`Role.X.value` (a stored role) or CLINICAL_ROLES."""
    if (isinstance(node, ast.Attribute) and node.attr == "value" and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name) and node.value.value.id == "Role"):
        return True
    return isinstance(node, ast.Name) and node.id in ROLE_NAMES


def _is_team_lookup(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in TEAM_LOOKUPS)


def hand_written_checks(source: str) -> list[int]:
    """Line numbers of role comparisons (`x.role == ...`, `... in CLINICAL_ROLES`, `Role.X.value`
    in a comparison, `x.role.in_(...)`) and team checks against `staff_team_ids(...)`. Reading
    `.role` to show it is fine."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_role_attribute(o) or _is_role_value(o) for o in operands):
                lines.append(node.lineno)
            elif any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) and any(map(_is_team_lookup, operands)):
                lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and _is_role_attribute(node.func.value)):  # User.role.in_(...), actor.role.startswith(...)
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("source", [
    "if actor.role not in CLINICAL_ROLES: pass",
    "if actor.role != Role.ADMIN.value: pass",
    "ok = Role.TEAM_LEAD.value == user.role",
    "q = select(User).where(User.role == 'resident')",
    "q = select(User).where(User.role.in_(['therapist']))",
    "if episode.team_id not in staff_team_ids(session, actor): pass",
    "if team_id in access.staff_team_ids(session, actor): pass",
])
def test_the_rule_finds_hand_written_checks(source):
    assert hand_written_checks(source) == [1]


@pytest.mark.parametrize("source", [
    "row = Row(role=user.role)",
    "name = actor.role if actor else ''",
    "require_team(session, actor, team_id, what='team')",
    "ids = staff_team_ids(session, actor)",
    "user = create(role=Role.RESIDENT.value)",
    "if role is Role.RESIDENT: raise ValueError('residents have no password')",  # an argument, not the actor
])
def test_the_rule_allows_reading_roles_and_calling_access(source):
    assert hand_written_checks(source) == []


def test_no_service_but_access_checks_roles_or_teams_by_hand():
    found = {}
    for path in sorted(SERVICES.glob("*.py")):
        if path.name == "access.py":
            continue
        lines = hand_written_checks(path.read_text(encoding="utf-8"))
        if lines:
            found[path.name] = lines
    assert found == {}, f"use services/access.py instead of these checks: {found}"


# --- require_team -------------------------------------------------------------------------------

def test_require_team_lets_clinical_staff_open_their_own_teams_only(db):
    mine, other = make_team(db), make_team(db)
    therapist, _ = make_staff(db, teams=[mine])
    lead, _ = make_staff(db, role=Role.TEAM_LEAD, teams=[mine])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[mine])
    db.commit()
    for actor in (therapist, lead):
        access.require_team(db, actor, mine.id, what="referral")  # no exception
        with pytest.raises(NotFound):
            access.require_team(db, actor, other.id, what="referral")
        with pytest.raises(NotFound):
            access.require_team(db, actor, None, what="referral")  # the object does not exist
    with pytest.raises(NotFound):  # an admin manages accounts, not care, even as a team member
        access.require_team(db, admin, mine.id, what="referral")
    assert access.in_my_teams(db, therapist, mine.id) and not access.in_my_teams(db, admin, mine.id)
    assert access.clinical_team_ids(db, therapist) == [mine.id]
    with pytest.raises(NotFound):
        access.clinical_team_ids(db, admin)


def test_staff_team_ids_asks_the_database_once_per_session(data_app, db):
    team, second = make_team(db), make_team(db)
    staff, _ = make_staff(db, teams=[team, second])
    db.commit()
    engine = data_app.extensions["rph_db"].engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "team_membership" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        session = data_app.extensions["rph_db"].sessionmaker()
        try:
            for _ in range(3):
                assert access.staff_team_ids(session, staff) == sorted([team.id, second.id])
            access.require_team(session, staff, team.id)
            assert access.in_my_teams(session, staff, second.id)
            access.clinical_team_ids(session, staff)
            assert len(statements) == 1
        finally:
            session.close()
        other = data_app.extensions["rph_db"].sessionmaker()  # a new request looks them up again
        try:
            access.staff_team_ids(other, staff)
            assert len(statements) == 2
        finally:
            other.close()
    finally:
        event.remove(engine, "before_cursor_execute", count)
