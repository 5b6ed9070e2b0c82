"""The resident's safety plan (sikkerhetsplan, Stanley & Brown): read, save as a new version, history.

A plan is written by the resident and grows over time; clinical staff of a team serving the
resident may add to it. Every save is a new, numbered version (nothing is overwritten), the
content is stored as encrypted JSON, and every staff read or edit is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import SafetyPlan, SafetyPlanVersion, Team, User
from . import audit, phones
from .access import resident_for_staff
from .errors import NotFound

#: Free-text parts of the plan, in the order of the Stanley–Brown plan.
TEXT_PARTS = ("warning_signs", "coping_alone", "distractions", "safer_surroundings", "reasons_for_living")
#: Parts that are lists of (name, phone) rows.
CONTACT_PARTS = ("people_to_ask", "professionals")
#: The order the plan is shown and edited in.
PART_ORDER = ("warning_signs", "coping_alone", "distractions", "people_to_ask", "professionals",
              "safer_surroundings", "reasons_for_living")
MAX_TEXT = 2000
MAX_ROWS = 8
MAX_NAME = 120

Contact = tuple[str, str]
"""One row of a contact list: (name, phone in display form, possibly empty)."""


@dataclass(frozen=True)
class PlanContent:
    """The parts of a safety plan. Any part may be empty: a plan grows over time."""

    #: Thoughts, feelings, situations or behaviour that tell me a crisis may be building up.
    warning_signs: str = ""
    #: What I can do on my own to take my mind off my problems.
    coping_alone: str = ""
    #: People and places that take my mind off things.
    distractions: str = ""
    #: People I can ask for help: (name, phone).
    people_to_ask: tuple[Contact, ...] = field(default_factory=tuple)
    #: Professionals and services I can contact: (name, phone).
    professionals: tuple[Contact, ...] = field(default_factory=tuple)
    #: Making my surroundings safer.
    safer_surroundings: str = ""
    #: What matters most to me and is worth living for.
    reasons_for_living: str = ""

    def __post_init__(self) -> None:
        for name in TEXT_PARTS:
            if len(getattr(self, name)) > MAX_TEXT:
                raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
        for name in CONTACT_PARTS:
            rows = tuple(tuple(row) for row in getattr(self, name))
            if len(rows) > MAX_ROWS:
                raise ValueError(f"{name} has more than {MAX_ROWS} rows")
            if any(len(row) != 2 or len(row[0]) > MAX_NAME for row in rows):
                raise ValueError(f"{name} holds a row that is not (name, phone)")
            object.__setattr__(self, name, rows)

    @property
    def is_empty(self) -> bool:
        """True if nothing at all is written in the plan."""
        return not any(getattr(self, f.name) for f in fields(self))

    def to_stored(self) -> dict:
        """The content as stored (a JSON object, encrypted by the column)."""
        data: dict = {"format": 1}
        data.update({name: getattr(self, name) for name in TEXT_PARTS})
        data.update({name: [{"name": n, "phone": p} for n, p in getattr(self, name)] for name in CONTACT_PARTS})
        return data

    @classmethod
    def from_stored(cls, data: dict) -> "PlanContent":
        """Read the stored object; unknown keys are ignored and missing parts are empty."""
        values: dict = {name: str(data.get(name) or "") for name in TEXT_PARTS}
        for name in CONTACT_PARTS:
            values[name] = tuple((str(row.get("name") or ""), str(row.get("phone") or ""))
                                 for row in data.get(name) or [])
        return cls(**values)


@dataclass(frozen=True)
class PlanView:
    """The newest version of a plan, ready for display."""

    content: PlanContent
    version: int
    updated_at: datetime
    author_id: int | None
    #: Display name (or staff username) of the author; "" if the author's account is gone.
    author_name: str
    #: The author's role (Role value); "" if the author's account is gone.
    author_role: str


@dataclass(frozen=True)
class VersionView:
    """One saved version in the plan's history (no content: who and when)."""

    number: int
    created_at: datetime
    author_id: int | None
    author_name: str
    author_role: str


@dataclass(frozen=True)
class StaffPlanView:
    """What a staff member sees: the resident, the current plan (None if none yet) and its history."""

    resident: User
    plan: PlanView | None
    history: list[VersionView]


# --- Phone numbers -----------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-.()\u00a0]")


def normalise_phone(text: str) -> str:
    """A phone number in display form, or ValueError (`services.phones.PhoneNumberError`).

    Accepts Norwegian numbers with or without +47/0047 (`+47 412 34 567`, `41234567`,
    `412 34 567`), short service numbers (`113`, `116 117`, `1881`) and, for family abroad,
    numbers with their country code (`+46 70 123 45 67`). Returns `412 34 567` for mobile and
    8xx numbers, `22 40 00 40` for other 8-digit numbers, `116 117` for six-digit service
    numbers, shorter service numbers as digits, and `+46701234567` for other countries.
    """
    return phones.normalise_phone(text, service_numbers=True)


def tel_href(number: str) -> str:
    """A `tel:` link for a number: `tel:+4741234567` for 8-digit numbers, `tel:113` for short ones.

    A number saved before numbers were checked against the numbering plan (8 digits not in use)
    still gets its link, so a saved plan never loses one; new input is checked strictly.
    """
    try:
        display = normalise_phone(number)
    except ValueError:
        display = _SEPARATORS.sub("", number or "")
        if not (display.isascii() and display.isdigit() and len(display) == 8 and display[0] != "0"):
            raise
    digits = display.replace(" ", "")
    if digits.startswith("+"):
        return "tel:" + digits
    if len(digits) == 8:
        return "tel:+47" + digits
    return "tel:" + digits


# --- Defaults ----------------------------------------------------------------------------------

#: Services every plan starts with (after the resident's own team). The GP's number is the
#: resident's to fill in.
DEFAULT_PROFESSIONALS: tuple[Contact, ...] = (
    ("Fastlege", ""),
    ("Legevakt", "116 117"),
    ("Medisinsk nødhjelp", "113"),
    ("Mental Helse hjelpetelefon", "116 123"),
    ("Kirkens SOS", "22 40 00 40"),
)


def default_professionals(team: Team | None) -> tuple[Contact, ...]:
    """The resident's team (name and phone) followed by DEFAULT_PROFESSIONALS."""
    if team is None:
        return DEFAULT_PROFESSIONALS
    try:
        phone = normalise_phone(team.phone) if team.phone else ""
    except ValueError:
        phone = team.phone or ""  # shown as written, so the resident can see and correct it
    return ((team.name, phone), *DEFAULT_PROFESSIONALS)


def default_content(resident: User) -> PlanContent:
    """The content a new plan starts from: empty, with the professionals prefilled."""
    return PlanContent(professionals=default_professionals(resident.team))


# --- Reading and saving ------------------------------------------------------------------------

def _author_name(author: User | None) -> str:
    return (author.display_name or author.username or "") if author is not None else ""


def _plan_view(session: Session, resident: User) -> PlanView | None:
    version = session.scalar(
        select(SafetyPlanVersion).join(SafetyPlan, SafetyPlan.id == SafetyPlanVersion.plan_id)
        .where(SafetyPlan.resident_id == resident.id)
        .order_by(SafetyPlanVersion.number.desc()).limit(1)
    )
    if version is None:
        return None
    return PlanView(content=PlanContent.from_stored(version.content), version=version.number,
                    updated_at=version.created_at, author_id=version.author_id,
                    author_name=_author_name(version.author), author_role=version.author.role if version.author else "")


def _history(session: Session, resident: User) -> list[VersionView]:
    # Only the columns needed: the (encrypted) content of old versions is not decrypted here.
    rows = session.execute(
        select(SafetyPlanVersion.number, SafetyPlanVersion.created_at, SafetyPlanVersion.author_id, User)
        .join(SafetyPlan, SafetyPlan.id == SafetyPlanVersion.plan_id)
        .outerjoin(User, User.id == SafetyPlanVersion.author_id)
        .where(SafetyPlan.resident_id == resident.id)
        .order_by(SafetyPlanVersion.number.desc())
    ).all()
    return [VersionView(number=number, created_at=created_at, author_id=author_id, author_name=_author_name(author),
                        author_role=author.role if author is not None else "")
            for number, created_at, author_id, author in rows]


def _resident_for(session: Session, actor: User, resident_id: int) -> User:
    """The resident whose plan the actor may use: themselves, or one their team serves (NotFound otherwise)."""
    if actor.is_resident:
        if actor.id != resident_id:
            raise NotFound("resident")
        return actor
    return resident_for_staff(session, actor=actor, resident_id=resident_id)


def _plan_id(session: Session, resident: User) -> int | None:
    return session.scalar(select(SafetyPlan.id).where(SafetyPlan.resident_id == resident.id))


def _audit_view(session: Session, actor: User, resident: User) -> None:
    audit.record(session, actor=actor, subject=resident, action="view_safety_plan", object_type="safety_plan",
                 object_id=_plan_id(session, resident))


def current_plan(session: Session, *, resident: User) -> PlanView | None:
    """The resident's own plan as it is now (newest version), or None if none is saved yet."""
    return _plan_view(session, resident)


def editable_content(session: Session, *, actor: User, resident_id: int) -> tuple[User, PlanContent]:
    """The resident and the content an edit form starts from: the current plan, or the defaults.

    A staff member's read is audited (`view_safety_plan`); NotFound for anyone else.
    """
    resident = _resident_for(session, actor, resident_id)
    if not actor.is_resident:
        _audit_view(session, actor, resident)
    plan = _plan_view(session, resident)
    return resident, plan.content if plan is not None else default_content(resident)


def save_plan(session: Session, *, actor: User, resident_id: int, content: PlanContent) -> SafetyPlanVersion:
    """Save the plan as a new version (last number + 1), authored by the actor.

    The actor is the resident themselves or clinical staff of a team serving them (audited as
    `edit_safety_plan`); anyone else gets NotFound. Phone numbers are stored in display form.
    """
    resident = _resident_for(session, actor, resident_id)
    content = PlanContent(**{
        **{name: getattr(content, name).strip() for name in TEXT_PARTS},
        **{name: tuple((n.strip(), normalise_phone(p) if p.strip() else "") for n, p in getattr(content, name))
           for name in CONTACT_PARTS},
    })
    plan = session.scalar(select(SafetyPlan).where(SafetyPlan.resident_id == resident.id))
    if plan is None:
        plan = SafetyPlan(resident_id=resident.id)
        session.add(plan)
        session.flush()
    last = session.scalar(select(func.max(SafetyPlanVersion.number)).where(SafetyPlanVersion.plan_id == plan.id))
    version = SafetyPlanVersion(plan_id=plan.id, number=(last or 0) + 1, author_id=actor.id,
                                content=content.to_stored())
    session.add(version)
    session.flush()
    if not actor.is_resident:
        audit.record(session, actor=actor, subject=resident, action="edit_safety_plan", object_type="safety_plan",
                     object_id=plan.id)
    return version


def history(session: Session, *, actor: User, resident_id: int) -> list[VersionView]:
    """Every version of the plan, newest first, with author and time. Staff reads are audited."""
    resident = _resident_for(session, actor, resident_id)
    if not actor.is_resident:
        _audit_view(session, actor, resident)
    return _history(session, resident)


def staff_view(session: Session, *, actor: User, resident_id: int) -> StaffPlanView:
    """A staff member opens a resident's plan and its history: access-checked, audited once."""
    resident = resident_for_staff(session, actor=actor, resident_id=resident_id)
    _audit_view(session, actor, resident)
    return StaffPlanView(resident=resident, plan=_plan_view(session, resident), history=_history(session, resident))
