"""What the team does (issue 9): guiding onward keeps contact until help has started elsewhere,
phone and paper enquiries join the same queue and episode, and a referral's status follows what
has happened (the episode's phase)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import AuditEvent, Episode, MeasureResponse, Referral, UrgentFlag, User
from rph_pwa.services import enquiries, onward
from rph_pwa.services import triage as svc
from rph_pwa.services.errors import NotFound
from tests.conftest import post_form, refresh
from tests.factories import add_episode_contact, make_municipality, make_referral, make_resident, make_staff, make_team

T = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


# --- The phase of an episode (a plain function) ---------------------------------------------------

@pytest.mark.parametrize("status, dates, contacts, phase", [
    ("new", {}, [], "waiting_assessment"),
    ("in_contact", {}, [("assessment", "cancelled")], "waiting_assessment"),
    ("in_contact", {}, [("assessment", "no_show")], "waiting_assessment"),
    ("in_contact", {}, [("assessment", "booked")], "assessment_booked"),
    ("in_contact", {}, [("assessment", "attended")], "assessed"),
    ("new", {"assessed_at": T}, [], "assessed"),
    ("accepted", {}, [], "assessed"),
    # Three attended contacts while the stored status was never moved on: in treatment, not "new".
    ("new", {}, [("treatment", "attended")] * 3, "in_treatment"),
    ("assessed", {"first_treatment_at": T}, [], "in_treatment"),
    ("guided_onward", {"assessed_at": T}, [("assessment", "attended")], "following_up"),
    ("guided_onward", {"discharged_at": T}, [], "ended"),
    ("closed", {"discharged_at": T, "first_treatment_at": T}, [("treatment", "attended")], "ended"),
])
def test_episode_phase_follows_what_happened(status, dates, contacts, phase):
    kwargs = {"discharged_at": None, "assessed_at": None, "first_treatment_at": None, **dates}
    assert svc.episode_phase(status=status, contacts=contacts, **kwargs) == phase
    assert phase in svc.PHASES


def test_queue_holds_only_referrals_not_yet_started_and_pages_show_the_phase(db, actions, client):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    treated = make_referral(db, team=team, urgent=True, submitted_days_ago=28,
                            resident=make_resident(db, team=team, name="Tre Kontakter"))
    for days in (21, 14, 7):  # three attended treatment contacts, the referral's status still "new"
        add_episode_contact(db, episode=treated.episode, staff=staff, starts_at=utcnow() - timedelta(days=days),
                            status="attended")
    booked = make_referral(db, team=team, submitted_days_ago=3,
                           resident=make_resident(db, team=team, name="Har Time"))
    add_episode_contact(db, episode=booked.episode, staff=staff, kind="assessment",
                        starts_at=utcnow() + timedelta(days=2))
    make_referral(db, team=team, submitted_days_ago=1,
                  resident=make_resident(db, team=team, name="Venter Fortsatt"))
    db.commit()
    actions.login_staff(db, team)
    queue = client.get("/therapist/triage").get_data(as_text=True)
    assert "Tre Kontakter" not in queue and f'/referrals/{treated.id}"' not in queue
    booked_card = queue[queue.index("Har Time"):]
    assert "Assessment booked" in booked_card[:booked_card.index("Open the referral")]
    waiting_card = queue[queue.index("Venter Fortsatt"):]
    assert "Waiting for assessment" in waiting_card[:waiting_card.index("Open the referral")]
    # The urgent count on the workspace counts only referrals waiting to start.
    assert "No urgent referrals" in client.get("/therapist/").get_data(as_text=True)
    referral_page = client.get(f"/therapist/referrals/{treated.id}").get_data(as_text=True)
    assert re.search(r'id="phase">\s*In treatment', referral_page)
    episode_page = client.get(f"/therapist/episodes/{treated.episode.id}").get_data(as_text=True)
    assert re.search(r'id="phase">\s*In treatment', episode_page)
    assert ">New<" not in referral_page and ">New<" not in episode_page


# --- Guided onward: followed up until help has started ------------------------------------------

def test_guided_onward_stays_open_with_a_follow_up_until_the_team_closes_it(db, actions, client):
    team = make_team(db)
    referral = make_referral(db, team=team, resident=make_resident(db, team=team, name="Videre Henvist"))
    later = make_referral(db, team=team, resident=make_resident(db, team=team, name="Senere Oppfolging"))
    db.commit()
    staff = actions.login_staff(db, team)
    url = f"/therapist/referrals/{referral.id}"
    response = post_form(client, f"{url}/onward",
                         {"service": "0", "message": "Fastlegen kan hjelpe deg.",
                          "follow_up": (utcnow() - timedelta(days=1)).date().isoformat()}, prefix="onward", page=url)
    assert response.status_code == 302
    # Without a date, the follow-up is two weeks ahead.
    now = utcnow()
    onward.guide_onward(db, actor=staff, referral_id=later.id, service_id=None, message="DPS.", now=now)
    assert db.get(Episode, later.episode.id).follow_up_at == now + timedelta(days=14)
    refresh(db)
    episode = db.get(Episode, referral.episode.id)
    assert episode.discharged_at is None and episode.follow_up_at is not None
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="phase">\s*Guided onward, following up', page)

    triage = client.get("/therapist/triage").get_data(as_text=True)
    follow_ups = triage[triage.index('id="follow-ups"'):]
    follow_ups = follow_ups[:follow_ups.index("</section>")]
    assert follow_ups.index("Videre Henvist") < follow_ups.index("Senere Oppfolging")  # due first
    assert "Due" in follow_ups[:follow_ups.index("Videre Henvist")]
    assert "Due" not in follow_ups[follow_ups.index("Videre Henvist"):]
    assert "1 follow-up due" in client.get("/therapist/").get_data(as_text=True)  # the workspace

    # Help did not start: why not is required, and what was typed is kept.
    response = post_form(client, f"{url}/onward/close", {"outcome": "not_started", "note": ""},
                         prefix="close", page=url)
    assert response.status_code == 400
    assert "Write why help did not start." in response.get_data(as_text=True)
    refresh(db)
    assert db.get(Episode, referral.episode.id).discharged_at is None

    response = post_form(client, f"{url}/onward/close",
                         {"outcome": "not_started", "note": "Fikk ikke time hos fastlegen."}, prefix="close", page=url)
    assert response.status_code == 302
    refresh(db)
    episode = db.get(Episode, referral.episode.id)
    assert episode.discharged_at is not None and episode.end_reason == "guided_onward"
    assert episode.onward_help_started is False and episode.onward_outcome_note == "Fikk ikke time hos fastlegen."
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="phase">\s*Ended', page) and "Fikk ikke time hos fastlegen." in page
    triage = client.get("/therapist/triage").get_data(as_text=True)
    assert "Videre Henvist" not in triage and "Senere Oppfolging" in triage
    assert "follow-up due" not in client.get("/therapist/").get_data(as_text=True)

    # Closing twice, or guiding an ended episode onward, changes nothing and says why.
    response = post_form(client, f"{url}/onward/close", {"outcome": "started", "note": ""}, prefix="close", page=url)
    assert response.status_code == 302
    assert "not being followed up" in client.get(url).get_data(as_text=True)
    refresh(db)
    assert db.get(Episode, referral.episode.id).onward_help_started is False


def test_help_started_elsewhere_closes_the_follow_up(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    referral = make_referral(db, team=team)
    onward.guide_onward(db, actor=staff, referral_id=referral.id, service_id=None, message="DPS.", now=T)
    with pytest.raises(ValueError):
        onward.close_onward(db, actor=staff, referral_id=referral.id, help_started=False, note=" ")
    episode = onward.close_onward(db, actor=staff, referral_id=referral.id, help_started=True, note=None,
                               now=T + timedelta(days=10))
    assert (episode.discharged_at, episode.end_reason, episode.onward_help_started) == (
        T + timedelta(days=10), "guided_onward", True)
    assert onward.onward_follow_ups(db, actor=staff) == []


# --- Phone and paper enquiries --------------------------------------------------------------------

def _enquiry(municipality_id: int, **changes) -> dict:
    return {"channel": "phone", "name": "Per Telefon", "phone": "412 34 567", "municipality": str(municipality_id),
            "age_band": "35-44", "gender": "man", "problems": ["low_mood", "sleep"],
            "own_words": "Sover dårlig og er nedstemt.", "urgent": "no", "phq9": "1 1 1 1 1 1 1 1 2",
            "gad7": "", "wsas": "", "auditc": "", "duditc": "", **changes}


def test_phone_enquiry_joins_the_queue_episode_and_statistics(db, actions, client):
    team = make_team(db)
    db.commit()
    staff = actions.login_staff(db, team)
    url = "/therapist/enquiries/new"
    assert "Register an enquiry" in client.get("/therapist/triage").get_data(as_text=True)
    response = post_form(client, url, _enquiry(team.municipalities[0].id), prefix="enquiry")
    assert response.status_code == 302
    refresh(db)
    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    assert (referral.channel, referral.age_band, referral.gender) == ("phone", "35-44", "man")
    resident = db.get(User, referral.resident_id)
    assert resident.is_resident and resident.display_name == "Per Telefon" and resident.phone == "412 34 567"
    assert resident.team_id == team.id and resident.email is None  # no sign-in method yet
    episode = db.scalars(select(Episode).where(Episode.referral_id == referral.id)).one()
    assert episode.team_id == team.id and episode.discharged_at is None
    phq9 = db.scalars(select(MeasureResponse).where(MeasureResponse.referral_id == referral.id)).one()
    assert (phq9.instrument_code, phq9.total, phq9.episode_id) == ("PHQ-9", 10, episode.id)
    # PHQ-9 item 9 above 0 makes it urgent with a flag to follow up, as in the app.
    assert referral.urgent and referral.urgent_reason == "item9"
    assert db.scalar(select(func.count()).select_from(UrgentFlag).where(UrgentFlag.referral_id == referral.id)) == 1
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "register_enquiry",
                                               AuditEvent.actor_id == staff.id)).one().object_id == referral.id
    queue = client.get("/therapist/triage").get_data(as_text=True)
    assert "Per Telefon" in queue and f'/therapist/referrals/{referral.id}"' in queue
    card = queue[queue.index("Per Telefon"):]
    assert "Phone" in card[:card.index("Open the referral")]
    page = client.get(f"/therapist/referrals/{referral.id}").get_data(as_text=True)
    assert "Sover dårlig og er nedstemt." in page
    assert "Henvendelse per telefon" in page and "Selvhenvisning via app" not in page  # the start note
    reach = client.get("/therapist/reach").get_data(as_text=True)
    channel_table = reach[reach.index('id="reach-channel"'):]
    assert re.search(r"Phone</t[hd]>\s*<td>1<", channel_table)


def test_paper_enquiry_without_questionnaires(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    referral = enquiries.register_enquiry(db, actor=staff, data=enquiries.EnquiryInput(
        channel="paper", name="Per Post", phone=None, municipality_id=team.municipalities[0].id, age_band="67+",
        gender="unspecified", problems=[], own_words=None, urgent=True))
    assert (referral.channel, referral.urgent, referral.urgent_reason, referral.responses) == (
        "paper", True, "crisis", [])
    # Marked urgent by staff: a flag to follow up and close with a note, as for "in crisis now".
    assert db.scalars(select(UrgentFlag).where(UrgentFlag.referral_id == referral.id)).one().reason == "crisis"
    assert [item.id for item in svc.triage_queue(db, actor=staff).items] == [referral.id]
    assert svc.count_urgent(db, actor=staff) == 1


def test_enquiry_errors_name_the_question_and_keep_what_was_typed(db, actions, client):
    team = make_team(db, municipalities=[make_municipality(db), make_municipality(db)])
    db.commit()
    actions.login_staff(db, team)
    form = client.get("/therapist/enquiries/new").get_data(as_text=True)
    picker = form[form.index('id="enquiry-municipality"'):]
    picker = picker[:picker.index("</select>")]
    assert '<option value="0">Choose</option>' in picker and "selected" not in picker  # none preselected
    response = post_form(client, "/therapist/enquiries/new",
                         _enquiry(0, phq9="1 2 3", age_band="", wsas="9 9 x"), prefix="enquiry")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose the municipality the person lives in." in page
    assert "Enter one answer for each of the 9 items of PHQ-9" in page
    assert "Choose the age group." in page and "Per Telefon" in page and "Sover dårlig og er nedstemt." in page
    assert "9 9 x" in page
    refresh(db)
    assert db.scalar(select(func.count()).select_from(Referral).where(Referral.team_id == team.id)) == 0


def test_enquiry_only_for_a_municipality_the_staff_members_team_serves(db):
    team, other = make_team(db), make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    with pytest.raises(NotFound):
        enquiries.register_enquiry(db, actor=staff, data=enquiries.EnquiryInput(
            channel="phone", name="Feil Kommune", phone=None, municipality_id=other.municipalities[0].id,
            age_band="18-24", gender="woman", problems=[], own_words=None, urgent=False))
    with pytest.raises(ValueError):
        enquiries.register_enquiry(db, actor=staff, data=enquiries.EnquiryInput(
            channel="app", name="Feil Kanal", phone=None, municipality_id=team.municipalities[0].id,
            age_band="18-24", gender="woman", problems=[], own_words=None, urgent=False))
