"""What the team does on the episode (issue 9): the therapist chooses the forms, session feedback
after attended contacts (not before course meetings), the 15-hour budget without the assessment
conversation, the full intake checklist, a note on every change of offering, the start and closure
notes, repeated item-9 answers kept on the open flag, plain labels and one-tap calls."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select, text

from rph_pwa.db import utcnow
from rph_pwa.models import (
    Appointment,
    Episode,
    FormRequest,
    IntakeChecklist,
    OfferingChange,
    Referral,
    UrgentFlag,
    User,
)
from rph_pwa.services import outcomes, urgent_flags
from rph_pwa.services import triage as svc
from tests.conftest import post_form, refresh
from tests.factories import add_episode_contact, add_episode_response, make_monitored_episode, make_staff, make_team


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _codes(db, appointment_id: int) -> list[str]:
    return sorted(db.scalars(select(FormRequest.instrument_code).where(FormRequest.appointment_id == appointment_id)))


def _book(db, staff, episode, *, days: int, kind: str = "treatment") -> Appointment:
    return outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind=kind,
                                 starts_at=utcnow() + timedelta(days=days), duration_minutes=45, mode="office",
                                 place=None)


# --- 1. Who receives forms, and session feedback ------------------------------------------------

def test_the_therapist_chooses_the_forms_on_the_episode_page_and_booked_contacts_follow(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    contact = _book(db, staff, episode, days=3)
    db.commit()
    assert _codes(db, contact.id) == ["GAD-7", "PHQ-9", "WSAS"]
    url = f"/therapist/episodes/{episode.id}"
    assert 'name="instruments-instruments"' in _page(client, url)
    response = post_form(client, f"{url}/instruments", {"instruments": "GAD-7"}, prefix="instruments", page=url)
    assert response.status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).instruments == "GAD-7"
    assert _codes(db, contact.id) == ["GAD-7"]
    later = _book(db, staff, episode, days=10)
    assert _codes(db, later.id) == ["GAD-7"]
    refresh(db)
    # None is a valid choice; an unknown instrument is refused without a 500.
    assert post_form(client, f"{url}/instruments", {}, prefix="instruments", page=url).status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).instruments == "" and _codes(db, contact.id) == []
    assert post_form(client, f"{url}/instruments", {"instruments": "AUDIT-C"},
                     prefix="instruments", page=url).status_code == 400


def test_a_series_booked_ahead_gets_session_feedback_once_a_contact_is_attended(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    first, second, third = (_book(db, staff, episode, days=d) for d in (-1, 6, 13))
    db.commit()
    assert outcomes.FEEDBACK not in _codes(db, second.id) + _codes(db, third.id)
    url = f"/therapist/episodes/{episode.id}"
    response = post_form(client, f"{url}/contacts/{first.id}/attendance", {"status": "attended"},
                         prefix="attendance", page=url)
    assert response.status_code == 302
    refresh(db)
    assert outcomes.FEEDBACK in _codes(db, second.id) and outcomes.FEEDBACK in _codes(db, third.id)
    assert outcomes.FEEDBACK not in _codes(db, first.id)


def test_no_session_feedback_before_a_course_meeting(db):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() - timedelta(days=7), status="attended")
    course = _book(db, staff, episode, days=2, kind="course_meeting")
    talk = _book(db, staff, episode, days=3)
    assert outcomes.FEEDBACK not in _codes(db, course.id)
    assert outcomes.FEEDBACK in _codes(db, talk.id)


# --- 2. The budget ------------------------------------------------------------------------------

def test_the_15_hour_budget_does_not_count_the_assessment_conversation(db):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = make_staff(db, teams=[team])[0]
    start = utcnow() - timedelta(days=30)
    add_episode_contact(db, episode=episode, staff=staff, starts_at=start, status="attended", minutes=90,
                        kind="assessment")
    for week in range(1, 15):
        add_episode_contact(db, episode=episode, staff=staff, starts_at=start + timedelta(days=week), status="attended",
                            minutes=60)
    appointments = list(db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)))
    flags, _result = outcomes.episode_flags(episode, [], appointments)
    assert flags.hours_used == 14.0 and not flags.over_budget


# --- 3. The intake checklist --------------------------------------------------------------------

def test_the_intake_checklist_covers_the_handbook_and_children_as_relatives(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    referral = db.get(Referral, episode.referral_id)
    actions.login_staff(db, team)
    url = f"/therapist/referrals/{referral.id}"
    page = _page(client, url)
    for label in ("Why they seek help now", "What they expect from us", "How the problems developed",
                  "Day-to-day functioning", "Family and network", "Earlier help and treatment",
                  "Resources and values", "Information about what change takes",
                  "Children under 18 as relatives"):
        assert label in page
    assert "Ages 16–17" not in page  # an adult: the rules for 16–17 do not apply
    points = svc.checklist_points(referral.age_band)
    almost = {p: "y" for p in points if p != "children"}
    assert post_form(client, f"{url}/intake-checklist", almost, prefix="checklist", page=url).status_code == 302
    refresh(db)
    assert db.get(Episode, episode.id).assessed_at is None  # children as relatives is a legal duty
    post_form(client, f"{url}/intake-checklist", {**almost, "children": "y"}, prefix="checklist", page=url)
    refresh(db)
    checklist = db.scalars(select(IntakeChecklist).where(IntakeChecklist.episode_id == episode.id)).one()
    assert checklist.children and checklist.why_now and checklist.change_information
    assert db.get(Episode, episode.id).assessed_at is not None
    episode_page = _page(client, f"/therapist/episodes/{episode.id}")
    assert "Children under 18 as relatives (a legal duty to ask): covered" in episode_page


def test_ages_16_17_need_the_confidentiality_rules_explained(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    referral = db.get(Referral, episode.referral_id)
    referral.age_band = "16-17"
    actions.login_staff(db, team)
    url = f"/therapist/referrals/{referral.id}"
    assert "Ages 16–17: the confidentiality rules that apply were explained" in _page(client, url)
    adult_points = {p: "y" for p in svc.checklist_points("25-34")}
    post_form(client, f"{url}/intake-checklist", adult_points, prefix="checklist", page=url)
    refresh(db)
    assert db.get(Episode, episode.id).assessed_at is None
    post_form(client, f"{url}/intake-checklist", {**adult_points, "minor_confidentiality": "y"},
              prefix="checklist", page=url)
    refresh(db)
    assert db.get(Episode, episode.id).assessed_at is not None


# --- 4. A change of offering --------------------------------------------------------------------

def test_a_change_of_offering_keeps_a_short_encrypted_note(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team, offerings="guided_self_help")
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}"
    # No note: refused, nothing changed, and what was chosen is kept on the page.
    response = post_form(client, f"{url}/offering-change", {"offerings": "individual", "note": "  "},
                         prefix="change", page=url)
    assert response.status_code == 400
    assert "Write a short note on how it went" in html.unescape(response.get_data(as_text=True))
    refresh(db)
    assert db.get(Episode, episode.id).offerings == "guided_self_help"
    # The same offering again is no change: refused with a clear error, the note kept.
    response = post_form(client, f"{url}/offering-change",
                         {"offerings": "guided_self_help", "note": "Lærte pusteteknikk"}, prefix="change", page=url)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "Choose an offering that differs" in body and "Lærte pusteteknikk" in body
    note = "Selvhjelp gikk tregt; lærte at eksponering hjelper. Videre: individuell terapi."
    response = post_form(client, f"{url}/offering-change", {"offerings": "individual", "note": note},
                         prefix="change", page=url)
    assert response.status_code == 302
    refresh(db)
    change = db.scalars(select(OfferingChange).where(OfferingChange.episode_id == episode.id)).one()
    assert (change.from_offerings, change.to_offerings, change.note) == ("guided_self_help", "individual", note)
    assert db.get(Episode, episode.id).offerings == "individual"
    raw = db.execute(text("SELECT note FROM offering_change WHERE id = :id"), {"id": change.id}).scalar_one()
    assert "eksponering" not in raw
    page = _page(client, url)
    assert note in page and "from Guided self-help to Individual therapy" in page


# --- 5. Start and closure notes -----------------------------------------------------------------

def test_the_start_note_has_what_the_handbook_lists_and_respects_gp_consent(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    referral = db.get(Referral, episode.referral_id)
    staff = actions.login_staff(db, team)
    add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() - timedelta(days=2), status="attended")
    db.commit()
    page = _page(client, f"/therapist/episodes/{episode.id}")
    note = re.search(r'<pre id="episode-start-note">(.*?)</pre>', page, re.S).group(1)
    assert "Kontaktårsak: bekymring, frykt eller angst, søvnvansker." in note
    assert "Vurdering: kartleggingssamtale" in note and "Tilbud som er startet: individuell terapi." in note
    assert f"Ansvarlig terapeut: {staff.display_name}, telefon 22 33 44 55." in note
    assert "inviteres til samarbeid" in note and "Det sendes et avslutningsnotat" in note
    consent = referral.answers["contact"].get("gp_consent")
    answers = referral.answers
    referral.answers = {**answers, "contact": {**answers["contact"], "gp_consent": False}}
    db.commit()
    note = re.search(r'<pre id="episode-start-note">(.*?)</pre>', _page(client, f"/therapist/episodes/{episode.id}"),
                     re.S).group(1)
    assert "nei – notatet sendes ikke til fastlege." in note
    assert consent is not None


def test_the_closure_note_has_every_part_the_handbook_lists(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    start = utcnow() - timedelta(days=40)
    add_episode_contact(db, episode=episode, staff=staff, starts_at=start, status="attended", kind="assessment",
                        minutes=60)
    for i, (phq, gad) in enumerate([(16, 12), (7, 5)]):
        add_episode_response(db, episode=episode, code="PHQ-9", total=phq, at=start + timedelta(days=7 * (i + 1)))
        add_episode_response(db, episode=episode, code="GAD-7", total=gad, at=start + timedelta(days=7 * (i + 1)))
        add_episode_contact(db, episode=episode, staff=staff, starts_at=start + timedelta(days=7 * (i + 1)),
                            status="attended", minutes=60)
    db.commit()
    page = _page(client, f"/therapist/episodes/{episode.id}")
    note = re.search(r'<pre id="closure-note">(.*?)</pre>', page, re.S).group(1)
    for part in ("Bakgrunn: selvhenvist for bekymring, frykt eller angst, søvnvansker.",
                 "Behandling gitt: individuell terapi. Gjennomførte kontakter: 3 "
                 "(kartleggingssamtale: 1, behandling: 2), 2.0 timer behandling.",
                 "Mest nyttige metoder: ", "PHQ-9: 16 ved start, 7 ved slutt.",
                 "Status ved avslutning og videre behov: ", "Årsak til avslutning: ",
                 "Selvhjelpsplan: ikke skrevet."):
        assert part in note


def test_the_closure_note_names_the_residents_self_help_plan_and_the_read_is_audited(db, actions, client):
    from rph_pwa.models import AuditEvent
    from rph_pwa.selfhelp.worksheets import WORKSHEETS
    from rph_pwa.services import worksheets

    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    actions.login_staff(db, team)
    resident = episode.referral.resident
    worksheets.save_worksheet(db, resident=resident, kind=WORKSHEETS["selfhelp_plan"], client_key="x",
                              raw={"helps": "Gå tur hver dag", "support": "Søsteren min"})
    db.commit()
    note = re.search(r'<pre id="closure-note">(.*?)</pre>', _page(client, f"/therapist/episodes/{episode.id}"),
                     re.S).group(1)
    assert ("Selvhjelpsplan: Hva som hjelper meg, og hva jeg vil fortsette med: Gå tur hver dag. "
            "Hvem som kan støtte meg: Søsteren min.") in note
    assert db.scalars(select(AuditEvent).where(AuditEvent.subject_id == resident.id,
                                               AuditEvent.object_type == "selfhelp_plan")).first() is not None


# --- 6. Repeated item-9 answers -----------------------------------------------------------------

def _item9_form(db, *, episode, therapist, item9: int, days: int):
    contact = _book(db, therapist, episode, days=days)
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    answers = [1] * 8 + [item9]
    return outcomes.submit_form(db, resident=db.get(User, episode.resident_id), request_id=request.id,
                                answers=answers, functioning=0)


def test_a_repeated_item9_answer_is_added_to_the_open_flag_and_shown(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    _item9_form(db, episode=episode, therapist=staff, item9=1, days=1)
    _item9_form(db, episode=episode, therapist=staff, item9=3, days=1)
    db.commit()
    flag = db.scalars(select(UrgentFlag).where(UrgentFlag.episode_id == episode.id)).one()
    assert [int(a.value) for a in flag.answers] == [1, 3]
    raw = db.execute(text("SELECT value FROM urgent_flag_answer WHERE flag_id = :id"), {"id": flag.id}).scalars().all()
    assert all(value not in ("1", "3") for value in raw)
    refresh(db)
    flag_page = _page(client, f"/therapist/urgent/{flag.id}")
    answers = re.search(r'<ol id="item9-answers">(.*?)</ol>', flag_page, re.S).group(1)
    assert re.search(r"1 on .*3 on ", answers, re.S)
    episode_page = _page(client, f"/therapist/episodes/{episode.id}")
    answers = re.search(r'<ol id="item9-answers">(.*?)</ol>', episode_page, re.S).group(1)
    assert re.search(r"1 on .*3 on ", answers, re.S)
    # Closing the flag ends its history on the episode page; a new answer starts a new flag.
    page = f"/therapist/urgent/{flag.id}"
    assert post_form(client, f"{page}/close", {"note": "Ringt, laget sikkerhetsplan"},
                     prefix="close", page=page).status_code == 302
    assert 'id="item9-answers"' not in _page(client, f"/therapist/episodes/{episode.id}")


# --- 7. Plain labels and one-tap calls ----------------------------------------------------------

def test_staff_pages_show_plain_labels_not_codes_or_anglicisms(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    staff = actions.login_staff(db, team)
    start = utcnow() - timedelta(days=20)
    add_episode_response(db, episode=episode, code="WSAS", total=25, at=start)
    add_episode_response(db, episode=episode, code="SESSION-FEEDBACK", total=6, at=start)
    add_episode_contact(db, episode=episode, staff=staff, starts_at=start, status="attended")
    _book(db, staff, episode, days=2)
    db.commit()
    page = _page(client, f"/therapist/episodes/{episode.id}")
    assert "SESSION-FEEDBACK" not in page and "Session feedback: " in page
    assert "Moderately severe impairment or worse" in page and ">Severe<" not in page
    staff.locale = "nb"
    db.commit()
    page = _page(client, f"/therapist/episodes/{episode.id}")
    assert "SESSION-FEEDBACK" not in page and "eliabel" not in page


def test_call_the_resident_with_one_tap_from_referral_episode_and_flag(db, actions, client):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    resident = db.get(User, episode.resident_id)
    resident.phone = "412 34 567"
    flag = urgent_flags.raise_flag(db, resident_id=resident.id, team_id=team.id, reason="item9",
                                   episode_id=episode.id, item9_answer=2)
    actions.login_staff(db, team)
    for url in (f"/therapist/referrals/{episode.referral_id}", f"/therapist/episodes/{episode.id}",
                f"/therapist/urgent/{flag.id}"):
        page = _page(client, url)
        link = page.index('href="tel:+4741234567"')
        assert link < page.index("Opening this page is logged.")  # near the top
