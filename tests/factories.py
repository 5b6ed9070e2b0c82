"""Keyword-only factories that make unique rows, so tests never collide."""
from __future__ import annotations

import itertools
import uuid

from flask import current_app
from sqlalchemy.orm import Session

from rph_pwa.models import Municipality, Role, Team, User
from rph_pwa.services.accounts import create_resident, create_staff, set_email

_numbers = itertools.count(5000)
PASSWORD = "a-long-test-password"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_municipality(session: Session, *, name: str | None = None) -> Municipality:
    municipality = Municipality(number=f"{next(_numbers) % 10000:04d}", name=name or unique("Kommune"))
    session.add(municipality)
    session.flush()
    return municipality


def make_team(session: Session, *, municipalities: list[Municipality] | None = None, name: str | None = None) -> Team:
    team = Team(name=name or unique("Team"), phone="22 33 44 55", inbox_email=f"{unique('inbox')}@example.no",
                municipalities=municipalities if municipalities is not None else [make_municipality(session)])
    session.add(team)
    session.flush()
    return team


def make_resident(session: Session, *, team: Team | None = None, municipality: Municipality | None = None,
                  email: str | None = None, name: str = "Test Testesen") -> User:
    if municipality is None:
        municipality = (team or make_team(session)).municipalities[0]
    user = create_resident(session, municipality_id=municipality.id, display_name=name)
    if email:
        set_email(user, email, current_app.extensions["rph_crypto"])
    session.flush()
    return user


def make_staff(session: Session, *, role: Role = Role.THERAPIST, teams: list[Team] | None = None) -> tuple[User, str]:
    """A staff member; returns (user, TOTP secret). The password is PASSWORD."""
    user, secret = create_staff(session, username=unique("staff"), password=PASSWORD, role=role,
                                display_name=unique("Staff"), team_ids=[t.id for t in teams or []])
    return user, secret


def email() -> str:
    return f"{unique('person')}@example.no"


def _instrument_answers(code: str, value: int) -> list[int]:
    """Every item of `code` answered `value` (capped at the item's highest option)."""
    from rph_pwa.measures import get

    instrument = get(code)
    return [min(value, instrument.options_for(item)[-1].value) for item in instrument.items]


def referral_answers(**overrides: dict) -> dict:
    """Plausible stored referral answers (the shape the self-referral flow saves); sections can be replaced."""
    answers = {
        "eligibility": {"age": 34, "crisis": "no", "complete": True},
        "troubles": {"problems": ["anxiety", "sleep"], "own_words": "Jeg sover dårlig og bekymrer meg.",
                     "duration": "3_12m", "goals": "Sove bedre og komme tilbake i jobb.", "earlier_help": "",
                     "complete": True},
        "work": {"work_status": "working", "sick_leave": "graded", "sick_leave_percent": 50,
                 "return_to_work": "unsure", "complete": True},
        "contact": {"name": "Test Testesen", "phone": "412 34 567", "email": "", "contact_times": "Etter 15",
                    "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality_id": None, "gp_consent": True,
                    "gp_name": "Dr. Lege", "interpreter": "yes", "language_needs": "Arabisk",
                    "gender": "woman", "complete": True},
    }
    answers.update(overrides)
    return answers


def make_referral(session: Session, *, team: Team, resident: User | None = None, urgent: bool = False,
                  item9: int = 0, submitted_days_ago: int = 0, answers: dict | None = None,
                  age_band: str = "25-34", gender: str = "woman", channel: str = "app",
                  municipality: Municipality | None = None):
    """A submitted self-referral with its episode and scored PHQ-9, GAD-7, WSAS, AUDIT-C and DUDIT-C.

    `urgent=True` marks it urgent for "in crisis now"; `item9 > 0` marks it urgent for PHQ-9 item 9.
    """
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.measures import score
    from rph_pwa.models import Episode, Referral
    from rph_pwa.services.measure_responses import store_response

    municipality = municipality or team.municipalities[0]
    resident = resident or make_resident(session, team=team, municipality=municipality)
    submitted = utcnow() - timedelta(days=submitted_days_ago)
    reasons = (["item9"] if item9 > 0 else []) + (["crisis"] if urgent else [])
    answers = answers if answers is not None else referral_answers()
    if urgent:
        answers = {**answers, "eligibility": {**answers.get("eligibility", {}), "crisis": "yes"}}
    referral = Referral(
        submission_key=uuid.uuid4().hex, resident_id=resident.id, team_id=team.id, municipality_id=municipality.id,
        urgent=bool(reasons), urgent_reason=",".join(reasons) or None, channel=channel, age_band=age_band,
        gender=gender, submitted_at=submitted, answers=answers,
    )
    session.add(referral)
    session.flush()
    episode = Episode(referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=submitted)
    session.add(episode)
    session.flush()
    phq9 = _instrument_answers("PHQ-9", 2)  # 16 + item 9: "moderately_severe"
    phq9[8] = item9
    item_answers = {"PHQ-9": phq9, "GAD-7": _instrument_answers("GAD-7", 2), "WSAS": _instrument_answers("WSAS", 3),
                    "AUDIT-C": _instrument_answers("AUDIT-C", 1), "DUDIT-C": _instrument_answers("DUDIT-C", 0)}
    for code, values in item_answers.items():
        result = score(code, values)
        store_response(session, result=result, resident_id=resident.id, submitted_at=submitted,
                       episode_id=episode.id, referral_id=referral.id,
                       functioning=1 if code in ("PHQ-9", "GAD-7") else None)
    session.flush()
    return referral


def _answers_for_total(code: str, total: int) -> list[int]:
    """Item answers of `code` that add up to `total` (filled from the first item)."""
    from rph_pwa.measures import get

    instrument = get(code)
    answers = []
    for item in instrument.items:
        value = min(total, instrument.options_for(item)[-1].value)
        answers.append(value)
        total -= value
    if total:
        raise ValueError(f"{code} cannot reach that total")
    return answers


def statistics_period(days: int = 60):
    """(since, until) dates for the statistics of episodes made by `make_episode_with_scores`: the
    last `days` days in Oslo and today (`until` is tomorrow, the first day not counted)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    return today - timedelta(days=days), today + timedelta(days=1)


def make_episode_with_scores(session: Session, *, team: Team, phq9: list[int] = (), gad7: list[int] = (),
                             wsas: list[int] = (), referred_days_ago: int = 30, first_contact_days: int | None = None,
                             first_treatment_days: int | None = None, discharged_days_ago: int | None = None,
                             offerings: str = "", work_start: str | None = None, sick_start: str | None = None,
                             work_end: str | None = None, sick_end: str | None = None,
                             attended_minutes: list[int] = (), cancelled_minutes: list[int] = (),
                             municipality: Municipality | None = None, staff: User | None = None,
                             end_reason: str | None = None, channel: str = "app",
                             assessment_minutes: list[int] = (), referral_status: str = "accepted"):
    """A referral and its episode with dates, scored PHQ-9/GAD-7/WSAS responses and appointments.

    Dates are local (Oslo) noons, so day counts never depend on the clock: referred
    `referred_days_ago` days before today; first contact and first treatment that many days after
    the referral; discharged `discharged_days_ago` days before today. `phq9`, `gad7` and `wsas` are
    totals in time order (response i is given i days after the referral; rows are inserted newest
    first, so ids do not follow time). Appointment i starts i + 1 days after the referral:
    `attended_minutes` are attended, `cancelled_minutes` cancelled (kind "treatment"), then
    `assessment_minutes` attended assessment conversations. Returns the episode.
    """
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from rph_pwa.measures import score
    from rph_pwa.models import Appointment, Episode, Referral
    from rph_pwa.services.measure_responses import store_response

    oslo = ZoneInfo("Europe/Oslo")
    today = datetime.now(oslo).date()

    def noon(day) -> datetime:
        return datetime.combine(day, time(12), tzinfo=oslo)

    municipality = municipality or team.municipalities[0]
    resident = make_resident(session, team=team, municipality=municipality)
    referred_day = today - timedelta(days=referred_days_ago)
    referred = noon(referred_day)
    referral = Referral(submission_key=uuid.uuid4().hex, resident_id=resident.id, team_id=team.id,
                        municipality_id=municipality.id, status=referral_status, channel=channel, age_band="25-34",
                        gender="woman", submitted_at=referred, answers=referral_answers())
    session.add(referral)
    session.flush()
    episode = Episode(
        referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=referred,
        first_contact_at=(None if first_contact_days is None
                          else noon(referred_day + timedelta(days=first_contact_days))),
        first_treatment_at=(None if first_treatment_days is None
                            else noon(referred_day + timedelta(days=first_treatment_days))),
        discharged_at=None if discharged_days_ago is None else noon(today - timedelta(days=discharged_days_ago)),
        offerings=offerings, work_status_start=work_start, sick_leave_start=sick_start, work_status_end=work_end,
        sick_leave_end=sick_end, end_reason=end_reason,
    )
    session.add(episode)
    session.flush()
    responses = [(code, i, total) for code, totals in (("PHQ-9", phq9), ("GAD-7", gad7), ("WSAS", wsas))
                 for i, total in enumerate(totals)]
    for code, i, total in reversed(responses):
        result = score(code, _answers_for_total(code, total))
        store_response(session, result=result, resident_id=resident.id,
                       submitted_at=noon(referred_day + timedelta(days=i)), episode_id=episode.id,
                       referral_id=referral.id)
    if attended_minutes or cancelled_minutes or assessment_minutes:
        staff = staff or make_staff(session, teams=[team])[0]
        planned = ([("attended", "treatment", m) for m in attended_minutes]
                   + [("cancelled", "treatment", m) for m in cancelled_minutes]
                   + [("attended", "assessment", m) for m in assessment_minutes])
        for i, (status, kind, minutes) in enumerate(planned):
            session.add(Appointment(episode_id=episode.id, staff_id=staff.id, kind=kind,
                                    starts_at=noon(referred_day + timedelta(days=i + 1)), mode="office",
                                    duration_minutes=minutes, status=status))
    session.flush()
    return episode


# --- Episode of care (routine outcome monitoring) -----------------------------------------------

def _episode_item_answers(code: str, total: int, item9: int = 0) -> list[int]:
    """Item answers of `code` adding up to `total`; for PHQ-9, item 9 is `item9` (part of the total)."""
    from rph_pwa.measures import get

    instrument = get(code)
    answers = [0] * len(instrument.items)
    if code == "PHQ-9":
        answers[8] = item9
    left = total - sum(answers)
    for i, item in enumerate(instrument.items):
        if code == "PHQ-9" and i == 8:
            continue
        answers[i] = min(left, instrument.options_for(item)[-1].value)
        left -= answers[i]
    if left or min(answers) < 0:
        raise ValueError(f"{code} cannot reach {total} with item 9 = {item9}")
    return answers


def make_monitored_episode(session: Session, *, team: Team, resident: User | None = None,
                           offerings: str = "individual"):
    """A referral and its ongoing episode, with no episode responses or contacts yet (the
    referral's own scores are kept out of the episode, so tests control its whole history)."""
    from sqlalchemy import update

    from rph_pwa.models import MeasureResponse

    referral = make_referral(session, team=team, resident=resident)
    episode = referral.episode
    session.execute(update(MeasureResponse).where(MeasureResponse.referral_id == referral.id)
                    .values(episode_id=None))
    episode.offerings = offerings
    episode.work_status_start, episode.sick_leave_start = "working", "graded"
    session.flush()
    return episode


def add_episode_response(session: Session, *, episode, code: str, total: int, at, item9: int = 0):
    """A scored response of `code` in the episode, submitted `at` (aware datetime)."""
    from rph_pwa.measures import score
    from rph_pwa.services.measure_responses import store_response

    result = score(code, _episode_item_answers(code, total, item9))
    response = store_response(session, result=result, resident_id=episode.resident_id, submitted_at=at,
                              episode_id=episode.id, functioning=1 if code in ("PHQ-9", "GAD-7") else None)
    session.flush()
    return response


def add_episode_contact(session: Session, *, episode, staff: User, starts_at, status: str = "booked",
                        minutes: int = 45, kind: str = "treatment", mode: str = "office"):
    """A contact in the episode (no forms planned: use services.outcomes.book_contact for that)."""
    from rph_pwa.models import Appointment

    appointment = Appointment(episode_id=episode.id, staff_id=staff.id, kind=kind, starts_at=starts_at, mode=mode,
                              duration_minutes=minutes, status=status)
    session.add(appointment)
    session.flush()
    return appointment


# --- Safety plan ---------------------------------------------------------------------------------

def make_safety_plan(session: Session, *, resident: User, author: User | None = None, **parts):
    """A saved safety-plan version for `resident` (authored by `author`, default the resident);
    `parts` are PlanContent fields, e.g. warning_signs="...", people_to_ask=(("Kari", "412 34 567"),)."""
    from rph_pwa.services.safety_plans import PlanContent, save_plan

    return save_plan(session, actor=author or resident, resident_id=resident.id, content=PlanContent(**parts))


def make_booked_contact(session: Session, *, hours_ahead: int = 24, team: Team | None = None,
                        therapist: User | None = None):
    """A resident (with an e-mail address) in an episode with a treatment contact booked
    `hours_ahead` from now, so its forms are open; committed. The contact is in `team` with
    `therapist` (default: a new team and a therapist of it). Returns (team, therapist, resident,
    address, episode, contact)."""
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.services import outcomes

    team = team or make_team(session)
    therapist = therapist or make_staff(session, teams=[team])[0]
    address = email()
    resident = make_resident(session, team=team, email=address)
    referral = make_referral(session, team=team, resident=resident)
    contact = outcomes.book_contact(session, actor=therapist, episode_id=referral.episode.id, kind="treatment",
                                    starts_at=utcnow() + timedelta(hours=hours_ahead), duration_minutes=45,
                                    mode="phone", place=None)
    session.commit()
    return team, therapist, resident, address, referral.episode, contact


def form_answers(code: str, value: int, **overrides) -> dict:
    """A before-session form's post: every item answered `value` (the functioning question 0)."""
    from rph_pwa.measures import get

    instrument = get(code)
    data = {item.key: str(value) for item in instrument.items}
    if instrument.functioning_question is not None:
        data["functioning"] = "0"
    data.update({k: str(v) for k, v in overrides.items()})
    return data


# --- Guided self-help ----------------------------------------------------------------------------

def make_selfhelp(session: Session, *, team: Team | None = None, therapist: User | None = None,
                  programme: str = "sovn", pace: str = "weekly", weeks_ago: int = 0,
                  checkin_weekday: int | None = None):
    """A resident in treatment with a programme assigned by `therapist` (made if not given, who is
    then responsible), started `weeks_ago` weeks ago; the first check-in contact is booked.
    Returns (assignment, episode, therapist)."""
    from datetime import timedelta

    from rph_pwa.localtime import local_today
    from rph_pwa.services import selfhelp

    team = team or make_team(session)
    if therapist is None:
        therapist, _password = make_staff(session, teams=[team])
    episode = make_monitored_episode(session, team=team, offerings="guided_self_help")
    episode.responsible_id = therapist.id
    session.flush()
    today = local_today()
    assignment = selfhelp.assign_programme(
        session, actor=therapist, episode_id=episode.id, programme=programme, pace=pace,
        checkin_weekday=today.weekday() if checkin_weekday is None else checkin_weekday,
        starts_on=today - timedelta(weeks=weeks_ago))
    return assignment, episode, therapist


def make_check_in_report(session: Session, *, appointment, answers: dict | None = None, talk_sooner: bool = False,
                         sent_at=None):
    """The resident's sent check-in for the check-in contact `appointment` (its episode's resident
    and open programme), sent `sent_at` (default now)."""
    from sqlalchemy import select

    from rph_pwa.db import utcnow
    from rph_pwa.models import CheckInReport, Episode, SelfHelpAssignment

    episode = session.get(Episode, appointment.episode_id)
    assignment_id = session.scalars(select(SelfHelpAssignment.id)
                                    .where(SelfHelpAssignment.open_episode_id == episode.id)).first()
    report = CheckInReport(appointment_id=appointment.id, episode_id=episode.id, resident_id=episode.resident_id,
                           assignment_id=assignment_id, talk_sooner=talk_sooner, sent_at=sent_at or utcnow(),
                           answers=answers if answers is not None else {
                               "worked_on": "Søvndagboka hver morgen.", "helped": "Å stå opp til samme tid.",
                               "hard": "Å ikke sove middag.", "question": "Hvor lenge skal jeg holde på?"})
    session.add(report)
    session.flush()
    return report


# --- Reminders -----------------------------------------------------------------------------------

def make_push_delivery(session: Session, *, resident_id: int, appointment_id: int | None = None):
    """A reminder (of the appointment, or a message) sent by push, waiting for the service worker's
    acknowledgement: state "sent" with a fresh token; committed. Returns the delivery."""
    import secrets

    from rph_pwa.db import utcnow
    from rph_pwa.models import Reminder, ReminderDelivery

    reminder = Reminder(resident_id=resident_id, kind="appointment" if appointment_id else "message",
                        key=f"test:{secrets.token_hex(8)}", appointment_id=appointment_id,
                        link="client.appointment_reply" if appointment_id else "client.home", due_at=utcnow())
    session.add(reminder)
    session.flush()
    delivery = ReminderDelivery(reminder_id=reminder.id, channel="push", state="sent",
                                token=secrets.token_urlsafe(24), sent_at=utcnow())
    session.add(delivery)
    session.commit()
    return delivery


# --- Courses -------------------------------------------------------------------------------------

def make_course_run(session: Session, *, team: Team | None = None, leaders: list[User] | None = None,
                    capacity: int = 10, meetings: int = 4, first_in_days: float = 7, anonymous: bool = True,
                    kind: str = "course", is_open: bool = False, shared_with: list[Team] | None = None):
    """A template and a run of it with weekly meetings from `first_in_days` ahead (negative: begun),
    led by `leaders` (two new therapists of the team by default). Returns (run, leaders)."""
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.services import courses

    team = team or make_team(session)
    leaders = leaders or [make_staff(session, teams=[team])[0] for _ in range(2)]
    template = courses.create_template(
        session, actor=leaders[0], team_id=team.id, title=unique("Kurs i mestring"), kind=kind,
        meeting_count=meetings, capacity=capacity, is_open=is_open,
        meetings=tuple((f"Møte {n}", f"Innhold {n}") for n in range(1, meetings + 1)))
    start = utcnow().replace(microsecond=0) + timedelta(days=first_in_days)
    run = courses.create_run(session, actor=leaders[0], template_id=template.id,
                             starts=[start + timedelta(weeks=n) for n in range(meetings)], place="Kulturhuset, sal 2",
                             leader_ids=tuple(leader.id for leader in leaders), evaluation_anonymous=anonymous,
                             shared_team_ids=tuple(t.id for t in shared_with or ()))
    return run, leaders


def enrol_participant(session: Session, *, run, team: Team | None = None, role: str = "participant"):
    """A resident enrolled in `run`: a participant brings a new open episode (offering course), a
    relative none. Returns the CourseParticipant."""
    from rph_pwa.services import courses

    team = team or run.team
    if role == "participant":
        episode = make_monitored_episode(session, team=team, offerings="course")
        resident = session.get(User, episode.resident_id)
    else:
        episode, resident = None, make_resident(session, team=team)
    return courses.enrol(session, run_id=run.id, user=resident, role=role, episode=episode)


def answer_course_form(session: Session, *, participant, meeting, code: str, total: int, item9: int = 0):
    """The participant's `code` form before `meeting` (planned by `plan_contacts`), answered with
    `total` (PHQ-9: item 9 answered `item9`). Returns the MeasureResponse."""
    from sqlalchemy import select

    from rph_pwa.models import Appointment, Episode, FormRequest

    request = session.scalar(select(FormRequest).join(Appointment, Appointment.id == FormRequest.appointment_id)
                             .where(Appointment.course_meeting_id == meeting.id,
                                    FormRequest.episode_id == participant.episode_id,
                                    FormRequest.instrument_code == code))
    response = add_episode_response(session, episode=session.get(Episode, participant.episode_id), code=code,
                                    total=total, at=meeting.starts_at, item9=item9)
    response.form_request_id = request.id
    request.response_id = response.id
    session.flush()
    return response
