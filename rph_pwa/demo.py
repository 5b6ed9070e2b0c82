"""Demo data for development and screenshots: teams, municipalities, staff and residents."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import measures
from .codes import (
    AppointmentKind,
    AppointmentStatus,
    MeetingMode,
    Offering,
    Problem,
    ReferralStatus,
    RequestKind,
    SickLeave,
    WorkStatus,
)
from .crypto import FieldCrypto
from .db import utcnow
from .demo_courses import load_demo_courses
from .localtime import local_now, local_zone
from .models import (
    Appointment,
    AppointmentRequest,
    AssessmentSlot,
    CheckInReport,
    Episode,
    FormRequest,
    MeasureResponse,
    ModuleProgress,
    Municipality,
    OnwardService,
    Referral,
    Role,
    Team,
    User,
    Worksheet,
)
from .selfhelp import worksheets
from .services import (
    appointment_requests,
    measure_responses,
    outcomes,
    referral_drafts,
    referral_submission,
    responsibility,
    selfhelp,
)
from .services.accounts import create_resident, create_staff, set_email

DEMO_PASSWORD = "demo-passord-2026"

#: (number, name) — official municipality numbers (Nordland, from 2024).
MUNICIPALITIES = [
    ("1860", "Vestvågøy"), ("1859", "Flakstad"), ("1874", "Moskenes"), ("1804", "Bodø"),
    ("1865", "Vågan"), ("1857", "Værøy"), ("1856", "Røst"),
]

TEAMS = [
    # name, phone, inbox, municipality numbers
    ("RPH Lofoten (interkommunalt)", "76 05 60 00", "rph-lofoten@example.no", ["1860", "1859", "1874"]),
    ("RPH Bodø", "75 55 50 00", "rph-bodo@example.no", ["1804"]),
]

STAFF = [
    # username, name, role, team names
    ("terapeut", "Tone Terapeut", Role.THERAPIST, ["RPH Lofoten (interkommunalt)"]),
    ("leder", "Lars Leder", Role.TEAM_LEAD, ["RPH Lofoten (interkommunalt)"]),
    ("bodo", "Bente Bodø", Role.THERAPIST, ["RPH Bodø"]),
    ("begge", "Berit Begge", Role.THERAPIST, ["RPH Lofoten (interkommunalt)", "RPH Bodø"]),
    ("admin", "Anne Admin", Role.ADMIN, []),
]

RESIDENTS = [
    # e-mail, name, municipality number
    ("kari@example.no", "Kari", "1860"),
    ("ola@example.no", "Ola", "1874"),
    ("siri@example.no", "Siri", "1804"),
]


def load_demo_data(session: Session, *, crypto: FieldCrypto) -> str:
    """Create whatever demo rows are missing (idempotent); return the printable logins."""
    by_number = {m.number: m for m in session.scalars(select(Municipality))}
    for number, name in MUNICIPALITIES:
        if number not in by_number:
            by_number[number] = Municipality(number=number, name=name)
            session.add(by_number[number])
    session.flush()

    teams = {t.name: t for t in session.scalars(select(Team))}
    for name, phone, inbox, numbers in TEAMS:
        if name not in teams:
            teams[name] = Team(name=name, phone=phone, inbox_email=inbox,
                               municipalities=[by_number[n] for n in numbers])
            session.add(teams[name])
    session.flush()

    users = {u.username: u for u in session.scalars(select(User).where(User.username.is_not(None)))}
    for username, display_name, role, team_names in STAFF:
        if username not in users:
            users[username], _secret = create_staff(
                session, username=username, password=DEMO_PASSWORD, role=role, display_name=display_name,
                team_ids=[teams[t].id for t in team_names], email=f"{username}@example.no", crypto=crypto)

    lines = ["", "Demo logins (development only)", "=" * 30, "",
             "Staff: http://localhost:5000/staff/login", f"  password for everyone: {DEMO_PASSWORD}",
             "  second factor: TOTP secret below in an authenticator app, or",
             "  `make totp USER=<username>` prints the current code.", ""]
    for username, _name, role, team_names in STAFF:
        teams_text = ", ".join(team_names) or "(no team)"
        lines.append(f"  {username:<9} {role.value:<10} TOTP secret {users[username].totp_secret}  {teams_text}")

    lines += ["", "Residents: http://localhost:5000/login", "  No passwords: choose 'Få en innloggingskode på e-post',",
              "  read the code at http://localhost:5000/dev/outbox, then make a passkey.", ""]
    for email, display_name, number in RESIDENTS:
        user = _resident_by_email(session, crypto, email)
        if user is None:
            user = create_resident(session, municipality_id=by_number[number].id, display_name=display_name)
            set_email(user, email, crypto)
        lines.append(f"  {email:<18} lives in {by_number[number].name}")
    session.flush()
    _demo_directory(session, teams)
    per = _demo_referrals(session, crypto=crypto, by_number=by_number)
    if per is not None:
        _demo_contacts(session, therapist=users["terapeut"], per=per)
    _demo_day(session, crypto=crypto, by_number=by_number, therapist=users["terapeut"],
              team=teams["RPH Lofoten (interkommunalt)"])
    _demo_selfhelp(session, crypto=crypto, by_number=by_number, therapist=users["terapeut"])
    load_demo_courses(session, crypto=crypto, by_number=by_number, team=teams["RPH Lofoten (interkommunalt)"],
                      leaders=[users["terapeut"], users["leder"]], co_leader=users["begge"])
    lines += ["", "New residents can refer themselves at http://localhost:5000/referral/",
              "per@example.no has forms to fill in before tomorrow's check-in, and a progress chart;",
              "terapeut is the responsible therapist of Per's episode.",
              "terapeut has two appointments today (Mona by phone, Jonas by video) and a change request",
              "from Jonas waiting; the Lofoten team publishes free assessment slots next week.",
              "sara@example.no is in week 3 of the sleep programme (guided self-help): her weekly check-in",
              "waits in terapeut's review queue (Sjekk-inner), with two weeks of sleep diary.",
              "Demo referrals (one urgent) wait in the Lofoten team's triage queue.",
              "Courses (Kurs): the Lofoten team's depression course ran once (evaluations in) and runs now,",
              "led by terapeut and leder: today's meeting at 17:00 has its forms in and one flagged",
              "participant. Open courses are listed at http://localhost:5000/kurs", ""]
    return "\n".join(lines)


ONWARD = [
    ("Fastlegen", "Ta kontakt med fastlegen din for time.", None, "https://www.helsenorge.no/fastlegen/"),
    ("Frisklivssentralen", "Hjelp til fysisk aktivitet, kosthold, søvn og røykeslutt.", None, None),
    ("DPS (distriktspsykiatrisk senter)", "Spesialisthelsetjeneste: krever henvisning fra lege.", None, None),
    ("Mental Helse hjelpetelefon", "Døgnåpen telefon for alle som trenger noen å snakke med.", "116 123", None),
]


def _demo_directory(session: Session, teams: dict) -> None:
    existing = {(s.team_id, s.name) for s in session.scalars(select(OnwardService))}
    for team in teams.values():
        for name, description, phone, url in ONWARD:
            if (team.id, name) not in existing:
                session.add(OnwardService(team_id=team.id, name=name, description=description, phone=phone, url=url))
    session.flush()


DEMO_REFERRALS = [
    # name, e-mail, municipality, PHQ-9 answers (item 9 last), crisis
    ("Per", "per@example.no", "1859", [2, 2, 1, 2, 1, 1, 2, 1, 0], "no"),
    ("Lise", "lise@example.no", "1860", [2, 3, 2, 2, 2, 2, 2, 1, 1], "no"),
]


def _demo_referrals(session: Session, *, crypto: FieldCrypto, by_number: dict) -> User | None:
    """Per's and Lise's referrals, each made once (found by e-mail); returns Per when he is new."""
    per = None
    for name, email, number, phq9, crisis in DEMO_REFERRALS:
        if _resident_by_email(session, crypto, email) is None:
            resident = demo_referral(session, crypto=crypto, municipality=by_number[number], name=name, email=email,
                                      phq9=phq9, crisis=crisis, phone="412 34 567")
            per = per or resident
    return per


def _resident_by_email(session: Session, crypto: FieldCrypto, email: str) -> User | None:
    return session.scalars(select(User).where(User.email_lookup == crypto.lookup_hash(email))).first()


def demo_referral(session: Session, *, crypto: FieldCrypto, municipality: Municipality, name: str, email: str,
                   phq9: list[int], crisis: str, phone: str) -> User:
    """A resident and a referral made through the same service code as the app (drafts, then submission)."""
    resident = create_resident(session, municipality_id=municipality.id, display_name=name)
    set_email(resident, email, crypto)
    draft, key = referral_drafts.start_draft(session, eligibility={
        "age": 41, "municipality_id": municipality.id, "crisis": crisis, "complete": True})
    sections = {
        "troubles": {"problems": [Problem.LOW_MOOD, Problem.SLEEP], "own_words": "Alt føles tungt for tiden.",
                     "duration": "3_12m", "goals": "Få tilbake overskuddet og sove bedre.", "earlier_help": ""},
        "work": {"work_status": WorkStatus.WORKING, "sick_leave": SickLeave.GRADED, "sick_leave_percent": 40,
                 "return_to_work": "unsure"},
        "PHQ-9": {"answers": phq9, "functioning": 1},
        "GAD-7": {"answers": [1, 2, 1, 1, 0, 1, 1], "functioning": 1},
        "WSAS": {"answers": [4, 3, 3, 2, 4]},
        "AUDIT-C": {"answers": [1, 0, 0]},
        "DUDIT-C": {"answers": [0, 0, 0, 0]},
        "contact": {"name": name, "phone": phone, "email": email, "contact_times": "Etter kl. 15",
                    "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality_id": None, "gp_consent": True,
                    "gp_name": "", "interpreter": "no", "language_needs": "", "gender": "unspecified"},
    }
    for section, values in sections.items():
        referral_drafts.save_section(session, draft=draft, section=section, values={**values, "complete": True})
    referral_submission.submit_referral(session, draft_key=key, resident=resident)
    return resident


def answer_forms(session: Session, *, episode: Episode, contact: Appointment, totals: dict[str, int],
                  at: datetime) -> None:
    """Answer the forms planned before `contact` with these totals (others 12), sent `at`."""
    for request in session.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id)):
        total = totals.get(request.instrument_code, 12)
        instrument = measures.get(request.instrument_code)
        count = len(instrument.items)
        answers = [total // count + (1 if i < total % count else 0) for i in range(count)]
        for i, item in enumerate(instrument.items):  # no risk flag in the demo: flagged items stay 0
            if i and item.key in instrument.flag_items:
                answers[i], answers[0] = 0, answers[0] + answers[i]
        result = measures.score(request.instrument_code, answers)
        response = measure_responses.store_response(
            session, result=result, resident_id=episode.resident_id, submitted_at=at,
            episode_id=episode.id, form_request_id=request.id, functioning=1)
        session.flush()
        request.response_id = response.id


def _demo_contacts(session: Session, *, therapist: User, per: User) -> None:
    """Per's episode: three attended weekly contacts with improving scores, and one tomorrow whose
    forms are open now (sign in as per@example.no to fill them in)."""
    episode = session.scalars(select(Episode).where(Episode.resident_id == per.id)).one()
    # The referral came a month ago: its answers are the start of the progress chart.
    referred = utcnow() - timedelta(days=28)
    episode.referred_at = referred
    session.get(Referral, episode.referral_id).submitted_at = referred
    for response in session.scalars(select(MeasureResponse).where(MeasureResponse.episode_id == episode.id)):
        response.submitted_at = referred
    episode.offerings = Offering.GUIDED_SELF_HELP
    responsibility.set_responsible(session, actor=therapist, episode_id=episode.id, therapist_id=therapist.id)
    now = utcnow()
    for week, (phq, gad) in enumerate(((13, 11), (10, 8), (7, 6)), start=1):
        when = now - timedelta(days=7 * (4 - week))
        contact = outcomes.book_contact(session, actor=therapist, episode_id=episode.id,
                                        kind=AppointmentKind.CHECK_IN, starts_at=when, duration_minutes=20,
                                        mode=MeetingMode.PHONE, place=None)
        outcomes.record_attendance(session, actor=therapist, appointment_id=contact.id,
                                   status=AppointmentStatus.ATTENDED)
        answer_forms(session, episode=episode, contact=contact, totals={"PHQ-9": phq, "GAD-7": gad},
                      at=when - timedelta(hours=3))
    outcomes.book_contact(session, actor=therapist, episode_id=episode.id, kind=AppointmentKind.CHECK_IN,
                          starts_at=now + timedelta(days=1), duration_minutes=20, mode=MeetingMode.PHONE,
                          place=None)
    session.flush()


#: The demo therapist's day: (name, e-mail, municipality, phone, mode, video link). Mona is called,
#: Jonas meets by video and has asked to move his next appointment.
DAY_RESIDENTS = [
    ("Mona Nilsen", "mona@example.no", "1860", "412 34 568", MeetingMode.PHONE, None),
    ("Jonas Berg", "jonas@example.no", "1874", "413 22 100", MeetingMode.VIDEO, "https://video.example.no/rom/abc"),
]
#: Free assessment slots next week: (weekday, 0 = Monday; local hour).
SLOTS = [(0, 9), (0, 10), (2, 13), (3, 14)]
CHANGE_REASON = "Jeg har fått en legetime samtidig. Passer det en dag senere?"


def day_times(now: datetime) -> tuple[datetime, datetime]:
    """Two local times today for the demo therapist's appointments: from the next half hour after
    now (at least 08:00), the second 90 minutes later; in the evening both stay today (at the latest
    21:00 and 22:30, then already past), so they never cross midnight."""
    zone = now.tzinfo
    day = now.date()
    earliest, latest = datetime.combine(day, time(8), tzinfo=zone), datetime.combine(day, time(21), tzinfo=zone)
    soon = now + timedelta(minutes=15)
    first = latest
    if soon.date() == day:
        first = datetime.combine(day, time(soon.hour), tzinfo=zone) + timedelta(minutes=30 if soon.minute < 30 else 60)
    first = min(max(first, earliest), latest)
    return first, first + timedelta(minutes=90)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _in_treatment(session: Session, *, episode: Episode, therapist: User, referred_days_ago: int) -> None:
    """An accepted referral in treatment with `therapist` responsible: referred `referred_days_ago`
    days ago, assessed a week later, treated for the last two weeks."""
    referral = session.get(Referral, episode.referral_id)
    referral.status = ReferralStatus.ACCEPTED
    referral.submitted_at = episode.referred_at = utcnow() - timedelta(days=referred_days_ago)
    episode.first_contact_at = episode.assessed_at = utcnow() - timedelta(days=referred_days_ago - 7)
    episode.first_treatment_at = utcnow() - timedelta(days=14)
    responsibility.set_responsible(session, actor=therapist, episode_id=episode.id, therapist_id=therapist.id)


def _demo_day(session: Session, *, crypto: FieldCrypto, by_number: dict, therapist: User, team: Team) -> None:
    """terapeut's day (idempotent per day): Mona and Jonas (created once, terapeut responsible) each
    have an appointment today, Jonas one more next week with a change request waiting; the team has
    free assessment slots next week."""
    now = local_now()
    start_today = datetime.combine(now.date(), time.min, tzinfo=local_zone())
    times = day_times(now)
    for (name, email, number, phone, mode, link), starts_at in zip(DAY_RESIDENTS, times):
        resident = _resident_by_email(session, crypto, email)
        if resident is None:
            resident = demo_referral(session, crypto=crypto, municipality=by_number[number], name=name, email=email,
                                      phq9=[1, 2, 1, 1, 1, 1, 1, 0, 0], crisis="no", phone=phone)
        episode = session.scalars(select(Episode).where(Episode.resident_id == resident.id)
                                  .order_by(Episode.id.desc())).first()
        if episode.responsible_id is None:
            episode.offerings = Offering.INDIVIDUAL
            _in_treatment(session, episode=episode, therapist=therapist, referred_days_ago=28)
        booked = list(session.scalars(select(Appointment).where(Appointment.episode_id == episode.id,
                                                                Appointment.starts_at >= start_today)))
        if not any(a.starts_at < start_today + timedelta(days=1) for a in booked):
            today = outcomes.book_contact(session, actor=therapist, episode_id=episode.id,
                                          kind=AppointmentKind.TREATMENT, starts_at=starts_at,
                                          duration_minutes=45, mode=mode, place=None)
            today.video_link = link
        if link and not any(a.starts_at >= start_today + timedelta(days=1) for a in booked):
            later = outcomes.book_contact(
                session, actor=therapist, episode_id=episode.id, kind=AppointmentKind.TREATMENT,
                starts_at=datetime.combine(_next_monday(now.date()) + timedelta(days=1), time(11), tzinfo=local_zone()),
                duration_minutes=45, mode=mode, place=None)
            later.video_link = link
            asked = session.scalars(select(AppointmentRequest.id)
                                    .where(AppointmentRequest.resident_id == resident.id)).first()
            if asked is None:
                appointment_requests.ask(session, resident=resident, appointment_id=later.id,
                                         kind=RequestKind.CHANGE, reason=CHANGE_REASON)
    monday = _next_monday(now.date())
    week = [datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=local_zone()) for day, hour in SLOTS]
    published = set(session.scalars(select(AssessmentSlot.starts_at).where(
        AssessmentSlot.team_id == team.id, AssessmentSlot.starts_at >= week[0], AssessmentSlot.starts_at <= week[-1])))
    for starts_at in week:
        if starts_at not in published:
            session.add(AssessmentSlot(team_id=team.id, staff_id=therapist.id, starts_at=starts_at,
                                       duration_minutes=45, mode=MeetingMode.PHONE, created_by_id=therapist.id))
    session.flush()


#: Sara's guided self-help: the sleep programme, started two weeks ago, check-ins on today's weekday.
SELFHELP_RESIDENT = ("Sara Lie", "sara@example.no", "1859", "414 55 210")
SARA_CHECK_INS = (
    # PHQ-9, GAD-7, her words, the therapist's feedback (None: waiting for review today)
    (14, 9, {"worked_on": "Jeg har fylt inn søvndagboka hver morgen.", "helped": "Å skrive ned tidene.",
             "hard": "Å stå opp til samme tid i helgen.", "question": ""},
     "Så fint at du har fylt inn dagboka hver dag! Neste uke ser vi på hva senga skal brukes til."),
    (12, 8, {"worked_on": "Jeg står opp når jeg ikke får sove.", "helped": "Lese i stua til jeg blir trøtt.",
             "hard": "Det er kaldt i stua om natta.", "question": "Kan jeg ta en lur etter jobb?"},
     "Godt jobbet. Prøv å la være å ta lur denne uka, så snakker vi om søvnvinduet."),
    (10, 7, {"worked_on": "Søvnvinduet og dagboka.", "helped": "Fast tid å stå opp.",
             "hard": "Jeg er trøtt på ettermiddagen.", "question": "Hvor lenge varer det at jeg er så trøtt?"},
     None),
)


def _sleep_night(night: date, week: int) -> dict:
    """A sleep-diary entry as the worksheet stores it; sleep gets a little better each week."""
    return worksheets.clean_answers(worksheets.WORKSHEETS["sleep_diary"], {
        "night": night.isoformat(), "bedtime": "23:00", "lights_out": "23:15",
        "minutes_to_sleep": str(45 - 10 * week), "minutes_awake": str(60 - 15 * week), "woke": "06:00",
        "rose": "06:30", "quality": str(2 + week), "note": "Kaffe etter middag." if night.day % 3 == 0 else ""})


def _demo_selfhelp(session: Session, *, crypto: FieldCrypto, by_number: dict, therapist: User) -> None:
    """Sara (created once): in week 3 of the sleep programme, two check-ins reviewed with feedback,
    the third sent this morning and waiting in terapeut's review queue; modules 1-2 finished, 14
    nights of sleep diary."""
    name, email, number, phone = SELFHELP_RESIDENT
    if _resident_by_email(session, crypto, email) is not None:
        return
    resident = demo_referral(session, crypto=crypto, municipality=by_number[number], name=name, email=email,
                              phq9=[2, 2, 1, 3, 2, 1, 1, 1, 0], crisis="no", phone=phone)
    episode = session.scalars(select(Episode).where(Episode.resident_id == resident.id)).one()
    _in_treatment(session, episode=episode, therapist=therapist, referred_days_ago=24)
    today = local_now().date()
    started = today - timedelta(days=14)
    assignment = selfhelp.assign_programme(session, actor=therapist, episode_id=episode.id, programme="sovn",
                                           checkin_weekday=today.weekday(), starts_on=started)
    for week, (phq, gad, words, feedback) in enumerate(SARA_CHECK_INS):
        contact = session.scalars(select(Appointment).where(Appointment.episode_id == episode.id,
                                                            Appointment.status == AppointmentStatus.BOOKED)
                                  .order_by(Appointment.starts_at.desc())).first()
        sent = contact.starts_at - timedelta(hours=4)
        answer_forms(session, episode=episode, contact=contact, totals={"PHQ-9": phq, "GAD-7": gad},
                      at=sent - timedelta(minutes=10))
        report = CheckInReport(appointment_id=contact.id, episode_id=episode.id, resident_id=resident.id,
                               assignment_id=assignment.id, answers=words, sent_at=sent)
        session.add(report)
        if feedback is None:
            break
        report.review_started_at = contact.starts_at
        report.reviewed_at = contact.starts_at + timedelta(minutes=18 + 3 * week)
        report.reviewed_by_id, report.feedback, report.feedback_seen_at = therapist.id, feedback, report.reviewed_at
        contact.status, contact.duration_minutes = AppointmentStatus.ATTENDED, 18 + 3 * week
        selfhelp.book_next_check_in(session, assignment=assignment, episode=episode, staff_id=therapist.id,
                                    after=started + timedelta(days=7 * week))
    for index, (key, rating) in enumerate((("01-sovndagbok", 4), ("02-sengen-er-for-sovn", 5))):
        read = utcnow() - timedelta(days=13 - 7 * index)
        session.add(ModuleProgress(assignment_id=assignment.id, module_key=key, first_read_at=read,
                                   finished_at=read + timedelta(hours=1), rating=rating))
    for back in range(14, 0, -1):
        night = today - timedelta(days=back)
        entry = _sleep_night(night, week=(14 - back) // 7)
        written = utcnow() - timedelta(days=back - 1)
        session.add(Worksheet(resident_id=resident.id, episode_id=episode.id, kind="sleep_diary",
                              client_key=f"demo-{night.isoformat()}", for_date=night, content=entry,
                              created_at=written, updated_at=written))
    session.flush()
