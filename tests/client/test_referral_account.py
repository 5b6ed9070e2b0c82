"""The self-referral's account step: an e-mail code proves exactly the address it was sent to, and a
referral by an existing resident never changes their name, phone or team without a yes."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import EmailCode, Episode, Referral
from tests.client.referral_helpers import fill_referral, post_step
from tests.conftest import Actions, post_form
from tests.factories import PASSWORD, email, make_referral, make_resident, make_staff, make_team

CONTACT_STEP = 9


def _contact(address: str, name: str = "Test Person", phone: str = "412 34 567") -> dict:
    return {"name": name, "phone": phone, "email": address, "contact_times": "Etter 15", "voicemail_ok": "no",
            "sms_ok": "yes", "meeting_municipality": "0", "gp_consent": "yes", "gp_name": "Dr. Lege",
            "interpreter": "no", "language_needs": "", "gender": "woman"}


def _to_account_step(client):
    response = post_form(client, "/referral/review")
    assert response.headers["Location"].endswith("/referral/account")


def _ask_for_code(client):
    response = post_form(client, "/referral/account/email", page="/referral/account")
    assert response.status_code == 302


def _code_for_referral(client, mailbox, team, address: str, **answers) -> str:
    """A referral to `team` with `address` (and `answers`), taken to the account step and a code
    asked for there: the code mailed to `address`."""
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address, **answers)
    _to_account_step(client)
    _ask_for_code(client)
    return mailbox.last_code(address)


def _enter_code(client, code: str):
    return post_form(client, "/referral/account/code", {"code": code})


def _signed_in(client) -> bool:
    return client.get("/me").status_code == 200


def _fresh(db, row) -> None:
    db.commit()  # end the read transaction: SQLite (WAL) would keep showing its snapshot
    db.refresh(row)


def _referrals_of(db, resident_id: int) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(Referral).where(Referral.resident_id == resident_id))


# --- Blocker 1a: a code proves the address it was sent to ---------------------------------------

def test_code_sent_to_one_address_cannot_sign_in_as_another(db, client, mailbox):
    team = make_team(db)
    victim_address = email()
    victim = make_resident(db, team=team, email=victim_address, name="Ola Offer")
    db.commit()
    mallory = email()
    code = _code_for_referral(client, mailbox, team, mallory)
    # Back to the contact step: the address becomes the victim's.
    assert post_step(client, CONTACT_STEP, _contact(victim_address)).status_code == 302
    response = _enter_code(client, code)
    assert response.status_code == 400
    assert not _signed_in(client)
    assert _referrals_of(db, victim.id) == 0
    assert mailbox.to(victim_address) == []


def test_changing_the_address_voids_the_code_even_when_changed_back(db, client, mailbox):
    team = make_team(db)
    db.commit()
    first, second = email(), email()
    code = _code_for_referral(client, mailbox, team, first)
    post_step(client, CONTACT_STEP, _contact(second))
    post_step(client, CONTACT_STEP, _contact(first))
    assert _enter_code(client, code).status_code == 400
    assert not _signed_in(client)
    # A new code to the address works.
    _to_account_step(client)
    _ask_for_code(client)
    response = _enter_code(client, mailbox.last_code(first))
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/sent")


def test_the_code_creates_the_account_with_the_address_it_was_sent_to(db, client, mailbox):
    team = make_team(db)
    db.commit()
    address = email()
    response = _enter_code(client, _code_for_referral(client, mailbox, team, address.upper()))
    assert response.headers["Location"].endswith("/referral/sent")
    db.commit()
    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    assert referral.resident.email == address


def test_draft_code_allows_five_tries(db, client, mailbox):
    team = make_team(db)
    db.commit()
    address = email()
    code = _code_for_referral(client, mailbox, team, address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert _enter_code(client, wrong).status_code == 400
    assert _enter_code(client, code).status_code == 400
    assert not _signed_in(client)


def test_at_most_five_codes_per_address_an_hour_with_the_same_answer(db, client, app, mailbox):
    team = make_team(db)
    known = email()
    make_resident(db, team=team, email=known)
    db.commit()
    unknown = email()
    answers = []
    for _ in range(7):
        for address in (known, unknown):
            other = app.test_client()
            response = post_form(other, "/login/code", {"email": address})
            answers.append((address, response.status_code, response.headers.get("Location")))
    assert len(mailbox.to(known)) == 5
    assert mailbox.to(unknown) == []
    assert {(status, location) for _a, status, location in answers} == {(302, "/login/code/verify")}
    # The referral's account step counts against the same address.
    fill_referral(client, municipality_id=team.municipalities[0].id, email=known, name="Test Testesen")
    _to_account_step(client)
    _ask_for_code(client)
    assert len(mailbox.to(known)) == 5
    db.commit()
    lookup = app.extensions["rph_crypto"].lookup_hash(known)
    assert db.scalar(select(func.count()).select_from(EmailCode).where(EmailCode.email_lookup == lookup)) == 5


# --- Blocker 1b: an existing resident's details change only with a yes ---------------------------

def _existing_resident_refers(db, client, mailbox, *, home_team, new_team, name="Ny Navnesen",
                              phone="987 65 432"):
    address = email()
    resident = make_resident(db, team=home_team, email=address, name="Gammel Navnesen")
    resident.phone = "412 00 000"
    db.commit()
    fill_referral(client, municipality_id=new_team.municipalities[0].id, email=address, name=name)
    post_step(client, CONTACT_STEP, _contact(address, name=name, phone=phone))
    _to_account_step(client)
    _ask_for_code(client)
    response = _enter_code(client, mailbox.last_code(address))
    return resident, response


def test_existing_resident_is_asked_before_details_change_and_keeps_them(db, client, mailbox):
    old_team, new_team = make_team(db), make_team(db)
    resident, response = _existing_resident_refers(db, client, mailbox, home_team=old_team, new_team=new_team)
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/details")
    assert _referrals_of(db, resident.id) == 0  # nothing sent before the answer
    page = client.get("/referral/details").get_data(as_text=True)
    for text in ("Gammel Navnesen", "Ny Navnesen", "412 00 000", "987 65 432", old_team.name, new_team.name):
        assert text in page
    response = post_form(client, "/referral/details", {"choice": "keep"})
    assert response.headers["Location"].endswith("/referral/sent")
    _fresh(db, resident)
    assert (resident.display_name, resident.phone, resident.team_id) == ("Gammel Navnesen", "412 00 000",
                                                                          old_team.id)
    referral = db.scalars(select(Referral).where(Referral.resident_id == resident.id)).one()
    assert referral.team_id == new_team.id  # the referral goes to the team serving the chosen place


def test_existing_resident_says_yes_and_details_change(db, client, mailbox):
    old_team, new_team = make_team(db), make_team(db)
    resident, _response = _existing_resident_refers(db, client, mailbox, home_team=old_team, new_team=new_team)
    response = post_form(client, "/referral/details", {"choice": "update"})
    assert response.headers["Location"].endswith("/referral/sent")
    _fresh(db, resident)
    assert (resident.display_name, resident.phone, resident.team_id) == ("Ny Navnesen", "987 65 432", new_team.id)
    assert resident.home_municipality_id == new_team.municipalities[0].id


def test_no_choice_changes_nothing(db, client, mailbox):
    old_team, new_team = make_team(db), make_team(db)
    resident, _response = _existing_resident_refers(db, client, mailbox, home_team=old_team, new_team=new_team)
    response = post_form(client, "/referral/details", {"choice": "maybe"})
    assert response.status_code == 400
    assert _referrals_of(db, resident.id) == 0
    _fresh(db, resident)
    assert (resident.display_name, resident.team_id) == ("Gammel Navnesen", old_team.id)


def test_signed_in_resident_is_asked_at_review(db, actions, client):
    team = make_team(db)
    address = email()
    resident = make_resident(db, team=team, email=address, name="Kari Kjent")
    db.commit()
    actions.resident_login(address)
    fill_referral(client, municipality_id=team.municipalities[0].id, name="Kari Annet")
    response = post_form(client, "/referral/review")
    assert response.headers["Location"].endswith("/referral/details")
    page = client.get("/referral/details").get_data(as_text=True)
    assert "Kari Kjent" in page and "Kari Annet" in page
    assert _referrals_of(db, resident.id) == 0
    assert post_form(client, "/referral/details", {"choice": "keep"}).headers["Location"].endswith("/referral/sent")
    _fresh(db, resident)
    assert resident.display_name == "Kari Kjent"
    assert resident.phone == "412 34 567"  # an empty field is filled: nothing is overwritten


def test_same_details_send_without_asking(db, actions, client):
    team = make_team(db)
    address = email()
    make_resident(db, team=team, email=address, name="Test Person")
    db.commit()
    actions.resident_login(address)
    fill_referral(client, municipality_id=team.municipalities[0].id, name="Test Person")
    assert post_form(client, "/referral/review").headers["Location"].endswith("/referral/sent")


def test_old_team_keeps_access_while_its_episode_is_open_and_new_team_sees_the_resident(db, client, mailbox,
                                                                                         app):
    old_team, new_team = make_team(db), make_team(db)
    old_therapist, old_secret = make_staff(db, teams=[old_team])
    new_therapist, new_secret = make_staff(db, teams=[new_team])
    address = email()
    resident = make_resident(db, team=old_team, email=address, name="Gammel Navnesen")
    episode = make_referral(db, team=old_team, resident=resident).episode
    db.commit()
    _enter_code(client, _code_for_referral(client, mailbox, new_team, address, name="Ny Navnesen"))
    assert post_form(client, "/referral/details", {"choice": "update"}).headers["Location"].endswith("/referral/sent")
    _fresh(db, resident)
    assert resident.team_id == new_team.id
    clients = {}
    for staff, secret in ((old_therapist, old_secret), (new_therapist, new_secret)):
        clients[staff.id] = app.test_client()
        Actions(clients[staff.id], mailbox).staff_login(staff.username, PASSWORD, secret)
        assert clients[staff.id].get(f"/therapist/residents/{resident.id}").status_code == 200
    # Once the old team discharges, its access ends; the new team keeps it.
    db.commit()
    db.get(Episode, episode.id).discharged_at = utcnow()
    db.commit()
    assert clients[old_therapist.id].get(f"/therapist/residents/{resident.id}").status_code == 404
    assert clients[new_therapist.id].get(f"/therapist/residents/{resident.id}").status_code == 200
