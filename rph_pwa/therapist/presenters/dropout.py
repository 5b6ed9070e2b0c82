"""The drop-out routine's section of the episode page: where the routine stands in words, the
contact attempts since the missed appointment, the written notice and its deadline, and which
step the therapist can take (`services.dropout`)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _

from ...codes import ContactMethod, ContactOutcome, label
from ...services import dropout


def stage_text(routine: dropout.Routine) -> str:
    """Where the routine stands, in one or two sentences."""
    missed = format_date(routine.missed_at, "short") if routine.missed_at else ""
    if routine.stage == dropout.NOTICE_DUE:
        return _("Send the written notice with a deadline: %(num)d failed contact attempts since %(date)s.",
                 num=routine.failed, date=format_date(routine.first_failed_at, "short"))
    if routine.stage == dropout.WAITING:
        return _("The written notice was sent on %(sent)s. The deadline is %(deadline)s.",
                 sent=format_date(routine.notice_at, "short"), deadline=format_date(routine.deadline, "short"))
    if routine.stage == dropout.REACHED:
        return _("The person was reached after the written notice. Book a new contact, or end the episode "
                 "another way.")
    if routine.stage == dropout.CLOSE_DUE:
        return _("The deadline %(deadline)s has passed with no answer. Close the episode as dropped out, then "
                 "write the closure note.", deadline=format_date(routine.deadline, "short"))
    return _("Missed appointment on %(date)s, nothing booked since. Failed contact attempts counted: %(num)d. "
             "The written notice is due after %(min)d failed attempts over %(days)d days.",
             date=missed, num=routine.failed, min=dropout.NOTICE_AFTER_ATTEMPTS, days=dropout.NOTICE_AFTER.days)


def dropout_view(routine: dropout.Routine, *, today: date) -> dict[str, Any] | None:
    """The section's content (None when there is no routine: nothing missed without a booking)."""
    if routine.stage == dropout.NONE:
        return None
    return {
        "stage": routine.stage, "text": stage_text(routine),
        "attempts": [{"at": a.at, "method": label(ContactMethod, a.method), "outcome": label(ContactOutcome, a.outcome)}
                     for a in routine.attempts],
        "notice_at": routine.notice_at, "deadline": routine.deadline,
        "can_notice": routine.stage in (dropout.TRYING, dropout.NOTICE_DUE),
        "notice_due": routine.stage == dropout.NOTICE_DUE,
        "can_close": routine.stage == dropout.CLOSE_DUE,
        "default_deadline": today + timedelta(days=dropout.DEADLINE_DAYS),
    }
