"""Book the first conversation yourself: the team's free times by day, "Book this time", the
booking with the offer to move it once, or, when nothing can be booked, that the team will call.

The client blueprint's guard lets only signed-in residents in; `services.slots` decides what the
resident may book (their own team's free times, not for urgent referrals) and takes the time with
one conditional UPDATE. The form lives here because only this page uses it.
"""
from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, ValidationError

from .. import codes
from ..codes import MeetingMode
from ..db import get_session, parse_id
from ..forms import BaseForm, Refusal, run_form_action
from ..models import Appointment
from ..services import slots as svc
from . import bp

#: Why nothing can be booked, in the resident's words (the team's phone follows on the page).
NOT_BOOKABLE = {
    "urgent": _l("You told us you need help quickly, so the team will call you. You do not need to choose a time."),
    "off": _l("The team will call you to agree on a time for your first conversation."),
    "no_slots": _l("There are no free times to choose from right now. The team will call you to agree on a time."),
    "booked": _l("If the time does not suit you, call the team."),
    "moved": _l("You have already moved this time once. If it does not suit you, call the team."),
    "too_late": _l("The conversation is soon, so the time can no longer be moved here. If it does not suit you, "
                   "call the team."),
    "not_waiting": _l("Your first conversation has taken place. The team agrees on the next appointments with you."),
    "ended": _l("Your course of care has ended. If you need help again, you are welcome to send a new referral."),
    "no_referral": _l("When you have sent a referral, you can choose a time for your first conversation here."),
}


class BookSlotForm(BaseForm):
    """The chosen free time (its id; the service checks it is free and the resident's team's) and
    whether the page offered a first booking or a move."""

    slot = StringField(_l("Choose a time"), validators=[InputRequired(_l("Choose one of the times."))])
    intent = HiddenField(validators=[AnyOf(("book", "move"), message=_l("Reload the page and choose again."))])

    def validate_slot(self, field) -> None:
        """Only an id: anything else was not one of the times shown."""
        if parse_id(field.data) is None:
            raise ValidationError(_l("Choose one of the times."))


@bp.route("/me/book", methods=["GET", "POST"])
def book():
    """Choose a free time for the first conversation, or move the one you chose (once)."""
    form = BookSlotForm()
    return run_form_action(form, lambda db: (svc.move_booking if form.intent.data == "move" else svc.book_slot)(
        db, resident=current_user, slot_id=parse_id(form.slot.data),
    ), show=lambda: _page(form), back=url_for(".book"), done=None, then=_confirmed, refusals=[
        Refusal(svc.SlotTaken, _l("Someone else took that time just now. Choose another of the free times.")),
        Refusal(svc.NotBookable, _l("That time could not be booked. See below what you can do now."), category="info"),
    ])


def _confirmed(appointment: Appointment) -> str:
    """Say what was booked (the page then shows it) and go back to the page."""
    day, time = format_date(appointment.starts_at, "full"), format_time(appointment.starts_at, "short")
    if appointment.resident_moves:
        flash(_("Your first conversation is moved to %(day)s at %(time)s.", day=day, time=time), "success")
    else:
        flash(_("Your first conversation is booked for %(day)s at %(time)s. You can move it once if you need to.",
                day=day, time=time), "success")
    return url_for(".book")


def _page(form: BookSlotForm) -> str:
    offer = svc.booking_offer(get_session(), resident=current_user)
    return render_template("client/book.html", offer=offer, form=form, modes=codes.labels(MeetingMode),
                           reason=NOT_BOOKABLE.get(offer.reason))
