"""The resident's home and appointments in plain words: where I am in my course of help, my next
appointments and how they take place, what to do before the next contact, and guided self-help
(this week's module, the coming check-in, the therapist's new feedback).

Plain functions of (session, resident, now), read-only, with a fixed handful of queries whatever
the history (no query in a loop). The words are English msgids (translated lazily, so they follow
the reader's language); times stay times, and pages format them (`Sentence.values`).

The video link of an appointment is shown here only (the resident's signed-in pages), and only
from `VIDEO_LINK_FROM` before the start: never in a notification or a calendar file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from ..codes import AppointmentKind, AppointmentStatus, Offering, RequestAnswer, RequestKind, values
from ..db import utcnow
from ..localtime import add_working_days, local_date
from ..models import Appointment, AppointmentRequest, Episode, OnwardService, Referral, Team, User
from . import check_ins, selfhelp
from .appointment_requests import requests_for_resident
from .outcomes import FEEDBACK, open_forms
from .slots import LatestEpisode
from .triage import phase_of

#: How long before the start the video link appears on the resident's pages.
VIDEO_LINK_FROM = timedelta(minutes=15)
#: Longest appointment (models: at most 600 minutes), so "not over yet" can be asked in SQL roughly.
LONGEST_APPOINTMENT = timedelta(minutes=600)
#: How many next appointments the home shows (the appointments page shows them all).
HOME_APPOINTMENTS = 3

#: Each kind of contact in the resident's words.
KIND_NAMES = {
    AppointmentKind.ASSESSMENT: _l("Assessment conversation"),
    AppointmentKind.TREATMENT: _l("Talk"),
    AppointmentKind.CHECK_IN: _l("Guided self-help call"),
    AppointmentKind.COURSE_MEETING: _l("Course meeting"),
}
#: The forms before a contact by name, in plain words (the code is shown beside the name).
FORM_NAMES = {
    "PHQ-9": _l("Questions about mood and interest"),
    "GAD-7": _l("Questions about worry and anxiety"),
    "WSAS": _l("Questions about work and daily life"),
    FEEDBACK: _l("How was the last conversation?"),
}
#: About how many minutes each form takes.
FORM_MINUTES = {"PHQ-9": 3, "GAD-7": 2, "WSAS": 2, FEEDBACK: 1}
#: A form without its own name (never a bare code alone).
FORM_NAME_UNKNOWN = _l("A short form")

#: What the team answered a request, in the resident's words.
ANSWER_WORDS = {
    RequestAnswer.MOVED: _l("The team moved the appointment. The time shown is the new time."),
    RequestAnswer.CANCELLED: _l("The team cancelled the appointment."),
    RequestAnswer.KEPT: _l("The team kept the time as it is."),
}


@dataclass(frozen=True)
class Sentence:
    """A sentence with named places (`%(day)s`) filled from `values` when the page is shown: a
    `date` is shown as a day, a `datetime` as a time of day, a list joined with commas, anything
    else as text."""

    text: Any
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Onward:
    """The service the team guided the resident to, and the team's message."""

    name: str | None
    phone: str | None
    url: str | None
    message: str | None


@dataclass(frozen=True)
class WhereIAm:
    """Where the resident is in the latest course of help: a phase key ("none" without a
    referral, else a `triage.PHASES` key), a title and sentences; `link` is an endpoint to offer
    (the self-referral's start), `onward` where the team guided them."""

    phase: str
    title: Any
    lines: list[Sentence]
    link: str | None = None
    onward: Onward | None = None


@dataclass(frozen=True)
class RequestState:
    """The newest change or cancel request of an appointment, in words: open or answered."""

    open: bool
    said: Sentence
    note: str | None = None


@dataclass(frozen=True)
class AppointmentView:
    """One appointment for the resident: what, when, how, and what they asked of it."""

    id: int
    kind: str
    name: Any
    starts_at: datetime
    day: date
    minutes: int
    mode: str
    status: str
    status_label: Any
    how: Sentence
    #: The video address, only from VIDEO_LINK_FROM before the start until the end.
    video_link: str | None
    request: RequestState | None
    #: Whether the resident may ask to change or cancel it now (upcoming, booked, nothing open).
    can_ask: bool


@dataclass(frozen=True)
class TodoItem:
    """Something to do before the next contact. Forms today; later features add their items.
    `endpoint` and `url_values` make the link; `code` is shown beside the title (e.g. PHQ-9)."""

    title: Any
    detail: Sentence
    endpoint: str
    url_values: dict[str, Any]
    due: datetime
    code: str | None = None
    takes: Any = None
    started: bool = False


@dataclass(frozen=True)
class SelfHelpHome:
    """Guided self-help on the home: the programme's title, this week's module (its number for
    the link) and the coming check-in (when, and whether it can be written now)."""

    title: str
    module_number: int | None
    module_title: str | None
    check_in_at: datetime | None
    check_in_open: bool


@dataclass(frozen=True)
class NewFeedback:
    """The therapist's newest written feedback on a check-in that the resident has not opened yet
    (it stays "new" until the check-in page, which shows all feedback, is opened)."""

    text: str
    at: datetime
    by: str | None


@dataclass(frozen=True)
class Home:
    """Everything the resident's home shows."""

    where: WhereIAm
    next_appointments: list[AppointmentView]
    todo: list[TodoItem]
    #: What was loaded for it, for the booking offer (`slots.booking_offer(latest=...)`).
    latest: LatestEpisode
    selfhelp: SelfHelpHome | None = None
    feedback: NewFeedback | None = None


@dataclass(frozen=True)
class AppointmentList:
    """The appointments page: upcoming (soonest first) and past (newest first)."""

    upcoming: list[AppointmentView]
    past: list[AppointmentView]
    #: The newest appointment the resident did not come to, when nothing was booked or attended
    #: after it (the drop-out routine's "book again" message opens this page).
    missed: AppointmentView | None = None


# --- Where I am ----------------------------------------------------------------------------------

def call_by(referral: Referral, team: Team) -> date:
    """The day by which the team promises to contact the person about a referral."""
    days = team.urgent_response_days if referral.urgent else team.response_days
    return add_working_days(local_date(referral.submitted_at), max(days, 1))


def _first_name(user: User | None) -> str | None:
    name = (user.display_name or "").split() if user is not None else []
    return name[0] if name else None


def where_i_am(*, episode: Episode | None, referral: Referral | None, team: Team | None,
               service: OnwardService | None, appointments: list[Appointment], now: datetime) -> WhereIAm:
    """The resident's latest episode in plain words (see `triage.episode_phase` for the phases)."""
    if episode is None or referral is None or team is None:
        return WhereIAm("none", _l("You have not sent a referral yet"),
                        [Sentence(_l("You can ask for help here. It takes about 15 minutes."))],
                        link="referral.start")
    phase = phase_of(episode, referral, appointments)
    if phase == "waiting_assessment":
        by = call_by(referral, team)
        lines = [Sentence(_l("You said you need help quickly. The team sees your referral first."))] \
            if referral.urgent else []
        if local_date(now) <= by:
            lines.append(Sentence(_l("The team will call you by %(day)s to agree on a first conversation."),
                                  {"day": by}))
        else:
            lines.append(Sentence(_l("The team meant to call you by %(day)s. If nobody has called, please call "
                                     "the team."), {"day": by}))
        return WhereIAm(phase, _l("We have received your referral"), lines)
    if phase == "assessment_booked":
        booked = min((a for a in appointments if a.kind == AppointmentKind.ASSESSMENT and a.status == "booked"),
                     key=lambda a: a.starts_at)
        return WhereIAm(phase, _l("Your first conversation is booked"), [
            Sentence(_l("It is on %(day)s at %(time)s."), {"day": local_date(booked.starts_at),
                                                           "time": booked.starts_at})])
    if phase == "assessed":
        return WhereIAm(phase, _l("Your first conversation is done"), [
            Sentence(_l("The team will agree with you on what happens next."))])
    if phase == "in_treatment":
        offerings = [Offering(o).label for o in episode.offerings.split(",") if o in values(Offering)]
        lines = [Sentence(_l("You get: %(offerings)s."), {"offerings": offerings})] if offerings else []
        therapist = _first_name(episode.responsible)
        if therapist:
            lines.append(Sentence(_l("Your therapist is %(name)s."), {"name": therapist}))
        return WhereIAm(phase, _l("You are getting help from the team"), lines)
    if phase == "following_up":
        onward = Onward(service.name if service else None, service.phone if service else None,
                        service.url if service else None, referral.onward_message)
        lines = [Sentence(_l("The team thinks %(service)s can help you better."), {"service": service.name})] \
            if service else []
        lines.append(Sentence(_l("The team will keep in touch until you have got help there.")))
        return WhereIAm(phase, _l("The team has guided you to other help"), lines, onward=onward)
    return WhereIAm(phase, _l("Your course of help has ended"), [
        Sentence(_l("If you need help again, you can send a new referral."))], link="referral.start")


# --- Appointments --------------------------------------------------------------------------------

def _how(appointment: Appointment, resident: User, now: datetime) -> tuple[Sentence, str | None]:
    """How the appointment takes place, and the video link when it may be shown."""
    if appointment.mode == "phone":
        if resident.phone:
            return Sentence(_l("The team calls you on %(phone)s."), {"phone": resident.phone}), None
        return Sentence(_l("The team calls you. Add your phone number under Me.")), None
    if appointment.mode == "video":
        ends = appointment.starts_at + timedelta(minutes=appointment.duration_minutes)
        if not (appointment.video_link or "").lower().startswith("https://"):  # only a secure link becomes a link
            return Sentence(_l("By video. The team will tell you how to join.")), None
        if appointment.status == "booked" and appointment.starts_at - VIDEO_LINK_FROM <= now <= ends:
            return Sentence(_l("By video. Join with the link below.")), appointment.video_link
        return Sentence(_l("By video. The link shows here %(minutes)s minutes before the start."),
                        {"minutes": int(VIDEO_LINK_FROM.total_seconds() // 60)}), None
    if appointment.place:
        return Sentence(_l("At the office: %(place)s."), {"place": appointment.place}), None
    return Sentence(_l("At the team's office.")), None


def _request_state(request: AppointmentRequest | None) -> RequestState | None:
    if request is None:
        return None
    if request.answered_at is None:
        text = (_l("You asked to cancel this. The team will answer.") if request.kind == RequestKind.CANCEL
                else _l("You asked to change this. The team will answer."))
        return RequestState(True, Sentence(text))
    return RequestState(False, Sentence(ANSWER_WORDS.get(request.answer, _l("The team has answered."))),
                        request.answer_note)


def _view(appointment: Appointment, resident: User, request: AppointmentRequest | None,
          now: datetime) -> AppointmentView:
    how, link = _how(appointment, resident, now)
    state = _request_state(request)
    return AppointmentView(
        id=appointment.id, kind=appointment.kind, name=KIND_NAMES.get(appointment.kind, _l("Appointment")),
        starts_at=appointment.starts_at, day=local_date(appointment.starts_at),
        minutes=appointment.duration_minutes, mode=appointment.mode, status=appointment.status,
        status_label=AppointmentStatus(appointment.status).label, how=how, video_link=link, request=state,
        can_ask=(appointment.status == "booked" and appointment.starts_at > now
                 and not (state is not None and state.open)))


def _not_over(appointment: Appointment, now: datetime) -> bool:
    return appointment.starts_at + timedelta(minutes=appointment.duration_minutes) >= now


def _views(session: Session, resident: User, appointments: list[Appointment], now: datetime) -> list[AppointmentView]:
    requests = requests_for_resident(session, resident=resident, appointment_ids=[a.id for a in appointments])
    return [_view(a, resident, requests.get(a.id), now) for a in appointments]


def appointment_list(session: Session, *, resident: User, now: datetime | None = None) -> AppointmentList:
    """All the resident's appointments, in every course of help: upcoming (not over yet, soonest
    first, cancelled ones too so the answer shows) and past (newest first). Two queries."""
    now = now or utcnow()
    appointments = list(session.scalars(
        select(Appointment).join(Episode, Episode.id == Appointment.episode_id)
        .where(Episode.resident_id == resident.id).order_by(Appointment.starts_at, Appointment.id)))
    views = _views(session, resident, appointments, now)
    upcoming = [v for a, v in zip(appointments, views) if _not_over(a, now)]
    past = [v for a, v in zip(appointments, views) if not _not_over(a, now)]
    missed = None
    for appointment, view in zip(appointments, views):  # oldest first: the last miss with nothing after it
        if appointment.status == "no_show":
            missed = view
        elif appointment.status in ("booked", "attended") and missed is not None:
            missed = None
    return AppointmentList(upcoming, past[::-1], missed)


def appointment_view(session: Session, *, resident: User, appointment: Appointment,
                     now: datetime | None = None) -> AppointmentView:
    """One of the resident's own appointments (checked by the caller, e.g.
    `appointment_requests.resident_appointment`) in words, with its request."""
    now = now or utcnow()
    return _views(session, resident, [appointment], now)[0]


# --- To do ---------------------------------------------------------------------------------------

def todo(session: Session, *, resident: User, now: datetime | None = None) -> list[TodoItem]:
    """What to do before the next contact: the open forms by name, with the contact's time as the
    deadline and about how long each takes. One query."""
    items = []
    for form in open_forms(session, resident=resident, now=now):
        minutes = FORM_MINUTES.get(form.instrument_code)
        items.append(TodoItem(
            title=FORM_NAMES.get(form.instrument_code, FORM_NAME_UNKNOWN),
            detail=Sentence(_l("Before the conversation on %(day)s at %(time)s."),
                            {"day": local_date(form.contact_at), "time": form.contact_at}),
            endpoint="client.form", url_values={"request_id": form.id}, due=form.contact_at,
            # The validated questionnaires are known by their code; our own feedback form is not.
            code=form.instrument_code if form.instrument_code != FEEDBACK else None,
            takes=lazy_ngettext("It takes about %(num)d minute.", "It takes about %(num)d minutes.", minutes)
            if minutes else None,
            started=form.has_draft))
    return items


# --- Guided self-help ----------------------------------------------------------------------------

def selfhelp_home(session: Session, *, resident: User, now: datetime, locale: str | None = None,
                  hide_drafts: bool = False) -> tuple[SelfHelpHome | None, check_ins.CheckIn | None]:
    """The programme part of the home, and the current check-in (None without a programme)."""
    programme = selfhelp.resident_programme(session, resident=resident, today=local_date(now), locale=locale,
                                            hide_drafts=hide_drafts)
    if programme is None:
        return None, None
    current = check_ins.current_check_in(session, resident=resident, now=now)
    module = programme.this_week
    return SelfHelpHome(title=programme.title, module_number=module.item.number if module else None,
                        module_title=module.item.title if module else None,
                        check_in_at=current.appointment.starts_at if current else None,
                        check_in_open=bool(current and current.is_open)), current


def check_in_todo(current: check_ins.CheckIn | None) -> list[TodoItem]:
    """The open check-in as something to do before the check-in contact."""
    if current is None or not current.is_open:
        return []
    starts = current.appointment.starts_at
    return [TodoItem(title=_l("Write your weekly check-in"),
                     detail=Sentence(_l("Before the check-in on %(day)s."), {"day": local_date(starts)}),
                     endpoint="client.check_in", url_values={}, due=starts)]


def new_feedback(session: Session, *, resident: User) -> NewFeedback | None:
    report = check_ins.new_feedback(session, resident=resident)
    if report is None or report.feedback is None or report.reviewed_at is None:
        return None
    return NewFeedback(text=report.feedback, at=report.reviewed_at, by=_first_name(report.reviewed_by))


# --- The home ------------------------------------------------------------------------------------

def home(session: Session, *, resident: User, now: datetime | None = None, locale: str | None = None,
         hide_drafts: bool = False) -> Home:
    """The resident's home: where I am, the next appointments, the to-do list and guided
    self-help. A fixed number of queries: the latest episode (with its referral, team, responsible
    therapist and onward service), its appointments, their requests, the open forms, and when the
    episode has guided self-help: the programme, its progress, the current check-in with its forms,
    and new feedback.
    `locale` and `hide_drafts` (SELFHELP_HIDE_DRAFTS) are for the self-help modules' titles."""
    now = now or utcnow()
    row = session.execute(
        select(Episode, Referral, Team, OnwardService)
        .join(Referral, Referral.id == Episode.referral_id).join(Team, Team.id == Referral.team_id)
        .outerjoin(OnwardService, OnwardService.id == Referral.onward_service_id)
        # The referral's answers are not shown here: not loaded (nor decrypted).
        .options(joinedload(Episode.responsible), defer(Referral.answers), defer(Referral.urgent_reason))
        .where(Episode.resident_id == resident.id)
        .order_by(Episode.referred_at.desc(), Episode.id.desc()).limit(1)).first()
    episode, referral, team, service = row if row is not None else (None, None, None, None)
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.episode_id == episode.id)
        .order_by(Appointment.starts_at, Appointment.id))) if episode is not None else []
    upcoming = [a for a in appointments if a.status == "booked" and _not_over(a, now)][:HOME_APPOINTMENTS]
    # Guided self-help only for someone who has it (or had it) in this episode: no queries for anyone else.
    has_selfhelp = episode is not None and Offering.GUIDED_SELF_HELP.value in episode.offerings.split(",")
    programme, current = (selfhelp_home(session, resident=resident, now=now, locale=locale, hide_drafts=hide_drafts)
                          if has_selfhelp else (None, None))
    return Home(where=where_i_am(episode=episode, referral=referral, team=team, service=service,
                                 appointments=appointments, now=now),
                next_appointments=_views(session, resident, upcoming, now),
                todo=check_in_todo(current) + todo(session, resident=resident, now=now),
                latest=LatestEpisode(episode, referral, team, appointments),
                selfhelp=programme, feedback=new_feedback(session, resident=resident) if has_selfhelp else None)
