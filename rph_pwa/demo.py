"""Demo data for development and screenshots: teams, municipalities, staff and residents."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .crypto import FieldCrypto
from .models import Municipality, Role, Team, User
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
    lines += ["", "New residents can create an account at http://localhost:5000/register", ""]
    return "\n".join(lines)
