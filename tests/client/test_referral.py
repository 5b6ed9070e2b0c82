"""The self-referral: eligibility, drafts that keep what was typed, idempotent submission, risk."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from rph_pwa.models import Episode, MeasureResponse, Referral, ReferralDraft
from tests.client.referral_helpers import fill_referral, post_step, send_with_new_account
from tests.conftest import form_token
from tests.factories import email, make_municipality, make_team


def _count(db, model) -> int:
    db.commit()  # end the read transaction: SQLite (WAL) would keep showing its snapshot
    return db.scalar(select(func.count()).select_from(model))


def test_under_16_stores_nothing(db, client):
    team = make_team(db)
    db.commit()
    drafts = _count(db, ReferralDraft)
    response = post_step(client, 1, {"age": 15, "municipality": team.municipalities[0].id, "crisis": "no"})
    assert response.status_code == 200
    assert "16" in response.get_data(as_text=True)
    assert _count(db, ReferralDraft) == drafts
    with client.session_transaction() as session:
        assert "referral_draft" not in session


def test_unserved_municipality_stores_nothing(db, client):
    lonely = make_municipality(db, name="Ingenteam")
    db.commit()
    drafts = _count(db, ReferralDraft)
    response = post_step(client, 1, {"age": 40, "municipality": lonely.id, "crisis": "no"})
    assert response.status_code == 200 and "Ingenteam" in response.get_data(as_text=True)
    assert _count(db, ReferralDraft) == drafts


def test_failed_step_keeps_what_was_typed(db, client):
    team = make_team(db)
    db.commit()
    post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"})
    words = "Dette er mine egne ord – " + "x" * 10
    response = post_step(client, 2, {"own_words": words, "goals": "", "duration": ""})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    again = client.get("/referral/step/2").get_data(as_text=True)  # a reload
    assert words in again


def test_over_long_text_is_refused_politely_and_kept(db, client):
    team = make_team(db)
    db.commit()
    post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"})
    goals = "å " * 700
    response = post_step(client, 2, {"problems": ["anxiety"], "duration": "lt_3m", "goals": goals})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "1000" in html and goals.strip() in html


def test_resume_after_closing_the_browser(db, app, client):
    team = make_team(db)
    db.commit()
    post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"})
    post_step(client, 2, {"problems": ["sleep"], "duration": "gt_1y", "goals": "Sove hele natta"})
    cookie = client.get_cookie("rph_session")
    assert cookie.expires is not None  # a persistent cookie: survives closing the browser
    reopened = app.test_client()
    reopened.set_cookie("rph_session", cookie.value)
    assert "Sove hele natta" in reopened.get("/referral/step/2").get_data(as_text=True)
    assert "Continue where you left off" in reopened.get("/referral/").get_data(as_text=True) or \
        "Fortsett der du slapp" in reopened.get("/referral/").get_data(as_text=True)


def test_whole_referral_by_email_code_and_double_submit_creates_one(db, client, mailbox):
    team = make_team(db)
    db.commit()
    address = email()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address)
    before = _count(db, Referral)
    response = send_with_new_account(client, mailbox, address)
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/sent")
    assert _count(db, Referral) == before + 1
    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    assert referral.status == "new" and not referral.urgent and referral.age_band == "25-34"
    assert _count(db, Episode) >= 1 and db.scalars(select(Episode).where(Episode.referral_id == referral.id)).one()
    codes = {r.instrument_code
             for r in db.scalars(select(MeasureResponse).where(MeasureResponse.referral_id == referral.id))}
    assert codes == {"PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C"}
    # The same browser sends again (double click, back button): still one referral.
    token = form_token(client, "/")
    client.post("/referral/review", data={"csrf_token": token})
    assert _count(db, Referral) == before + 1
    assert "Teamet" in client.get("/referral/sent").get_data(as_text=True) or team.name in \
        client.get("/referral/sent").get_data(as_text=True)
    assert "Jeg sover dårlig" not in db.execute(
        __import__("sqlalchemy").text("SELECT answers FROM referral WHERE id = :id"), {"id": referral.id}).scalar_one()


def test_signed_in_resident_submits_twice_and_gets_one_referral(db, actions, client, mailbox):
    from tests.factories import make_resident

    team = make_team(db)
    address = email()
    make_resident(db, team=team, email=address, name="Test Person")
    db.commit()
    actions.resident_login(address)
    fill_referral(client, municipality_id=team.municipalities[0].id)  # the same name: nothing to ask
    before = _count(db, Referral)
    token = form_token(client, "/referral/review")
    first = client.post("/referral/review", data={"csrf_token": token})
    second = client.post("/referral/review", data={"csrf_token": token})
    assert first.headers["Location"].endswith("/referral/sent")
    assert second.status_code == 302
    assert _count(db, Referral) == before + 1


def test_item9_makes_the_referral_urgent_and_the_team_notice_is_content_free(db, client, mailbox):
    team = make_team(db)
    db.commit()
    address = email()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address, item9=1)
    review = client.get("/referral/review").get_data(as_text=True)
    assert "113" in review and "crisis-panel" in review  # crisis help before anything is sent
    send_with_new_account(client, mailbox, address)
    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    assert referral.urgent and referral.urgent_reason == "item9"
    notice = mailbox.to(team.inbox_email)[-1]
    text = (notice["Subject"] + " " + notice.get_body(("plain",)).get_content()).lower()
    assert "oppfølging" in text
    for word in ("psyk", "phq", "depres", "angst", "selvmord", "test person", "score", "rask"):
        assert word not in text


def test_crisis_choice_shows_help_at_once(db, client):
    team = make_team(db)
    db.commit()
    response = post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "yes"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "crisis-panel" in page and re.search(r"tel:113", page)


def test_bad_input_never_gives_500(db, client):
    team = make_team(db)
    db.commit()
    assert post_step(client, 1, {"age": "abc", "municipality": "zzz", "crisis": "maybe"}).status_code == 400
    post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"})
    assert post_step(client, 4, {"item1": "7", "item9": "-1"}).status_code == 400
    assert client.get("/referral/step/99").status_code == 404


def test_a_second_submit_in_another_transaction_returns_the_first_referral(db, app):
    """Submitting the same draft again (another request, another transaction) creates nothing."""
    from rph_pwa.db import get_session
    from rph_pwa.services.referral_submission import submit_referral
    from tests.factories import make_resident

    team = make_team(db)
    resident = make_resident(db, team=team)
    db.commit()
    client = app.test_client()
    fill_referral(client, municipality_id=team.municipalities[0].id)
    with client.session_transaction() as session:
        key = session["referral_draft"]
    with app.app_context():
        first = get_session()
        submission = submit_referral(first, draft_key=key, resident=first.get(type(resident), resident.id))
        assert submission.created
        first.commit()
    with app.app_context():
        second = get_session()
        again = submit_referral(second, draft_key=key, resident=second.get(type(resident), resident.id))
        assert not again.created and again.referral.id == submission.referral.id


def test_the_referrals_item9_answer_is_recorded_on_its_urgent_flag(db, client, mailbox):
    """The answer that raised the flag is its first entry, so a later repeat reads e.g. 2 → 3."""
    from rph_pwa.models import UrgentFlag

    team = make_team(db)
    db.commit()
    address = email()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address, item9=2)
    send_with_new_account(client, mailbox, address)
    db.commit()
    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    flag = db.scalars(select(UrgentFlag).where(UrgentFlag.referral_id == referral.id)).one()
    assert [int(a.value) for a in flag.answers] == [2]
