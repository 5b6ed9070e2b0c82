"""The reminders of one appointment, for staff: which reminder went out, when, by which channel,
whether it was shown on the phone or failed, the resident's answer and any open request, and
plainly when no channel can reach the resident (then the therapist calls).

The therapist blueprint's guard keeps everyone but signed-in staff out; `services.reminders`
checks the team (another team's appointment is 404) and audits the read.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from ..db import get_session
from ..services import staff_reminders
from ..services.reminders import ChannelSetup
from . import bp
from .presenters.reminders import reminder_page_view


@bp.route("/appointments/<int:appointment_id>/reminders")
def appointment_reminders(appointment_id: int):
    """One appointment's reminders and their deliveries (audited)."""
    db = get_session()
    page = staff_reminders.appointment_reminder_page(db, actor=current_user, appointment_id=appointment_id,
                                                     setup=ChannelSetup.from_config(current_app.config))
    db.commit()  # the audit event of this read
    return render_template("therapist/appointment_reminders.html", v=reminder_page_view(page))
