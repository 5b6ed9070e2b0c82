"""A referral that can no longer be sent (its municipality stopped being served while the person
was filling it in) sends nobody to `Location: None`: back to the review, nothing sent."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rph_pwa.models import Referral
from tests.client.referral_helpers import fill_referral
from tests.conftest import csrf_token
from tests.factories import email, make_resident, make_team


def _post(client, url: str, data: dict | None = None):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


@pytest.mark.parametrize("name", ["Test Person", "Other Name"])
def test_a_referral_that_cannot_be_sent_goes_back_to_the_review(db, actions, client, name):
    """Sent from the review (same details), or after answering the details question (a new name)."""
    team = make_team(db)
    municipality = team.municipalities[0]
    address = email()
    resident = make_resident(db, team=team, email=address, name=name)
    db.commit()
    actions.resident_login(address)
    fill_referral(client, municipality_id=municipality.id, name="Test Person")
    if name != "Test Person":
        assert _post(client, "/referral/review").headers["Location"] == "/referral/details"
    team.municipalities.remove(municipality)  # no team serves it any more: submitting is refused
    db.commit()

    if name == "Test Person":
        response = _post(client, "/referral/review")
    else:
        response = _post(client, "/referral/details", {"choice": "keep"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/referral/review"
    assert client.get("/referral/review").status_code == 200  # the draft is kept
    db.commit()
    assert db.scalar(select(func.count()).select_from(Referral).where(Referral.resident_id == resident.id)) == 0
