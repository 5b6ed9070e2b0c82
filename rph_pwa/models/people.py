"""People and organisation: municipalities, teams, users and team membership."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Optional

import phonenumbers
from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, LargeBinary, String, Table, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText, FieldCrypto, field_crypto
from ..db import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    """What a user is in the service. Staff roles need a second factor."""

    RESIDENT = "resident"
    THERAPIST = "therapist"
    TEAM_LEAD = "team_lead"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.RESIDENT


ROLE_VALUES = tuple(role.value for role in Role)

#: A team serves one or more municipalities (inter-municipal teams are common).
team_municipality = Table(
    "team_municipality",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_id", ForeignKey("municipality.id", ondelete="CASCADE"), primary_key=True),
)


class Municipality(Base):
    """A Norwegian municipality (kommune), identified by its official number."""

    __tablename__ = "municipality"
    __table_args__ = (CheckConstraint("length(number) = 4", name="number_four_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Official four-digit municipality number (kommunenummer), e.g. "1860" for Vestvågøy.
    number: Mapped[str] = mapped_column(String(4), unique=True)
    #: Official name.
    name: Mapped[str] = mapped_column(String(100))

    teams: Mapped[list["Team"]] = relationship(secondary=team_municipality, back_populates="municipalities")


class Team(Base):
    """An RPH team. It may serve several municipalities."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Display name, e.g. "RPH Lofoten".
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: Public phone number residents can call instead of using the app.
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    #: Working days within which the team promises to answer a referral (shown to residents).
    response_days: Mapped[int] = mapped_column(default=5, server_default="5")
    #: Working days within which the team contacts a person whose referral is urgent (1: the next
    #: working day). Shown on the receipt of an urgent referral.
    urgent_response_days: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Residents whose referral was received may book their first conversation in a published
    #: slot (`AssessmentSlot`); the team can turn this off.
    self_booking: Mapped[bool] = mapped_column(default=True, server_default="1")
    #: Appointment reminders go out this many hours before (24-48, handbook L2666-2686).
    reminder_hours_before: Mapped[int] = mapped_column(default=24, server_default="24")
    #: Team inbox for content-free notices.
    inbox_email: Mapped[Optional[str]] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=team_municipality, back_populates="teams", order_by="Municipality.name"
    )
    memberships: Mapped[list["TeamMembership"]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMembership(Base):
    """A staff member's place in a team. A therapist may belong to several teams."""

    __tablename__ = "team_membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped["User"] = relationship(back_populates="memberships")


def new_user_handle() -> bytes:
    """A random WebAuthn user handle: never the e-mail or the primary key."""
    return secrets.token_bytes(32)


class User(Base):
    """Anyone who signs in: residents (passkeys) and staff (password + second factor)."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),
        CheckConstraint("role != 'resident' OR password_hash IS NULL", name="resident_has_no_password"),
        CheckConstraint("role = 'resident' OR home_municipality_id IS NULL", name="only_residents_have_home"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of Role.
    role: Mapped[str] = mapped_column(String(20))
    #: Random WebAuthn user handle (32 bytes).
    webauthn_user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True, default=new_user_handle)
    #: Name or nickname the person wants us to use (encrypted).
    display_name: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: E-mail address (encrypted); found through `email_lookup`.
    email: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Keyed hash of the normalised e-mail, for sign-in look-ups.
    email_lookup: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    #: Phone number (encrypted); found through `phone_lookup`.
    phone: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Keyed hash of the phone number in international form (`phone_lookup_key`), kept in step
    #: with `phone` on every write, so staff can find a resident by an exact number.
    phone_lookup: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    #: Resident's own words on how and when the team may contact them (encrypted free text).
    contact_note: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Chosen UI language (nb, nn, en); None = default.
    locale: Mapped[Optional[str]] = mapped_column(String(5))
    #: Residents: the municipality they live in.
    home_municipality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("municipality.id"))
    #: Residents: the team that serves them.
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("team.id"), index=True)
    #: Staff: argon2 hash.
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    #: Staff: base32 TOTP secret (encrypted).
    totp_secret: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Staff: last accepted TOTP time step, so a code cannot be replayed.
    totp_last_step: Mapped[Optional[int]]
    #: Staff: TOTP tries since the last right code, counted in the database before each comparison.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Staff: TOTP codes are refused until then (set by too many wrong codes).
    totp_locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Staff: username for sign-in (staff sign in with a username, residents never do).
    username: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    #: Staff: away (holiday, sick) up to and including this day; their residents' weekly
    #: check-ins show in their team colleagues' review queues meanwhile.
    away_until: Mapped[Optional[date]] = mapped_column(Date)
    #: Residents: how reminders reach them, in order of preference (comma separated
    #: ReminderChannel values; empty = no reminders). A channel not set up (no phone, no push
    #: subscription) is skipped.
    reminder_channels: Mapped[str] = mapped_column(String(30), default="push,sms,email",
                                                   server_default="push,sms,email")
    #: Residents: a second reminder two hours before each appointment.
    reminder_second: Mapped[bool] = mapped_column(default=False, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    home_municipality: Mapped[Optional[Municipality]] = relationship(foreign_keys=[home_municipality_id])
    team: Mapped[Optional[Team]] = relationship(foreign_keys=[team_id])
    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    #: The login-session token of this request (not a column); Flask-Login stores it, not the id.
    login_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        """Flask-Login id: the rotating login-session token, so sessions can be revoked."""
        return self.login_token

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff

    @property
    def is_resident(self) -> bool:
        return self.role == Role.RESIDENT.value


def phone_lookup_key(phone: str | None, crypto: FieldCrypto | None = None) -> str | None:
    """The keyed lookup hash of a phone number: the same for "412 34 567", "+47 41234567" and
    "0047 412 34 567". A number that cannot be parsed is hashed by its digits. `crypto` defaults
    to the current app's (services pass theirs in, as they have no app)."""
    if not phone or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, "NO")
        key = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        key = "".join(ch for ch in phone if ch.isdigit())
    if not key.strip("+"):
        return None
    return (crypto or field_crypto()).lookup_hash(f"phone:{key}")


@event.listens_for(User.phone, "set")
def _keep_phone_lookup(user: User, value: str | None, _old, _initiator) -> None:
    """`phone_lookup` follows `phone` on every write, whoever writes it."""
    user.phone_lookup = phone_lookup_key(value)
