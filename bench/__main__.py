"""Benchmarks for the foundation: page latency with realistic data, queries per page, the cost
of a staff password check, and what the service worker stores on a phone.

Run with `make bench`. Prints a table; nothing here is asserted (tests never time things).
"""
from __future__ import annotations

import time

import pyotp
from sqlalchemy import event, insert

from bench import bench_app, page_row, timed
from rph_pwa.config import ROOT
from rph_pwa.db import get_session
from rph_pwa.models import AuditEvent, Municipality, Role, Team, User
from rph_pwa.public.worker import PRECACHE_STATIC
from rph_pwa.services.accounts import check_staff_password, create_staff
from rph_pwa.services.triage import QUEUE_PAGE_SIZE

RESIDENTS = 5_000
REFERRALS = 2_000
AUDIT_EVENTS = 50_000
REPEAT = 30
#: The paged triage queue's goal (issue 15): median under 50 ms with REFERRALS open referrals.
TRIAGE_GOAL_MS = 50


def _referrals(session, *, team_id: int, municipality_ids: list[int]) -> None:
    """REFERRALS submitted referrals with five scored questionnaires and an episode each."""
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.measures import score
    from rph_pwa.models import Episode, MeasureResponse, Referral

    scored = {code: score(code, values) for code, values in {
        "PHQ-9": [2, 2, 1, 2, 1, 1, 2, 1, 0], "GAD-7": [1, 2, 1, 1, 0, 1, 1], "WSAS": [4, 3, 3, 2, 4],
        "AUDIT-C": [1, 0, 0], "DUDIT-C": [0, 0, 0, 0]}.items()}
    answers = {"troubles": {"problems": ["sleep"], "own_words": "Sover dårlig.", "goals": "Sove bedre"},
               "work": {"work_status": "working", "sick_leave": "none"},
               "contact": {"name": "Bench", "gp_consent": True}}
    now = utcnow()
    for i in range(REFERRALS):
        referral = Referral(submission_key=f"bench-{i}", resident_id=2 + i, team_id=team_id,
                            municipality_id=municipality_ids[i % len(municipality_ids)], urgent=i % 50 == 0,
                            urgent_reason="item9" if i % 50 == 0 else None, age_band="25-34",
                            gender=("woman", "man", "other")[i % 3], submitted_at=now - timedelta(days=i % 300),
                            answers=answers)
        referral.responses = [
            MeasureResponse(resident_id=2 + i, instrument_code=code, instrument_version="1",
                            answers=list(result.answers), total=result.total, band=result.band,
                            flags="", submitted_at=referral.submitted_at)
            for code, result in scored.items()
        ]
        referral.episode = Episode(resident_id=2 + i, team_id=team_id, referred_at=referral.submitted_at)
        session.add(referral)
    session.flush()


def main() -> None:
    app, _ = bench_app("main")
    rows: list[tuple[str, str]] = []
    with app.app_context():
        session = get_session()
        municipalities = [Municipality(number=f"{9000 + i}", name=f"Kommune {i}") for i in range(4)]
        team = Team(name="Bench team", municipalities=municipalities)
        session.add(team)
        session.flush()
        lead, secret = create_staff(session, username="bench-lead", password="bench-password-123",
                                    role=Role.TEAM_LEAD, display_name="Lead", team_ids=[team.id])
        session.execute(insert(User), [
            {"role": "resident", "home_municipality_id": municipalities[i % 4].id, "team_id": team.id,
             "webauthn_user_handle": i.to_bytes(32, "big")}
            for i in range(RESIDENTS)
        ])
        session.execute(insert(AuditEvent), [
            {"actor_id": lead.id, "subject_id": 2 + (i % RESIDENTS), "team_id": team.id,
             "action": "view_resident", "object_type": "resident_profile"}
            for i in range(AUDIT_EVENTS)
        ])
        _referrals(session, team_id=team.id, municipality_ids=[m.id for m in municipalities])
        session.commit()
        start = time.perf_counter()
        check_staff_password(session, username="bench-lead", password="bench-password-123")
        rows.append(("argon2 staff password check", f"{(time.perf_counter() - start) * 1000:.0f} ms"))

    client = app.test_client()

    def token(path: str) -> str:
        return client.get(path).get_data(as_text=True).split('<meta name="csrf-token" content="')[1].split('"')[0]

    client.post("/staff/login", data={"username": "bench-lead", "password": "bench-password-123",
                                      "csrf_token": token("/staff/login")})
    client.post("/staff/login/second-factor", data={"code": pyotp.TOTP(secret).now(),
                                                    "csrf_token": token("/staff/login/second-factor")})

    queries = {"n": 0}
    engine = app.extensions["rph_db"].engine
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))

    anonymous = app.test_client()
    for label, path, who in [("GET /healthz", "/healthz", anonymous), ("GET /login (public)", "/login", anonymous),
                        (f"GET /therapist/ (I dag, {RESIDENTS} residents)", "/therapist/", client),
                        (f"GET /therapist/audit ({AUDIT_EVENTS} events, newest 200)", "/therapist/audit", client),
                        ("GET /therapist/residents/<id> (audited read)", "/therapist/residents/10", client),
                        ("GET /therapist/referrals/<id> (audited read)", "/therapist/referrals/5", client),
                        (f"GET /therapist/reach ({REFERRALS} referrals, 365 days)", "/therapist/reach", client)]:
        assert who.get(path).status_code == 200, path
        queries["n"] = 0
        who.get(path)
        per_page = queries["n"]
        median, p95 = timed(lambda who=who, path=path: who.get(path), REPEAT)
        rows.append((label, f"median {median:.1f} ms, p95 {p95:.1f} ms, {per_page} queries"))

    last_page = -(-REFERRALS // QUEUE_PAGE_SIZE)
    for path, name in [("/therapist/triage", f"{REFERRALS} open referrals, page 1 of {last_page}"),
                       (f"/therapist/triage?page={last_page}", "the last page")]:
        rows.append(page_row(client, path, name, TRIAGE_GOAL_MS, queries, REPEAT))

    precache = [f"static/{name}" for name in PRECACHE_STATIC]  # the worker's own list
    size = sum((ROOT / p).stat().st_size for p in precache)
    offline_pages = sum(len(anonymous.get(p).get_data()) for p in ("/offline", "/hjelp"))
    rows.append(("Service worker precache (static files)", f"{size / 1024:.1f} KiB"))
    rows.append(("Offline pages (/offline + /hjelp HTML)", f"{offline_pages / 1024:.1f} KiB"))
    first_visit = sum((ROOT / p).stat().st_size for p in precache[:2])  # app.css, app.js (every page's)
    rows.append(("CSS + JS of every page, uncompressed (bench.transfer: on the wire)", f"{first_visit / 1024:.1f} KiB"))

    width = max(len(r[0]) for r in rows)
    print(f"\nrph-pwa benchmarks (SQLite, in-process test client, {REPEAT} runs each)\n")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print()
    engine.dispose()


if __name__ == "__main__":
    main()
