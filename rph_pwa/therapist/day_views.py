"""The therapist's day: I dag (the staff start page), my caseload, the team lead's view of the
team, finding a resident by e-mail or phone, and answering a resident's request to change or
cancel an appointment. Every page that names residents is audited."""
from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..codes import RequestAnswer
from ..db import get_session, utcnow
from ..forms import Refusal, run_form_action
from ..localtime import local_to_utc
from ..models import Role
from ..services import appointment_requests, audit, check_in_review, resident_search, today
from ..services import caseload as caseload_service
from ..services.access import has_role, is_clinical, require_clinical, staff_teams
from ..services.errors import Conflict
from ..services.mail import outbox_status
from ..services.reminders import ChannelSetup
from ..services.team_overview import team_overviews
from ..services.triage import count_urgent
from ..web import render_audited
from . import bp
from .day_forms import AnswerRequestForm, CaseloadForm, FindResidentForm
from .presenters.appointment_request import request_view
from .presenters.caseload import caseload_pager, caseload_rows
from .presenters.day import day_view
from .presenters.team_overview import team_view


@bp.route("/")
def index():
    """I dag: my appointments today, open urgent flags, the tasks that are due, and the way to the
    rest of the workspace. The residents shown are written to the audit log."""
    db = get_session()
    now = utcnow()
    day = today.day_for(db, actor=current_user, now=now, setup=ChannelSetup.from_config(current_app.config))
    # The admin sees whether mail leaves: sign-in codes and urgent notices depend on it.
    mail = outbox_status(db, now=now) if has_role(current_user, Role.ADMIN) else None
    max_age = current_app.config["MAIL_OUTBOX_MAX_AGE_SECONDS"]
    return render_audited("therapist/today.html", v=day_view(day), teams=staff_teams(db, current_user),
                          is_lead=has_role(current_user, Role.TEAM_LEAD, Role.ADMIN),
                          is_team_lead=has_role(current_user, Role.TEAM_LEAD),
                          is_clinical=is_clinical(current_user),
                          urgent_count=count_urgent(db, actor=current_user),
                          check_ins_waiting=check_in_review.waiting_count(db, actor=current_user, now=now),
                          mail=mail, mail_delayed=mail is not None and (mail.oldest_age_seconds or 0) > max_age)


@bp.route("/caseload")
def caseload():
    """The episodes I am responsible for, sorted and filtered by the query string (an unknown
    value is said on its field, with 400). The list shown is audited."""
    require_clinical(current_user)
    form = CaseloadForm(formdata=request.args)
    if not form.validate():
        return render_template("therapist/caseload.html", form=form, rows=None), 400
    filters = caseload_service.CaseloadFilters(phase=form.phase.data or None, offering=form.offering.data or None,
                                               flagged_only=bool(form.flagged.data))
    found = caseload_service.caseload(get_session(), actor=current_user, sort=form.sort.data or "name",
                                      filters=filters, page=request.args.get("page", 1, type=int), now=utcnow())
    return render_audited("therapist/caseload.html", form=form, rows=caseload_rows(found.rows), found=found,
                          pager=caseload_pager(found, form))


@bp.route("/team")
def team_overview():
    """The team lead's view of each of their teams (counts and staff names only, so not audited)."""
    now = utcnow()
    teams = team_overviews(get_session(), actor=current_user, now=now)
    return render_template("therapist/team_overview.html", teams=[team_view(t, now=now) for t in teams])


@bp.route("/find", methods=["GET", "POST"])
def find_resident():
    """Find a resident of my teams by an exact e-mail address or phone number. Posted, so the
    address or number never appears in a URL or a log; each resident found is audited."""
    require_clinical(current_user)
    form = FindResidentForm()
    if not form.is_submitted():
        return render_template("therapist/find_resident.html", form=form, found=None)
    if not form.validate():
        return render_template("therapist/find_resident.html", form=form, found=None), 400
    found = resident_search.find_resident(get_session(), actor=current_user, query=form.query.data,
                                          crypto=current_app.extensions["rph_crypto"], now=utcnow())
    return render_audited("therapist/find_resident.html", form=form, found=found)


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
def appointment_request(request_id: int):
    """A resident's request to change or cancel an appointment, and the team's answer: move it,
    cancel it or keep it (nothing changes until then). Opening it is audited."""
    db = get_session()
    asked = appointment_requests.request_for_staff(db, actor=current_user, request_id=request_id)
    form = AnswerRequestForm()

    def show() -> str:
        audit.record(db, actor=current_user, subject=asked.resident, action="view_episode",
                     object_type="appointment_request", object_id=asked.id, team_id=asked.team_id)
        return render_audited("therapist/appointment_request.html", r=request_view(asked), form=form)

    def answer(db):
        moved = form.answer.data == RequestAnswer.MOVED
        return appointment_requests.answer(
            db, actor=current_user, request_id=request_id, answer=form.answer.data, note=form.note.data,
            new_starts_at=local_to_utc(form.day.data, form.time.data) if moved else None)

    return run_form_action(form, answer, show=show, back=url_for(".appointment_request", request_id=request_id),
                           done=_l("The request is answered. The resident sees your answer."),
                           then=lambda _answered: url_for(".index"), refusals=[
                               Refusal(Conflict, _l("Nothing was changed: the request has already been answered, "
                                                    "or the appointment is no longer booked.")),
                               Refusal(ValueError, _l("Choose a new time in the future."), field=form.day)])


@bp.app_context_processor
def staff_menu_items():
    """`staff_menu()` in the page header: I dag for all staff, and the caseload and the search
    for the staff who work with residents (admins see neither)."""
    def staff_menu() -> list[tuple[str, str]]:
        if not (current_user.is_authenticated and current_user.is_staff):
            return []
        items = [("therapist.index", _l("Today"))]
        if is_clinical(current_user):
            items += [("therapist.caseload", _l("My caseload")), ("therapist.review_queue", _l("Check-ins")),
                      ("therapist.find_resident", _l("Find a resident")), ("therapist.courses", _l("Courses"))]
        return items
    return {"staff_menu": staff_menu}
