"""The public course pages: every open course of every team, and one course's details with the
way in ("Meld deg på"). No sign-in needed; no one is named (not leaders, not participants)."""
from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user

from ..db import get_session, reads_only
from ..kept_pages import kept_page, public_page
from ..services import course_enrolment
from . import bp


@bp.route("/kurs")
@kept_page
@reads_only
def courses():
    """Open courses: title, for whom, when, where, and places left or a waiting list. The same for
    every visitor, so kept rendered for COURSE_LIST_KEEP_SECONDS (a new course, or a place taken,
    shows within that time)."""
    return public_page("public/courses/list.html", keep_seconds=current_app.config["COURSE_LIST_KEEP_SECONDS"],
                       context=lambda: {"runs": course_enrolment.public_runs(get_session())})


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
