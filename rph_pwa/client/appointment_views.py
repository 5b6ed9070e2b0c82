"""The resident's appointments: all of them, and asking to change or cancel one. Nothing changes
until the team answers (`services.appointment_requests`)."""
from __future__ import annotations

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..db import get_session
from ..forms import Refusal, run_form_action
from ..services import appointment_requests, resident_home
from ..services.appointment_requests import AlreadyAsked
from ..services.errors import Conflict
from . import bp
from .appointment_forms import AppointmentRequestForm


@bp.route("/me/appointments")
def appointments():
    """Upcoming and past appointments, with how each takes place and what I asked of it."""
    listing = resident_home.appointment_list(get_session(), resident=current_user)
    return render_template("client/appointments.html", listing=listing)


@bp.route("/me/appointments/<int:appointment_id>/request", methods=["GET", "POST"])
def appointment_request(appointment_id: int):
    """Ask the team to move or cancel one of my appointments, with an optional reason."""
    db = get_session()
    appointment = appointment_requests.resident_appointment(db, resident=current_user, appointment_id=appointment_id)
    view = resident_home.appointment_view(db, resident=current_user, appointment=appointment)
    form = AppointmentRequestForm()
    return run_form_action(
        form, lambda db: appointment_requests.ask(db, resident=current_user, appointment_id=appointment_id,
                                                  kind=form.kind.data, reason=form.reason.data),
        show=lambda: render_template("client/appointment_request.html", form=form, appointment=view),
        back=url_for(".appointment_request", appointment_id=appointment_id),
        done=_l("Your request is sent. The team will answer."), then=lambda _request: url_for(".appointments"),
        refusals=[Refusal(AlreadyAsked, _l("You have already asked about this appointment. The team will answer."),
                          field=form.kind),
                  Refusal(Conflict, _l("This appointment can no longer be changed here. Please call the team."),
                          field=form.kind)])
