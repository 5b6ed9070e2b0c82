"""Staff sign in with password + TOTP in the browser; a wrong TOTP is refused."""
from __future__ import annotations

import re

import pyotp

from rph_pwa.models import Role
from tests.factories import PASSWORD, make_resident, make_staff, make_team


def _first_step(page, username: str) -> None:
    page.goto("/staff/login")
    page.get_by_label(re.compile("Brukernavn|Username")).fill(username)
    page.get_by_label(re.compile("Passord|Password")).fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/staff/login/second-factor")


def test_wrong_totp_is_refused_then_right_one_signs_in(db, page, assert_accessible):
    team = make_team(db)
    lead, secret = make_staff(db, role=Role.TEAM_LEAD, teams=[team])
    resident = make_resident(db, team=team, name="Åse Åsheim")
    resident.phone = "412 34 567"
    db.commit()
    page.goto("/staff/login")
    assert_accessible(page)
    _first_step(page, lead.username)
    assert_accessible(page)

    right = pyotp.TOTP(secret).now()
    page.get_by_label(re.compile("kode|code", re.I)).fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/staff/login/second-factor")
    assert page.locator(".field-error").count() == 1
    assert_accessible(page)

    page.get_by_label(re.compile("kode|code", re.I)).fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/therapist/")
    assert_accessible(page)

    # I dag lists no residents by number: the lead finds her by her phone number.
    page.locator("main a[href='/therapist/find']").click()
    page.locator("#query").fill("41234567")
    page.locator("#find-resident button[type=submit]").click()
    page.locator(f"a[href='/therapist/residents/{resident.id}']").click()
    page.wait_for_url(f"**/therapist/residents/{resident.id}")
    assert "Åse Åsheim" in page.content()
    assert_accessible(page)
    page.goto("/therapist/audit")
    assert f"#{resident.id}" in page.content()
    assert_accessible(page)


def test_password_alone_never_reaches_the_workspace(db, page):
    therapist, _secret = make_staff(db, teams=[make_team(db)])
    db.commit()
    _first_step(page, therapist.username)
    page.goto("/therapist/")
    page.wait_for_url("**/staff/login")


def test_staff_passkey_as_second_factor(db, page, authenticator, assert_accessible):
    therapist, secret = make_staff(db, teams=[make_team(db)])
    db.commit()
    _first_step(page, therapist.username)
    page.get_by_label(re.compile("kode|code", re.I)).fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/therapist/")

    page.goto("/account/passkeys")
    page.locator("#passkey-name").fill("Jobb-PC")
    page.locator("button[data-passkey=register]").click()
    page.locator("input[id^=name-]").first.wait_for()
    page.get_by_role("button", name=re.compile("Logg ut|Sign out")).click()
    page.wait_for_url("**/staff/login")

    _first_step(page, therapist.username)
    assert_accessible(page)
    page.locator("button[data-passkey=signin]").click()
    page.wait_for_url("**/therapist/")
