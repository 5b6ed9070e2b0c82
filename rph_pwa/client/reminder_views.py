"""The resident's reminders: the settings page (channels in order, the second reminder, a test),
this device's Web Push subscription (JSON from static/js/reminders.js), an appointment as a
calendar file and the answer "Jeg kommer" from a reminder (`services.reminders`).

Nothing here names the service, a diagnosis or a score: the calendar file says "Avtale", the
time and the place (or phone, or video; never the video link)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..codes import DeliveryState, ReminderChannel, ReminderOutcome, label
from ..crypto import field_crypto
from ..db import get_session, utcnow
from ..extensions import limiter
from ..forms import Refusal, run_form_action
from ..services import reminders, resident_home
from ..services.appointment_requests import resident_appointment
from ..services.errors import Conflict
from . import bp
from .reminder_forms import ComingForm, ReminderSettingsForm, ReminderTestForm

#: Test notifications a resident may ask for (each may be an SMS).
TEST_LIMIT = "5 per hour"
#: The calendar file's name (never what the appointment is about).
CALENDAR_FILE = "avtale.ics"


def _setup() -> reminders.ChannelSetup:
    return reminders.ChannelSetup.from_config(current_app.config)


@bp.route("/me/reminders", methods=["GET", "POST"], endpoint="reminders")
def reminder_settings():
    """Which ways I am reminded, in which order, whether also 2 hours before; what works now and
    why not; notifications on this device; a test and how the last one went."""
    db = get_session()
    setup = _setup()
    settings = reminders.settings_for(db, resident=current_user, setup=setup)
    form = ReminderSettingsForm(offered=settings.offered, order=settings.order,
                                data=None if request.method == "POST" else {"second": settings.second})
    return run_form_action(
        form, lambda db: reminders.set_preferences(db, resident=current_user, channels=form.channels(),
                                                   second=form.second.data),
        show=lambda: _settings_page(form, settings, setup), back=url_for(".reminders"),
        done=_l("Saved."))


def _settings_page(form: ReminderSettingsForm, settings: reminders.ReminderSettings,
                   setup: reminders.ChannelSetup) -> str:
    last = settings.last_test
    return render_template(
        "client/reminders.html", form=form, settings=settings, setup=setup, test_form=ReminderTestForm(),
        vapid_key=current_app.config.get("VAPID_PUBLIC_KEY", "") if setup.push else "",
        channel_names={c.value: c.label for c in ReminderChannel},
        usable_names=[label(ReminderChannel, c) for c in settings.usable],
        last_test=last,
        last_outcome=label(ReminderOutcome, last.outcome) if last is not None and last.outcome else None,
        last_deliveries=[(label(ReminderChannel, d.channel), label(DeliveryState, d.state))
                         for d in (last.deliveries if last is not None else [])])


@bp.post("/me/reminders/test")
@limiter.limit(TEST_LIMIT, key_func=lambda: f"reminder-test:{current_user.id}")
def reminder_test():
    """Send me a test reminder now, through my channels in order."""
    form = ReminderTestForm()

    def send(db):
        if not reminders.settings_for(db, resident=current_user, setup=_setup()).usable:
            raise Conflict("no usable channel")
        return reminders.send_test(db, resident=current_user)

    back = url_for(".reminders", _anchor="test")
    return run_form_action(form, send, show=lambda: redirect(back), back=back,
                           done=_l("A test is on its way. It can take a minute."),
                           refusals=[Refusal(Conflict, _l("No way to reach you works yet. Choose one and set it "
                                                          "up first."))])


# --- This device's notifications (JSON) ------------------------------------------------------------

def _json_error(message: str, status: int = 400) -> tuple[dict[str, Any], int]:
    return {"status": "error", "error": message}, status


@bp.post("/me/reminders/push")
def push_subscribe():
    """Keep this device's push subscription ({endpoint, keys: {p256dh, auth}}, JSON with
    X-CSRFToken, from our own pages only: CSRFProtect and web.check_request_origin)."""
    if not _setup().push:
        return _json_error("push is not available", 409)
    data = request.get_json(silent=True) if request.is_json else None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, dict):
        return _json_error("bad request")
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) for v in (endpoint, p256dh, auth)):
        return _json_error("bad request")
    db = get_session()
    try:
        reminders.subscribe(db, resident=current_user, endpoint=endpoint, p256dh=p256dh, auth=auth,
                            lookup=field_crypto().lookup_hash,
                            allowed_hosts=tuple(current_app.config["PUSH_SERVICE_HOSTS"]))
    except ValueError:
        db.rollback()
        return _json_error("bad subscription")
    db.commit()
    return {"status": "subscribed"}, 200


@bp.post("/me/reminders/push/remove")
def push_unsubscribe():
    """Forget this device's push subscription ({endpoint}, JSON with X-CSRFToken)."""
    data = request.get_json(silent=True) if request.is_json else None
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or len(endpoint) > reminders.ENDPOINT_MAX:
        return _json_error("bad request")
    db = get_session()
    removed = reminders.unsubscribe(db, resident=current_user, endpoint=endpoint, lookup=field_crypto().lookup_hash)
    db.commit()
    return {"status": "removed" if removed else "unknown"}, 200


# --- An appointment: the calendar file and the answer ----------------------------------------------

def ics_text(value: str) -> str:
    """`value` escaped for an iCalendar TEXT property (RFC 5545 3.3.11), on one line."""
    value = " ".join(str(value).split())
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def ics_time(moment: datetime) -> str:
    """A UTC date-time in iCalendar form (20260302T090000Z)."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics_fold(line: str) -> list[str]:
    """A content line folded at 75 octets (continuation lines start with a space)."""
    parts, current = [], ""
    for char in line:
        limit = 75 if not parts else 74
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = char
        else:
            current += char
    parts.append(current)
    return [parts[0], *(" " + p for p in parts[1:])]


def calendar_file(*, uid: str, starts_at: datetime, minutes: int, location: str, summary: str, product: str,
                  cancelled: bool, now: datetime) -> str:
    """One appointment as an iCalendar file: the time in UTC, a neutral title and the place."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//{ics_text(product)}//NONSGML//NB",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{ics_time(now)}",
             f"DTSTART:{ics_time(starts_at)}", f"DTEND:{ics_time(starts_at + timedelta(minutes=minutes))}",
             f"SUMMARY:{ics_text(summary)}", f"LOCATION:{ics_text(location)}",
             f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "END:VEVENT", "END:VCALENDAR"]
    return "".join(part + "\r\n" for line in lines for part in ics_fold(line))


def calendar_location(mode: str, place: str | None) -> str:
    """Where, in one or two words: the place, or phone, or video (never the video link)."""
    if mode == "phone":
        return _("Phone")
    if mode == "video":
        return _("Video")
    return place or _("The team's office")


@bp.route("/me/appointments/<int:appointment_id>/calendar.ics")
def appointment_calendar(appointment_id: int):
    """One of my appointments as a calendar file ("Avtale", the time and the place)."""
    appointment = resident_appointment(get_session(), resident=current_user, appointment_id=appointment_id)
    host = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "localhost"
    body = calendar_file(uid=f"appointment-{appointment.id}@{host}", starts_at=appointment.starts_at,
                         minutes=appointment.duration_minutes,
                         location=calendar_location(appointment.mode, appointment.place), summary=_("Appointment"),
                         product=current_app.config["APP_NAME"], cancelled=appointment.status == "cancelled",
                         now=utcnow())
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = f'attachment; filename="{CALENDAR_FILE}"'
    return response


@bp.route("/me/appointments/<int:appointment_id>/reply", methods=["GET", "POST"])
def appointment_reply(appointment_id: int):
    """Answer a reminder: "Jeg kommer", or ask to change the time (the request page)."""
    db = get_session()
    appointment = resident_appointment(db, resident=current_user, appointment_id=appointment_id)
    view = resident_home.appointment_view(db, resident=current_user, appointment=appointment)
    form = ComingForm()

    def coming(db):
        if not reminders.answer_coming(db, appointment=appointment):
            raise Conflict("not an upcoming appointment")

    return run_form_action(
        form, coming,
        show=lambda: render_template("client/appointment_reply.html", form=form, appointment=view,
                                     answer=appointment.resident_answer),
        back=url_for(".appointment_reply", appointment_id=appointment_id),
        done=_l("Thank you. The team knows you are coming."), then=lambda _result: url_for(".appointments"),
        refusals=[Refusal(Conflict, _l("This appointment is over or cancelled. Call the team if you have "
                                       "questions."))])
