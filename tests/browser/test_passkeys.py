"""A new resident on a phone creates an account with a passkey, signs out and back in with it."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from rph_pwa.models import Passkey, User
from tests.factories import email, make_resident, make_team


def test_register_passkey_sign_out_and_sign_in(db, page, authenticator, assert_accessible):
    team = make_team(db)
    municipality = team.municipalities[0]
    db.commit()

    page.goto("/")
    assert_accessible(page)
    page.locator("main a[href=\"/register\"]").first.click()
    assert_accessible(page)
    page.get_by_label(re.compile("kommune|municipality", re.I)).select_option(label=municipality.name)
    page.get_by_label(re.compile("kalle deg|call you", re.I)).fill("Nora")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=re.compile("Fortsett|Continue")).click()

    page.wait_for_url("**/register/passkey")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("passnøkkel|passkey", re.I)).click()
    page.wait_for_url("**/me")
    assert "Nora" in page.content()
    assert_accessible(page)

    user = db.scalars(select(User).where(User.home_municipality_id == municipality.id)).one()
    assert user.team_id == team.id
    assert len(db.scalars(select(Passkey).where(Passkey.user_id == user.id)).all()) == 1

    page.get_by_role("button", name=re.compile("Logg ut|Sign out")).click()
    page.wait_for_url("**/signed-out")
    assert_accessible(page)
    page.context.clear_cookies()  # a first visit: the kept page carries no token, the script fetches one
    page.goto("/me")
    page.wait_for_url("**/login")
    assert page.locator("meta[name=csrf-token]").count() == 0
    assert_accessible(page)

    page.get_by_role("button", name=re.compile("Logg inn med passnøkkel|Sign in with passkey", re.I)).click()
    page.wait_for_url("**/me")
    assert "Nora" in page.content()


def test_manage_passkeys_rename_and_remove(db, page, authenticator, mailbox, assert_accessible):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    page.goto("/login/code")
    assert_accessible(page)
    page.get_by_label(re.compile("E-post|E-mail", re.I)).fill(address)
    page.get_by_role("button", name=re.compile("Send")).click()
    page.wait_for_url("**/login/code/verify")
    assert_accessible(page)
    page.get_by_label(re.compile("kode|code", re.I)).fill(mailbox.last_code(address))
    page.get_by_role("button", name=re.compile("Logg inn|Sign in")).last.click()
    page.wait_for_url("**/account/passkeys")
    assert_accessible(page)

    page.locator("#passkey-name").fill("Telefon")
    page.get_by_role("button", name=re.compile("Legg til passnøkkel|Add passkey", re.I)).click()
    expect(page.locator("input[id^=name-]")).to_have_count(1)
    names = page.locator("input[id^=name-]")
    assert names.first.input_value() == "Telefon"
    names.first.fill("Jobbtelefon")
    page.get_by_role("button", name=re.compile("Gi nytt navn|Rename")).first.click()
    page.wait_for_load_state("load")
    assert page.locator("input[id^=name-]").first.input_value() == "Jobbtelefon"
    assert_accessible(page)
    page.on("dialog", lambda dialog: dialog.accept())
    before = page.locator("input[id^=name-]").count()
    page.get_by_role("button", name=re.compile("Fjern|Remove")).first.click()
    page.wait_for_load_state("load")
    assert page.locator("input[id^=name-]").count() == before - 1 == 0
