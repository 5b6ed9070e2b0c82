"""The team's triage of referrals: the queue of people not yet started, the phase of an episode,
and the work on one referral (contact attempts, the assessment conversation, the intake
checklist, offerings, first treatment) with its start note for the record. Every staff read goes
through `audit` (the queue: one event per page view); access through `access`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from .. import measures
from ..db import utcnow
from ..localtime import to_local
from ..models import (
    Appointment,
    ContactAttempt,
    Episode,
    IntakeChecklist,
    MeasureResponse,
    Municipality,
    OnwardService,
    Referral,
    User,
)
from ..models.referrals import OFFERINGS
from . import audit, record_text
from .access import clinical_team_ids, is_clinical, staff_team_ids
from .onward import FollowUp, onward_follow_ups, onward_services
from .outcomes import HISTORY_CHUNK, LATEST_CONTACTS, ContactCount, contact_counts, plan_forms
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


#: Referrals on one page of the triage queue.
QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class QueuePage:
    """One page of the triage queue, with what the page links need. `page` is the page shown:
    asked for pages below 1 or beyond the last show the first or the last."""

    items: list[QueueItem]
    page: int
    pages: int
    total: int
    urgent: int
    #: People guided onward whom the team follows up (shown on the first page only).
    follow_ups: list[FollowUp]

    @property
    def first(self) -> int:
        """The position of the first referral shown (1-based; 0 when nothing is shown)."""
        return (self.page - 1) * QUEUE_PAGE_SIZE + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The position of the last referral shown."""
        return self.first + len(self.items) - 1 if self.items else 0


def triage_queue(session: Session, *, actor: User, page: int = 1, now: datetime | None = None) -> QueuePage:
    """Referrals of the actor's teams not yet started (see `episode_phase`), QUEUE_PAGE_SIZE to a
    page: urgent first, then the longest waiting (so every urgent referral is on the first page
    unless there are more of them than a page holds: they then continue on the next). The first
    page also lists the follow-ups of people guided onward.

    A fixed number of queries whatever the size of the queue: one count, one page of referrals,
    their questionnaire scores (only PHQ-9's item answers are decrypted, for item 9), and the
    audit. Audited as one event per page view naming every referral shown (`audit.record_page`).
    """
    team_ids = clinical_team_ids(session, actor, what="queue")
    now = now or utcnow()
    waiting = (select(Referral.id).join(Episode, Episode.referral_id == Referral.id)
               .where(Referral.team_id.in_(team_ids), *not_started()))
    total, urgent = session.execute(
        waiting.with_only_columns(func.count(), func.count().filter(Referral.urgent.is_(True)))).one()
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    page = min(max(page, 1), pages)
    order = (Referral.urgent.desc(), Referral.submitted_at.asc(), Referral.id.asc())
    # The page's ids first, from the index alone; only those rows are joined and read whole.
    shown = waiting.order_by(*order).offset((page - 1) * QUEUE_PAGE_SIZE).limit(QUEUE_PAGE_SIZE).subquery()
    booked = (select(Appointment.id).where(Appointment.episode_id == Episode.id, Appointment.kind == "assessment",
                                           Appointment.status == "booked").exists())
    rows = session.connection().execute(  # Core rows: the columns the cards show, decrypted once
        select(Referral.id, Referral.resident_id, Referral.team_id, Referral.urgent, Referral.urgent_reason,
               Referral.submitted_at, Referral.status, Referral.channel, Referral.answers,
               Municipality.name, User.display_name, booked)
        .join(shown, shown.c.id == Referral.id)
        .join(Episode, Episode.referral_id == Referral.id)
        .join(Municipality, Municipality.id == Referral.municipality_id)
        .join(User, User.id == Referral.resident_id)
        .order_by(*order)
    ).all() if total else []
    scores = _page_scores(session, {row.id: row.urgent_reason for row in rows})
    follow_ups = onward_follow_ups(session, actor=actor, now=now) if page == 1 else []
    audit.record_page(session, actor=actor, action="view_referral", object_type="triage_queue", now=now, shown=[
        *((row.resident_id, row.team_id, row.id) for row in rows),
        *((f.resident_id, f.team_id, f.referral_id) for f in follow_ups)])
    items = []
    for (ident, resident_id, _team_id, is_urgent, reason, submitted_at, status, channel, answers,
         municipality, name, is_booked) in rows:
        troubles, work = (answers or {}).get("troubles", {}), (answers or {}).get("work", {})
        found, item9 = scores.get(ident, ([], None))
        items.append(QueueItem(
            id=ident, resident_id=resident_id, name=name or f"#{resident_id}",
            urgent=is_urgent, urgent_reason=reason or "", days_waited=(now - submitted_at).days,
            status=status, municipality=municipality, scores=found, item9=item9,
            work_status=work.get("work_status", ""), sick_leave=work.get("sick_leave", ""),
            goals=troubles.get("goals", ""), own_words=troubles.get("own_words", ""),
            problems=list(troubles.get("problems", [])), channel=channel,
            phase="assessment_booked" if is_booked else "waiting_assessment",
        ))
    return QueuePage(items=items, page=page, pages=pages, total=total, urgent=urgent, follow_ups=follow_ups)


#: The PHQ-9 item every queue card shows, and the urgent reason its flag raises (the same key).
ITEM9 = "item9"


def _page_scores(session: Session, reasons: dict[int, str | None]) -> dict[int, tuple[list[Score], int | None]]:
    """The scores of the questionnaires of each referral (`reasons`: referral id → its urgent
    reasons) in one query, and its PHQ-9 item 9. Totals and bands are plain columns, and nothing
    encrypted is read that the reasons already tell: when a referral is sent, each flagged item
    (an answer above the item's lowest) raises the urgent reason of the same key. So a score is
    flagged when the reasons name one of its flag items, and item 9 is read from the decrypted
    answers only when it raised its reason (otherwise it was the lowest answer)."""
    if not reasons:
        return {}
    raised_item9 = [ident for ident, reason in reasons.items() if ITEM9 in (reason or "").split(",")]
    found: dict[int, tuple[list[Score], int | None]] = {}
    for referral_id, code, version, total, band, answers in session.connection().execute(  # Core rows
        select(MeasureResponse.referral_id, MeasureResponse.instrument_code, MeasureResponse.instrument_version,
               MeasureResponse.total, MeasureResponse.band,
               case((and_(MeasureResponse.instrument_code == "PHQ-9", MeasureResponse.referral_id.in_(raised_item9)),
                     MeasureResponse.answers), else_=None))
        .where(MeasureResponse.referral_id.in_(list(reasons))).order_by(MeasureResponse.id)
    ):
        instrument = measures.get(code, int(version))
        named = set((reasons[referral_id] or "").split(","))
        scores, item9 = found.setdefault(referral_id, ([], None))
        scores.append(Score(code, total, band, bool(named & set(instrument.flag_items))))
        if code == "PHQ-9":
            position = instrument.item_keys.index(ITEM9)
            item9 = (answers[position] if answers is not None
                     else instrument.options_for(instrument.items[position])[0].value)
            found[referral_id] = (scores, item9)
    return found


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
    #: Every contact counted by kind and status (`appointments` holds the latest LATEST_CONTACTS).
    contact_counts: list[ContactCount] = field(default_factory=list)
    #: Every contact attempt (`attempts` holds the latest LATEST_ATTEMPTS).
    attempts_total: int = 0
    #: The names of the referral's team and municipality (read with the rest, not while the page renders).
    team_name: str = ""
    municipality_name: str = ""

    @property
    def contacts_total(self) -> int:
        return sum(c.count for c in self.contact_counts)


#: Contact attempts shown on the referral page, the latest first; older ones: `older_attempts`.
LATEST_ATTEMPTS = 10


def _attempts(session: Session, referral_id: int, *, offset: int, limit: int) -> list[ContactAttempt]:
    return list(session.scalars(
        select(ContactAttempt).options(selectinload(ContactAttempt.staff))
        .where(ContactAttempt.referral_id == referral_id)
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc()).offset(offset).limit(limit)))


def referral_detail(session: Session, *, actor: User, referral_id: int) -> ReferralDetail:
    """Open one referral for its page (access-checked and audited, via `open_referral`): the
    latest contact attempts and contacts in full, the others counted (the page's queries do not
    grow with the history)."""
    referral = open_referral(session, actor=actor, referral_id=referral_id)
    episode = referral.episode
    attempts = _attempts(session, referral.id, offset=0, limit=LATEST_ATTEMPTS)
    attempts_total = session.scalar(select(func.count()).select_from(ContactAttempt)
                                    .where(ContactAttempt.referral_id == referral.id)) or 0
    appointments = list(session.scalars(
        select(Appointment).options(selectinload(Appointment.staff))
        .where(Appointment.episode_id == episode.id)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc()).limit(LATEST_CONTACTS)))[::-1]
    checklist = session.scalars(select(IntakeChecklist).where(IntakeChecklist.episode_id == episode.id)).first()
    services = onward_services(session, team_ids=[referral.team_id])
    chosen = next((s for s in services if s.id == referral.onward_service_id), None)
    return ReferralDetail(referral=referral, answers=referral_answers(referral), episode=episode,
                          attempts=attempts, appointments=appointments, checklist=checklist,
                          onward_services=services, onward_service=chosen, start_note=start_note(referral),
                          contact_counts=contact_counts(session, episode_id=episode.id),
                          attempts_total=attempts_total, team_name=referral.team.name,
                          municipality_name=referral.municipality.name)


@dataclass(frozen=True)
class AttemptsPage:
    """One page of a referral's contact attempts older than the LATEST_ATTEMPTS on its page."""

    referral: Referral
    rows: list[ContactAttempt]
    total: int
    page: int
    pages: int


def older_attempts(session: Session, *, actor: User, referral_id: int, page: int = 1) -> AttemptsPage:
    """The referral's contact attempts after the latest LATEST_ATTEMPTS, HISTORY_CHUNK per page,
    the latest first (access-checked and audited like the referral page; a page past the end
    gives the last)."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    total = max(0, (session.scalar(select(func.count()).select_from(ContactAttempt)
                                   .where(ContactAttempt.referral_id == referral.id)) or 0) - LATEST_ATTEMPTS)
    pages = max(1, -(-total // HISTORY_CHUNK))
    page = min(max(page, 1), pages)
    rows = _attempts(session, referral.id, offset=LATEST_ATTEMPTS + (page - 1) * HISTORY_CHUNK, limit=HISTORY_CHUNK)
    audit.record(session, actor=actor, subject=referral.resident, action="view_referral",
                 object_type="contact_attempts", object_id=referral.id, team_id=referral.team_id)
    return AttemptsPage(referral, rows, total, page, pages)


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


