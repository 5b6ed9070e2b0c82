"""What a reminder says, by channel: made from its kind and time only, in the resident's language.

A reminder never names the service, a diagnosis, a score or what the appointment is about:
someone else may see the lock screen. An appointment reminder says "Du har en avtale" and when; a
message says "Du har en ny melding" and nothing more. The lock screen also shows who sent it: the
installed app's name (APP_NAME) and icon, the SMS sender (SMS_SENDER) and the e-mail From
(MAIL_SENDER), all neutral by default. Used by the scheduler's reminder job, so it lives outside
the services (it needs the app's translations and URLs).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from .services.reminder_delivery import Composed, Outgoing
from .urls import external_url, path_for

#: The neutral notification icon (under static/).
ICON = "icons/notification-192.png"
APPOINTMENT_KINDS = ("appointment", "appointment_soon")


def _link(outgoing: Outgoing, build) -> str:
    values = {"appointment_id": outgoing.appointment_id} if outgoing.appointment_id else {}
    try:
        return build(outgoing.link, **values)
    except BuildError:  # an endpoint that no longer exists, or one that takes no appointment
        return build("client.home")


def compose(outgoing: Outgoing) -> Composed:
    """Every channel's text for one delivery."""
    locale = outgoing.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "nb")
    with force_locale(locale):
        url, page = _link(outgoing, external_url), _link(outgoing, path_for)
        push = {"tag": outgoing.token, "token": outgoing.token, "url": page,
                "icon": path_for("static", filename=ICON)}
        if outgoing.kind in APPOINTMENT_KINDS and outgoing.starts_at is not None:
            when = _("%(day)s at %(time)s", day=format_date(outgoing.starts_at, "full"),
                     time=format_time(outgoing.starts_at, "HH:mm"))
            title = _("You have an appointment")
            push.update(title=title, body=when)
            sms = _("You have an appointment %(when)s. Answer or change the time here: %(url)s", when=when, url=url)
            body = _("You have an appointment %(when)s.\n\nTell us you are coming, or change the time, here:\n%(url)s",
                     when=when, url=url)
            if outgoing.link == "client.appointment_reply":
                push["actions"] = [{"action": "coming", "title": _("I am coming")},
                                   {"action": "change", "title": _("I need to change")}]
                try:
                    push["change_url"] = path_for("client.appointment_request", appointment_id=outgoing.appointment_id)
                except BuildError:
                    push["change_url"] = page
        elif outgoing.kind == "test":
            title = _("Test notification")
            push.update(title=title, body=_("Reminders reach you here."))
            sms = _("This is a test. Reminders reach you by text message.")
            body = _("This is a test. Reminders reach you by e-mail.\n\nYour settings:\n%(url)s", url=url)
        else:
            title = _("You have a new message")
            push.update(title=title, body=_("Open the app to read it."))
            sms = _("You have a new message. Read it here: %(url)s", url=url)
            body = _("You have a new message. Sign in to read it:\n%(url)s", url=url)
    return Composed(push=push, sms=sms, email_subject=title, email_body=body)
