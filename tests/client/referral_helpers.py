"""Filling in the self-referral through the real forms (test client)."""
from __future__ import annotations

from rph_pwa.measures import get
from tests.conftest import post_form

INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")


def post_step(client, number: int, data: dict):
    return post_form(client, f"/referral/step/{number}", data)


def instrument_answers(code: str, value: int = 1, overrides: dict | None = None) -> dict:
    instrument = get(code)
    data = {}
    for item in instrument.items:
        options = [o.value for o in instrument.options_for(item)]
        data[item.key] = str(min(value, options[-1]))
    if instrument.functioning_question is not None:
        data["functioning"] = str(instrument.functioning_question.options[0].value)
    data.update(overrides or {})
    return data


def fill_referral(client, *, municipality_id: int, age: int = 30, crisis: str = "no", item9: int = 0,
                  email: str = "", name: str = "Test Person", phq_value: int = 2) -> None:
    """Steps 1-9, all valid. Leaves the browser session holding a complete draft."""
    assert post_step(client, 1, {"age": age, "municipality": municipality_id, "crisis": crisis}).status_code == 302
    assert post_step(client, 2, {"problems": ["anxiety", "sleep"], "own_words": "Jeg sover dårlig og bekymrer meg.",
                                 "duration": "3_12m", "goals": "Sove bedre og komme tilbake i jobb.",
                                 "earlier_help": ""}).status_code == 302
    assert post_step(client, 3, {"work_status": "working", "sick_leave": "graded", "sick_leave_percent": "50",
                                 "return_to_work": "unsure"}).status_code == 302
    for number, code in enumerate(INSTRUMENTS, start=4):
        overrides = {"item9": str(item9)} if code == "PHQ-9" else None
        response = post_step(client, number, instrument_answers(code, phq_value if code == "PHQ-9" else 1, overrides))
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert post_step(client, 9, {"name": name, "phone": "412 34 567", "email": email, "contact_times": "Etter 15",
                                 "voicemail_ok": "no", "sms_ok": "yes", "meeting_municipality": "0",
                                 "gp_consent": "yes", "gp_name": "Dr. Lege", "interpreter": "no",
                                 "language_needs": "", "gender": "woman"}).status_code == 302


def send_with_new_account(client, mailbox, address: str):
    """Send the filled-in referral, making the account with the code mailed to `address`; returns the
    last response (a redirect to the receipt)."""
    assert post_form(client, "/referral/review").headers["Location"].endswith("/referral/account")
    assert post_form(client, "/referral/account/email", page="/referral/account").status_code == 302
    response = post_form(client, "/referral/account/code", {"code": mailbox.last_code(address)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/sent")
    return response
