"""The therapist's episode page for routine outcome monitoring: flags, trends, item answers,
contacts with the forms asked before them, the forms the person receives, changes of offering,
the intake checklist's state, discharge, and the start and closure notes.

`register(bp)` adds the routes to the therapist blueprint, whose `before_request` already keeps
everyone but signed-in staff out; the outcome services check the team and audit every read.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from ..db import get_session, utcnow
from ..services import outcomes
from ..services.errors import Conflict, NotFound
from .presenters.episode import episode_view
from .episode_forms import AttendanceForm, BookContactForm, DischargeForm, InstrumentsForm, OfferingChangeForm

#: Times typed by staff are Norwegian local time; the database keeps UTC.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")
#: URL ids use the app's bounded int converter (web.BoundedIntConverter).
_ID = "int"
#: What the page says after each attendance button.
ATTENDANCE_DONE = {"attended": _l("The contact is marked attended."),
                   "no_show": _l("The contact is marked as not attended."),
                   "cancelled": _l("The contact is marked cancelled.")}


def register(bp: Blueprint) -> None:
    """Add the episode page and its actions to the therapist blueprint."""
    base = f"/episodes/<{_ID}:episode_id>"
    bp.add_url_rule(base, view_func=episode)
    bp.add_url_rule(f"{base}/contacts", view_func=book_contact, methods=["POST"])
    bp.add_url_rule(f"{base}/contacts/<{_ID}:appointment_id>/attendance", view_func=contact_attendance,
                    methods=["POST"])
    bp.add_url_rule(f"{base}/discharge", view_func=discharge_episode, methods=["POST"])
    bp.add_url_rule(f"{base}/instruments", view_func=episode_instruments, methods=["POST"])
    bp.add_url_rule(f"{base}/offering-change", view_func=offering_change, methods=["POST"])


def episode(episode_id: int):
    """One episode of care: flags, progress, answers, contacts and the closure note (audited)."""
    return _episode_page(episode_id)


def book_contact(episode_id: int):
    """Book a contact; the forms asked before it are planned by the service."""
    form = BookContactForm(prefix="book")
    return _act(episode_id, "book", form, lambda db: outcomes.book_contact(
        db, actor=current_user, episode_id=episode_id, kind=form.kind.data,
        starts_at=_local_to_utc(form.day.data, form.time.data), duration_minutes=form.duration.data,
        mode=form.mode.data, place=(form.place.data or "").strip() or None, is_last=form.is_last.data,
    ), _l("The contact is booked, and the forms before it are planned."))


def contact_attendance(episode_id: int, appointment_id: int):
    """Mark one contact of this episode attended, not attended or cancelled."""
    form = AttendanceForm(prefix="attendance")

    def action(db) -> None:
        appointment = outcomes.record_attendance(db, actor=current_user, appointment_id=appointment_id,
                                                 status=form.status.data)
        if appointment.episode_id != episode_id:  # a contact of another episode: change nothing
            raise NotFound("contact")

    return _act(episode_id, "attendance", form, action, ATTENDANCE_DONE.get(form.status.data, ""))


def discharge_episode(episode_id: int):
    """End the episode with work and sick leave at the end."""
    form = DischargeForm(prefix="discharge")
    return _act(episode_id, "discharge", form, lambda db: outcomes.discharge(
        db, actor=current_user, episode_id=episode_id, work_status_end=form.work_status_end.data,
        sick_leave_end=form.sick_leave_end.data, end_reason=form.end_reason.data,
    ), _l("The episode is ended. Copy the closure note into the patient record."))


def episode_instruments(episode_id: int):
    """The therapist's choice of forms for this person; booked contacts follow it."""
    form = InstrumentsForm(prefix="instruments")
    return _act(episode_id, "instruments", form, lambda db: outcomes.set_instruments(
        db, actor=current_user, episode_id=episode_id, instruments=list(form.instruments.data or []),
    ), _l("The forms the person receives are saved. Booked contacts follow the new choice."))


def offering_change(episode_id: int):
    """Change the offering with its short note."""
    form = OfferingChangeForm(prefix="change")
    return _act(episode_id, "change", form, lambda db: outcomes.change_offerings(
        db, actor=current_user, episode_id=episode_id, offerings=list(form.offerings.data or []),
        note=form.note.data or "",
    ), _l("The change of offering and its note are saved."),
        invalid=(form.offerings, _l("Choose an offering that differs from the current one.")))


def _act(episode_id: int, name: str, form: FlaskForm, action: Callable, done: str,
         invalid: tuple | None = None):
    """Run one episode action: re-show the page with the errors (400), or save, flash and go back.

    `invalid` is (field, message) for a ValueError the service raises on input the form let through."""
    if not form.validate():
        return _episode_page(episode_id, bound=(name, form), status=400)
    db = get_session()
    try:
        action(db)
    except ValueError:
        db.rollback()
        if invalid is None:
            raise
        invalid[0].errors = [*invalid[0].errors, invalid[1]]
        return _episode_page(episode_id, bound=(name, form), status=400)
    except NotFound:
        db.rollback()
        abort(404)
    except Conflict:
        db.rollback()
        flash(_("The episode has ended, so no more contacts can be booked."), "error")
        return redirect(url_for(".episode", episode_id=episode_id))
    db.commit()
    flash(str(done), "success")
    return redirect(url_for(".episode", episode_id=episode_id))


def _episode_page(episode_id: int, *, bound: tuple[str, FlaskForm] | None = None, status: int = 200):
    db = get_session()
    try:
        overview = outcomes.episode_overview(db, actor=current_user, episode_id=episode_id)
    except NotFound:
        abort(404)
    db.commit()  # the audit event of this read
    forms: dict[str, FlaskForm] = {
        "book": BookContactForm(formdata=None, prefix="book"),
        "attendance": AttendanceForm(formdata=None, prefix="attendance"),
        "discharge": DischargeForm(formdata=None, prefix="discharge",
                                   work_status_end=overview.episode.work_status_end,
                                   sick_leave_end=overview.episode.sick_leave_end,
                                   end_reason=overview.episode.end_reason),
    }
    forms["instruments"] = InstrumentsForm(formdata=None, prefix="instruments",
                                           instruments=[c for c in overview.episode.instruments.split(",") if c])
    forms["change"] = OfferingChangeForm(formdata=None, prefix="change",
                                         offerings=[o for o in overview.episode.offerings.split(",") if o])
    if bound is not None:
        forms[bound[0]] = bound[1]
    return render_template("therapist/episode.html", o=overview, forms=forms,
                           view=episode_view(overview, now=utcnow()),
                           start_note=outcomes.start_note(overview),
                           closure_note=outcomes.closure_note(overview)), status


def _local_to_utc(day: date, at: time) -> datetime:
    """A date and wall-clock time in Norway as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LOCAL_ZONE).astimezone(timezone.utc)
