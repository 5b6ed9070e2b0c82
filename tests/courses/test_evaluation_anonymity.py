"""Anonymous course evaluations keep no path back to a person: after several answers through
their single-use links, no column of `evaluation_answer` or `evaluation_link`, no id order and no
log line links an answer to a participant or a link; the answer keeps the day only; a link is used
once, also when it is sent twice at the same moment. Named runs keep the participant."""
from __future__ import annotations

import logging
from datetime import date, datetime

import pytest
from sqlalchemy import inspect, select, text

from rph_pwa.crypto import secret_digest
from rph_pwa.db import get_session
from rph_pwa.models import CourseParticipant, EvaluationAnswer, EvaluationLink, Reminder
from rph_pwa.services import course_evaluation as svc
from tests.concurrency.conftest import run_together
from tests.conftest import form_token
from tests.factories import enrol_participant, make_course_run

GOOD = {"relevance": "5", "delivery": "4", "material": "3"}


def _anonymous_run_with_links(db, people: int = 4):
    run, leaders = make_course_run(db, first_in_days=-30)
    participants = [enrol_participant(db, run=run) for _ in range(people)]
    svc.open_evaluation(db, run=run)
    db.commit()
    links = {link.participant_id: link.token for link in db.scalars(select(EvaluationLink).where(
        EvaluationLink.run_id == run.id))}
    return run, participants, links


def test_open_evaluation_gives_one_link_per_participant_once_and_a_content_free_message(db):
    run, participants, links = _anonymous_run_with_links(db, people=3)
    assert set(links) == {p.id for p in participants}
    assert svc.open_evaluation(db, run=run) == []  # idempotent
    reminders = db.scalars(select(Reminder).where(Reminder.resident_id.in_([p.user_id for p in participants]),
                                                  Reminder.kind == "message")).all()
    assert len(reminders) == 3 and {r.link for r in reminders} == {"client.courses"}


def test_anonymous_answers_have_no_path_back_to_a_person(app, db, client, caplog):
    run, participants, links = _anonymous_run_with_links(db)
    tokens = list(links.values())
    with caplog.at_level(logging.DEBUG):
        for n, token in enumerate(tokens[:3]):
            url = f"/evaluering/{token}"
            csrf = form_token(client, url)
            answer = client.post(url, data={**GOOD, "relevance": str(3 + n), "useful": f"Pusteøvelsene {n}",
                                            "less_useful": "", "csrf_token": csrf})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert answer.headers["Referrer-Policy"] == "same-origin"  # the token goes to no other site
            assert answer.headers["Cache-Control"] == "no-store"
        again = client.post(f"/evaluering/{tokens[0]}", data={**GOOD, "csrf_token": csrf})
    assert again.status_code == 404  # a second use is refused
    db.commit()
    engine = app.extensions["rph_db"].engine
    with engine.connect() as conn:
        answers = [dict(r._mapping) for r in conn.execute(text(
            "SELECT * FROM evaluation_answer WHERE run_id = :run"), {"run": run.id})]
        link_rows = [dict(r._mapping) for r in conn.execute(text(
            "SELECT * FROM evaluation_link WHERE run_id = :run"), {"run": run.id})]
    assert len(answers) == 3
    answer_columns = {c["name"] for c in inspect(engine).get_columns("evaluation_answer")}
    assert set(answers[0]) == answer_columns  # every column is looked at below
    link_ids = {row["id"] for row in link_rows}
    participant_ids = {p.id for p in participants}
    user_ids = {p.user_id for p in participants}
    for row in answers:
        assert row["participant_id"] is None
        assert row["id"] not in link_ids and row["id"] not in participant_ids
        assert row["answered_on"] is not None and ":" not in str(row["answered_on"])  # the day only
        assert isinstance(db.get(EvaluationAnswer, row["id"]).answered_on, date)
        assert not isinstance(db.get(EvaluationAnswer, row["id"]).answered_on, datetime)
        for column, value in row.items():
            if column in ("run_id", "meeting_id", "instrument_version", "scores", "answered_on", "id"):
                continue
            assert value not in link_ids | participant_ids | user_ids, column
        assert row["id"] > 2 ** 32  # a random id, not a counter
        assert "Pusteøvelsene" not in str(row["useful"])  # encrypted at rest
    assert sorted(svc.free_text_for(svc.instrument_for(run))[0][0] for _ in answers) == ["useful"] * 3
    # The link rows keep no time and nothing of the answer.
    link_columns = {c["name"] for c in inspect(engine).get_columns("evaluation_link")}
    assert link_columns == {"id", "run_id", "meeting_id", "participant_id", "token_hash", "token", "used"}
    assert sorted(row["used"] for row in link_rows) == [0, 1, 1, 1] or sorted(
        bool(row["used"]) for row in link_rows) == [False, True, True, True]
    for row in link_rows:
        assert row["id"] not in {a["id"] for a in answers}
    # Nothing in the log names a token, its hash, a link, a participant or the free text.
    log = caplog.text
    for token in tokens:
        assert token not in log and secret_digest(token) not in log
    for row in link_rows:
        assert str(row["id"]) not in log
    for pid in participant_ids | user_ids:
        assert f"participant {pid}" not in log and f"participant_id={pid}" not in log
    assert "Pusteøvelsene" not in log


def test_random_ids_are_not_in_insertion_order(db):
    """Over 12 answers the ids are not ascending in the order answered (chance: 1 in 479 001 600)."""
    run, _participants, links = _anonymous_run_with_links(db, people=12)
    ids = [svc.submit(db, token=token, scores=GOOD).id for token in links.values()]
    assert ids != sorted(ids)


def test_a_link_sent_twice_at_the_same_moment_stores_one_answer(app, db):
    run, _participants, links = _anonymous_run_with_links(db, people=2)
    token = next(iter(links.values()))

    def send():
        with app.app_context():  # the web app's sessions, as parallel requests use them
            session = get_session()
            try:
                svc.submit(session, token=token, scores=GOOD, useful="Samtidig")
                session.commit()
                return "stored"
            except svc.LinkNotUsable:
                session.rollback()
                return "refused"

    results = run_together([send for _ in range(6)])
    assert sorted(map(str, results)) == ["refused"] * 5 + ["stored"]
    db.commit()
    assert db.scalar(select(EvaluationAnswer.id).where(EvaluationAnswer.run_id == run.id).limit(2)) is not None
    assert len(db.scalars(select(EvaluationAnswer).where(EvaluationAnswer.run_id == run.id)).all()) == 1


def test_missing_or_out_of_scale_answers_are_refused_and_the_link_stays_usable(db, client):
    run, _participants, links = _anonymous_run_with_links(db, people=1)
    token = next(iter(links.values()))
    with pytest.raises(svc.InvalidAnswers) as refused:
        svc.submit(db, token=token, scores={"relevance": 6, "delivery": "x"})
    assert refused.value.problems == {"relevance": "out_of_range", "delivery": "out_of_range",
                                      "material": "missing"}
    db.rollback()
    url = f"/evaluering/{token}"
    client.set_cookie("lang", "en")  # the messages in English (the page's default is bokmål)
    page = client.post(url, data={"relevance": "0", "delivery": "4", "useful": "Det jeg skrev",
                                  "csrf_token": form_token(client, url)})
    body = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Question 1: choose one of the numbers from 1 to 5." in body
    assert "Answer question 3: choose the answer that fits best." in body
    assert "Det jeg skrev" in body  # what was typed is shown again
    db.commit()
    assert db.scalar(select(EvaluationLink.used).where(EvaluationLink.token_hash == secret_digest(token))) is False


def test_unknown_and_used_links_get_the_same_neutral_page(db, client):
    run, _participants, links = _anonymous_run_with_links(db, people=1)
    token = next(iter(links.values()))
    svc.submit(db, token=token, scores=GOOD)
    db.commit()
    used, unknown = client.get(f"/evaluering/{token}"), client.get("/evaluering/not-a-token")
    assert used.status_code == unknown.status_code == 404
    strip = lambda r: r.get_data(as_text=True).replace(token, "").replace("not-a-token", "")  # noqa: E731
    assert strip(used) == strip(unknown)


def test_a_named_answer_keeps_its_participant(db):
    run, _leaders = make_course_run(db, first_in_days=-30, anonymous=False)
    participant = enrol_participant(db, run=run)
    (link,) = svc.open_evaluation(db, run=run)
    answer = svc.submit(db, token=link.token, scores=GOOD, useful="  ")
    assert answer.participant_id == participant.id and answer.useful is None
    assert db.get(CourseParticipant, participant.id) is participant


def test_too_long_text_and_a_missing_item_are_shown_together(db, client):
    _run, _participants, links = _anonymous_run_with_links(db, people=1)
    url = f"/evaluering/{next(iter(links.values()))}"
    client.set_cookie("lang", "en")
    page = client.post(url, data={"relevance": "5", "delivery": "5", "useful": "x" * (svc.FREE_TEXT_MAX + 1),
                                  "csrf_token": form_token(client, url)})
    body = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Please keep this answer under 4000 characters." in body
    assert "Answer question 3: choose the answer that fits best." in body
