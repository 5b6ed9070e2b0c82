"""The admin's audit page: staff-by-staff counts of record reads and staff sign-ins, never which
residents were read or why (an urgent flag read must not tell an admin who has a flag)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from rph_pwa.db import utcnow
from rph_pwa.models import Role
from rph_pwa.services import audit, urgent_flags
from rph_pwa.services.residents import open_resident
from tests.conftest import form_token
from tests.factories import PASSWORD, make_referral, make_resident, make_staff, make_team


def _flagged_resident_read(db):
    """A therapist who read one resident's record and that resident's urgent flag."""
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    flagged = make_resident(db, team=team)
    referral = make_referral(db, team=team, resident=flagged, urgent=True)
    flag = urgent_flags.raise_flag(db, resident_id=flagged.id, team_id=team.id, reason="crisis",
                                   referral_id=referral.id, episode_id=referral.episode.id)
    db.commit()
    open_resident(db, actor=therapist, resident_id=flagged.id)
    urgent_flags.view_flag(db, actor=therapist, flag_id=flag.id)
    db.commit()
    return team, therapist, flagged, flag


def test_admin_audit_page_names_no_resident_and_no_flag(db, actions, client):
    team, therapist, flagged, flag = _flagged_resident_read(db)
    actions.login_staff(db, team, role=Role.ADMIN)
    response = client.get("/therapist/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    main = page.split("<main", 1)[1]
    assert not re.search(r"#\d+", main), "a resident is named by id"
    assert "urgent" not in main.lower() and "flag" not in main.lower()
    assert flagged.display_name not in page
    # What an admin does see: the therapist's reads, counted, and the therapist's sign-ins.
    row = re.search(rf"<tr>\s*<td>{re.escape(therapist.display_name)}</td>.*?</tr>", page, re.S)
    assert row, "the therapist's reads are not listed"
    cells = re.findall(r"<td>([^<]*)</td>", row.group(0))
    assert cells[2:4] == ["2", "1"], cells  # two reads, one resident


def test_admin_sees_staff_sign_ins_but_no_resident_sign_ins(db, actions, client, data_app, smtp_server):
    from tests.conftest import Actions
    from tests.factories import email

    team = make_team(db)
    therapist, therapist_secret = make_staff(db, teams=[team])
    admin, secret = make_staff(db, role=Role.ADMIN)
    admin.locale = "en"
    address = email()
    resident = make_resident(db, team=team, email=address, name="Resi Dent")
    db.commit()
    other = data_app.test_client()  # any client of the same database
    Actions(other, smtp_server[1]).resident_login(address)
    actions.staff_login(therapist.username, PASSWORD, therapist_secret)
    client.post("/logout", data={"csrf_token": form_token(client, "/therapist/")})
    actions.staff_login(admin.username, PASSWORD, secret)
    page = client.get("/therapist/audit").get_data(as_text=True)
    signins = page.split('id="sign-ins"', 1)[1]
    assert therapist.display_name in signins and "Password and code from the app" in signins
    assert "Resi Dent" not in page and resident.display_name not in page


def test_staff_activity_counts_reads_per_staff_member_in_the_period(db):
    team, therapist, flagged, _flag = _flagged_resident_read(db)
    admin, _ = make_staff(db, role=Role.ADMIN)
    db.commit()
    rows = {r.staff_id: r for r in audit.staff_activity(db, actor=admin, since=utcnow() - timedelta(days=1))}
    assert (rows[therapist.id].reads, rows[therapist.id].residents) == (2, 1)
    assert not hasattr(rows[therapist.id], "subject_label")
    later = audit.staff_activity(db, actor=admin, since=utcnow() + timedelta(minutes=1))
    assert therapist.id not in {r.staff_id for r in later}


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.TEAM_LEAD])
def test_only_admins_get_the_staff_overview(db, role):
    staff, _ = make_staff(db, role=role, teams=[make_team(db)])
    db.commit()
    with pytest.raises(PermissionError):
        audit.staff_activity(db, actor=staff, since=utcnow())
    with pytest.raises(PermissionError):
        audit.staff_sign_ins(db, actor=staff)


def test_resident_ids_are_for_team_leads_only(db):
    admin, _ = make_staff(db, role=Role.ADMIN)
    db.commit()
    with pytest.raises(PermissionError):
        audit.events_for_team_lead(db, actor=admin)
