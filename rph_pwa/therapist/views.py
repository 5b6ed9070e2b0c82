"""Staff views: residents of my teams (every read audited), and the audit log for team leads."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_session
from ..models import Role
from ..services import audit
from ..services.access import staff_teams
from ..services.errors import NotFound
from ..services.residents import open_resident, residents_for_staff

bp = Blueprint("therapist", __name__)


@bp.before_request
def staff_only():
    """Only staff who passed both factors reach this blueprint (sign-in enforces the second)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.staff_login"))
    if not current_user.is_staff:
        abort(403)
    return None


@bp.route("/")
def index():
    """My teams and the residents they serve."""
    db = get_session()
    teams = staff_teams(db, current_user)
    residents = residents_for_staff(db, actor=current_user)
    return render_template("therapist/index.html", teams=teams, residents=residents,
                           is_lead=current_user.role in (Role.TEAM_LEAD.value, Role.ADMIN.value))


@bp.route("/residents/<int:resident_id>")
def resident(resident_id: int):
    """One resident's record. Access is checked and the read is written to the audit log."""
    db = get_session()
    try:
        person = open_resident(db, actor=current_user, resident_id=resident_id)
    except NotFound:
        abort(404)
    db.commit()
    return render_template("therapist/resident.html", person=person)


@bp.route("/audit")
def audit_log():
    """Team leads browse who opened which resident's record."""
    if current_user.role not in (Role.TEAM_LEAD.value, Role.ADMIN.value):
        abort(403)
    before = request.args.get("before", type=int)
    rows = audit.events_for_team_lead(get_session(), actor=current_user, before_id=before)
    return render_template("therapist/audit.html", rows=rows)
