"""The resident's courses: the short screen to join an open course (yourself or as a relative),
my courses (the next meeting, every meeting's content, the workbook files, the waiting list),
withdrawing, and the workbook downloads. No other participant is ever named."""
from __future__ import annotations

from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..auth.forms import EmptyForm
from ..db import get_session
from ..services import course_enrolment, course_evaluation
from ..services.residents import municipality_choices
from . import bp
from .course_forms import course_enrol_form, item9_instructions


@bp.app_context_processor
def course_menu():
    """`resident_has_course()` for the menu: asked only when the menu is drawn for a resident."""
    def resident_has_course() -> bool:
        return (current_user.is_authenticated and current_user.is_resident
                and course_enrolment.has_course(get_session(), resident=current_user))
    return {"resident_has_course": resident_has_course}


def _municipalities() -> list[SelectChoice]:
    return [SelectChoice("", _("Choose…"))] + [SelectChoice(c.id, c.name) for c in municipality_choices(get_session())]


def _typed_under_16(age: str | None) -> bool:
    """Whether a typed age (maybe not valid yet) is a whole number below 16."""
    try:
        return 0 <= int((age or "").strip()) < course_enrolment.MINIMUM_AGE
    except ValueError:
        return False


def _typed_item9_above_0() -> bool:
    """Whether item 9 was answered with one of its values above 0 (the rest of the form unchecked)."""
    return request.form.get("item9") in ("1", "2", "3")


@bp.route("/me/courses/enrol/<int:run_id>", methods=["GET", "POST"])
def course_enrol(run_id: int):
    """The short screen: how you take part, age, municipality and the crisis questions. A crisis
    answer shows crisis help at once and tells the team; a full course puts you on the waiting
    list; someone not eligible is told kindly where to go, and nothing is stored."""
    db = get_session()
    lang = str(get_locale())
    run = course_enrolment.public_run(db, run_id=run_id)
    if request.method == "GET" and course_enrolment.current_participation(db, resident=current_user, run_id=run.id):
        flash(_("You are already signed up for this course."), "info")
        return redirect(url_for(".courses"))
    form = course_enrol_form(lang, _municipalities())
    if request.method == "GET" and current_user.home_municipality_id:
        form.municipality.data = current_user.home_municipality_id
    crisis_now = request.method == "POST" and (request.form.get("crisis") == "yes" or _typed_item9_above_0())

    def screen(status: int = 200):
        return render_template("client/courses/enrol.html", form=form, run=run, crisis_now=crisis_now,
                               item9_lead=item9_instructions(lang)), status

    if request.method == "GET":
        return screen()
    if crisis_now and _typed_under_16(request.form.get("age")):
        return render_template("referral/under_16.html", crisis=True)  # nothing is stored
    if not form.validate_on_submit():
        return screen(400)
    answers = course_enrolment.Answers(course_role=form.role.data, age=form.age.data,
                                       municipality_id=form.municipality.data, crisis=form.crisis.data == "yes",
                                       item9=form.item9.data)
    result = course_enrolment.enrol_self(db, resident=current_user, run_id=run.id, answers=answers)
    outcome = result.eligibility.outcome
    if outcome == "under_16":
        db.rollback()
        return render_template("referral/under_16.html", crisis=crisis_now)
    if outcome != "ok":
        db.rollback()
        return render_template("client/courses/unserved.html", run=run, crisis=crisis_now,
                               municipality=result.eligibility.municipality)
    db.commit()
    waiting = result.participant.status == "waiting"
    if answers.urgent_reasons:  # crisis help at once, on this very answer
        return render_template("client/courses/enrolled.html", run=run, waiting=waiting)
    flash(_("You are on the waiting list. We will tell you if a place becomes free.") if waiting
          else _("You are signed up. Welcome!"), "success")
    return redirect(url_for(".courses"))


@bp.route("/me/courses")
def courses():
    """My courses: the next meeting, every meeting with its content, the workbook, withdrawing."""
    db = get_session()
    mine = course_enrolment.my_courses(db, resident=current_user)
    # The evaluation forms still to fill in, by run (the course reminders' "new message" leads here).
    evaluations: dict[int, list[str]] = {}
    for link, run in course_evaluation.open_links_for_resident(db, resident=current_user):
        evaluations.setdefault(run.id, []).append(link.token)
    return render_template("client/courses/mine.html", courses=mine, evaluations=evaluations)


@bp.post("/me/courses/<int:participant_id>/withdraw")
def course_withdraw(participant_id: int):
    """Leave a course or its waiting list (the page asks to confirm first)."""
    db = get_session()
    if not EmptyForm().validate_on_submit():
        flash(_("The page had expired. Please try again."), "error")
        return redirect(url_for(".courses"))
    course_enrolment.withdraw_self(db, resident=current_user, participant_id=participant_id)
    db.commit()
    flash(_("You are no longer signed up for the course."), "success")
    return redirect(url_for(".courses"))


@bp.route("/me/courses/materials/<int:material_id>")
def course_material(material_id: int):
    """A workbook file of one of my courses, as a download."""
    material = course_enrolment.material_for_resident(get_session(), resident=current_user, material_id=material_id)
    response = send_file(BytesIO(material.data), mimetype=material.content_type or "application/octet-stream",
                         as_attachment=True, download_name=material.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
