"""One-time codes by e-mail: the fallback sign-in for a lost phone, confirming an address, and the
self-referral's account step ("draft" codes).

Every code records the keyed hash of the address it was sent to, and proves that address only.
Tries are counted in the database before the code is compared (one conditional UPDATE), so parallel
guesses cannot beat the limit; codes per address are counted from the same table.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from ..crypto import FieldCrypto
from ..db import utcnow
from ..models import EmailCode, User
from .accounts import find_by_email, normalise_email, set_email
from .errors import Conflict, InvalidCode

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
#: At most this many codes are sent to one address per hour (whatever the purpose).
MAX_CODES_PER_ADDRESS = 5
ADDRESS_WINDOW = timedelta(hours=1)
#: Spent codes are kept this long (for counting codes per address), then swept.
KEEP_FOR = timedelta(days=1)


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def address_lookup(email: str, crypto: FieldCrypto) -> str:
    """The keyed hash of a normalised address: what a code is bound to."""
    return crypto.lookup_hash(normalise_email(email))


def _serialise_address(session: Session, lookup: str) -> None:
    """On PostgreSQL, let one transaction at a time count and issue codes for an address (the lock
    ends with the transaction). SQLite already allows one writer at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(lookup[:15], 16)})


def _address_allows_code(session: Session, *, lookup: str, now: datetime) -> bool:
    """Whether another code may be sent to this address now (at most MAX_CODES_PER_ADDRESS an hour)."""
    _serialise_address(session, lookup)
    sent = session.scalar(select(func.count()).select_from(EmailCode)
                          .where(EmailCode.email_lookup == lookup, EmailCode.created_at > now - ADDRESS_WINDOW))
    return (sent or 0) < MAX_CODES_PER_ADDRESS


def _issue(session: Session, *, purpose: str, email: str, crypto: FieldCrypto, user: User | None = None,
           draft_id: int | None = None, keep_address: bool = False) -> str | None:
    """A new code for `email`, closing older unused ones of the same owner and purpose; None when the
    address has had its codes for this hour (the caller answers the visitor the same way)."""
    now = utcnow()
    lookup = address_lookup(email, crypto)
    session.execute(delete(EmailCode).where(EmailCode.expires_at < now - KEEP_FOR))
    if not _address_allows_code(session, lookup=lookup, now=now):
        return None
    if user is not None:
        owner = EmailCode.user_id == user.id
    elif draft_id is not None:
        owner = EmailCode.draft_id == draft_id
    else:  # a sign-in code for an address without an account (see request_signin_code)
        owner = EmailCode.user_id.is_(None) & EmailCode.draft_id.is_(None) & (EmailCode.email_lookup == lookup)
    # Only the newest code of a purpose is valid: older unused ones are closed.
    session.execute(update(EmailCode).where(owner, EmailCode.purpose == purpose, EmailCode.used_at.is_(None))
                    .values(used_at=now))
    code = _new_code()
    session.add(EmailCode(user_id=user.id if user is not None else None, draft_id=draft_id, purpose=purpose,
                          code_hash=crypto.lookup_hash(code), email_lookup=lookup,
                          new_email=normalise_email(email) if keep_address else None, created_at=now,
                          expires_at=now + CODE_LIFETIME))
    session.flush()
    return code


@dataclass(frozen=True)
class CheckedCode:
    """A code that matched and is now used: its row id, owner and the address it was sent to."""

    id: int
    user_id: int | None
    email_lookup: str | None


def _check(session: Session, *, newest, code: str, crypto: FieldCrypto) -> CheckedCode:
    """Count a try on the newest open code selected by `newest`, then compare.

    The try is counted by one conditional UPDATE before the comparison, so however many requests
    arrive at once, at most MAX_ATTEMPTS comparisons happen per code; the code is then used once.
    """
    now = utcnow()
    newest_id = (select(EmailCode.id).where(newest, EmailCode.used_at.is_(None))
                 .order_by(EmailCode.id.desc()).limit(1).scalar_subquery())
    claimed = session.execute(
        update(EmailCode)
        .where(EmailCode.id == newest_id, EmailCode.attempts < MAX_ATTEMPTS, EmailCode.expires_at > now,
               EmailCode.used_at.is_(None))
        .values(attempts=EmailCode.attempts + 1)
        .returning(EmailCode.id, EmailCode.code_hash, EmailCode.user_id, EmailCode.email_lookup)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        raise InvalidCode("expired")
    if not secrets.compare_digest(claimed.code_hash, crypto.lookup_hash(_digits(code))):
        raise InvalidCode("wrong")
    used = session.execute(
        update(EmailCode).where(EmailCode.id == claimed.id, EmailCode.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:  # another request used it a moment ago
        raise InvalidCode("used")
    return CheckedCode(claimed.id, claimed.user_id, claimed.email_lookup)


# --- Sign-in for an existing resident -----------------------------------------------------------

def request_signin_code(session: Session, *, email: str, crypto: FieldCrypto) -> tuple[User, str] | None:
    """A sign-in code for the account with this address, or None if there is none (or the address
    has had its codes for this hour).

    The caller answers the same way in every case, so nobody can learn who has an account.
    """
    user = find_by_email(session, email, crypto)
    if user is None or not user.is_resident:
        # The same work as for an account: a code bound to the address alone, never sent (it can
        # sign nobody in). Neither the time taken nor the per-address limit tells who has an account.
        _issue(session, purpose="signin", email=email, crypto=crypto)
        return None
    code = _issue(session, purpose="signin", email=email, crypto=crypto, user=user)
    return (user, code) if code is not None else None


def verify_signin_code(session: Session, *, email_lookup: str, code: str, crypto: FieldCrypto) -> User:
    """The user with this address hash, if `code` is the newest unexpired sign-in code sent to that
    address (five tries)."""
    checked = _check(session, newest=(EmailCode.email_lookup == email_lookup) & (EmailCode.purpose == "signin"),
                     code=code, crypto=crypto)
    user = session.get(User, checked.user_id) if checked.user_id is not None else None
    if user is None or not user.is_active or user.email_lookup != checked.email_lookup:
        raise InvalidCode("inactive")
    return user


# --- Confirming a new address of a signed-in user -----------------------------------------------

def request_email_confirmation(session: Session, *, user: User, email: str, crypto: FieldCrypto) -> str | None:
    """A code sent to a new address; the address is set only once the code comes back. None when
    the address has had its codes for this hour."""
    return _issue(session, purpose="confirm_email", email=email, crypto=crypto, user=user, keep_address=True)


def confirm_email(session: Session, *, user: User, code: str, crypto: FieldCrypto) -> str:
    """Set the user's address after they prove they can read it; returns the address."""
    checked = _check(session, newest=(EmailCode.user_id == user.id) & (EmailCode.purpose == "confirm_email"),
                     code=code, crypto=crypto)
    email = session.scalar(select(EmailCode.new_email).where(EmailCode.id == checked.id)) or ""
    other = find_by_email(session, email, crypto)
    if other is not None and other.id != user.id:
        raise Conflict("address belongs to another account")
    set_email(user, email, crypto)
    session.flush()
    return email


# --- The self-referral's account step -----------------------------------------------------------

def request_draft_code(session: Session, *, draft_id: int, email: str, crypto: FieldCrypto) -> str | None:
    """A code for the address in a referral draft's contact step, bound to that address. None when
    the address has had its codes for this hour."""
    return _issue(session, purpose="draft", email=email, crypto=crypto, draft_id=draft_id, keep_address=True)


def void_draft_codes(session: Session, *, draft_id: int) -> None:
    """Close a draft's open codes (its address changed: a code proves only the address it went to)."""
    session.execute(update(EmailCode).where(EmailCode.draft_id == draft_id, EmailCode.purpose == "draft",
                                            EmailCode.used_at.is_(None)).values(used_at=utcnow()))


def verify_draft_code(session: Session, *, draft_id: int, email: str, code: str, crypto: FieldCrypto) -> str:
    """Check a draft's code against the address the draft holds now; returns the address the code
    was sent to. Refused when the draft's address is not the one the code went to."""
    checked = _check(session, newest=(EmailCode.draft_id == draft_id) & (EmailCode.purpose == "draft"),
                     code=code, crypto=crypto)
    if not email or checked.email_lookup != address_lookup(email, crypto):
        raise InvalidCode("address changed")
    return session.scalar(select(EmailCode.new_email).where(EmailCode.id == checked.id)) or ""
