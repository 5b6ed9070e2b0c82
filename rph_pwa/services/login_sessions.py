"""Signed-in browsers: a random token per sign-in, stored only as a hash."""
from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..crypto import secret_digest
from ..db import utcnow
from ..models import LoginSession, User


def start_login_session(session: Session, *, user: User, method: str) -> str:
    """Record a new sign-in; returns the token for the session cookie (a new one every time)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, token_hash=secret_digest(token), method=method))
    session.flush()
    return token


#: The active user of an unrevoked login session (built once: every signed-in request runs it).
_USER_FOR_TOKEN_HASH = (
    select(User)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.revoked_at.is_(None),
           User.is_active.is_(True))
)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user of an unrevoked login session, or None."""
    return session.scalars(_USER_FOR_TOKEN_HASH, {"token_hash": secret_digest(token)}).first()


def end_login_session(session: Session, token: str) -> None:
    """Revoke one login session (sign-out)."""
    session.execute(
        update(LoginSession).where(LoginSession.token_hash == secret_digest(token)).values(revoked_at=utcnow())
    )


def end_other_login_sessions(session: Session, *, user: User, keep_token: str | None) -> int:
    """Revoke every other signed-in browser of a user (e.g. after a lost phone)."""
    query = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(LoginSession.token_hash != secret_digest(keep_token))
    return session.execute(query.values(revoked_at=utcnow())).rowcount
