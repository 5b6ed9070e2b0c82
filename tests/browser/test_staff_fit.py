"""Staff pages fit a phone and use a desk's width.

Every GET page of the `therapist` blueprint (enumerated from app.url_map, so pages added later are
never silently skipped) is opened at 390 × 844 as a therapist, a team lead and an admin, with long
names without spaces, long e-mails, long places and notes, and 200 rows on the list pages. On each
page every visible link, button, input, select, textarea and summary must lie inside the
viewport's width (each element's own box: a table in a scrolling wrapper would hide its actions),
and the page must not scroll sideways. A few pages are also opened at 1280 px: there the main
content is wider than 900 px.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import insert

from rph_pwa.db import get_session, utcnow
from rph_pwa.localtime import local_today
from rph_pwa.models import (
    AuditEvent,
    FeedbackPhrase,
    OnwardService,
    Reminder,
    ReminderDelivery,
    Role,
    User,
    Worksheet,
)
from rph_pwa.services import (
    appointment_requests,
    course_admin,
    course_evaluation,
    course_meetings,
    courses,
    external_programmes,
    onward,
    outcomes,
    responsibility,
    selfhelp,
    triage,
    urgent_flags,
)
from rph_pwa.services.accounts import set_email
from tests.browser.conftest import staff_page
from tests.factories import (
    answer_course_form,
    make_check_in_report,
    make_municipality,
    make_referral,
    make_resident,
    make_safety_plan,
    make_staff,
    make_team,
    referral_answers,
)

ROWS = 200
PHONE_WIDTH = 390
DESK_WIDTH = 1280
#: A name of 60 characters without a space, and one with spaces.
LONG_WORD = "AbcdefghijklmnopqrstuvwxyzæøåabcdefghijklmnopqrstuvwxyzæøåAB"
LONG_WORDS = "Anne-Marie Kristine Johannessen-Bergersen Solbakken Haugland"
LONG_EMAIL = "anne-marie.kristine.johannessen-bergersen.solbakken@eksempel-kommune.example.no"
LONG_PLACE = ("Helsehuset, tredje etasje, inngang C fra Storgata (ringeklokke merket Psykisk helse og rus), "
              "Kirkegata-ved-Rådhusplassen-og-Torgetparkeringen-nummer-123456789")
LONG_URL = "https://www.helsenorge.no/psykisk-helse/" + "veldig-lang-adresse-uten-mellomrom-" * 4

#: Endpoints that answer with a file, not a page.
NOT_PAGES = {"therapist.statistics_csv", "therapist.statistics_json", "therapist.course_results_csv",
             "therapist.course_material"}

#: The arguments (path and query) of each page, from the data set; a page missing here fails the test.
#: (The integrator adds the pages of issue 11 that other branches bring.)
PAGE_ARGS = {
    "therapist.index": lambda d: {},
    "therapist.audit_log": lambda d: {},
    "therapist.directory": lambda d: {},
    "therapist.directory_edit": lambda d: {"service_id": d["service_id"]},
    "therapist.enquiry_new": lambda d: {},
    "therapist.episode": lambda d: {"episode_id": d["episode_id"]},
    "therapist.episode_answers": lambda d: {"episode_id": d["episode_id"]},
    "therapist.episode_contacts": lambda d: {"episode_id": d["episode_id"]},
    "therapist.episode_urgent_flag": lambda d: {"episode_id": d["episode_id"]},
    "therapist.reach": lambda d: {},
    "therapist.referral": lambda d: {"referral_id": d["referral_id"]},
    "therapist.referral_attempts": lambda d: {"referral_id": d["referral_id"]},
    "therapist.resident": lambda d: {"resident_id": d["resident_id"]},
    "therapist.safety_plan": lambda d: {"resident_id": d["resident_id"]},
    "therapist.safety_plan_edit": lambda d: {"resident_id": d["resident_id"]},
    "therapist.statistics": lambda d: {},
    "therapist.statistics_report": lambda d: {"municipality": d["municipality_id"]},
    "therapist.triage": lambda d: {},
    "therapist.urgent": lambda d: {},
    "therapist.urgent_flag": lambda d: {"flag_id": d["flag_id"]},
    # Issue 11's pages (other branches): used once their endpoints exist.
    "therapist.caseload": lambda d: {},
    "therapist.team_overview": lambda d: {},
    "therapist.find_resident": lambda d: {},
    "therapist.appointment_request": lambda d: {"request_id": d["request_id"]},
    "therapist.slots": lambda d: {},
    # Issue 12: guided self-help.
    "therapist.assign_programme": lambda d: {"episode_id": d["selfhelp_episode_id"]},
    "therapist.sleep_window": lambda d: {"episode_id": d["selfhelp_episode_id"]},
    "therapist.assign_group": lambda d: {},
    "therapist.programmes": lambda d: {},
    "therapist.programme": lambda d: {"slug": "sovn"},
    "therapist.external_programmes": lambda d: {},
    # Issue 12's review view.
    "therapist.review_queue": lambda d: {},
    "therapist.review": lambda d: {"appointment_id": d["check_in_id"]},
    "therapist.phrases": lambda d: {},
    # Issue 13: one appointment's reminders.
    "therapist.appointment_reminders": lambda d: {"appointment_id": d["reminder_appointment_id"]},
    # Issue 14: course evaluations (the figures of fewer than five answers shown).
    "therapist.course_evaluation_links": lambda d: {"run_id": d["course_run_id"]},
    "therapist.course_results": lambda d: {"run_id": d["course_run_id"], "figures": "shown"},
    "therapist.course_template_results": lambda d: {"template_id": d["course_template_id"], "figures": "shown"},
    # Issue 14: course administration.
    "therapist.courses": lambda d: {},
    "therapist.course_template_new": lambda d: {},
    "therapist.course_template": lambda d: {"template_id": d["course_template_id"]},
    "therapist.course_run_new": lambda d: {"template_id": d["course_template_id"]},
    "therapist.course_run": lambda d: {"run_id": d["course_run_id"]},
    "therapist.course_run_edit": lambda d: {"run_id": d["course_run_id"]},
    # Issue 14: the course leader's meeting page and the check-in screen.
    "therapist.course_meeting": lambda d: {"meeting_id": d["course_meeting_id"]},
    "therapist.course_check_in_screen": lambda d: {"meeting_id": d["course_meeting_id"]},
}

#: Pages opened at a desk's width.
DESK_PAGES = ("therapist.index", "therapist.triage", "therapist.episode", "therapist.urgent")

#: Every visible control whose box leaves [0, width], with its text; and the page's scroll width.
OVERFLOW_JS = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (el.type === 'hidden' || el.closest('.visually-hidden, .skip-link')) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 && box.height === 0) continue;
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim();
      const where = `${Math.round(box.left)}..${Math.round(box.right)}`;
      out.push(`<${el.tagName.toLowerCase()}> "${text.slice(0, 50)}" at ${where}`);
    }
  }
  return {offenders: out.slice(0, 8), count: out.length, scrollWidth: document.documentElement.scrollWidth};
}"""


def _page_endpoints(app) -> list[str]:
    """The therapist blueprint's GET endpoints that answer with a page."""
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("therapist.") and "GET" in rule.methods}
                  - NOT_PAGES)


def test_every_staff_page_has_arguments(app):
    """A page added to the blueprint without an entry in PAGE_ARGS fails here, by name."""
    missing = [e for e in _page_endpoints(app) if e not in PAGE_ARGS]
    assert missing == [], f"add these endpoints to PAGE_ARGS in {__name__}: {missing}"


def _long_name(i: int) -> str:
    return f"{LONG_WORD[:-3]}{i:03d}" if i % 2 else f"{LONG_WORDS[:-3]}{i:03d}"


@pytest.fixture(scope="module")
def dataset(data_app):
    """One team with long names everywhere and ROWS referrals, episodes (the therapist responsible),
    open urgent flags and audit events; the first referral has contacts, attempts, scores and a plan."""
    with data_app.app_context():
        db = get_session()
        crypto = data_app.extensions["rph_crypto"]
        municipality = make_municipality(db, name=LONG_WORD[:40] + " " + LONG_WORDS[:40])
        # team.name holds 120 characters
        team = make_team(db, municipalities=[municipality], name=(LONG_WORDS + " " + LONG_WORD)[:120])
        therapist, therapist_secret = make_staff(db, teams=[team])
        lead, lead_secret = make_staff(db, role=Role.TEAM_LEAD, teams=[team])
        admin, admin_secret = make_staff(db, role=Role.ADMIN)
        desk, desk_secret = make_staff(db, teams=[team])  # a code is used once: its own sign-in
        therapist.display_name, lead.display_name = LONG_WORD, LONG_WORDS
        answers = referral_answers()
        answers["contact"] = {**answers["contact"], "name": LONG_WORD, "email": LONG_EMAIL, "gp_name": LONG_WORDS,
                              "contact_times": LONG_PLACE, "language_needs": LONG_WORD}
        answers["troubles"] = {**answers["troubles"], "own_words": LONG_PLACE + " " + LONG_WORD * 3}
        referrals = []
        for i in range(ROWS):
            referral = make_referral(db, team=team, answers=answers, item9=1 if i % 3 == 0 else 0,
                                     submitted_days_ago=i % 40)
            resident = db.get(type(therapist), referral.resident_id)
            resident.display_name = _long_name(i)
            set_email(resident, f"{i}.{LONG_EMAIL}", crypto)
            resident.phone = "412 34 567"
            referral.episode.responsible_id = therapist.id
            flag = urgent_flags.raise_flag(db, resident_id=resident.id, team_id=team.id, reason="crisis",
                                           referral_id=referral.id, episode_id=referral.episode.id)
            referrals.append((referral, flag))
        first, flag = referrals[0]
        episode = first.episode
        now = utcnow()
        for note in (LONG_PLACE, LONG_WORD, None):
            triage.log_contact_attempt(db, actor=therapist, referral_id=first.id, method="phone",
                                       outcome="no_answer", note=note)
        triage.book_assessment(db, actor=therapist, referral_id=first.id, starts_at=now + timedelta(days=2),
                               mode="office", place=LONG_PLACE)
        episode.offerings = "guided_self_help"
        upcoming = []
        for week in range(12):
            contact = outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="check_in",
                                            starts_at=now + timedelta(days=7 * week - 40), duration_minutes=30,
                                            mode="office", place=LONG_PLACE)
            if week < 6:
                outcomes.record_attendance(db, actor=therapist, appointment_id=contact.id, status="attended")
            else:
                upcoming.append(contact)
        upcoming[0].starts_at = now - timedelta(hours=1)
        make_check_in_report(db, appointment=upcoming[0], talk_sooner=True, answers={
            "worked_on": LONG_PLACE, "helped": LONG_WORD, "hard": LONG_WORDS, "question": LONG_WORD * 2})
        db.add(FeedbackPhrase(team_id=team.id, text=LONG_WORD + " " + LONG_PLACE, created_by_id=therapist.id))
        request = appointment_requests.ask(db, resident=first.resident, appointment_id=upcoming[-1].id,
                                           kind="change", reason=LONG_PLACE + " " + LONG_WORD)
        responsibility.set_responsible(db, actor=lead, episode_id=episode.id, therapist_id=lead.id,
                                       note=LONG_PLACE + " " + LONG_WORD)
        responsibility.set_responsible(db, actor=lead, episode_id=episode.id, therapist_id=therapist.id,
                                       note=LONG_WORD)
        urgent_flags.add_action(db, actor=therapist, flag_id=flag.id, kind="called", note=LONG_PLACE + LONG_WORD)
        make_safety_plan(db, resident=first.resident, author=therapist, warning_signs=LONG_PLACE + LONG_WORD,
                         coping_alone=LONG_WORD, people_to_ask=((LONG_WORD, "412 34 567"), (LONG_WORDS, "")),
                         professionals=((LONG_WORDS + LONG_WORD, "22 33 44 55"),))
        make_safety_plan(db, resident=first.resident, author=therapist, warning_signs=LONG_WORD)
        service = OnwardService(team_id=team.id, name=LONG_WORD + " " + LONG_WORDS[:50],
                                description=LONG_PLACE, phone="22 33 44 55", url=LONG_URL)
        db.add(service)
        db.flush()
        onward.guide_onward(db, actor=therapist, referral_id=referrals[1][0].id, service_id=service.id,
                            message=LONG_PLACE + LONG_WORD, follow_up_at=now - timedelta(days=1))
        selfhelp_episode = referrals[2][0].episode
        selfhelp.assign_programme(db, actor=therapist, episode_id=selfhelp_episode.id, programme="sovn",
                                  checkin_weekday=2)
        for night in range(1, 8):
            day = local_today() - timedelta(days=night)
            db.add(Worksheet(resident_id=selfhelp_episode.resident_id, kind="sleep_diary", client_key=f"fit-{night}",
                             for_date=day, content={"night": day.isoformat(), "bedtime": "23:00",
                                                    "lights_out": "23:30", "minutes_to_sleep": 40,
                                                    "minutes_awake": 50, "woke": "06:00", "rose": "06:45"}))
        external_programmes.register(db, actor=therapist, team_id=team.id, title=(LONG_WORD + " " + LONG_WORDS)[:200],
                                     weeks=8, modules="\n".join([f"{LONG_WORD} | {LONG_URL}",
                                                                 f"{LONG_WORDS} | {LONG_PLACE[:300]}"]))
        reminder = Reminder(resident_id=first.resident_id, kind="appointment", key=f"fit:{upcoming[-1].id}",
                            appointment_id=upcoming[-1].id, starts_at=upcoming[-1].starts_at,
                            due_at=upcoming[-1].starts_at - timedelta(hours=24), outcome="delivered",
                            done_at=now, deliveries=[
                                ReminderDelivery(channel="push", state="failed", token=secrets.token_urlsafe(32),
                                                 attempts=5, failed_at=now, last_error="HTTP 503"),
                                ReminderDelivery(channel="sms", state="sent", token=secrets.token_urlsafe(32),
                                                 sent_at=now)])
        db.add(reminder)
        run = courses.create_run(
            db, actor=therapist, starts=[now - timedelta(days=21 - 7 * n) for n in range(3)], place=LONG_PLACE,
            template_id=courses.create_template(db, actor=therapist, team_id=team.id, title=LONG_WORDS + LONG_WORD,
                                                meeting_count=3).id, leader_ids=(therapist.id, lead.id))
        for referral, _flag in referrals[3:6]:
            courses.enrol(db, run_id=run.id, user=referral.resident, episode=referral.episode)
        course_admin.add_material(db, actor=therapist, template_id=run.template_id,
                                  filename=(LONG_WORD * 3)[:150] + ".pdf", data=b"%PDF-1.4")
        for n, link in enumerate(course_evaluation.open_evaluation(db, run=run)):
            course_evaluation.submit(db, token=link.token, scores={"relevance": 5, "delivery": 4 - n % 2,
                                                                     "material": 3}, useful=LONG_PLACE + LONG_WORD,
                                     less_useful=LONG_WORD if n else None)
        course_meeting_id = _course_meeting(db, team=team, leaders=[therapist, lead],
                                            episodes=[referrals[i][0].episode for i in (3, 4)])
        db.execute(insert(AuditEvent), [
            {"actor_id": therapist.id, "subject_id": referrals[i % ROWS][0].resident_id, "team_id": team.id,
             "action": "view_resident", "object_type": "resident_profile"} for i in range(ROWS)])
        db.commit()
        data = {"service_id": service.id, "episode_id": episode.id, "referral_id": first.id,
                "resident_id": first.resident_id, "flag_id": flag.id, "municipality_id": municipality.id,
                "request_id": request.id, "selfhelp_episode_id": selfhelp_episode.id, "check_in_id": upcoming[0].id,
                "reminder_appointment_id": upcoming[-1].id, "course_run_id": run.id,
                "course_template_id": run.template_id, "course_meeting_id": course_meeting_id,
                "users": {"therapist": (therapist, therapist_secret), "lead": (lead, lead_secret),
                          "admin": (admin, admin_secret), "desk": (desk, desk_secret)}}
        db.expunge_all()
        return data


def _course_meeting(db, *, team, leaders, episodes) -> int:
    """A run with long texts led by `leaders`, the episodes' residents enrolled (the first flagged)
    and a relative; the first meeting's id."""
    template = courses.create_template(db, actor=leaders[0], team_id=team.id,
                                       title=(LONG_WORD + " " + LONG_WORDS)[:200], meeting_count=2,
                                       meetings=((LONG_WORD, LONG_PLACE), (LONG_WORDS, LONG_WORD)))
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    run = courses.create_run(db, actor=leaders[0], template_id=template.id, starts=[start, start + timedelta(weeks=1)],
                             place=LONG_PLACE[:300], leader_ids=tuple(leader.id for leader in leaders))
    people = [courses.enrol(db, run_id=run.id, user=db.get(User, episode.resident_id), episode=episode)
              for episode in episodes]
    courses.enrol(db, run_id=run.id, user=make_resident(db, team=team, name=LONG_WORDS[:100]), role="relative")
    answer_course_form(db, participant=people[0], meeting=run.meetings[0], code="PHQ-9", total=21, item9=2)
    answer_course_form(db, participant=people[0], meeting=run.meetings[0], code="GAD-7", total=12)
    course_meetings.save_note(db, actor=leaders[0], meeting_id=run.meetings[0].id, note=LONG_PLACE + LONG_WORD)
    return run.meetings[0].id


def _check_pages(page, app, dataset, *, width: int, endpoints: list[str]) -> tuple[list[str], int]:
    """Open each endpoint's page; return the problems found and how many pages answered 200."""
    from flask import url_for

    problems, shown = [], 0
    for endpoint in endpoints:
        with app.test_request_context():
            path = url_for(endpoint, **PAGE_ARGS[endpoint](dataset))
        response = page.goto(path)
        if response.status in (403, 404):  # not this role's page (checked with another role)
            continue
        page.wait_for_load_state("load")
        shown += 1
        result = page.evaluate(OVERFLOW_JS, width)
        if result["count"]:
            problems.append(f"{path}: {result['count']} controls outside 0..{width}: {result['offenders']}")
        if result["scrollWidth"] > width:
            problems.append(f"{path}: the page is {result['scrollWidth']} px wide at {width} px")
    return problems, shown


@pytest.mark.parametrize("who", ["therapist", "lead", "admin"])
def test_staff_pages_fit_a_phone(app, browser, live_server, dataset, who, assert_accessible):
    endpoints = [e for e in _page_endpoints(app) if e in PAGE_ARGS]
    user, secret = dataset["users"][who]
    context, page = staff_page(browser, live_server, user, secret)
    try:
        problems, shown = _check_pages(page, app, dataset, width=PHONE_WIDTH, endpoints=endpoints)
        if who == "therapist":  # stacked tables keep their table roles: axe clean
            page.goto(f"/therapist/episodes/{dataset['episode_id']}")
            assert page.locator("#contacts[data-stacked] td[data-label]").count() > 0
            assert_accessible(page)
    finally:
        context.close()
    assert shown >= 2, f"only {shown} pages answered for {who}"
    assert problems == [], "\n".join(problems)


def test_staff_pages_use_a_desk_screen(app, browser, live_server, dataset):
    user, secret = dataset["users"]["desk"]
    context, page = staff_page(browser, live_server, user, secret)
    try:
        page.set_viewport_size({"width": DESK_WIDTH, "height": 900})
        problems, _shown = _check_pages(page, app, dataset, width=DESK_WIDTH, endpoints=list(DESK_PAGES))
        narrow = []
        for endpoint in DESK_PAGES:
            with app.test_request_context():
                from flask import url_for

                page.goto(url_for(endpoint, **PAGE_ARGS[endpoint](dataset)))
            width = page.evaluate("() => document.querySelector('main').getBoundingClientRect().width")
            if width <= 900:
                narrow.append(f"{endpoint}: main is {width:.0f} px wide at {DESK_WIDTH} px")
            crisis_bar = page.locator(".crisis-bar").count()
            if crisis_bar:
                narrow.append(f"{endpoint}: the residents' crisis bar is shown to staff")
    finally:
        context.close()
    assert problems + narrow == [], "\n".join(problems + narrow)
