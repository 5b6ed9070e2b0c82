"""What a reminder says, by channel: made from its kind and time only, in the resident's language.

A reminder never names the service, a diagnosis, a score or what the appointment is about:
someone else may see the lock screen. An appointment reminder says "Du har en avtale" and when; a
message says "Du har en ny melding" and nothing more. The lock screen also shows who sent it: the
installed app's name (APP_NAME) and icon, the SMS sender (SMS_SENDER) and the e-mail From
(MAIL_SENDER), all neutral by default. Used by the scheduler's reminder job, so it lives outside
the services (it needs the app's translations and URLs).

A burst of reminders mostly shares a few languages and start times, so the translated texts are
made once per (language, kind, start) and only the links differ per reminder.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import current_app
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _

from .services.reminder_delivery import Composed, Outgoing
from .urls import url_adapter

#: The neutral notification icon (under static/).
ICON = "icons/notification-192.png"
APPOINTMENT_KINDS = ("appointment", "appointment_soon")
#: Stands for the reminder's own link in the cached texts.
LINK = "\x00link\x00"


@lru_cache(maxsize=1024)
def _texts(locale: str, kind: str, starts_at: datetime | None, actions: bool) -> dict:
    """The translated texts of one kind of reminder (links as LINK)."""
    with force_locale(locale):
        if kind in APPOINTMENT_KINDS and starts_at is not None:
            when = _("%(day)s at %(time)s", day=format_date(starts_at, "full"), time=format_time(starts_at, "HH:mm"))
            texts = dict(title=_("You have an appointment"), body=when,
                         sms=_("You have an appointment %(when)s. Answer or change the time here: %(url)s",
                               when=when, url=LINK),
                         email=_("You have an appointment %(when)s.\n\nTell us you are coming, or change the time, "
                                 "here:\n%(url)s", when=when, url=LINK))
            if actions:
                texts["actions"] = ((_("I am coming"), "coming"), (_("I need to change"), "change"))
            return texts
        if kind == "test":
            return dict(title=_("Test notification"), body=_("Reminders reach you here."),
                        sms=_("This is a test. Reminders reach you by text message."),
                        email=_("This is a test. Reminders reach you by e-mail.\n\nYour settings:\n%(url)s", url=LINK))
        return dict(title=_("You have a new message"), body=_("Open the app to read it."),
                    sms=_("You have a new message. Read it here: %(url)s", url=LINK),
                    email=_("You have a new message. Sign in to read it:\n%(url)s", url=LINK))


def compose(outgoing: Outgoing) -> Composed:
    """Every channel's text for one delivery."""
    adapter = url_adapter()
    endpoint = outgoing.link
    try:
        takes_id = any("appointment_id" in rule.arguments for rule in adapter.map.iter_rules(endpoint))
    except KeyError:  # an endpoint that no longer exists
        endpoint, takes_id = "client.home", False
    values = {"appointment_id": outgoing.appointment_id} if takes_id and outgoing.appointment_id else {}
    page, link = adapter.build(endpoint, values), adapter.build(endpoint, values, force_external=True)
    replying = outgoing.link == "client.appointment_reply"
    texts = _texts(outgoing.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "nb"), outgoing.kind,
                   outgoing.starts_at, replying)
    push = {"title": texts["title"], "body": texts["body"], "tag": outgoing.token, "token": outgoing.token,
            "url": page, "icon": adapter.build("static", {"filename": ICON})}
    if "actions" in texts:
        push["actions"] = [{"action": action, "title": title} for title, action in texts["actions"]]
        push["change_url"] = adapter.build("client.appointment_request", {"appointment_id": outgoing.appointment_id})
    return Composed(push=push, sms=texts["sms"].replace(LINK, link), email_subject=texts["title"],
                    email_body=texts["email"].replace(LINK, link))
