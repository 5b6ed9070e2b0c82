"""What the service worker tells us about a push it showed (no sign-in: the push's token is the
only key, and it can do nothing else): it was shown (`push_ack`), and "Jeg kommer" from the
notification's action (`push_answer`). Always 204, known token or not: the answer reveals nothing."""
from __future__ import annotations

from flask import request

from ..db import get_session
from ..extensions import csrf, limiter
from ..services import reminders
from . import bp

#: Per client address: a phone shows a few notifications a day; this only stops token guessing.
PUSH_ANSWER_LIMIT = "60 per minute"
#: A token is 43 characters at most (`ReminderDelivery.token`).
TOKEN_MAX = 64


def _token() -> str | None:
    data = request.get_json(silent=True) if request.is_json else None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= TOKEN_MAX else None


@bp.post("/push/ack")
@csrf.exempt
@limiter.limit(PUSH_ANSWER_LIMIT)
def push_ack():
    """The service worker showed the push with this token ({token}, JSON)."""
    token = _token()
    if token is not None:
        db = get_session()
        reminders.acknowledge(db, token=token)
        db.commit()
    return "", 204


@bp.post("/push/answer")
@csrf.exempt
@limiter.limit(PUSH_ANSWER_LIMIT)
def push_answer():
    """"Jeg kommer" from the notification's action ({token, answer: "coming"}, JSON)."""
    token = _token()
    data = request.get_json(silent=True) if token is not None else None
    if token is not None and isinstance(data, dict) and data.get("answer") == "coming":
        db = get_session()
        reminders.answer_coming_by_token(db, token=token)
        db.commit()
    return "", 204
