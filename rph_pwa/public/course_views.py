"""The public course pages: every open course of every team, and one course's details with the
way in ("Meld deg på"). No sign-in needed; no one is named (not leaders, not participants)."""
from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from ..db import get_session
from ..services import course_enrolment
from . import bp


@bp.route("/kurs")
def courses():
    """Open courses: title, for whom, when, where, and places left or a waiting list."""
    return render_template("public/courses/list.html", runs=course_enrolment.public_runs(get_session()))


@bp.route("/kurs/<int:run_id>")
def course(run_id: int):
    """One open course: every meeting with its title, and the button to join."""
    run = course_enrolment.public_run(get_session(), run_id=run_id)
    enrol = url_for("client.course_enrol", run_id=run.id)
    signed_in_resident = current_user.is_authenticated and current_user.is_resident
    return render_template("public/courses/course.html", run=run, enrol_url=enrol,
                           login_url=url_for("auth.login", next=enrol),
                           register_url=url_for("auth.register", next=enrol),
                           signed_in_resident=signed_in_resident,
                           staff=current_user.is_authenticated and not current_user.is_resident)
