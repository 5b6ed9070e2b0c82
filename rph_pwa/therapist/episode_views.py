"""The therapist's episode page for routine outcome monitoring: flags, trends, item answers,
contacts with the forms asked before them, the forms the person receives, changes of offering,
the intake checklist's state, discharge, and the start and closure notes.

The therapist blueprint's `before_request` already keeps everyone but signed-in staff out; the
outcome services check the team and audit every read.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.forms import EmptyForm
from ..db import get_session, utcnow
from ..forms import Refusal, run_form_action, run_page_form_action
from ..localtime import local_date, local_to_utc
from ..services import dropout, outcomes, reminders, responsibility, worksheets
from ..services.errors import Conflict, NotFound
from . import bp
from .course_views import episode_course_offer
from .episode_forms import (
    RESPONSIBLE_SAVED,
    AttendanceForm,
    BookContactForm,
    DischargeForm,
    InstrumentsForm,
    OfferingChangeForm,
    ResponsibleForm,
)
from .presenters.dropout import dropout_view
from .presenters.episode import answered_forms, contact_rows, episode_view, history_view
from .presenters.reminders import UNREACHABLE
from .presenters.responsibility import responsible_view
from .reminder_forms import DropoutNoticeForm

#: The episode page; its actions are below it. URL ids use the app's bounded int converter.
EPISODE = "/episodes/<int:episode_id>"
#: What the page says after each attendance button.
ATTENDANCE_DONE = {"attended": _l("The contact is marked attended."),
                   "no_show": _l("The contact is marked as not attended."),
                   "cancelled": _l("The contact is marked cancelled.")}

#: Booking a contact in an episode that has ended.
ENDED = Refusal(Conflict, _l("The episode has ended, so no more contacts can be booked."))


@bp.route(EPISODE)
def episode(episode_id: int):
    """One episode of care: flags, progress, answers, contacts and the closure note (audited)."""
    return _episode_page(episode_id)


@bp.route(f"{EPISODE}/answers")
def episode_answers(episode_id: int):
    """The episode's answers older than those on its page, a chunk per page, newest first (audited)."""
    return _history_page("therapist/episode_answers.html", outcomes.older_answers, episode_id,
                         lambda page: {"forms": answered_forms(page.rows)})


@bp.route(f"{EPISODE}/earlier-contacts")
def episode_contacts(episode_id: int):
    """The episode's contacts before those on its page, a chunk per page, latest first (audited)."""
    return _history_page("therapist/episode_contacts.html", outcomes.older_contacts, episode_id, lambda page: {
        "contacts": contact_rows(page.rows, page.response_totals, now=utcnow())})


def _history_page(template: str, read: Callable, episode_id: int, rows: Callable) -> str:
    """A page of the episode's older rows: `read` (access-checked and audited by the service), then
    `rows(page)` the template's rows."""
    db = get_session()
    page = read(db, actor=current_user, episode_id=episode_id, page=_page_number())
    db.commit()  # the audit event of this read
    return render_template(template, view=history_view(page, request.endpoint), **rows(page))


def _page_number() -> int:
    """The `page` asked for (1 when it is missing or not a number; the service keeps it in range)."""
    return request.args.get("page", 1, type=int)


@bp.post(f"{EPISODE}/contacts")
def book_contact(episode_id: int):
    """Book a contact; the forms asked before it are planned by the service."""
    return _act(episode_id, "book", BookContactForm, lambda db, form: outcomes.book_contact(
        db, actor=current_user, episode_id=episode_id, kind=form.kind.data,
        starts_at=local_to_utc(form.day.data, form.time.data), duration_minutes=form.duration.data,
        mode=form.mode.data, place=(form.place.data or "").strip() or None, is_last=form.is_last.data,
        video_link=(form.video_link.data or "").strip() or None,
    ), _l("The contact is booked, and the forms before it are planned."), [ENDED])


@bp.post(f"{EPISODE}/contacts/<int:appointment_id>/attendance")
def contact_attendance(episode_id: int, appointment_id: int):
    """Mark one contact of this episode attended, not attended or cancelled."""
    form = AttendanceForm(prefix="attendance")

    def action(db, form) -> None:
        appointment = dropout.mark_attendance(db, actor=current_user, appointment_id=appointment_id,
                                              status=form.status.data)
        if appointment.episode_id != episode_id:  # a contact of another episode: change nothing
            raise NotFound("contact")

    return _act(episode_id, "attendance", form, action, ATTENDANCE_DONE.get(form.status.data, ""))


@bp.post(f"{EPISODE}/discharge")
def discharge_episode(episode_id: int):
    """End the episode with work and sick leave at the end."""
    return _act(episode_id, "discharge", DischargeForm, lambda db, form: outcomes.discharge(
        db, actor=current_user, episode_id=episode_id, work_status_end=form.work_status_end.data,
        sick_leave_end=form.sick_leave_end.data, end_reason=form.end_reason.data,
    ), _l("The episode is ended. Copy the closure note into the patient record."))


@bp.post(f"{EPISODE}/dropout-notice")
def dropout_notice(episode_id: int):
    """The drop-out routine: record that the written notice was sent, with its deadline."""
    form = DropoutNoticeForm(prefix="dropout")
    return _act(episode_id, "dropout", form, lambda db, form: dropout.record_notice(
        db, actor=current_user, episode_id=episode_id, deadline=form.deadline.data,
    ), _l("The written notice and its deadline are recorded."), [
        Refusal(ValueError, _l("Choose a deadline after today and at most %(days)d days ahead.",
                               days=dropout.DEADLINE_MAX_DAYS), field=form.deadline),
        Refusal(Conflict, _l("There is no written notice to record now: something is booked after the missed "
                             "appointment, a notice is recorded already, or the episode has ended."))])


@bp.post(f"{EPISODE}/dropout-close")
def dropout_close(episode_id: int):
    """The drop-out routine: close the episode as dropped out once the deadline has passed, then
    show the closure note, which must still be written (H L4989-4993)."""
    return run_form_action(EmptyForm(), lambda db: dropout.close_dropped_out(
        db, actor=current_user, episode_id=episode_id,
    ), show=partial(_episode_page, episode_id), back=url_for(".episode", episode_id=episode_id),
        then=lambda episode: url_for(".episode", episode_id=episode.id, _anchor="closure-note-heading"),
        done=_l("The episode is closed as dropped out, and the person is told they are welcome back later. "
                "Now write the closure note: copy it into the patient record and send it to the GP."),
        refusals=[Refusal(Conflict, _l("The episode cannot be closed as dropped out now: the deadline has not "
                                       "passed, something is booked, the person was reached, or it has "
                                       "ended already."))])


@bp.post(f"{EPISODE}/instruments")
def episode_instruments(episode_id: int):
    """The therapist's choice of forms for this person; booked contacts follow it."""
    return _act(episode_id, "instruments", InstrumentsForm, lambda db, form: outcomes.set_instruments(
        db, actor=current_user, episode_id=episode_id, instruments=list(form.instruments.data or []),
    ), _l("The forms the person receives are saved. Booked contacts follow the new choice."))


@bp.post(f"{EPISODE}/offering-change")
def offering_change(episode_id: int):
    """Change the offering with its short note."""
    form = OfferingChangeForm(prefix="change")  # the refusal names its field
    return _act(episode_id, "change", form, lambda db, form: outcomes.change_offerings(
        db, actor=current_user, episode_id=episode_id, offerings=list(form.offerings.data or []),
        note=form.note.data or "",
    ), _l("The change of offering and its note are saved."),
        [Refusal(ValueError, _l("Choose an offering that differs from the current one."), field=form.offerings)])


@bp.post(f"{EPISODE}/responsible")
def episode_responsible(episode_id: int):
    """Choose the therapist responsible for the episode, or hand it over with a note."""
    form = ResponsibleForm(prefix="responsible").offer(
        responsibility.therapists_for_episode(get_session(), actor=current_user, episode_id=episode_id))
    return _act(episode_id, "responsible", form, lambda db, form: responsibility.set_responsible(
        db, actor=current_user, episode_id=episode_id, therapist_id=form.therapist.data, note=form.note.data,
    ), RESPONSIBLE_SAVED, form.refusals())


def _act(episode_id: int, name: str, form: FlaskForm | type[FlaskForm], action: Callable, done: str,
         refusals: Sequence[Refusal] = ()):
    """Run one episode action with its form, named `name` on the page (`forms.run_page_form_action`):
    the page again with the form's errors (400), or saved, said and back to the page. Each action
    says which refusals apply."""
    return run_page_form_action(name, form, action, page=partial(_episode_page, episode_id),
                                back=url_for(".episode", episode_id=episode_id), done=done, refusals=refusals)


def _episode_page(episode_id: int, *, bound: tuple[str, FlaskForm] | None = None) -> str:
    """The episode page (with `bound`, one form as posted, errors and all). Everything is read
    first and the audit events committed once; the page is then built from what was read, so no
    transaction stays open while it renders."""
    db, me = get_session(), current_user._get_current_object()  # the user once, not through the proxy
    overview = outcomes.episode_overview(db, actor=me, episode_id=episode_id)
    episode = overview.episode
    plan = worksheets.plan_for_record(db, actor=me, resident=overview.resident, team_id=episode.team_id)
    now = utcnow()
    routine = dropout_view(dropout.routine_for(db, episode=episode, now=now), today=local_date(now))
    cut_off = reminders.unreachable(db, resident_ids=[overview.resident.id],
                                    setup=reminders.ChannelSetup.from_config(current_app.config))
    therapists = responsibility.team_therapists(db, actor=me, team_id=episode.team_id)
    changes = responsibility.responsible_changes(db, actor=me, episode=episode)
    course = episode_course_offer(episode.id) if episode.discharged_at is None else None
    db.commit()  # the audit events of these reads
    forms: dict[str, FlaskForm] = {
        "book": BookContactForm(formdata=None, prefix="book"),
        "attendance": AttendanceForm(formdata=None, prefix="attendance"),
        "discharge": DischargeForm(formdata=None, prefix="discharge", work_status_end=episode.work_status_end,
                                   sick_leave_end=episode.sick_leave_end, end_reason=episode.end_reason),
        "dropout": DropoutNoticeForm(formdata=None, prefix="dropout",
                                     deadline=routine["default_deadline"] if routine else None),
        "instruments": InstrumentsForm(formdata=None, prefix="instruments",
                                       instruments=[c for c in episode.instruments.split(",") if c]),
        "change": OfferingChangeForm(formdata=None, prefix="change",
                                     offerings=[o for o in episode.offerings.split(",") if o]),
        "responsible": ResponsibleForm(formdata=None, prefix="responsible", therapist=episode.responsible_id or 0),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    forms["responsible"].offer(therapists)
    return render_template("therapist/episode.html", o=overview, forms=forms,
                           view=episode_view(overview, now=now), dropout=routine,
                           unreachable=str(UNREACHABLE) if cut_off else "", close_form=EmptyForm(formdata=None),
                           responsible=responsible_view(episode, changes), course_offer=course,
                           start_note=outcomes.start_note(overview),
                           closure_note=outcomes.closure_note(overview, self_help_plan=plan))
