"""Self-referral without a GP: eligibility, server-side drafts, submission, and the team's triage.

The person's answers live in an encrypted draft until they submit; a submitted referral becomes an
episode of care. Every staff read goes through `audit.record`.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import measures
from ..measures.instruments import auditc
from ..measures.registry import asked
from ..db import utcnow
from ..models import (AuditEvent, Appointment, ContactAttempt, Episode, IntakeChecklist, MeasureResponse,
                      Municipality, OnwardService, Referral, ReferralDraft, Team, User)
from ..models.referrals import OFFERINGS
from .access import CLINICAL_ROLES, staff_team_ids
from ..crypto import FieldCrypto
from .accounts import create_resident, find_by_email, normalise_email, set_email, team_for_municipality
from .errors import Conflict, InvalidCode, NotFound
from . import email_codes, record_text, urgent_flags
from .outcomes import plan_forms

DRAFT_LIFETIME = timedelta(days=30)
#: The most a draft may hold (its JSON, in characters). The steps' own field limits keep a draft
#: far below it; this bounds what an anonymous visitor can make the database keep.
MAX_DRAFT_CHARS = 64 * 1024
MINIMUM_AGE = 16
#: Instruments in the referral, in the order they are asked.
REFERRAL_INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")
#: Steps whose answers must be present before a referral can be submitted. An instrument whose
#: wording is not verified (AUDIT-C, DUDIT-C) is never required (and only asked if the deployment
#: turns it on, see config UNVERIFIED_INSTRUMENTS).
REQUIRED_SECTIONS = ("eligibility", "troubles", "work",
                     *[code for code in REFERRAL_INSTRUMENTS if measures.get(code).verified_wording], "contact")


def asked_instruments(enabled_unverified) -> tuple[str, ...]:
    """The referral's instruments that are asked: every verified one, and an unverified one only
    if its code is in `enabled_unverified` (the deployment's UNVERIFIED_INSTRUMENTS setting)."""
    return asked(REFERRAL_INSTRUMENTS, enabled_unverified)


#: Key in a referral's answers: instruments the person chose to talk about rather than answer.
DECLINED_KEY = "questionnaires_declined"
#: Referral statuses that still wait for triage.
OPEN_STATUSES = ("new", "in_contact")
#: Dates in notes for the municipal record are local dates.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")
AGE_BANDS = ((16, 17, "16-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 66, "55-66"), (67, 200, "67+"))


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def age_band(age: int) -> str:
    """The reporting band of an age (16 and over)."""
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    raise ValueError("age below 16 has no band")


# --- Eligibility ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    """The answer to step 1. `outcome` is "ok", "under_16" or "unserved"."""

    outcome: str
    team: Team | None = None
    municipality: Municipality | None = None


def check_eligibility(session: Session, *, age: int, municipality_id: int) -> Eligibility:
    """Who may refer themselves: 16 or older, living in a municipality a team serves."""
    municipality = session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("municipality")
    if age < MINIMUM_AGE:
        return Eligibility("under_16", municipality=municipality)
    team = team_for_municipality(session, municipality.id)
    if team is None:
        return Eligibility("unserved", municipality=municipality)
    return Eligibility("ok", team=team, municipality=municipality)


# --- Drafts -----------------------------------------------------------------------------------

class DraftTooLarge(Conflict):
    """The draft would hold more than MAX_DRAFT_CHARS."""


def _dump_draft(data: dict[str, Any]) -> str:
    text = json.dumps(data)
    if len(text) > MAX_DRAFT_CHARS:
        raise DraftTooLarge("draft too large")
    return text


def start_draft(session: Session, *, eligibility: dict[str, Any]) -> tuple[ReferralDraft, str]:
    """A new draft holding the (already checked) eligibility answers; returns (draft, key)."""
    key = secrets.token_urlsafe(32)
    draft = ReferralDraft(key_hash=_hash(key), data=_dump_draft({"eligibility": eligibility}),
                          urgent=eligibility.get("crisis") == "yes", expires_at=utcnow() + DRAFT_LIFETIME)
    session.add(draft)
    session.flush()
    return draft, key


def load_draft(session: Session, key: str | None) -> ReferralDraft | None:
    """The unexpired draft for a key, or None."""
    if not key:
        return None
    draft = session.scalars(select(ReferralDraft).where(ReferralDraft.key_hash == _hash(key))).first()
    if draft is None or draft.expires_at < utcnow():
        return None
    return draft


def draft_data(draft: ReferralDraft) -> dict[str, Any]:
    """The draft's answers as a dict."""
    return json.loads(draft.data or "{}")


def save_section(session: Session, *, draft: ReferralDraft, section: str, values: dict[str, Any]) -> dict[str, Any]:
    """Store one step's answers (also partial ones, so nothing typed is lost); DraftTooLarge
    when the draft would hold more than MAX_DRAFT_CHARS."""
    data = draft_data(draft)
    if section == "contact" and _contact_email(data.get(section)) != _contact_email(values):
        email_codes.void_draft_codes(session, draft_id=draft.id)  # a code proves only the address it went to
    data[section] = values
    draft.data = _dump_draft(data)
    draft.urgent = bool(urgent_reasons(data))
    draft.expires_at = utcnow() + DRAFT_LIFETIME
    session.flush()
    return data


#: The draft key holding the step the person reached last (not an answer; never submitted).
POSITION_KEY = "_position"


def record_position(session: Session, *, draft: ReferralDraft, step: int) -> None:
    """Remember the step the person is on (a number; one past the last step is the review), so
    coming back continues there."""
    data = draft_data(draft)
    if data.get(POSITION_KEY) == step:
        return
    data[POSITION_KEY] = step
    draft.data = _dump_draft(data)
    session.flush()


def resume_position(draft: ReferralDraft) -> int | None:
    """The step to continue at, as recorded by `record_position` (None if none was)."""
    step = draft_data(draft).get(POSITION_KEY)
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _contact_email(section: dict[str, Any] | None) -> str:
    """The address in a contact step's answers (also a failed step's raw text), normalised."""
    section = section or {}
    raw = (section.get("raw") or {}).get("email") or [""]
    return normalise_email(str(section.get("email") or raw[0] or ""))


def discard_draft(session: Session, key: str | None) -> None:
    """Delete a draft (the person chose to start over, or is not eligible)."""
    if key:
        session.execute(delete(ReferralDraft).where(ReferralDraft.key_hash == _hash(key)))


def purge_expired_drafts(session: Session) -> int:
    """Remove drafts nobody came back to (run by the scheduler later; safe to call any time)."""
    return session.execute(delete(ReferralDraft).where(ReferralDraft.expires_at < utcnow())).rowcount


def _phq9(data: dict[str, Any]) -> measures.Result | None:
    """The draft's scored PHQ-9, or None while it is not answered (the item-9 rule is the
    instrument's flag, never a list position)."""
    answers = (data.get("PHQ-9") or {}).get("answers")
    if not answers:
        return None
    try:
        return measures.score("PHQ-9", answers)
    except ValueError:
        return None


def urgent_reasons(data: dict[str, Any]) -> list[str]:
    """Why this referral must reach a clinician quickly: PHQ-9 item 9 above 0, or "in crisis now"."""
    reasons = []
    phq9 = _phq9(data)
    if phq9 is not None and "item9" in phq9.flags:
        reasons.append("item9")
    if (data.get("eligibility") or {}).get("crisis") == "yes":
        reasons.append("crisis")
    return reasons


def missing_sections(data: dict[str, Any]) -> list[str]:
    """Required steps that are not complete yet."""
    return [name for name in REQUIRED_SECTIONS if not (data.get(name) or {}).get("complete")]


# --- Submission -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """The stored referral, and whether this call created it (False for a repeated submit)."""

    referral: Referral
    created: bool


def submit_referral(session: Session, *, draft_key: str, resident: User, update_details: bool = False,
                    auditc_cutoffs: tuple[int, int] | None = None) -> Submission:
    """Turn a complete draft into a referral, its questionnaire responses and an episode of care.

    Idempotent: submitting the same draft twice returns the first referral. The resident's name,
    phone, municipality and team are only filled where empty, unless `update_details` (the resident
    said yes to the changes `detail_changes` listed). The referral goes to the team serving the
    chosen municipality either way.
    """
    existing = session.scalars(select(Referral).where(Referral.submission_key == _hash(draft_key))).first()
    if existing is not None:
        return Submission(existing, False)
    draft = load_draft(session, draft_key)
    if draft is None:
        raise NotFound("draft")
    data = draft_data(draft)
    if missing_sections(data):
        raise Conflict("incomplete")
    eligibility = data["eligibility"]
    municipality_id = int(eligibility["municipality_id"])
    team = team_for_municipality(session, municipality_id)
    if team is None or int(eligibility["age"]) < MINIMUM_AGE:
        raise Conflict("not eligible")
    contact = data["contact"]
    reasons = urgent_reasons(data)
    now = utcnow()
    referral = Referral(
        submission_key=_hash(draft_key), resident_id=resident.id, team_id=team.id,
        municipality_id=municipality_id, meeting_municipality_id=contact.get("meeting_municipality_id") or None,
        urgent=bool(reasons), urgent_reason=",".join(reasons) or None, channel="app",
        age_band=age_band(int(eligibility["age"])), gender=contact.get("gender") or "unspecified",
        submitted_at=now,
        answers=json.dumps({**{k: _clean(v) for k, v in data.items()
                               if k not in REFERRAL_INSTRUMENTS and k != POSITION_KEY}, **_declined(data)}),
    )
    try:
        with session.begin_nested():  # two submits at the same moment: the unique key decides
            session.add(referral)
            session.flush()
    except IntegrityError:
        winner = session.scalars(select(Referral).where(Referral.submission_key == _hash(draft_key))).one()
        return Submission(winner, False)
    work = data.get("work") or {}
    episode = Episode(referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=now,
                      work_status_start=work.get("work_status"), sick_leave_start=work.get("sick_leave"))
    session.add(episode)
    session.flush()
    phq9 = _phq9(data)
    for reason in reasons:  # each reason is followed up and closed with a note by the team
        item9 = phq9.value_of("item9") if reason == "item9" and phq9 is not None else None
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=team.id, reason=reason,
                                referral_id=referral.id, now=now, item9_answer=item9)
    for code in REFERRAL_INSTRUMENTS:
        section = data.get(code) or {}
        if not section.get("complete") or section.get("answers") is None:
            continue  # not asked, skipped (never required), or "I would rather talk about it"
        result = measures.score(code, section["answers"], bands=_bands(code, contact, auditc_cutoffs))
        session.add(MeasureResponse(
            resident_id=resident.id, referral_id=referral.id, episode_id=episode.id, instrument_code=code,
            instrument_version=str(result.version), answers=json.dumps(list(result.answers)),
            functioning=section.get("functioning"), total=result.total, band=result.band,
            flags=",".join(sorted(result.flags)), submitted_at=now,
        ))
    _fill_resident_contact(resident, contact, team=team, municipality_id=municipality_id, update=update_details)
    session.delete(draft)
    session.flush()
    return Submission(referral, True)


def _declined(data: dict[str, Any]) -> dict[str, Any]:
    """{DECLINED_KEY: {code: "would_rather_talk"}} for the instruments the person chose to talk
    about instead of answering (stored as such, never scored); {} if none."""
    declined = {code: "would_rather_talk" for code in REFERRAL_INSTRUMENTS
                if (data.get(code) or {}).get("complete") and (data.get(code) or {}).get("declined")}
    return {DECLINED_KEY: declined} if declined else {}


def _bands(code: str, contact: dict[str, Any], auditc_cutoffs: tuple[int, int] | None):
    """AUDIT-C is banded with the sex-specific cut-offs (women, men; the referral's gender, the
    lower cut-off when unknown); other instruments use their own bands."""
    if code != "AUDIT-C":
        return None
    women, men = auditc_cutoffs or (auditc.DEFAULT_CUTOFF_WOMEN, auditc.DEFAULT_CUTOFF_MEN)
    return auditc.bands_for(contact.get("gender"), women=women, men=men)


def _clean(section: dict[str, Any]) -> dict[str, Any]:
    """A section without the draft's bookkeeping (raw form text, completeness)."""
    return {k: v for k, v in section.items() if k not in ("raw", "complete")}


def _fill_resident_contact(resident: User, contact: dict[str, Any], *, team: Team, municipality_id: int,
                           update: bool) -> None:
    """Fill the resident's empty details from the referral; overwrite only when they said yes."""
    if contact.get("name") and (update or not resident.display_name):
        resident.display_name = contact["name"]
    if contact.get("phone") and (update or not resident.phone):
        resident.phone = contact["phone"]
    if update or resident.team_id is None:
        resident.team_id = team.id
    if update or resident.home_municipality_id is None:
        resident.home_municipality_id = municipality_id


@dataclass(frozen=True)
class DetailChange:
    """One of a resident's details that a referral would change: a stable key ("name", "phone",
    "municipality", "team"), the current value and the value from the referral."""

    field: str
    old: str
    new: str


def _digits_of(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


def detail_changes(session: Session, *, resident: User, draft: ReferralDraft) -> list[DetailChange]:
    """What submitting this draft would change about an existing resident, if they say yes.

    Only values that are set on both sides and differ are listed: an empty detail is simply filled.
    """
    data = draft_data(draft)
    contact = data.get("contact") or {}
    changes = []
    name = (contact.get("name") or "").strip()
    if name and resident.display_name and name != resident.display_name:
        changes.append(DetailChange("name", resident.display_name, name))
    phone = (contact.get("phone") or "").strip()
    if phone and resident.phone and _digits_of(phone) != _digits_of(resident.phone):
        changes.append(DetailChange("phone", resident.phone, phone))
    municipality_id = int((data.get("eligibility") or {}).get("municipality_id") or 0)
    municipality = session.get(Municipality, municipality_id) if municipality_id else None
    if municipality is not None and resident.home_municipality_id not in (None, municipality.id):
        old = session.get(Municipality, resident.home_municipality_id)
        changes.append(DetailChange("municipality", old.name if old else "", municipality.name))
    team = team_for_municipality(session, municipality_id) if municipality is not None else None
    if team is not None and resident.team_id not in (None, team.id):
        old_team = session.get(Team, resident.team_id)
        changes.append(DetailChange("team", old_team.name if old_team else "", team.name))
    return changes


# --- Triage -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """One questionnaire result ready for display (band is a stable key, translated in templates)."""

    code: str
    total: int
    band: str
    flagged: bool


@dataclass(frozen=True)
class QueueItem:
    """One referral in the triage queue, with everything the team needs to prioritise."""

    id: int
    resident_id: int
    name: str
    urgent: bool
    urgent_reason: str
    days_waited: int
    status: str
    municipality: str
    scores: list[Score]
    item9: int | None
    work_status: str
    sick_leave: str
    goals: str
    own_words: str
    problems: list[str] = field(default_factory=list)
    channel: str = "app"
    #: "waiting_assessment" or "assessment_booked" (only not-started referrals are queued).
    phase: str = "waiting_assessment"


def _scores(referral: Referral) -> tuple[list[Score], int | None]:
    scores, item9 = [], None
    for response in referral.responses:
        scores.append(Score(response.instrument_code, response.total, response.band, bool(response.flags)))
        if response.instrument_code == "PHQ-9":
            item9 = measures.score("PHQ-9", json.loads(response.answers),
                                   version=int(response.instrument_version)).value_of("item9")
    return scores, item9


#: The phases of an episode, in the order they usually follow (see `episode_phase`).
PHASES = ("waiting_assessment", "assessment_booked", "assessed", "in_treatment", "following_up", "ended")
#: Guided onward: the team follows up after this long unless it sets another date.
FOLLOW_UP_AFTER = timedelta(days=14)


def episode_phase(*, status: str, discharged_at: datetime | None, assessed_at: datetime | None,
                  first_treatment_at: datetime | None, contacts: list[tuple[str, str]]) -> str:
    """Where an episode is, from what has happened (not from the referral's stored status alone).

    `contacts` are the episode's (kind, status) pairs. The first rule that holds decides:

    1. "ended": the episode is discharged.
    2. "following_up": the person was guided onward and the team keeps contact until help has
       started elsewhere (handbook L1954-1960).
    3. "in_treatment": a first treatment date is recorded, or a contact other than the assessment
       conversation was attended.
    4. "assessed": the assessment is done - an assessment date is recorded, the assessment
       conversation was attended, or the referral was marked assessed or accepted.
    5. "assessment_booked": an assessment conversation is booked (not cancelled, not missed).
    6. "waiting_assessment": otherwise.

    Phases 5 and 6 are "not yet started": only those referrals are in the triage queue.
    """
    if discharged_at is not None:
        return "ended"
    if status == "guided_onward":
        return "following_up"
    if first_treatment_at is not None or any(kind != "assessment" and state == "attended" for kind, state in contacts):
        return "in_treatment"
    if (assessed_at is not None or status in ("assessed", "accepted")
            or any(kind == "assessment" and state == "attended" for kind, state in contacts)):
        return "assessed"
    if any(kind == "assessment" and state == "booked" for kind, state in contacts):
        return "assessment_booked"
    return "waiting_assessment"


def phase_of(episode: Episode, referral: Referral, appointments: list[Appointment]) -> str:
    """`episode_phase` of loaded rows."""
    return episode_phase(status=referral.status, discharged_at=episode.discharged_at,
                         assessed_at=episode.assessed_at, first_treatment_at=episode.first_treatment_at,
                         contacts=[(a.kind, a.status) for a in appointments])


def _not_started():
    """SQL for `episode_phase` in ("waiting_assessment", "assessment_booked"): the triage queue.

    Referral status new or in contact, episode not discharged, no assessment or first treatment
    date, and no attended contact of any kind.
    """
    attended = (select(Appointment.id).where(Appointment.episode_id == Episode.id,
                                             Appointment.status == "attended").exists())
    return (Referral.status.in_(OPEN_STATUSES), Episode.discharged_at.is_(None), Episode.assessed_at.is_(None),
            Episode.first_treatment_at.is_(None), ~attended)


def triage_queue(session: Session, *, actor: User, now: datetime | None = None) -> list[QueueItem]:
    """Referrals of the actor's teams not yet started (see `episode_phase`): urgent first, then
    longest waiting. Audited per row."""
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("queue")
    now = now or utcnow()
    referrals = list(session.scalars(
        select(Referral).join(Episode, Episode.referral_id == Referral.id)
        .options(selectinload(Referral.responses), selectinload(Referral.resident),
                 selectinload(Referral.municipality))
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), *_not_started())
        .order_by(Referral.urgent.desc(), Referral.submitted_at.asc())
        .limit(300)
    ))
    if referrals:
        session.execute(insert(AuditEvent), [
            {"actor_id": actor.id, "subject_id": r.resident_id, "team_id": r.team_id, "action": "view_referral",
             "object_type": "referral_summary", "object_id": r.id, "at": now}
            for r in referrals
        ])
    booked = set(session.scalars(  # referral ids with an assessment conversation booked
        select(Episode.referral_id).join(Appointment, Appointment.episode_id == Episode.id)
        .where(Episode.referral_id.in_([r.id for r in referrals]), Appointment.kind == "assessment",
               Appointment.status == "booked"))) if referrals else set()
    items = []
    for r in referrals:
        answers = json.loads(r.answers)
        scores, item9 = _scores(r)
        troubles, work = answers.get("troubles", {}), answers.get("work", {})
        items.append(QueueItem(
            id=r.id, resident_id=r.resident_id, name=r.resident.display_name or f"#{r.resident_id}",
            urgent=r.urgent, urgent_reason=r.urgent_reason or "", days_waited=(now - r.submitted_at).days,
            status=r.status, municipality=r.municipality.name, scores=scores, item9=item9,
            work_status=work.get("work_status", ""), sick_leave=work.get("sick_leave", ""),
            goals=troubles.get("goals", ""), own_words=troubles.get("own_words", ""),
            problems=list(troubles.get("problems", [])), channel=r.channel,
            phase="assessment_booked" if r.id in booked else "waiting_assessment",
        ))
    return items


def count_urgent(session: Session, *, actor: User) -> int:
    """How many not yet started referrals of the actor's teams are urgent. A number only, so not audited."""
    if actor.role not in CLINICAL_ROLES:
        return 0
    return session.scalar(
        select(func.count()).select_from(Referral).join(Episode, Episode.referral_id == Referral.id)
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), *_not_started(),
               Referral.urgent.is_(True))
    ) or 0


def count_follow_ups_due(session: Session, *, actor: User, now: datetime | None = None) -> int:
    """How many people guided onward by the actor's teams are due a follow-up (the date has come,
    or none is set). A number only, so not audited."""
    if actor.role not in CLINICAL_ROLES:
        return 0
    now = now or utcnow()
    return session.scalar(
        select(func.count()).select_from(Referral).join(Episode, Episode.referral_id == Referral.id)
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), Referral.status == "guided_onward",
               Episode.discharged_at.is_(None), or_(Episode.follow_up_at.is_(None), Episode.follow_up_at <= now))
    ) or 0


@dataclass(frozen=True)
class FollowUp:
    """A person guided onward whom the team follows up until help has started elsewhere."""

    referral_id: int
    episode_id: int
    name: str
    follow_up_at: datetime | None
    due: bool
    service: str | None


def onward_follow_ups(session: Session, *, actor: User, now: datetime | None = None) -> list[FollowUp]:
    """Open guided-onward episodes of the actor's teams, the earliest follow-up date first (a
    missing date counts as due). Audited per row, like the queue."""
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("follow-ups")
    now = now or utcnow()
    rows = session.execute(
        select(Referral, Episode).join(Episode, Episode.referral_id == Referral.id)
        .options(selectinload(Referral.resident))
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), Referral.status == "guided_onward",
               Episode.discharged_at.is_(None))
        .order_by(Episode.follow_up_at.is_(None).desc(), Episode.follow_up_at.asc(), Referral.id)
        .limit(300)
    ).all()
    if rows:
        session.execute(insert(AuditEvent), [
            {"actor_id": actor.id, "subject_id": r.resident_id, "team_id": r.team_id, "action": "view_referral",
             "object_type": "referral_summary", "object_id": r.id, "at": now}
            for r, _episode in rows
        ])
    services = {s.id: s.name for s in session.scalars(select(OnwardService).where(
        OnwardService.id.in_({r.onward_service_id for r, _e in rows if r.onward_service_id})))} if rows else {}
    return [FollowUp(referral_id=r.id, episode_id=e.id, name=r.resident.display_name or f"#{r.resident_id}",
                     follow_up_at=e.follow_up_at, due=e.follow_up_at is None or e.follow_up_at <= now,
                     service=services.get(r.onward_service_id)) for r, e in rows]


def referral_for_staff(session: Session, *, actor: User, referral_id: int) -> Referral:
    """A referral of one of the actor's teams (NotFound otherwise, for unknown and foreign alike)."""
    referral = session.get(Referral, referral_id)
    if (actor.role not in CLINICAL_ROLES or referral is None
            or referral.team_id not in staff_team_ids(session, actor)):
        raise NotFound("referral")
    return referral


def open_referral(session: Session, *, actor: User, referral_id: int) -> Referral:
    """Open one referral: access-checked and written to the audit log."""
    from . import audit

    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    audit.record(session, actor=actor, subject=referral.resident, action="view_referral",
                 object_type="referral", object_id=referral.id, team_id=referral.team_id)
    return referral


@dataclass(frozen=True)
class ReferralDetail:
    """Everything the referral page shows: the referral, its answers and the episode's history."""

    referral: Referral
    answers: dict[str, Any]
    episode: Episode
    attempts: list[ContactAttempt]
    appointments: list[Appointment]
    checklist: IntakeChecklist | None
    onward_services: list[OnwardService]
    onward_service: OnwardService | None
    start_note: str


def referral_detail(session: Session, *, actor: User, referral_id: int) -> ReferralDetail:
    """Open one referral for its page (access-checked and audited, via `open_referral`)."""
    referral = open_referral(session, actor=actor, referral_id=referral_id)
    episode = referral.episode
    attempts = list(session.scalars(
        select(ContactAttempt).options(selectinload(ContactAttempt.staff))
        .where(ContactAttempt.referral_id == referral.id)
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
    ))
    appointments = list(session.scalars(
        select(Appointment).options(selectinload(Appointment.staff))
        .where(Appointment.episode_id == episode.id).order_by(Appointment.starts_at)
    ))
    checklist = session.scalars(select(IntakeChecklist).where(IntakeChecklist.episode_id == episode.id)).first()
    services = onward_services(session, team_ids=[referral.team_id])
    chosen = next((s for s in services if s.id == referral.onward_service_id), None)
    return ReferralDetail(referral=referral, answers=referral_answers(referral), episode=episode,
                          attempts=attempts, appointments=appointments, checklist=checklist,
                          onward_services=services, onward_service=chosen, start_note=start_note(referral))


def referral_answers(referral: Referral) -> dict[str, Any]:
    """The decrypted form answers of a referral."""
    return json.loads(referral.answers)


def _mark_contact(episode: Episode, when: datetime) -> None:
    if episode.first_contact_at is None:
        episode.first_contact_at = when


def log_contact_attempt(session: Session, *, actor: User, referral_id: int, method: str, outcome: str,
                        note: str | None, now: datetime | None = None) -> ContactAttempt:
    """Record a try to reach the person; a reached person counts as first contact."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    now = now or utcnow()
    attempt = ContactAttempt(referral_id=referral.id, staff_id=actor.id, at=now, method=method, outcome=outcome,
                             note=note or None)
    session.add(attempt)
    if outcome == "reached":
        _mark_contact(referral.episode, now)
        if referral.status == "new":
            referral.status = "in_contact"
    session.flush()
    return attempt


def book_assessment(session: Session, *, actor: User, referral_id: int, starts_at: datetime, mode: str,
                    place: str | None) -> Appointment:
    """Book the information and assessment conversation."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    appointment = Appointment(episode_id=referral.episode.id, staff_id=actor.id, kind="assessment",
                              starts_at=starts_at, mode=mode, place=place or None)
    session.add(appointment)
    if referral.status == "new":
        referral.status = "in_contact"
    session.flush()
    plan_forms(session, appointment=appointment, episode=referral.episode)  # forms before every contact
    return appointment


#: The intake checklist's points (handbook L1388–1428; children as relatives L4794–4798), in the
#: order shown. `minor_confidentiality` (L3108) applies to ages 16–17 only.
CHECKLIST_POINTS = ("why_now", "expectations", "goals", "development", "functioning", "family", "work",
                    "earlier_help", "resources", "trauma", "substance_use", "suicide_questions",
                    "change_information", "children", "minor_confidentiality")
MINOR_AGE_BAND = "16-17"


@dataclass(frozen=True)
class ChecklistInput:
    """The intake checklist (handbook ch. 3.1)."""

    goals: bool
    work: bool
    trauma: bool
    substance_use: bool
    suicide_questions: bool
    notes: str | None
    why_now: bool = False
    expectations: bool = False
    development: bool = False
    functioning: bool = False
    family: bool = False
    earlier_help: bool = False
    resources: bool = False
    change_information: bool = False
    children: bool = False
    minor_confidentiality: bool = False


def checklist_points(age_band: str | None) -> tuple[str, ...]:
    """The points that apply to a person: the confidentiality rules for 16–17 only for them."""
    return tuple(p for p in CHECKLIST_POINTS if p != "minor_confidentiality" or age_band == MINOR_AGE_BAND)


def save_intake_checklist(session: Session, *, actor: User, referral_id: int, data: ChecklistInput,
                          now: datetime | None = None) -> IntakeChecklist:
    """Save the checklist; when every point is covered the person counts as assessed."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    episode = referral.episode
    checklist = session.scalars(select(IntakeChecklist).where(IntakeChecklist.episode_id == episode.id)).first()
    if checklist is None:
        checklist = IntakeChecklist(episode_id=episode.id, staff_id=actor.id)
        session.add(checklist)
    for name in CHECKLIST_POINTS:
        setattr(checklist, name, bool(getattr(data, name)))
    checklist.notes = data.notes or None
    checklist.staff_id = actor.id
    now = now or utcnow()
    if all(getattr(data, name) for name in checklist_points(referral.age_band)):
        _mark_contact(episode, now)
        episode.assessed_at = episode.assessed_at or now
        if referral.status in ("new", "in_contact"):
            referral.status = "assessed"
    session.flush()
    return checklist


def agree_offerings(session: Session, *, actor: User, referral_id: int, offerings: list[str]) -> Episode:
    """Record the offerings agreed together with the person (mixed care: one or several)."""
    if not offerings or any(o not in OFFERINGS for o in offerings):
        raise ValueError("choose at least one known offering")
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    referral.episode.offerings = ",".join(o for o in OFFERINGS if o in offerings)
    referral.status = "accepted"
    session.flush()
    return referral.episode


def record_first_treatment(session: Session, *, actor: User, referral_id: int, when: datetime) -> Episode:
    """Date of the first treatment contact (course day, guidance call or session)."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    referral.episode.first_treatment_at = referral.episode.first_treatment_at or when
    session.flush()
    return referral.episode


def guide_onward(session: Session, *, actor: User, referral_id: int, service_id: int | None, message: str,
                 follow_up_at: datetime | None = None, now: datetime | None = None) -> Referral:
    """Guide the person kindly to where to go instead. The episode stays open ("guided onward,
    following up"): the team keeps contact until help has started there, and follows up on
    `follow_up_at` (default FOLLOW_UP_AFTER from now); `close_onward` ends it.

    Conflict when the episode has already ended.
    """
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    if referral.episode.discharged_at is not None:
        raise Conflict("episode ended")
    if service_id is not None:
        service = session.get(OnwardService, service_id)
        if service is None or service.team_id != referral.team_id:
            raise NotFound("onward service")
    now = now or utcnow()
    referral.onward_service_id = service_id
    referral.onward_message = message
    referral.status = "guided_onward"
    referral.episode.follow_up_at = follow_up_at or now + FOLLOW_UP_AFTER
    session.flush()
    return referral


def close_onward(session: Session, *, actor: User, referral_id: int, help_started: bool, note: str | None,
                 now: datetime | None = None) -> Episode:
    """End a guided-onward episode when the team knows whether help started elsewhere.

    Sets the discharge with end reason "guided_onward". When help did not start, `note` (why not)
    is required (ValueError without it). Conflict when the person is not being followed up.
    """
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    episode = referral.episode
    if referral.status != "guided_onward" or episode.discharged_at is not None:
        raise Conflict("not following up")
    note = (note or "").strip() or None
    if not help_started and note is None:
        raise ValueError("say why help did not start")
    episode.discharged_at = now or utcnow()
    episode.end_reason = "guided_onward"
    episode.onward_help_started = help_started
    episode.onward_outcome_note = note
    session.flush()
    return episode


def start_note(referral: Referral, *, lang: str = "nb") -> str:
    """Plain text for the municipal patient record (Gerica, CosDoc): referral date and scores.

    Kept short and factual; the therapist copies it and edits it there.
    """
    answers = referral_answers(referral)
    # The record wants the local date (a referral sent at 00:30 in Oslo is 23:30 UTC the day before).
    how = {"phone": "Henvendelse per telefon", "paper": "Henvendelse på papir"}.get(referral.channel,
                                                                                    "Selvhenvisning via app")
    lines = [f"{how} {referral.submitted_at.astimezone(LOCAL_ZONE):%d.%m.%Y}."]
    for response in referral.responses:
        flag = " (spm. 9 > 0)" if "item9" in response.flags else ""
        lines.append(f"{response.instrument_code}: {response.total}{flag}")
    goals = (answers.get("troubles") or {}).get("goals")
    if goals:
        lines.append(f"Mål: {goals}")
    work = answers.get("work") or {}
    if work.get("work_status"):
        # The answers hold stable keys; the record wants words.
        status = record_text.label(record_text.WORK, work["work_status"])
        leave = record_text.label(record_text.SICK_LEAVE, work.get("sick_leave"))
        lines.append(f"Arbeid: {status}, sykmelding: {leave}"
                     + (f" {work['sick_leave_percent']} %" if work.get("sick_leave_percent") else ""))
    consent = (answers.get("contact") or {}).get("gp_consent")
    lines.append("Samtykke til å informere fastlege: " + ("ja" if consent else "nei"))
    return "\n".join(lines)


# --- Onward directory -------------------------------------------------------------------------

def onward_services(session: Session, *, team_ids: list[int]) -> list[OnwardService]:
    """The directory entries of the given teams, by name."""
    return list(session.scalars(select(OnwardService).where(OnwardService.team_id.in_(team_ids))
                                .order_by(OnwardService.name)))


def save_onward_service(session: Session, *, actor: User, team_id: int, name: str, description: str,
                        phone: str | None, url: str | None, service_id: int | None = None) -> OnwardService:
    """Add or edit an entry in one of the actor's teams' directories.

    Raises Conflict when the team already has an entry of that name (names are unique per team).
    """
    if actor.role not in CLINICAL_ROLES or team_id not in staff_team_ids(session, actor):
        raise NotFound("team")
    taken = select(OnwardService.id).where(OnwardService.team_id == team_id,
                                           func.lower(OnwardService.name) == name.lower())
    if service_id is not None:
        taken = taken.where(OnwardService.id != service_id)
    if session.scalars(taken).first() is not None:
        raise Conflict("name taken")
    if service_id is None:
        service = OnwardService(team_id=team_id)
        session.add(service)
    else:
        service = session.get(OnwardService, service_id)
        if service is None or service.team_id not in staff_team_ids(session, actor):
            raise NotFound("onward service")
        service.team_id = team_id
    service.name, service.description, service.phone, service.url = name, description, phone or None, url or None
    session.flush()
    return service


def delete_onward_service(session: Session, *, actor: User, service_id: int) -> None:
    """Remove an entry from one of the actor's teams' directories.

    Raises Conflict when a referral was guided to it: that history must stay (edit the entry instead).
    """
    service = session.get(OnwardService, service_id)
    if service is None or actor.role not in CLINICAL_ROLES or service.team_id not in staff_team_ids(session, actor):
        raise NotFound("onward service")
    if session.scalars(select(Referral.id).where(Referral.onward_service_id == service.id)).first() is not None:
        raise Conflict("in use")
    session.delete(service)
    session.flush()


# --- Reach ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """Anonymised counts of referrals by dimension, so the team sees whom it does not reach."""

    total: int
    by_age_band: list[tuple[str, int]]
    by_gender: list[tuple[str, int]]
    by_municipality: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]


def reach(session: Session, *, actor: User, since: datetime, until: datetime) -> Reach:
    """Counts for the actor's teams in [since, until). Aggregates only: no person is listed."""
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("reach")
    scope = (Referral.team_id.in_(staff_team_ids(session, actor)), Referral.submitted_at >= since,
             Referral.submitted_at < until)

    def grouped(column) -> list[tuple[str, int]]:
        return [(str(k), n) for k, n in session.execute(
            select(column, func.count()).where(*scope).group_by(column).order_by(column))]

    municipality = [(name, n) for name, n in session.execute(
        select(Municipality.name, func.count()).join(Referral, Referral.municipality_id == Municipality.id)
        .where(*scope).group_by(Municipality.name).order_by(Municipality.name))]
    total = session.scalar(select(func.count()).select_from(Referral).where(*scope)) or 0
    return Reach(total, grouped(Referral.age_band), grouped(Referral.gender), municipality,
                 grouped(Referral.channel))


# --- Account by e-mail code (fallback when a passkey cannot be made) -------------------------

def issue_draft_code(session: Session, *, draft: ReferralDraft, crypto: FieldCrypto) -> str | None:
    """A one-time code for the address in the draft's contact step, bound to that address.

    None when there is no address, or the address has had its codes for this hour (the caller
    answers the same way, so nobody learns anything about the address).
    """
    email = (draft_data(draft).get("contact") or {}).get("email") or ""
    if not email:
        return None
    return email_codes.request_draft_code(session, draft_id=draft.id, email=email, crypto=crypto)


def email_to_confirm(session: Session, *, referral: Referral, user: User, crypto: FieldCrypto) -> str | None:
    """The address given in the referral's contact step, when the account has no sign-in address
    yet (it was made with a passkey) and nobody else uses it: confirming it gives the person a way
    in if they lose their phone. None otherwise."""
    address = normalise_email(str((referral_answers(referral).get("contact") or {}).get("email") or ""))
    if not address or user.email_lookup is not None or referral.resident_id != user.id:
        return None
    if find_by_email(session, address, crypto) is not None:
        return None
    return address


def account_from_draft_code(session: Session, *, draft: ReferralDraft, code: str, crypto: FieldCrypto,
                            locale: str | None = None) -> User:
    """Check the code; return the resident with the address it was sent to, or a new one with it.

    The code proves only the address it was sent to: it is refused when the draft's address has
    changed since (changing it also closes the code).
    """
    data = draft_data(draft)
    email = (data.get("contact") or {}).get("email") or ""
    address = email_codes.verify_draft_code(session, draft_id=draft.id, email=email, code=code, crypto=crypto)
    user = find_by_email(session, address, crypto)
    if user is not None and user.is_resident:
        return user
    if user is not None:
        raise InvalidCode("address belongs to staff")
    try:
        with session.begin_nested():  # two referrals for one new address at once: the unique hash decides
            user = create_resident(session, municipality_id=int(data["eligibility"]["municipality_id"]),
                                   locale=locale)
            set_email(user, address, crypto)
            session.flush()
    except IntegrityError:
        user = find_by_email(session, address, crypto)
        if user is None or not user.is_resident:
            raise InvalidCode("address taken") from None
    return user
