"""Demo data for development and screenshots: teams, municipalities, staff and residents."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import measures
from .codes import AppointmentKind, AppointmentStatus, MeetingMode, Offering, Problem, SickLeave, WorkStatus
from .crypto import FieldCrypto
from .db import utcnow
from .models import Episode, FormRequest, MeasureResponse, Municipality, OnwardService, Referral, Role, Team, User
from .services import measure_responses, outcomes, referral_drafts, referral_submission, responsibility
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
        user = session.scalars(select(User).where(User.email_lookup == crypto.lookup_hash(email))).first()
        if user is None:
            user = create_resident(session, municipality_id=by_number[number].id, display_name=display_name)
            set_email(user, email, crypto)
        lines.append(f"  {email:<18} lives in {by_number[number].name}")
    session.flush()
    _demo_directory(session, teams)
    if _demo_referrals(session, crypto=crypto, by_number=by_number):
        _demo_contacts(session, therapist=users["terapeut"])
    lines += ["", "New residents can refer themselves at http://localhost:5000/referral/",
              "per@example.no has forms to fill in before tomorrow's check-in, and a progress chart;",
              "terapeut is the responsible therapist of Per's episode.",
              "Demo referrals (one urgent) wait in the Lofoten team's triage queue.", ""]
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


def _demo_referrals(session: Session, *, crypto: FieldCrypto, by_number: dict) -> None:
    """Referrals made through the same service code as the app (drafts, then submission)."""
    if session.scalars(select(Referral.id).limit(1)).first() is not None:
        return False
    for name, email, number, phq9, crisis in DEMO_REFERRALS:
        municipality = by_number[number]
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
            "contact": {"name": name, "phone": "412 34 567", "email": email, "contact_times": "Etter kl. 15",
                        "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality_id": None, "gp_consent": True,
                        "gp_name": "", "interpreter": "no", "language_needs": "", "gender": "unspecified"},
        }
        for section, values in sections.items():
            referral_drafts.save_section(session, draft=draft, section=section, values={**values, "complete": True})
        referral_submission.submit_referral(session, draft_key=key, resident=resident)
    return True


def _demo_contacts(session: Session, *, therapist: User) -> None:
    """Per's episode: three attended weekly contacts with improving scores, and one tomorrow whose
    forms are open now (sign in as per@example.no to fill them in)."""
    episode = session.scalars(select(Episode).order_by(Episode.id)).first()
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
        for request in session.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id)):
            total = {"PHQ-9": phq, "GAD-7": gad}.get(request.instrument_code, 12)
            instrument = measures.get(request.instrument_code)
            count = len(instrument.items)
            answers = [total // count + (1 if i < total % count else 0) for i in range(count)]
            for i, item in enumerate(instrument.items):  # no risk flag in the demo: flagged items stay 0
                if i and item.key in instrument.flag_items:
                    answers[i], answers[0] = 0, answers[0] + answers[i]
            result = measures.score(request.instrument_code, answers)
            response = measure_responses.store_response(
                session, result=result, resident_id=episode.resident_id, submitted_at=when - timedelta(hours=3),
                episode_id=episode.id, form_request_id=request.id, functioning=1)
            session.flush()
            request.response_id = response.id
    outcomes.book_contact(session, actor=therapist, episode_id=episode.id, kind=AppointmentKind.CHECK_IN,
                          starts_at=now + timedelta(days=1), duration_minutes=20, mode=MeetingMode.PHONE,
                          place=None)
    session.flush()
