"""Benchmark of the pages that grow with a person's record: the staff episode and referral pages
and the resident's Min fremgang (issue 15: "pages stay small as data grows").

    python -m bench.records

One team; a resident whose episode has 1,000 answered questionnaires (PHQ-9 and GAD-7 before
every contact, WSAS before the first and every fourth, session feedback after the first: about
300 contacts every other day, the last few still booked), 30 contact attempts with a note on the
referral; and a resident whose latest episode has 500 progress points (PHQ-9, GAD-7, WSAS) over
500 days. Rows are bulk inserted.

Measures median and p95 server time (in-process test client), the SQL queries and the HTML size of
the episode page, the referral page, one chunk of older answers and Min fremgang, each beside its
goal; and, for reference in the same run, the episode and referral pages of an episode with no
history yet. Nothing is asserted.
"""
from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.types import Text

from bench import bench_app, page_row, print_table
from bench.day import RESIDENT_EMAIL, signed_in, team_and_people
from bench.statistics import bulk_insert
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session, utcnow
from rph_pwa.measures import score
from rph_pwa.models import Appointment, ContactAttempt, Episode, FormRequest, MeasureResponse, Referral, User
from rph_pwa.services.accounts import set_email
from rph_pwa.services.outcomes import FEEDBACK, OPENS_BEFORE, WSAS_EVERY

ANSWERS, POINTS, ATTEMPTS, BOOKED_AHEAD = 1_000, 500, 30, 3
REPEAT = 30
PAGE_GOAL_MS, PAGE_GOAL_KB, PROGRESS_GOAL_KB = 50, 100, 60
#: Answers that vary a little from contact to contact (index `n` picks a row).
VALUES = {"PHQ-9": ([2, 2, 1, 2, 1, 1, 2, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0], [3, 2, 2, 2, 2, 1, 1, 1, 0]),
          "GAD-7": ([2, 1, 1, 2, 1, 1, 1], [1, 1, 1, 1, 0, 0, 1], [2, 2, 2, 2, 1, 1, 1]),
          "WSAS": ([4, 3, 3, 2, 4], [2, 2, 3, 1, 2], [5, 4, 4, 3, 5]),
          FEEDBACK: ([4, 3, 4, 3], [4, 4, 4, 4], [3, 3, 3, 2])}


def referral_and_episode(session, *, team, municipality, resident: int, referred_at, tag: str) -> tuple[int, int]:
    """An accepted referral with its (encrypted) answers and an open episode; their ids."""
    token = field_crypto().encrypt(json.dumps({
        "troubles": {"problems": ["depression"], "own_words": "Lei meg hele tiden.", "goals": "Komme i jobb"},
        "work": {"work_status": "working", "sick_leave": "none"},
        "contact": {"name": "Bench", "phone": "412 34 567", "gp_consent": True}}))
    statement = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    [referral] = bulk_insert(session, Referral, [{
        "submission_key": f"bench-records-{tag}", "resident_id": resident, "team_id": team.id,
        "municipality_id": municipality.id, "status": "accepted", "urgent": False, "channel": "app",
        "age_band": "25-34", "gender": "woman", "submitted_at": referred_at, "answers_token": token}], statement)
    [episode] = bulk_insert(session, Episode, [{
        "referral_id": referral, "resident_id": resident, "team_id": team.id, "referred_at": referred_at,
        "offerings": "individual", "instruments": "PHQ-9,GAD-7,WSAS"}])
    return referral, episode


def planned(number: int) -> list[str]:
    """The forms asked before contact `number` (1-based), as `outcomes.plan_forms` plans them."""
    codes = ["PHQ-9", "GAD-7"]
    if number == 1 or number % WSAS_EVERY == 0:
        codes.append("WSAS")
    return codes + ([FEEDBACK] if number > 1 else [])


def record_with_answers(session, *, team, municipality, resident: int, staff_id: int) -> tuple[int, int]:
    """The episode with ANSWERS answered forms before its contacts, BOOKED_AHEAD contacts still
    booked, and ATTEMPTS contact attempts on its referral; (referral id, episode id)."""
    contacts, total = [], 0
    while total < ANSWERS:
        codes = planned(len(contacts) + 1)
        codes = codes[:ANSWERS - total]
        contacts.append(codes)
        total += len(codes)
    now = utcnow()
    first = now - timedelta(days=2 * len(contacts))
    referral, episode = referral_and_episode(session, team=team, municipality=municipality, resident=resident,
                                             referred_at=first - timedelta(days=14), tag="answers")
    starts = [first + timedelta(days=2 * i) for i in range(len(contacts) + BOOKED_AHEAD)]
    appointments = bulk_insert(session, Appointment, [
        {"episode_id": episode, "staff_id": staff_id, "kind": "assessment" if i == 0 else "treatment",
         "starts_at": at, "mode": "office", "place": "Helsehuset, rom 2", "duration_minutes": 45,
         "status": "attended" if at < now else "booked", "created_at": at - timedelta(days=7)}
        for i, at in enumerate(starts)])
    requests = [(appointments[i], starts[i], code) for i, codes in enumerate(contacts) for code in codes]
    request_ids = bulk_insert(session, FormRequest, [
        {"appointment_id": a, "episode_id": episode, "resident_id": resident, "instrument_code": code,
         "opens_at": at - OPENS_BEFORE} for a, at, code in requests])
    results = [score(code, VALUES[code][n % 3]) for n, (_a, _at, code) in enumerate(requests)]
    response_ids = bulk_insert(session, MeasureResponse, [
        {"resident_id": resident, "episode_id": episode, "instrument_code": code,
         "instrument_version": str(result.version), "answers": list(result.answers),
         "functioning": 1 if code in ("PHQ-9", "GAD-7") else None, "total": result.total, "band": result.band,
         "flags": ",".join(sorted(result.flags)), "submitted_at": at - timedelta(hours=5), "form_request_id": rid}
        for (_a, at, code), result, rid in zip(requests, results, request_ids, strict=True)])
    table = FormRequest.__table__
    session.execute(update(table).where(table.c.id == bindparam("request_id")).values(response_id=bindparam("rid")),
                    [{"request_id": q, "rid": r} for q, r in zip(request_ids, response_ids, strict=True)])
    bulk_insert(session, ContactAttempt, [
        {"referral_id": referral, "staff_id": staff_id, "at": first - timedelta(days=13, hours=-i),
         "method": "phone", "outcome": "no_answer" if i % 3 else "reached",
         "note": "Ringte, ingen svar. Prøver igjen i morgen."} for i in range(ATTEMPTS)])
    return referral, episode


def progress_points(session, *, team, municipality, resident: int) -> None:
    """An episode with POINTS progress answers (PHQ-9 and GAD-7 each day in turn, WSAS every tenth)."""
    now = utcnow()
    _referral, episode = referral_and_episode(session, team=team, municipality=municipality, resident=resident,
                                              referred_at=now - timedelta(days=POINTS + 7), tag="progress")
    codes = ["WSAS" if i % 10 == 9 else ("PHQ-9", "GAD-7")[i % 2] for i in range(POINTS)]
    results = [score(code, VALUES[code][(i // 7) % 3]) for i, code in enumerate(codes)]
    bulk_insert(session, MeasureResponse, [
        {"resident_id": resident, "episode_id": episode, "instrument_code": code,
         "instrument_version": str(result.version), "answers": list(result.answers), "functioning": None,
         "total": result.total, "band": result.band, "flags": "",
         "submitted_at": now - timedelta(days=POINTS - i)}
        for i, (code, result) in enumerate(zip(codes, results, strict=True))])


def build(session) -> dict:
    team, municipalities, therapist, secret, _colleague, people = team_and_people(
        session, name="Bench records", first_number=9500, residents=3)
    referral, episode = record_with_answers(session, team=team, municipality=municipalities[0],
                                            resident=people[0], staff_id=therapist.id)
    progress_points(session, team=team, municipality=municipalities[1], resident=people[1])
    empty_referral, empty_episode = referral_and_episode(session, team=team, municipality=municipalities[2],
                                                         resident=people[2], referred_at=utcnow(), tag="empty")
    set_email(session.get(User, people[1]), RESIDENT_EMAIL, field_crypto())
    session.commit()
    return {"therapist": therapist, "secret": secret, "referral": referral, "episode": episode,
            "empty_referral": empty_referral, "empty_episode": empty_episode}


def size_row(client, path: str, name: str, goal_kb: int) -> tuple[str, str]:
    """The page's HTML in KB (and gzipped) against `goal_kb`."""
    body = client.get(path).data
    kb, zipped = len(body) / 1024, len(gzip.compress(body)) / 1024
    return (f"  HTML of {name}", f"{kb:7.1f} KB ({zipped:.1f} KB gzipped)   goal: < {goal_kb} KB, "
                                f"{'met' if kb < goal_kb else 'NOT met'}")


def main() -> None:
    app, _ = bench_app("records")
    with app.app_context():
        started = time.perf_counter()
        built = build(get_session())
        seconds = time.perf_counter() - started
    clients = signed_in(app, built["therapist"], built["secret"])
    engine = app.extensions["rph_db"].engine
    queries = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
    episode = f"/therapist/episodes/{built['episode']}"
    pages = [("Episode page", episode, "staff", PAGE_GOAL_KB),
             ("Referral page", f"/therapist/referrals/{built['referral']}", "staff", PAGE_GOAL_KB),
             ("Older answers, one chunk", f"{episode}/answers?page=2", "staff", PAGE_GOAL_KB),
             ("Min fremgang", "/me/progress", "resident", PROGRESS_GOAL_KB)]
    # The same pages of an episode with nothing in it yet, in the same run: what the page costs
    # without any history (on a busy machine every figure grows; these show by how much).
    pages += [("Episode page, no answers yet", f"/therapist/episodes/{built['empty_episode']}", "staff", PAGE_GOAL_KB),
              ("Referral page, no history", f"/therapist/referrals/{built['empty_referral']}", "staff", PAGE_GOAL_KB)]
    rows = [(f"SQLite: one episode with {ANSWERS:,} answers and {ATTEMPTS} contact attempts, one with "
             f"{POINTS} progress points (built in {seconds:.1f} s)", "")]
    for name, path, who, goal_kb in pages:
        rows.append(page_row(clients[who], path, name, PAGE_GOAL_MS, queries, REPEAT))
        rows.append(size_row(clients[who], path, name, goal_kb))
    print_table(f"rph-pwa records that grow (in-process test client, {REPEAT} runs each)", rows,
                "The query count of each page does not depend on the number of answers.")
    engine.dispose()


if __name__ == "__main__":
    main()
