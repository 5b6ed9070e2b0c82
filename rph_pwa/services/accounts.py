"""Accounts: creating residents and staff, passwords, TOTP and e-mail look-ups."""
from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, null, or_, select, update
from sqlalchemy.orm import Session

from ..crypto import FieldCrypto
from ..db import utcnow
from ..models import Municipality, Role, Team, TeamMembership, User, team_municipality
from .access import forget_team_ids
from .errors import Conflict, InvalidCode, NotFound, SecondFactorLocked
from .text_input import clean_name

#: Wrong TOTP codes in a row before the code check locks, and for how long it stays locked.
TOTP_MAX_FAILURES = 5
TOTP_LOCK = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same (no enumeration).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    """Lower-case and trim an address; the keyed hash is computed on this form."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """An argon2id hash of a staff password."""
    return _hasher.hash(password)


def team_for_municipality(session: Session, municipality_id: int) -> Team | None:
    """The team that serves a municipality (the first by name if, unusually, several do)."""
    return session.scalars(
        select(Team)
        .join(team_municipality, team_municipality.c.team_id == Team.id)
        .where(team_municipality.c.municipality_id == municipality_id)
        .order_by(Team.name)
        .limit(1)
    ).first()


def create_resident(
    session: Session,
    *,
    municipality_id: int,
    user_handle: bytes | None = None,
    display_name: str | None = None,
    locale: str | None = None,
) -> User:
    """A new resident living in `municipality_id`, served by the team serving it (if any)."""
    municipality = session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("unknown municipality")
    team = team_for_municipality(session, municipality.id)
    user = User(
        role=Role.RESIDENT.value,
        home_municipality_id=municipality.id,
        team_id=team.id if team else None,
        display_name=clean_name(display_name) or None,
        locale=locale,
    )
    if user_handle is not None:
        user.webauthn_user_handle = user_handle
    session.add(user)
    session.flush()
    return user


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    team_ids: list[int] | None = None,
    email: str | None = None,
    crypto: FieldCrypto | None = None,
) -> tuple[User, str]:
    """A staff user with a password and a fresh TOTP secret; returns (user, secret)."""
    if role is Role.RESIDENT:
        raise ValueError("residents have no password")
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict("username taken")
    secret = pyotp.random_base32()
    user = User(
        role=role.value,
        username=username,
        password_hash=hash_password(password),
        totp_secret=secret,
        display_name=clean_name(display_name),
    )
    if email and crypto is not None:
        set_email(user, email, crypto)
    user.memberships = [TeamMembership(team_id=team_id) for team_id in team_ids or []]
    session.add(user)
    session.flush()
    forget_team_ids(session)
    return user, secret


def set_email(user: User, email: str, crypto: FieldCrypto) -> None:
    """Store an address encrypted, with its keyed hash for look-ups."""
    email = normalise_email(email)
    user.email = email
    user.email_lookup = crypto.lookup_hash(email)


def find_by_email(session: Session, email: str, crypto: FieldCrypto) -> User | None:
    """The active user with this address, or None."""
    lookup = crypto.lookup_hash(normalise_email(email))
    return session.scalars(select(User).where(User.email_lookup == lookup, User.is_active.is_(True))).first()


def check_staff_password(session: Session, *, username: str, password: str) -> User | None:
    """The staff user if the password is right; None otherwise, at the same cost either way."""
    user = session.scalars(
        select(User).where(User.username == username.strip(), User.is_active.is_(True))
    ).first()
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_staff:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user


def verify_totp(user: User, code: str) -> None:
    """Accept a current TOTP code once (±1 step for clock drift); raise InvalidCode otherwise."""
    if not user.totp_secret:
        raise InvalidCode("no TOTP set up")
    code = "".join(ch for ch in code if ch.isdigit())
    totp = pyotp.TOTP(user.totp_secret)
    now_step = totp.timecode(datetime.now())
    for step in (now_step - 1, now_step, now_step + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                raise InvalidCode("code already used")
            user.totp_last_step = step
            return
    raise InvalidCode("wrong code")


def check_totp(session: Session, *, user: User, code: str, now: datetime | None = None) -> None:
    """The staff second factor with a lock: accept a right, unused TOTP code; after
    TOTP_MAX_FAILURES wrong codes refuse every code (right ones too) for TOTP_LOCK.

    Each try is counted by one conditional UPDATE before the code is compared, so parallel guesses
    cannot get more than TOTP_MAX_FAILURES comparisons. Raises SecondFactorLocked while locked (and
    for the try that locks it), InvalidCode for a wrong or replayed code. The caller commits either way.
    """
    now = now or utcnow()
    expired = User.totp_locked_until <= now
    tries = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_failures < TOTP_MAX_FAILURES, expired))
        .values(totp_failures=case((expired, 1), else_=User.totp_failures + 1),
                totp_locked_until=case((expired, null()), else_=User.totp_locked_until))
        .returning(User.totp_failures)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.expire(user, ["totp_failures", "totp_locked_until"])
    if tries is None:
        raise SecondFactorLocked("locked")
    try:
        verify_totp(user, code)
    except InvalidCode:
        if tries >= TOTP_MAX_FAILURES:
            session.execute(update(User).where(User.id == user.id).values(totp_locked_until=now + TOTP_LOCK)
                            .execution_options(synchronize_session=False))
            raise SecondFactorLocked("locked now") from None
        raise
    session.execute(update(User).where(User.id == user.id).values(totp_failures=0, totp_locked_until=None)
                    .execution_options(synchronize_session=False))
    session.flush()
