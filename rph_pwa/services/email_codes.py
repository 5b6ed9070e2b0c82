"""One-time codes by e-mail: the fallback sign-in for a lost phone, and confirming an address."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..crypto import FieldCrypto
from ..db import utcnow
from ..models import EmailCode, User
from .accounts import find_by_email, normalise_email, set_email
from .errors import Conflict, InvalidCode

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def _issue(session: Session, *, user: User, purpose: str, crypto: FieldCrypto,
           new_email: str | None = None) -> str:
    # Only the newest code of a purpose is valid: older unused ones are closed.
    session.execute(
        update(EmailCode)
        .where(EmailCode.user_id == user.id, EmailCode.purpose == purpose, EmailCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    code = _new_code()
    session.add(EmailCode(user_id=user.id, purpose=purpose, code_hash=crypto.lookup_hash(code),
                          new_email=new_email, expires_at=utcnow() + CODE_LIFETIME))
    session.flush()
    return code


def request_signin_code(session: Session, *, email: str, crypto: FieldCrypto) -> tuple[User, str] | None:
    """A sign-in code for the account with this address, or None if there is none.

    The caller answers the same way in both cases, so nobody can learn who has an account.
    """
    user = find_by_email(session, email, crypto)
    if user is None or not user.is_resident:
        return None
    return user, _issue(session, user=user, purpose="signin", crypto=crypto)


def _check(session: Session, *, user_id: int | None, purpose: str, code: str, crypto: FieldCrypto) -> EmailCode:
    if user_id is None:
        raise InvalidCode("no code requested")
    row = session.scalars(
        select(EmailCode)
        .where(EmailCode.user_id == user_id, EmailCode.purpose == purpose, EmailCode.used_at.is_(None))
        .order_by(EmailCode.id.desc())
        .limit(1)
    ).first()
    if row is None or row.expires_at < utcnow() or row.attempts >= MAX_ATTEMPTS:
        raise InvalidCode("expired")
    if not secrets.compare_digest(row.code_hash, crypto.lookup_hash(_digits(code))):
        row.attempts += 1
        session.flush()
        raise InvalidCode("wrong")
    row.used_at = utcnow()
    session.flush()
    return row


def verify_signin_code(session: Session, *, email_lookup: str, code: str, crypto: FieldCrypto) -> User:
    """The user with this address hash, if `code` is their newest unexpired sign-in code (five tries)."""
    user_id = session.scalars(select(User.id).where(User.email_lookup == email_lookup)).first()
    row = _check(session, user_id=user_id, purpose="signin", code=code, crypto=crypto)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidCode("inactive")
    return user


def request_email_confirmation(session: Session, *, user: User, email: str, crypto: FieldCrypto) -> str:
    """A code sent to a new address; the address is set only once the code comes back."""
    return _issue(session, user=user, purpose="confirm_email", crypto=crypto, new_email=normalise_email(email))


def confirm_email(session: Session, *, user: User, code: str, crypto: FieldCrypto) -> str:
    """Set the user's address after they prove they can read it; returns the address."""
    row = _check(session, user_id=user.id, purpose="confirm_email", code=code, crypto=crypto)
    email = row.new_email or ""
    other = find_by_email(session, email, crypto)
    if other is not None and other.id != user.id:
        raise Conflict("address belongs to another account")
    set_email(user, email, crypto)
    session.flush()
    return email
