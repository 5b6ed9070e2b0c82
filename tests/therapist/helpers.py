"""Shared steps of the therapist tests: sign a therapist in, reload, post a prefixed page form."""
from __future__ import annotations

from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_staff


def login_therapist(db, actions, *teams, role=None):
    """A staff member of `teams` (a therapist unless `role`), signed in through the real forms,
    reading English (the assertions use the English texts)."""
    kwargs = {"role": role} if role else {}
    staff, secret = make_staff(db, teams=list(teams), **kwargs)
    staff.locale = "en"
    db.commit()
    actions.staff_login(staff.username, PASSWORD, secret)
    return staff


def refresh(db) -> None:
    """End the test session's transaction (an SQLite reader keeps its snapshot) and reload."""
    db.commit()
    db.expire_all()


def post_prefixed(client, url: str, prefix: str, data: dict, page: str | None = None):
    """Post one of a page's forms with its own (prefixed) CSRF field, as a browser would."""
    token = csrf_token(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**{f"{prefix}-{k}": v for k, v in data.items()}, f"{prefix}-csrf_token": token})
