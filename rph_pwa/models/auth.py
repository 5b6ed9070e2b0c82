"""Sign-in records: passkeys, WebAuthn challenges, e-mail codes and login sessions."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import User


class Passkey(Base):
    """A WebAuthn credential registered by a user. A user may have several."""

    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: Raw credential id from the authenticator.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    #: COSE public key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    #: Signature counter last seen.
    sign_count: Mapped[int] = mapped_column(default=0)
    #: Comma-separated transports reported at registration ("internal,hybrid").
    transports: Mapped[str] = mapped_column(String(200), default="")
    #: Whether the credential is synced (backed up) by the platform.
    backed_up: Mapped[bool] = mapped_column(default=False)
    #: Name the user gave it ("Min telefon"): their own words (encrypted; at most MAX_NAME_LENGTH).
    name: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class WebAuthnChallenge(Base):
    """A server-side, single-use WebAuthn challenge that expires after five minutes."""

    __tablename__ = "webauthn_challenge"
    __table_args__ = (CheckConstraint("purpose IN ('register', 'authenticate')", name="purpose_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random key kept in the browser's session to find this row.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    purpose: Mapped[str] = mapped_column(String(20))
    #: The user registering (None for usernameless sign-in and for sign-up before the user exists).
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: Sign-up only: the new user's handle chosen when the options were made.
    user_handle: Mapped[Optional[bytes]] = mapped_column(LargeBinary(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmailCode(Base):
    """A one-time code sent by e-mail: to sign in without a passkey, to confirm an address, or to
    make (or find) the account of a self-referral ("draft" codes).

    Every code records the keyed hash of the address it was sent to: a code proves that address and
    nothing else, and codes per address are counted from it.
    """

    __tablename__ = "email_code"
    __table_args__ = (CheckConstraint("purpose IN ('signin', 'confirm_email', 'draft')", name="purpose_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account the code is for (None for a draft code: the account may not exist yet).
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: draft only: the self-referral draft asking for it (None once the draft is gone; the row is
    #: kept until it expires, so codes per address are still counted).
    draft_id: Mapped[Optional[int]] = mapped_column(ForeignKey("referral_draft.id", ondelete="SET NULL"),
                                                    index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    #: Keyed hash of the code; the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64))
    #: Keyed hash of the normalised address the code was sent to.
    email_lookup: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    #: confirm_email and draft: the address the code was sent to (encrypted).
    new_email: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Tries so far, counted in the database before each comparison (at most MAX_ATTEMPTS).
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is stored.

    A new row (and token) is made at every sign-in, so the session id rotates on login, and a lost
    phone's sessions can be ended by revoking rows.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: How the user signed in: passkey, email_code, password_totp, password_passkey.
    method: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
