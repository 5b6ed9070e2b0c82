"""An existing resident whose referral has another name: the page that asks before their details
change is accessible, and keeping the details sends the referral."""
from __future__ import annotations

from tests.client.referral_helpers import fill_referral
from tests.conftest import Actions, post_form
from tests.factories import email, make_resident, make_team


def test_confirm_details_page_is_accessible_and_keeps_the_details(db, app, context, page, mailbox,
                                                                   assert_accessible, live_server):
    team = make_team(db)
    address = email()
    resident = make_resident(db, team=team, email=address, name="Kari Kjent")
    db.commit()
    client = app.test_client()
    Actions(client, mailbox).resident_login(address)
    fill_referral(client, municipality_id=team.municipalities[0].id, name="Kari Annet")
    assert post_form(client, "/referral/review").headers["Location"].endswith("/referral/details")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])

    page.goto("/referral/details")
    assert "Kari Kjent" in page.content() and "Kari Annet" in page.content()
    assert_accessible(page)
    page.locator("button[name=choice][value=keep]").click()
    page.wait_for_url("**/referral/sent")
    db.commit()
    db.refresh(resident)
    assert resident.display_name == "Kari Kjent"
