"""The team's triage of referrals: the queue of people not yet started, the phase of an episode,
and the work on one referral (contact attempts, the assessment conversation, the intake
checklist, offerings, first treatment) with its start note for the record. Every staff read goes
through `audit.record`; access through `access`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from ..db import utcnow
from ..localtime import to_local
from ..models import Appointment, AuditEvent, ContactAttempt, Episode, IntakeChecklist, OnwardService, Referral, User
from ..models.referrals import OFFERINGS
from . import record_text
from .access import clinical_team_ids, is_clinical, staff_team_ids
from .measure_responses import stored_result
from .onward import onward_services
from .outcomes import plan_forms
from .referrals import OPEN_STATUSES, open_referral, referral_answers, referral_for_staff


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
            item9 = stored_result(response).value_of("item9")
    return scores, item9


#: The phases of an episode, in the order they usually follow (see `episode_phase`).
PHASES = ("waiting_assessment", "assessment_booked", "assessed", "in_treatment", "following_up", "ended")




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


def not_started():
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
    team_ids = clinical_team_ids(session, actor, what="queue")
    now = now or utcnow()
    referrals = list(session.scalars(
        select(Referral).join(Episode, Episode.referral_id == Referral.id)
        .options(selectinload(Referral.responses), selectinload(Referral.resident),
                 selectinload(Referral.municipality))
        .where(Referral.team_id.in_(team_ids), *not_started())
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
        answers = referral_answers(r)
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
    if not is_clinical(actor):
        return 0
    return session.scalar(
        select(func.count()).select_from(Referral).join(Episode, Episode.referral_id == Referral.id)
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), *not_started(),
               Referral.urgent.is_(True))
    ) or 0


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
                    place: str | None, video_link: str | None = None) -> Appointment:
    """Book the information and assessment conversation (`video_link`: the meeting's address,
    shown to the resident only shortly before the time)."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    appointment = Appointment(episode_id=referral.episode.id, staff_id=actor.id, kind="assessment",
                              starts_at=starts_at, mode=mode, place=place or None, video_link=video_link or None)
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

def start_note(referral: Referral, *, lang: str = "nb") -> str:
    """Plain text for the municipal patient record (Gerica, CosDoc): referral date and scores.

    Kept short and factual; the therapist copies it and edits it there.
    """
    answers = referral_answers(referral)
    # The record wants the local date (a referral sent at 00:30 in Oslo is 23:30 UTC the day before).
    how = {"phone": "Henvendelse per telefon", "paper": "Henvendelse på papir"}.get(referral.channel,
                                                                                    "Selvhenvisning via app")
    lines = [f"{how} {to_local(referral.submitted_at):%d.%m.%Y}."]
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


