"""The staff's course administration: the team's course and group templates and their runs,
editing them, workbook files, the run page (meetings, participants, waiting list), enrolment from
an episode or of a relative, withdrawal, and the episode page's "enrol in a course" form.

The therapist blueprint's guard keeps everyone but signed-in staff out; `services.course_admin`
checks the teams and audits the participants each run page shows.
"""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import codes
from ..auth.forms import EmptyForm
from ..codes import CourseKind, CourseMode, CourseRole
from ..crypto import field_crypto
from ..db import get_session, parse_id, utcnow
from ..forms import Refusal, run_form_action, run_page_form_action
from ..localtime import local_to_utc
from ..services import course_admin as svc
from ..services import courses
from ..services.access import is_clinical, require_clinical, staff_team_ids, staff_teams
from ..services.errors import Conflict, NotFound
from . import bp
from .course_forms import (
    EnrolEpisodeForm,
    EnrolRelativeForm,
    EpisodeCourseForm,
    MaterialForm,
    MeetingEditForm,
    RunForm,
    RunSettingsForm,
    TemplateForm,
)

COURSES = "/courses"
#: A workbook file's request: the file (at most 10 MB, refused with a message above that) and the form.
UPLOAD_LIMIT = svc.MATERIAL_MAX_BYTES + 1024 * 1024


def labels() -> dict:
    return {"kinds": codes.labels(CourseKind), "modes": codes.labels(CourseMode), "roles": codes.labels(CourseRole)}


@bp.route(COURSES, endpoint="courses")
def course_list():
    """The team's templates and the runs of the team or shared with it: coming, in progress, finished."""
    listing = svc.course_list(get_session(), actor=current_user)
    return render_template("therapist/courses/index.html", listing=listing,
                           my_team_ids=staff_team_ids(get_session(), current_user), **labels())


# --- Templates ----------------------------------------------------------------------------------

def _my_teams():
    require_clinical(current_user, what="course")
    return staff_teams(get_session(), current_user)


def _save_template(template_id: int | None):
    def action(db, form: TemplateForm):
        return svc.save_template(
            db, actor=current_user, template_id=template_id, team_id=form.team.data, title=form.title.data,
            kind=form.kind.data, audience=form.audience.data or "", meeting_count=form.meeting_count.data,
            meeting_minutes=form.meeting_minutes.data, capacity=form.capacity.data, follow_up=form.follow_up.data,
            instrument_codes=tuple(form.instruments.data or ()),
            evaluation_each_meeting=form.evaluation_each_meeting.data, is_open=form.is_open.data,
            meetings=form.meeting_contents(), archived=form.archived.data if template_id is not None else False)
    return action


@bp.route(f"{COURSES}/templates/new", methods=["GET", "POST"])
def course_template_new():
    """A new course or treatment group template."""
    form = TemplateForm(prefix="template").offer(_my_teams())
    return run_form_action(form, lambda db: _save_template(None)(db, form),
                           show=lambda: render_template("therapist/courses/template_edit.html", form=form,
                                                        template=None, **labels()),
                           back=url_for(".courses"), done=_l("The template is saved."),
                           then=lambda template: url_for(".course_template", template_id=template.id),
                           refusals=form.refusals())


def _template_page(template_id: int, *, bound: tuple[str, FlaskForm] | None = None):
    db = get_session()
    template = courses.template_for_staff(db, actor=current_user, template_id=template_id)
    forms: dict[str, FlaskForm] = {"template": TemplateForm(formdata=None, prefix="template"),
                                   "material": MaterialForm(formdata=None, prefix="material")}
    forms["template"].offer(_my_teams(), template=template)
    if bound is not None:
        forms[bound[0]] = bound[1]
    return render_template("therapist/courses/template.html", template=template, forms=forms,
                           runs=svc.template_runs(db, template=template), max_mb=svc.MATERIAL_MAX_BYTES // 2 ** 20,
                           **labels())


@bp.route(f"{COURSES}/templates/<int:template_id>", methods=["GET", "POST"])
def course_template(template_id: int):
    """A template: its settings and meetings (editable), its workbook files and its runs."""
    if request.method == "GET":
        return _template_page(template_id)
    template = courses.template_for_staff(get_session(), actor=current_user, template_id=template_id)
    form = TemplateForm(prefix="template").offer(_my_teams(), template=template)
    return run_page_form_action("template", form, _save_template(template_id),
                                page=lambda bound: _template_page(template_id, bound=bound),
                                back=url_for(".course_template", template_id=template_id),
                                done=_l("The template is saved."), refusals=form.refusals())


@bp.post(f"{COURSES}/templates/<int:template_id>/materials")
def course_material_upload(template_id: int):
    """Upload a workbook file (at most 10 MB; PDF, images, documents)."""
    courses.template_for_staff(get_session(), actor=current_user, template_id=template_id)
    back = url_for(".course_template", template_id=template_id)
    form = MaterialForm(prefix="material")

    def action(db, form: MaterialForm):
        upload = form.file.data
        return svc.add_material(db, actor=current_user, template_id=template_id, filename=upload.filename or "",
                                data=upload.read(svc.MATERIAL_MAX_BYTES + 1))

    return run_page_form_action("material", form, action, page=lambda bound: _template_page(template_id, bound=bound),
                                back=back, done=_l("The file is uploaded."), refusals=form.refusals())


def allow_workbook_uploads() -> None:
    """The upload of a workbook file may be larger than the app's usual limit (MAX_CONTENT_LENGTH):
    raised before any other hook reads the body. Over it, the app's 413 page explains."""
    if request.endpoint == "therapist.course_material_upload":
        request.max_content_length = UPLOAD_LIMIT


bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, allow_workbook_uploads))


@bp.post(f"{COURSES}/materials/<int:material_id>/delete")
def course_material_delete(material_id: int):
    """Delete a workbook file."""
    return run_form_action(EmptyForm(), lambda db: svc.delete_material(db, actor=current_user,
                                                                        material_id=material_id),
                           show=lambda: abort(400), back=url_for(".courses"),
                           then=lambda template: url_for(".course_template", template_id=template.id),
                           done=_l("The file is deleted."))


@bp.route(f"{COURSES}/materials/<int:material_id>")
def course_material(material_id: int):
    """Download a workbook file (always as an attachment)."""
    material = svc.material_for_staff(get_session(), actor=current_user, material_id=material_id)
    response = send_file(BytesIO(material.data), mimetype=material.content_type, as_attachment=True,
                         download_name=material.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Runs ---------------------------------------------------------------------------------------

def _run_choices(team_id: int, shares: list[int]):
    db = get_session()
    return (svc.leader_choices(db, team_ids=[team_id, *shares]), svc.other_teams(db, team_id=team_id))


def _bound_shares(form) -> list[int]:
    """The sharing teams as sent (their staff may lead too), ignoring what cannot be an id."""
    sent = [parse_id(v) for v in request.form.getlist(f"{form._prefix}shares")] if form.is_submitted() else []
    return [team_id for team_id in sent if team_id is not None][:100]


@bp.route(f"{COURSES}/templates/<int:template_id>/runs/new", methods=["GET", "POST"])
def course_run_new(template_id: int):
    """A new run of a template: weekly meetings from the first (each can be moved later)."""
    db = get_session()
    template = courses.template_for_staff(db, actor=current_user, template_id=template_id)
    if template.archived:
        raise NotFound("course")
    form = RunForm(prefix="run")
    leaders, teams = _run_choices(template.team_id, _bound_shares(form))
    form.offer(leaders=leaders, teams=teams, template=template, me=current_user)

    def action(db):
        follow_up = (local_to_utc(form.follow_up_day.data, form.time.data) if form.follow_up_day.data else None)
        run = svc.new_run(db, actor=current_user, template_id=template_id,
                          first_start=local_to_utc(form.first_day.data, form.time.data), mode=form.mode.data,
                          place=form.place.data or "", video_link=(form.video_link.data or "").strip() or None,
                          capacity=form.capacity.data, leader_ids=tuple(form.leaders.data or ()),
                          shared_team_ids=tuple(form.shares.data or ()),
                          evaluation_anonymous=form.evaluation_anonymous.data == "anonymous", follow_up_at=follow_up)
        if len(run.leaders) < 2:
            flash(str(_l("The run has one leader. Two or more is usual: add a colleague when you can.")), "info")
        return run

    return run_form_action(form, action, show=lambda: render_template(
        "therapist/courses/run_edit.html", form=form, template=template, run=None, **labels()),
        back=url_for(".course_template", template_id=template_id), done=_l("The run is saved."),
        then=lambda run: url_for(".course_run", run_id=run.id), refusals=form.refusals())


@bp.route(f"{COURSES}/runs/<int:run_id>/edit", methods=["GET", "POST"])
def course_run_edit(run_id: int):
    """Change a run's place or link, places, leaders, sharing teams and evaluation."""
    db = get_session()
    run = svc.run_to_manage(db, actor=current_user, run_id=run_id)
    form = RunSettingsForm(prefix="run")
    shares = _bound_shares(form) if form.is_submitted() else [s.team_id for s in run.shares]
    leaders, teams = _run_choices(run.team_id, shares)
    form.offer(leaders=leaders, teams=teams, run=run)
    return run_form_action(form, lambda db: svc.edit_run(
        db, actor=current_user, run_id=run_id, mode=form.mode.data, place=form.place.data or "",
        video_link=(form.video_link.data or "").strip() or None, capacity=form.capacity.data,
        leader_ids=tuple(form.leaders.data or ()), shared_team_ids=tuple(form.shares.data or ()),
        evaluation_anonymous=form.evaluation_anonymous.data == "anonymous"),
        show=lambda: render_template("therapist/courses/run_edit.html", form=form, template=run.template, run=run,
                                     **labels()),
        back=url_for(".course_run", run_id=run_id), done=_l("The run is saved."), refusals=form.refusals())


def _run_page(run_id: int, *, bound: tuple[str, FlaskForm] | None = None):
    db = get_session()
    page = svc.run_page(db, actor=current_user, run_id=run_id)
    episodes = svc.enrolable_episodes(db, actor=current_user, run=page.run)
    my_teams = [t for t in staff_teams(db, current_user) if t.id in svc.run_team_ids(page.run)]
    db.commit()  # the audit events of this read
    forms: dict[str, FlaskForm] = {"enrol": EnrolEpisodeForm(formdata=None, prefix="enrol").offer(episodes),
                                   "relative": EnrolRelativeForm(formdata=None, prefix="relative").offer(my_teams)}
    if bound is not None:
        forms[bound[0]] = bound[1]
    return render_template("therapist/courses/run.html", page=page, run=page.run, forms=forms, now=utcnow(),
                           my_team_ids=staff_team_ids(db, current_user), **labels())


@bp.route(f"{COURSES}/runs/<int:run_id>")
def course_run(run_id: int):
    """A run: its meetings, its participants and waiting list (audited), and enrolment."""
    return _run_page(run_id)


def flash_errors(form: FlaskForm, back: str):
    """A small form on another page: its errors are flashed there (the page is not shown again)."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return redirect(back)


@bp.post(f"{COURSES}/meetings/<int:meeting_id>/edit")
def course_meeting_edit(meeting_id: int):
    """Move one meeting to a new time, or cancel it (the participants' contacts follow)."""
    db = get_session()
    meeting = svc.meeting_to_manage(db, actor=current_user, meeting_id=meeting_id)
    back = url_for(".course_run", run_id=meeting.run_id)
    form = MeetingEditForm(prefix="meeting")
    if not form.validate():
        return flash_errors(form, back)
    cancel = form.action.data == "cancel"
    return run_form_action(form, lambda db: svc.change_meeting(
        db, actor=current_user, meeting_id=meeting_id, cancel=cancel,
        starts_at=None if cancel else local_to_utc(form.day.data, form.time.data)),
        show=lambda: redirect(back), back=back,
        done=_l("The meeting is cancelled.") if cancel else _l("The meeting is moved."),
        refusals=[Refusal(svc.PastDate, _l("Choose a time in the future."))])


@bp.post(f"{COURSES}/runs/<int:run_id>/enrol")
def course_enrol(run_id: int):
    """Enrol the resident of an open episode (prefix "enrol"), or a relative (prefix "relative")."""
    db = get_session()
    run = courses.run_for_staff(db, actor=current_user, run_id=run_id)
    back = url_for(".course_run", run_id=run_id)
    if "relative-csrf_token" in request.form:
        teams = [t for t in staff_teams(db, current_user) if t.id in svc.run_team_ids(run)]
        form = EnrolRelativeForm(prefix="relative").offer(teams)
        return run_page_form_action("relative", form, lambda db, form: _enrolled(svc.enrol_relative(
            db, actor=current_user, run_id=run_id, team_id=form.team.data, name=form.name.data,
            email=form.email.data or None, phone=form.phone.data or None, crypto=field_crypto())),
            page=lambda bound: _run_page(run_id, bound=bound), back=back, done=None,
            refusals=[Refusal(Conflict, _l("The course is cancelled.")),
                      Refusal(NotFound, _l("This person cannot be enrolled as a relative."))])
    form = EnrolEpisodeForm(prefix="enrol").offer(svc.enrolable_episodes(db, actor=current_user, run=run))
    return run_page_form_action("enrol", form, lambda db, form: _enrolled(svc.enrol_episode(
        db, actor=current_user, run_id=run_id, episode_id=form.episode.data)),
        page=lambda bound: _run_page(run_id, bound=bound), back=back, done=None,
        refusals=[Refusal(Conflict, _l("The course is cancelled."))])


def _enrolled(participant):
    if participant.status == "waiting":
        flash(str(_l("The course is full: the person is on the waiting list.")), "info")
    else:
        flash(str(_l("The person is enrolled.")), "success")
    return participant


@bp.post(f"{COURSES}/participants/<int:participant_id>/withdraw")
def course_withdraw(participant_id: int):
    """Take someone off a run or its waiting list (the first waiting takes the place)."""
    return run_form_action(EmptyForm(), lambda db: svc.withdraw_participant(db, actor=current_user,
                                                                             participant_id=participant_id),
                           show=lambda: abort(400), back=url_for(".courses"),
                           then=lambda participant: url_for(".course_run", run_id=participant.run_id),
                           done=_l("The person is taken off the course."))


# --- The episode page's course form ----------------------------------------------------------------

@bp.post("/episodes/<int:episode_id>/course")
def episode_course(episode_id: int):
    """Enrol this episode's resident in a run open to the episode's team."""
    db = get_session()
    rows = svc.runs_for_episode(db, actor=current_user, episode_id=episode_id)
    back = url_for(".episode", episode_id=episode_id)
    form = EpisodeCourseForm(prefix="course").offer(rows)
    if not form.validate():
        return flash_errors(form, back)
    return run_form_action(form, lambda db: _enrolled(svc.enrol_episode(
        db, actor=current_user, run_id=form.run.data, episode_id=episode_id)), show=lambda: redirect(back),
        back=back, done=None, refusals=[Refusal(Conflict, _l("The course is cancelled."))])


def episode_course_offer(episode_id: int) -> dict | None:
    """The episode page's "enrol in a course" (its partial `_episode_course.html`): the runs open to
    the episode's team and the form to enrol in one; None for staff who do not enrol people."""
    if not is_clinical(current_user):
        return None
    rows = svc.runs_for_episode(get_session(), actor=current_user, episode_id=episode_id)
    return {"rows": rows, "form": EpisodeCourseForm(formdata=None, prefix="course").offer(rows)}
