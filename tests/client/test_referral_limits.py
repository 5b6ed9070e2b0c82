"""Anonymous visitors cannot fill the database through referral drafts: only a step's own fields
are kept, each cut to its limit, and the whole draft is bounded; what was typed within the limits
is kept. The referral pages that show answers are never cached."""
from __future__ import annotations

import itertools
import json

import pytest

from rph_pwa.services import referral_drafts
from tests.client.referral_helpers import fill_referral, post_step
from tests.conftest import post_form
from tests.factories import email, make_team

KB = 1024
_hosts = itertools.cycle(range(1, 255))


@pytest.fixture(autouse=True)
def own_address(client):
    """Each test's browser has its own address, so these many posts do not spend the rate limit
    of the other tests (the limiter counts per client address, across the test session)."""
    client.environ_base["REMOTE_ADDR"] = f"10.8.0.{next(_hosts)}"


def _draft_data(db, client) -> dict:
    with client.session_transaction() as session:
        key = session["referral_draft"]
    db.commit()  # end the read transaction: SQLite (WAL) would keep showing its snapshot
    db.expire_all()
    return referral_drafts.draft_data(referral_drafts.load_draft(db, key))


def _started(db, client) -> None:
    team = make_team(db)
    db.commit()
    client.set_cookie("lang", "en")
    step1 = {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"}
    assert post_step(client, 1, step1).status_code == 302


def test_a_900_kb_post_of_unknown_fields_stores_nothing_of_them(db, client):
    _started(db, client)
    junk = {f"junk{i}": "x" * 1000 for i in range(900)}
    response = post_step(client, 2, {**junk, "goals": "Sove bedre"})
    assert response.status_code == 400  # the step is incomplete (no problems chosen)
    data = _draft_data(db, client)
    assert len(json.dumps(data)) < 8 * KB
    assert not any(key.startswith("junk") for key in data["troubles"]["raw"])
    assert data["troubles"]["raw"]["goals"] == ["Sove bedre"]


@pytest.mark.parametrize("step, field", [(2, "own_words"), (2, "goals"), (2, "problems"), (4, "item1"),
                                         (9, "name"), (9, "phone"), (9, "contact_times"), (9, "gender")])
def test_a_900_kb_field_stores_at_most_its_limit(db, client, field, step):
    _started(db, client)
    if step > 2:
        fill_referral(client, municipality_id=_draft_data(db, client)["eligibility"]["municipality_id"])
    response = post_step(client, step, {field: "y" * 900 * KB} if field != "problems" else
                         {field: ["anxiety"] * 50_000})
    assert response.status_code == 400
    data = _draft_data(db, client)
    section = {2: "troubles", 4: "PHQ-9", 9: "contact"}[step]
    stored = data[section]["raw"][field]
    assert sum(len(value) for value in stored) <= 2000
    assert len(json.dumps(data)) <= referral_drafts.MAX_DRAFT_CHARS


def test_too_long_own_words_get_an_error_and_keep_the_text_up_to_the_limit(db, client):
    _started(db, client)
    words = "".join(f"Ord nummer {i}. " for i in range(400))  # about 5,000 characters
    assert len(words) > 2000
    response = post_step(client, 2, {"problems": ["sleep"], "duration": "gt_1y", "goals": "Sove hele natta",
                                     "own_words": words})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Use at most 2000 characters. You have written {len(words)}." in html
    assert words in html  # the answer page still shows everything typed, to shorten it there
    data = _draft_data(db, client)
    assert data["troubles"]["raw"]["own_words"] == [words[:2000]]
    assert data["troubles"]["raw"]["goals"] == ["Sove hele natta"]
    assert words[:2000] in client.get("/referral/step/2").get_data(as_text=True)  # a reload keeps the text


def test_every_step_at_its_limits_fits_in_a_draft(db, client):
    team = make_team(db)
    db.commit()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=email())
    assert post_step(client, 2, {"problems": [c for c in ("anxiety", "low_mood", "sleep", "substances", "stress",
                                                          "other")],
                                 "own_words": "æ" * 2000, "duration": "gt_1y", "goals": "ø" * 1000,
                                 "earlier_help": "å" * 1000}).status_code == 302
    assert post_step(client, 9, {"name": "n" * 80, "phone": "+47 412 34 567", "email": f"{'e' * 60}@example.no",
                                 "contact_times": "t" * 500, "voicemail_ok": "no", "sms_ok": "yes",
                                 "meeting_municipality": "0", "gp_consent": "yes", "gp_name": "g" * 100,
                                 "interpreter": "yes", "language_needs": "l" * 200,
                                 "gender": "woman"}).status_code == 302
    assert len(json.dumps(_draft_data(db, client))) <= referral_drafts.MAX_DRAFT_CHARS


def test_a_draft_over_the_limit_is_refused_by_the_service(db):
    draft, _key = referral_drafts.start_draft(db, eligibility={"age": 30, "municipality_id": 1, "crisis": "no"})
    with pytest.raises(referral_drafts.DraftTooLarge):
        referral_drafts.save_section(db, draft=draft, section="troubles", values={"raw": {"goals": ["x" * 70 * KB]}})
    db.rollback()


def test_referral_pages_that_show_answers_are_never_cached(db, client, mailbox):
    team = make_team(db)
    db.commit()
    assert client.get("/referral/").headers["Cache-Control"] == "no-store"
    assert client.get("/referral/step/1").headers["Cache-Control"] == "no-store"
    response = post_step(client, 1, {"age": 30, "municipality": team.municipalities[0].id, "crisis": "no"})
    assert response.headers["Cache-Control"] == "no-store"
    fill_referral(client, municipality_id=team.municipalities[0].id, email=email())
    for number in range(1, 10):
        assert client.get(f"/referral/step/{number}").headers["Cache-Control"] == "no-store"
    assert client.get("/referral/review").headers["Cache-Control"] == "no-store"
    assert post_form(client, "/referral/review").status_code == 302
    assert client.get("/referral/account").headers["Cache-Control"] == "no-store"
    assert client.get("/referral/account/code").headers["Cache-Control"] == "no-store"
    failed = post_step(client, 2, {"own_words": "Mine ord"})
    assert failed.status_code == 400 and failed.headers["Cache-Control"] == "no-store"
