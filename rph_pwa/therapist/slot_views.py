"""Free times for first conversations, for staff: one team's upcoming times (free, or booked with a
link to the episode), a form to publish one or several in a row, a button to withdraw a free
one, and for team leads whether residents may book themselves and how long before an appointment
they are reminded.

The therapist blueprint's guard keeps everyone but signed-in staff out; `services.slots` checks the
team and audits the residents' names the list shows.
"""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import codes
from ..auth.forms import EmptyForm
from ..codes import MeetingMode
from ..db import get_session, parse_id
from ..forms import Refusal, run_form_action, run_page_form_action
from ..localtime import local_to_utc
from ..models import Role
from ..services import slots as svc
from ..services import staff_reminders
from ..services.access import has_role, require_clinical, staff_teams
from ..services.reminders import LEAD_HOURS_MAX, LEAD_HOURS_MIN
from ..services.responsibility import team_therapists
from . import bp
from .reminder_forms import LeadHoursForm
from .slot_forms import PublishSlotsForm, SelfBookingForm


@bp.route("/slots")
def slots():
    """One of my teams' upcoming free and booked times (`?team=` chooses among my teams)."""
    return _page(parse_id(request.args.get("team")))


@bp.post("/slots/teams/<int:team_id>/publish")
def publish_slots(team_id: int):
    """Publish one free time, or several back to back, for one of the team's therapists."""
    form = PublishSlotsForm(prefix="publish").offer(
        team_therapists(get_session(), actor=current_user, team_id=team_id), me=current_user)
    count = form.count.data if isinstance(form.count.data, int) else 1
    return run_page_form_action("publish", form, lambda db, form: svc.publish_slots(
        db, actor=current_user, team_id=team_id, staff_id=form.therapist.data,
        first_start=local_to_utc(form.day.data, form.time.data), count=form.count.data,
        duration_minutes=form.minutes.data, mode=form.mode.data, place=form.place.data,
    ), page=lambda bound: _page(team_id, bound=bound), back=url_for(".slots", team=team_id),
        done=ngettext("%(num)d free time is published.", "%(num)d free times are published.", count),
        refusals=form.refusals())


@bp.post("/slots/<int:slot_id>/withdraw")
def withdraw_slot(slot_id: int):
    """Take a free time back (the button's form holds only its CSRF token)."""
    return run_form_action(EmptyForm(), lambda db: svc.withdraw_slot(db, actor=current_user, slot_id=slot_id),
                           show=lambda: abort(400), back=url_for(".slots"),
                           then=lambda slot: url_for(".slots", team=slot.team_id),
                           done=_l("The time is withdrawn and no longer offered."),
                           refusals=[Refusal(svc.SlotBooked, _l("Someone has booked this time, so it cannot be "
                                                                  "withdrawn. Change the appointment on the episode "
                                                                  "page instead."))])


@bp.post("/slots/teams/<int:team_id>/self-booking")
def self_booking(team_id: int):
    """A team lead lets the team's residents book their first conversation themselves, or not."""
    return run_page_form_action("self_booking", SelfBookingForm, lambda db, form: svc.set_self_booking(
        db, actor=current_user, team_id=team_id, enabled=form.enabled.data == "on",
    ), page=lambda bound: _page(team_id, bound=bound), back=url_for(".slots", team=team_id),
        done=_l("The setting is saved."))


@bp.post("/teams/<int:team_id>/reminders")
def team_reminders(team_id: int):
    """A team lead sets how many hours (24-48) before an appointment the team's residents are reminded."""
    form = LeadHoursForm(prefix="reminders")
    return run_page_form_action("reminders", form, lambda db, form: staff_reminders.set_lead_hours(
        db, actor=current_user, team_id=team_id, hours=form.hours.data,
    ), page=lambda bound: _page(team_id, bound=bound), back=url_for(".slots", team=team_id),
        done=_l("The reminder time is saved."),
        refusals=[Refusal(ValueError, _l("Enter a whole number of hours from %(min)s to %(max)s.",
                                         min=LEAD_HOURS_MIN, max=LEAD_HOURS_MAX), field=form.hours)])


def _page(team_id: int | None, *, bound: tuple[str, FlaskForm] | None = None) -> str:
    """The page for `team_id` (default: my first team), with the forms `bound` replaces."""
    require_clinical(current_user)
    db = get_session()
    teams = staff_teams(db, current_user)
    team = next((t for t in teams if t.id == team_id), None) if team_id is not None else (teams or [None])[0]
    if team is None and team_id is not None:
        abort(404)
    rows = svc.team_slots(db, actor=current_user, team_id=team.id) if team is not None else []
    forms: dict[str, FlaskForm] = {}
    if team is not None:
        forms["publish"] = PublishSlotsForm(formdata=None, prefix="publish").offer(
            team_therapists(db, actor=current_user, team_id=team.id), me=current_user)
        forms["self_booking"] = SelfBookingForm(formdata=None, prefix="self_booking",
                                                enabled="on" if team.self_booking else "off")
        forms["reminders"] = LeadHoursForm(formdata=None, prefix="reminders", hours=team.reminder_hours_before)
    if bound is not None:
        forms[bound[0]] = bound[1]
    db.commit()  # the audit events of the names shown
    return render_template("therapist/slots.html", teams=teams, team=team, rows=rows, forms=forms,
                           is_lead=has_role(current_user, Role.TEAM_LEAD), modes=codes.labels(MeetingMode),
                           max_per_post=svc.MAX_PER_POST)
