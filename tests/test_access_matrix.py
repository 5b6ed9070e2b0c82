"""Access control over every route × role × owner, generated from one expectation table.

The world: team A serves residents A1 and A2, team B serves resident B1. Each resident has a
referral with its episode, a booked contact with open forms, a safety plan, an open urgent flag, two
passkeys and an entry in their team's onward directory. The roles: anonymous, residents A1 and A2,
a therapist of team A, a therapist of team B, team A's lead and an admin (member of team A, which
gives an admin no access to residents).

`ROUTES` below is the single source of truth: for every endpoint in `app.url_map`, which object each
URL parameter is filled from, and the expected status for each role and owner, for GET and (for
POST routes) a POST with a valid CSRF token and data that would succeed for a role that is allowed.
A rule missing from the table fails `test_every_rule_is_in_the_table` with the entry to add.

No answer to a role names a resident that role may not see (another resident, another team's).
A refused request (403, 404, 405, a redirect to sign-in, or an expectation marked "=") must change
nothing: every table's row count and a hash of all its rows (ordered by primary key) are compared
before and after. No table is excluded: a refused request writes no audit event, no login session
and no draft (rate-limit state is kept in memory, not in the database).

Each request starts from the role's signed-in session as it was right after sign-in (the session
cookie is put back), so the cases do not depend on each other's session state. Allowed POSTs change
the database, so all GETs run first, then every refused POST, then the allowed ones; actions that
remove something get a fresh object each time.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import inspect, select, text

from rph_pwa.db import get_session, utcnow
from rph_pwa.localtime import local_today
from rph_pwa.measures import get as get_instrument
from rph_pwa.models import FormRequest, Passkey, Role
from rph_pwa.selfhelp.worksheets import WORKSHEETS
from rph_pwa.services import (
    appointment_requests,
    check_ins,
    courses,
    external_programmes,
    outcomes,
    selfhelp,
    slots,
    urgent_flags,
    worksheets,
)
from rph_pwa.services.onward import save_onward_service
from tests.conftest import Actions, csrf_token
from tests.factories import (
    PASSWORD,
    email,
    make_referral,
    make_resident,
    make_safety_plan,
    make_staff,
    make_team,
    unique,
)

ROLES = ("anonymous", "resident_a1", "resident_a2", "therapist_a", "therapist_b", "lead_a", "admin")
RESIDENT_ROLES = {"resident_a1": "a1", "resident_a2": "a2"}
#: The team of each clinical role and of each owner (admins are in team A too, and see no residents).
STAFF_TEAM = {"therapist_a": "A", "therapist_b": "B", "lead_a": "A"}
OWNER_TEAM = {"a1": "A", "a2": "A", "b1": "B"}
OWNERS = ("a1", "a2", "b1")

#: What a URL parameter can be filled from (World.objects[owner]).
OBJECT_KINDS = {"resident", "referral", "episode", "flag", "appointment", "form_request", "passkey",
                "spare_passkey", "service", "request", "worksheet", "course_meeting", "course_participant",
                "check_in_code"}

#: Expected outcomes. A number is that status; "signin" is a redirect to the resident sign-in,
#: "staff_signin" to the staff sign-in. A trailing "=" asks that nothing in the database changes.
REFUSED = {"403", "404", "405", "signin", "staff_signin"}
SIGNIN_PATHS = {"signin": "/login", "staff_signin": "/staff/login"}

Expect = Callable[[str, "str | None"], str]


# --- Policies: who may do what -------------------------------------------------------------------

def everyone(code: str) -> Expect:
    return lambda role, owner: code


def anonymous_else(anon: str, signed_in: str) -> Expect:
    return lambda role, owner: anon if role == "anonymous" else signed_in


def by_role(default: str, **codes: str) -> Expect:
    return lambda role, owner: codes.get(role, default)


def signed_in(ok: str) -> Expect:
    """Any signed-in user (flask-login's login_required)."""
    return anonymous_else("signin", ok)


def resident_only(ok: str) -> Expect:
    """The resident blueprint: residents only; staff get 403."""
    return lambda role, owner: ("signin" if role == "anonymous" else ok if role in RESIDENT_ROLES else "403")


def own_resident_object(ok: str, *, staff: str = "403") -> Expect:
    """A resident's own object: other residents' objects are 404."""
    def expect(role: str, owner: str | None) -> str:
        if role == "anonymous":
            return "signin"
        if role in RESIDENT_ROLES:
            return ok if RESIDENT_ROLES[role] == owner else "404"
        return staff
    return expect


def staff_only(ok: str, **codes: str) -> Expect:
    """The staff blueprint: staff only (residents 403, anonymous to the staff sign-in)."""
    def expect(role: str, owner: str | None) -> str:
        if role == "anonymous":
            return "staff_signin"
        if role in RESIDENT_ROLES:
            return "403"
        return codes.get(role, ok)
    return expect


def clinical(ok: str) -> Expect:
    """Clinical staff pages without an object (admins get 404, as for residents)."""
    return staff_only(ok, admin="404")


def team_field(ok: str) -> Expect:
    """A form that names one of the user's teams: another team is not a valid choice (400)."""
    def expect(role: str, owner: str | None) -> str:
        if role == "admin":
            return "404"
        return team_object(ok)(role, owner).replace("404", "400=")
    return expect


def team_object(ok: str) -> Expect:
    """An object of one team: only that team's clinical staff; everyone else on staff gets 404."""
    def expect(role: str, owner: str | None) -> str:
        if role == "anonymous":
            return "staff_signin"
        if role in RESIDENT_ROLES:
            return "403"
        return ok if STAFF_TEAM.get(role) == OWNER_TEAM[owner] else "404"
    return expect


# --- The table ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """What the matrix does with one endpoint."""

    #: URL parameter -> the kind of object it is filled from (a key of World.objects[owner]), or a
    #: constant, or a callable (world, owner) -> value.
    params: dict[str, Any] = field(default_factory=dict)
    get: Expect | None = None
    post: Expect | None = None
    #: Form data of a POST that succeeds for an allowed role: a dict or a callable (world, owner) -> dict.
    data: Any = None
    #: The form prefix (its CSRF field is "<prefix>-csrf_token").
    prefix: str | None = None
    #: Send the body as JSON (passkey ceremonies).
    json_body: bool = False
    #: Owners for a route whose form (not URL) names an object, e.g. the team of a new entry.
    owners: tuple[str, ...] = ()


def _day(days: int) -> str:
    return (utcnow() + timedelta(days=days)).date().isoformat()


def _form_answers(world, owner):
    instrument = get_instrument(world.objects[owner]["form_code"])
    data = {item.key: "0" for item in instrument.items}
    if instrument.functioning_question is not None:
        data["functioning"] = "0"
    return data


def _fresh_service(world, owner):
    return world.new_service(owner)


def _offering_change_data(world, owner):
    """A change to an offering the episode does not have now, so every allowed post is a change."""
    episode_id = world.objects[owner]["episode"]
    with world.data_app.extensions["rph_db"].engine.connect() as conn:
        current = conn.execute(text("SELECT offerings FROM episode WHERE id = :id"), {"id": episode_id}).scalar_one()
    offering = next(o for o in ("group", "individual", "course") if o != current)
    return {"change-offerings": offering, "change-note": "Gikk greit; lærte mye; videre et annet tilbud."}


def _responsible_data(world, owner):
    """A clinician of the owner's team other than the one responsible now, with a note, so every
    allowed post is a change."""
    episode_id = world.objects[owner]["episode"]
    with world.data_app.extensions["rph_db"].engine.connect() as conn:
        current = conn.execute(text("SELECT responsible_id FROM episode WHERE id = :id"),
                               {"id": episode_id}).scalar_one()
    team = [world.staff_ids[role] for role, name in STAFF_TEAM.items() if name == OWNER_TEAM[owner]]
    chosen = next((i for i in team if i != current), team[0])
    return {"responsible-therapist": str(chosen), "responsible-note": "Overtar veiledningen."}


def _check_in_data(world, owner):
    """The owner's open check-in, answered (each resident sends it once; another's is not found)."""
    return {"appointment": str(world.objects[owner]["check_in"]), "worked_on": "Søvndagboka hver morgen."}


def _push_subscription() -> dict:
    """A fresh device's PushSubscription.toJSON() at FCM (65-byte key, 16-byte secret)."""
    import base64
    import secrets

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"endpoint": f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(16)}",
            "keys": {"p256dh": b64(b"\x04" + secrets.token_bytes(64)), "auth": b64(secrets.token_bytes(16))}}


WORKSHEET_POST = {"kind": "6", "client_key": "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", "goal": "Gå en tur hver dag."}


def _service_data(world, owner):
    return {"service-team": str(world.teams[OWNER_TEAM[owner]].id), "service-name": unique("Tjeneste"),
            "service-description": "", "service-phone": "", "service-url": ""}


def _enquiry_data(world, owner):
    return {"enquiry-channel": "phone", "enquiry-name": unique("Ringer"), "enquiry-phone": "",
            "enquiry-municipality": str(world.teams[OWNER_TEAM[owner]].municipalities[0].id),
            "enquiry-age_band": "25-34", "enquiry-gender": "woman", "enquiry-own_words": "",
            "enquiry-urgent": "no"}


def _find_data(world, owner):
    """A search for the owner's e-mail address: found by their team, "no match" for others."""
    return {"query": world.emails[owner]}


def _service_edit_data(world, owner):
    return {**_service_data(world, owner), "service-name": unique("Endret")}


def _team_id(world, owner):
    return world.teams[OWNER_TEAM[owner]].id


def _fresh_slot(world, owner):
    return world.new_slot(owner)


#: Each allowed post publishes on a day of its own, so no post overlaps the one before.
_PUBLISH_DAYS = itertools.count(20)


def _publish_data(world, owner):
    therapist = "therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"
    return {"publish-day": _day(next(_PUBLISH_DAYS)), "publish-time": "10:00", "publish-count": "2",
            "publish-minutes": "45", "publish-mode": "phone", "publish-therapist": str(world.staff_ids[therapist]),
            "publish-place": ""}


def _assign_data(world, owner):
    return {"assign-programme": "sovn", "assign-weekday": "2", "assign-pace": "weekly",
            "assign-starts_on": local_today().isoformat()}


def _group_data(world, owner):
    """The owner's episode for a group: nobody in the matrix is responsible for an episode, so it
    is never among the choices (400 for every clinician; the pages' tests assign groups)."""
    return {"group-episodes": str(world.objects[owner]["episode"]), "group-programme": "sovn",
            "group-weekday": "3", "group-pace": "all", "group-starts_on": local_today().isoformat()}


def _external_data(world, owner):
    return {"external-team": str(world.teams[OWNER_TEAM[owner]].id), "external-title": unique("Bok"),
            "external-weeks": "6", "external-modules": "Kapittel 1 | sidene 1-20\nKapittel 2 | https://example.org"}


def _fresh_external(world, owner):
    """A fresh external programme of the owner's team (for the retire action)."""
    with world.data_app.app_context():
        db = get_session()
        staff = db.merge(world.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0])
        programme = external_programmes.register(db, actor=staff, team_id=world.teams[OWNER_TEAM[owner]].id,
                                                 title=unique("Bok"), weeks=4, modules="Del 1 | side 1")
        db.commit()
        world.last_snapshot = None
        return programme.id


#: Every point of the sleep-restriction checklist, confirmed.
SLEEP_CHECKED = ["bipolar", "epilepsy", "apnoea", "pregnancy", "sleepiness"]


def _fresh_check_in(world, owner):
    """A new check-in contact of the owner's episode, sent by the resident an hour ago (the
    episode gets the søvn programme the first time)."""
    from rph_pwa.models import Appointment
    from rph_pwa.services import selfhelp
    from tests.factories import make_check_in_report

    with world.data_app.app_context():
        db = get_session()
        staff = db.merge(world.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0])
        episode_id = world.objects[owner]["episode"]
        if selfhelp.episode_assignment(db, episode_id=episode_id) is None:
            selfhelp.assign_programme(db, actor=staff, episode_id=episode_id, programme="sovn", checkin_weekday=0)
        appointment = Appointment(episode_id=episode_id, staff_id=staff.id, kind="check_in", mode="phone",
                                  starts_at=utcnow() - timedelta(hours=1), duration_minutes=20)
        db.add(appointment)
        db.flush()
        make_check_in_report(db, appointment=appointment)
        db.commit()
        world.last_snapshot = None
        return appointment.id


def _fresh_phrase(world, owner):
    """A new phrase in the owner's team's bank (for the delete action)."""
    from rph_pwa.models import FeedbackPhrase

    with world.data_app.app_context():
        db = get_session()
        staff = world.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0]
        phrase = FeedbackPhrase(team_id=world.teams[OWNER_TEAM[owner]].id, text=unique("Frase"),
                                created_by_id=staff.id)
        db.add(phrase)
        db.commit()
        world.last_snapshot = None
        return phrase.id


def _phrase_data(world, owner):
    return {"phrase-team": str(world.teams[OWNER_TEAM[owner]].id), "phrase-text": unique("Bra jobba")}



# --- Courses (course administration): made on first use, per team ------------------------------

_COURSES: dict[tuple[int, str], dict[str, int]] = {}


def _course(world, owner) -> dict[str, int]:
    """The owner's team's course template (with a workbook file) and a run of it led by the team's
    therapist, made once per world."""
    from rph_pwa.services import course_admin
    from tests.factories import make_course_run

    key = (id(world), OWNER_TEAM[owner])
    if key not in _COURSES:
        with world.data_app.app_context():
            db = get_session()
            team = db.merge(world.teams[OWNER_TEAM[owner]])
            staff = db.merge(world.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0])
            run, _ = make_course_run(db, team=team, leaders=[staff], capacity=50)
            material = course_admin.add_material(db, actor=staff, template_id=run.template_id, filename="bok.pdf",
                                                 data=b"%PDF-1.4")
            db.commit()
            _COURSES[key] = {"template": run.template_id, "run": run.id, "meeting": run.meetings[-1].id,
                             "material": material.id, "staff": staff.id}
        world.last_snapshot = None
    return _COURSES[key]


def _course_part(part: str):
    return lambda world, owner: _course(world, owner)[part]


def _fresh_material(world, owner):
    from rph_pwa.models import User
    from rph_pwa.services import course_admin

    course = _course(world, owner)
    with world.data_app.app_context():
        db = get_session()
        material = course_admin.add_material(db, actor=db.get(User, course["staff"]), template_id=course["template"],
                                             filename="ark.pdf", data=b"%PDF-1.4")
        db.commit()
        world.last_snapshot = None
        return material.id


def _fresh_course_participant(world, owner):
    from rph_pwa.services import courses
    from tests.factories import make_resident

    course = _course(world, owner)
    with world.data_app.app_context():
        db = get_session()
        relative = make_resident(db, team=db.merge(world.teams[OWNER_TEAM[owner]]), name=unique("Pårørende"))
        participant = courses.enrol(db, run_id=course["run"], user=relative, role="relative")
        db.commit()
        world.last_snapshot = None
        return participant.id


def _template_data(world, owner):
    return {"template-team": str(world.teams[OWNER_TEAM[owner]].id), "template-title": unique("Kurs"),
            "template-kind": "course", "template-audience": "", "template-meeting_count": "4",
            "template-meeting_minutes": "120", "template-capacity": "20", "template-instruments": "PHQ-9"}


def _run_data(world, owner):
    staff = world.staff_ids["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"]
    return {"run-first_day": _day(30), "run-time": "17:00", "run-mode": "office", "run-place": "Sal 2",
            "run-video_link": "", "run-capacity": "12", "run-leaders": str(staff),
            "run-evaluation_anonymous": "anonymous"}


def _relative_data(world, owner):
    return {"relative-team": str(world.teams[OWNER_TEAM[owner]].id), "relative-name": unique("Pårørende"),
            "relative-email": email(), "relative-phone": ""}


def _material_upload(world, owner):
    import io

    return {"material-file": (io.BytesIO(b"%PDF-1.4"), "bok.pdf")}


COURSE_TEMPLATE = {"template_id": _course_part("template")}
COURSE_RUN = {"run_id": _course_part("run")}


# --- Courses: a resident's own enrolment and course page ------------------------------------------

def _open_course(world, owner):
    """An open course run of the owner's team (made once per team): the public pages and the screen."""
    from tests.factories import make_course_run

    runs = world.__dict__.setdefault("open_courses", {})
    if OWNER_TEAM[owner] not in runs:
        with world.data_app.app_context():
            db = get_session()
            run, _leaders = make_course_run(db, team=db.merge(world.teams[OWNER_TEAM[owner]]), is_open=True)
            db.commit()
            runs[OWNER_TEAM[owner]] = run.id
            world.last_snapshot = None
    return runs[OWNER_TEAM[owner]]


def _own_course(world, owner):
    """The owner's place in a run of their own (not open) with a workbook file, made once; enrolled
    again (as a relative) at every call, so withdrawing always has something to withdraw.
    Returns (participant id, material id)."""
    from rph_pwa.models import CourseMaterial, User
    from rph_pwa.services import courses
    from tests.factories import make_course_run

    made = world.__dict__.setdefault("own_courses", {})
    with world.data_app.app_context():
        db = get_session()
        if owner not in made:
            run, _leaders = make_course_run(db, team=db.merge(world.teams[OWNER_TEAM[owner]]))
            material = CourseMaterial(template_id=run.template_id, filename="arbeidsbok.pdf",
                                      content_type="application/pdf", size=4, data=b"%PDF")
            db.add(material)
            db.flush()
            made[owner] = (run.id, material.id)
        run_id, material_id = made[owner]
        participant = courses.enrol(db, run_id=run_id, user=db.get(User, world.objects[owner]["resident"]),
                                    role="relative")
        db.commit()
        world.last_snapshot = None
        return participant.id, material_id


def _course_place(world, owner):
    return _own_course(world, owner)[0]


def _course_material(world, owner):
    return _own_course(world, owner)[1]


def _enrol_data(world, owner):
    """The short screen answered by a resident of team A's municipality, as a relative (no episode)."""
    return {"role": "relative", "age": "30", "municipality": str(world.municipality_a), "crisis": "no", "item9": "0"}


def course_enrolment(role: str, owner: str | None) -> str:
    """A resident joins another team's open run: served (302) if the run is of their own team A,
    told kindly where to go (200, nothing stored) if not."""
    return resident_only("302" if OWNER_TEAM[owner] == "A" else "200=")(role, owner)


CHECK_IN_PARAMS = {"appointment_id": _fresh_check_in}


def team_lead(ok: str) -> Expect:
    """A setting of one team: only that team's lead; all other staff get 404."""
    def expect(role: str, owner: str | None) -> str:
        if role == "anonymous":
            return "staff_signin"
        if role in RESIDENT_ROLES:
            return "403"
        return ok if role == "lead_a" and OWNER_TEAM[owner] == "A" else "404"
    return expect


PLAN = {"warning_signs": "Jeg trekker meg unna."}
RESIDENT_PARAMS = {"resident_id": "resident"}
REFERRAL_PARAMS = {"referral_id": "referral"}


def course_leader(ok: str) -> Expect:
    """A course run's meeting or participant: only the run's leaders (each owner's run is led by
    the therapist of the owner's team); everyone else on staff gets 404."""
    def expect(role: str, owner: str | None) -> str:
        if role == "anonymous":
            return "staff_signin"
        if role in RESIDENT_ROLES:
            return "403"
        return ok if role == ("therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b") else "404"
    return expect


def _talk_data(world, owner):
    prefix = f"talk{world.objects[owner]['course_participant']}"
    return {f"{prefix}-day": _day(5), f"{prefix}-time": "13:00", f"{prefix}-duration": "30",
            f"{prefix}-mode": "phone", f"{prefix}-place": "", "meeting": str(world.objects[owner]["course_meeting"])}


EPISODE_PARAMS = {"episode_id": "episode"}
FLAG_PARAMS = {"flag_id": "flag"}

def _course_run(world, owner):
    """The owner's team's course run (made once per team, led by that team's therapist, with the
    owner's team's first resident enrolled and the evaluation sent out): its id."""
    from rph_pwa.models import CourseRun, Episode, User
    from rph_pwa.services import course_evaluation, courses

    team_key = OWNER_TEAM[owner]
    runs = world.__dict__.setdefault("course_runs", {})
    if team_key not in runs:
        with world.data_app.app_context():
            db = get_session()
            leader = db.merge(world.staff["therapist_a" if team_key == "A" else "therapist_b"][0])
            template = courses.create_template(db, actor=leader, team_id=world.teams[team_key].id,
                                               title=unique("Kurs"), meeting_count=2)
            run = courses.create_run(db, actor=leader, template_id=template.id,
                                     starts=[utcnow() - timedelta(days=14), utcnow() - timedelta(days=7)],
                                     place="Sal 1", leader_ids=(leader.id,))
            resident_owner = "a1" if team_key == "A" else "b1"
            episode = db.get(Episode, world.objects[resident_owner]["episode"])
            courses.enrol(db, run_id=run.id, user=db.get(User, episode.resident_id), episode=episode)
            course_evaluation.open_evaluation(db, run=db.get(CourseRun, run.id))
            db.commit()
            runs[team_key] = (run.id, template.id)
            world.last_snapshot = None
    return runs[team_key][0]


def _course_template(world, owner):
    _course_run(world, owner)
    return world.course_runs[OWNER_TEAM[owner]][1]


def _evaluation_token(world, owner):
    """An unused evaluation link of the owner's team's run (kept unused: the POST case is refused)."""
    from rph_pwa.models import EvaluationLink

    run_id = _course_run(world, owner)
    with world.data_app.app_context():
        return get_session().scalars(select(EvaluationLink.token).where(EvaluationLink.run_id == run_id)).first()


COURSE_RUN_PARAMS = {"run_id": _course_run}


ROUTES: dict[str, Route] = {
    # Public pages.
    "public.index": Route(get=everyone("200")),
    "public.about": Route(get=everyone("200")),
    "public.find_team": Route(get=everyone("200")),
    "public.crisis": Route(get=everyone("200")),
    "public.offline": Route(get=everyone("200")),
    "public.privacy": Route(get=everyone("200")),
    "public.manifest": Route(get=everyone("200")),
    "public.service_worker": Route(get=everyone("200")),
    "public.healthz": Route(get=everyone("200")),
    "public.dev_outbox": Route(get=everyone("404")),  # development only
    "static": Route(params={"filename": "css/app.css"}, get=everyone("200")),
    # The service worker's acknowledgement and answer: token-bound, no sign-in; an unknown token changes nothing.
    "public.push_ack": Route(get=everyone("405"), post=everyone("204="), json_body=True, data={"token": "unknown"}),
    "public.push_answer": Route(get=everyone("405"), post=everyone("204="), json_body=True,
                                data={"token": "unknown", "answer": "coming"}),
    "public.set_language": Route(get=everyone("405"), post=everyone("302"), data={"lang": "en", "next": "/"}),
    # Sign-in.
    "auth.login": Route(get=anonymous_else("200", "302=")),
    "auth.csrf_token_for_script": Route(get=everyone("200"), post=everyone("405")),
    "auth.signed_out": Route(get=everyone("200")),
    "auth.register": Route(get=anonymous_else("200", "302="), post=anonymous_else("302=", "302="),
                           data=lambda w, o: {"municipality": str(w.municipality_a), "display_name": "",
                                              "consent": "y"}),
    "auth.register_passkey": Route(get=everyone("302=")),
    "auth.passkey_authenticate_options": Route(get=everyone("405"), post=everyone("200"), json_body=True),
    "auth.passkey_authenticate_verify": Route(get=everyone("405"), post=everyone("400="), json_body=True),
    "auth.passkey_register_options": Route(get=everyone("405"), post=anonymous_else("403", "200"), json_body=True),
    "auth.passkey_register_verify": Route(get=everyone("405"), post=everyone("400="), json_body=True),
    "auth.code_request": Route(get=everyone("200"), post=everyone("302"),
                               data=lambda w, o: {"email": email()}),
    "auth.code_verify": Route(get=everyone("302="), post=everyone("302="), data={"code": "000000"}),
    "auth.staff_login": Route(get=by_role("200", therapist_a="302=", therapist_b="302=", lead_a="302=",
                                          admin="302="),
                              post=by_role("400", therapist_a="302=", therapist_b="302=", lead_a="302=",
                                           admin="302="),
                              data=lambda w, o: {"username": unique("nobody"), "password": "not-the-password"}),
    "auth.staff_second_factor": Route(get=everyone("staff_signin"), post=everyone("staff_signin"),
                                       data={"code": "000000"}),  # nobody has a password step pending
    "auth.logout": Route(get=everyone("405")),  # POST: test_sign_out_last, as it ends the session
    # Account: passkeys and fallback e-mail (every signed-in user, their own passkeys only).
    "auth.passkey_list": Route(get=signed_in("200")),
    "auth.passkey_rename": Route(params={"passkey_id": "passkey"}, get=everyone("405"),
                                 post=own_resident_object("302", staff="404"), data={"name": "Ny telefon"}),
    "auth.passkey_remove": Route(params={"passkey_id": "spare_passkey"}, get=everyone("405"),
                                 post=own_resident_object("302", staff="404"), data={}),
    "auth.email_add": Route(get=signed_in("200"), post=signed_in("302"), data=lambda w, o: {"email": email()}),
    "auth.email_confirm": Route(get=signed_in("200"), post=signed_in("400"), data={"code": "000000"}),
    # The resident's own pages.
    "client.home": Route(get=resident_only("200")),
    "client.contact_card": Route(get=resident_only("200")),
    "client.access_log": Route(get=resident_only("200")),
    "client.progress": Route(get=resident_only("200")),
    "client.safety_plan": Route(get=resident_only("200")),
    "client.safety_plan_edit": Route(get=resident_only("200"), post=resident_only("302"), data=PLAN),
    "client.profile": Route(get=resident_only("200"), post=resident_only("302"),
                            data={"display_name": "Nytt Navn", "phone": "412 34 567", "contact_note": ""}),
    # Urgent referrals (as every resident here has) get no times: the post is refused kindly.
    "client.book": Route(get=resident_only("200"), post=resident_only("302="), data={"slot": "1", "intent": "book"}),
    "client.save_draft": Route(params={"request_id": "form_request"}, get=everyone("405"),
                               post=own_resident_object("200", staff="403"), data=_form_answers),  # before client.form
    "client.form": Route(params={"request_id": "form_request"}, get=own_resident_object("200"),
                         post=own_resident_object("302"), data=_form_answers),
    "client.appointments": Route(get=resident_only("200")),
    # A course meeting's QR check-in: each resident is enrolled in their own run (its meeting is now).
    "client.course_check_in": Route(params={"code": "check_in_code"}, get=own_resident_object("200"),
                                    post=own_resident_object("200"), data={}),
    # Guided self-help: every resident here has a programme (module 1 is open); worksheets are their own.
    "client.selfhelp": Route(get=resident_only("200")),
    "client.selfhelp_module": Route(params={"number": 1}, get=resident_only("200"), post=resident_only("302"),
                                    data={"rating": "4"}),
    "client.worksheets": Route(get=resident_only("200")),
    "client.worksheet_new": Route(params={"kind_number": 3}, get=resident_only("200")),
    "client.worksheet": Route(params={"worksheet_id": "worksheet"}, get=own_resident_object("200")),
    "client.worksheet_save": Route(get=everyone("405"), post=resident_only("302"), data=WORKSHEET_POST),
    "client.selfhelp_plan": Route(get=resident_only("200")),
    "client.check_in": Route(get=resident_only("200"), post=own_resident_object("200"), data=_check_in_data,
                             owners=OWNERS),
    "client.appointment_request": Route(params={"appointment_id": "appointment"}, get=own_resident_object("200"),
                                        post=own_resident_object("302"), data={"kind": "change", "reason": ""}),
    # Reminders: the settings, this device's push subscription (JSON), a test, an appointment's
    # calendar file and the reply page ("Jeg kommer").
    "client.reminders": Route(get=resident_only("200"), post=resident_only("302"),
                              data={"first": "sms", "then": "email", "last": "none"}),
    "client.reminder_test": Route(get=everyone("405"), post=resident_only("302"), data={}),
    "client.push_subscribe": Route(get=everyone("405"), post=resident_only("200"), json_body=True,
                                   data=lambda w, o: _push_subscription()),
    "client.push_unsubscribe": Route(get=everyone("405"), post=resident_only("200"), json_body=True,
                                     data={"endpoint": "https://fcm.googleapis.com/fcm/send/not-subscribed"}),
    "client.appointment_calendar": Route(params={"appointment_id": "appointment"}, get=own_resident_object("200")),
    "client.appointment_reply": Route(params={"appointment_id": "appointment"}, get=own_resident_object("200"),
                                      post=own_resident_object("302"), data={}),
    # Courses: the public pages, the short screen, my courses, withdrawing and the workbook.
    "public.courses": Route(get=everyone("200")),
    "public.course": Route(params={"run_id": _open_course}, get=everyone("200")),
    "client.course_enrol": Route(params={"run_id": _open_course}, get=resident_only("200"), post=course_enrolment,
                                 data=_enrol_data),
    "client.courses": Route(get=resident_only("200")),
    "client.course_withdraw": Route(params={"participant_id": _course_place}, get=everyone("405"),
                                    post=own_resident_object("302"), data={}),
    "client.course_material": Route(params={"material_id": _course_material}, get=own_resident_object("200")),
    # The self-referral (public; without a draft in the session every step leads back to the start).
    "referral.start": Route(get=everyone("200")),
    "referral.restart": Route(get=everyone("405"), post=everyone("302=")),
    "referral.step": Route(params={"number": 1}, get=everyone("200"), post=everyone("302"),
                           data=lambda w, o: {"age": "30", "municipality": str(w.municipality_a), "crisis": "no"}),
    "referral.review": Route(get=everyone("302="), post=everyone("302=")),
    "referral.account": Route(get=everyone("302=")),
    "referral.account_email": Route(get=everyone("405"), post=everyone("302=")),
    "referral.account_code": Route(get=everyone("302="), post=everyone("302="), data={"code": "000000"}),
    "referral.details": Route(get=everyone("302="), post=everyone("302="), data={"choice": "update"}),
    "referral.sent": Route(get=everyone("302=")),
    # Without a referral sent in this browser session, nobody gets a code: back to the start.
    "referral.confirm_email": Route(get=everyone("405"), post=everyone("302=")),
    # Staff: workspace, audit log, triage, reach, statistics.
    "therapist.index": Route(get=staff_only("200")),
    "therapist.audit_log": Route(get=staff_only("403", lead_a="200", admin="200")),
    "therapist.caseload": Route(get=clinical("200")),
    "therapist.team_overview": Route(get=staff_only("404", lead_a="200")),
    # Another team's resident is not found: 200 with a neutral message that names no one.
    "therapist.find_resident": Route(get=clinical("200"), post=clinical("200"), data=_find_data, owners=OWNERS),
    # Answered once; a second answer is refused with a message (and a redirect), changing nothing.
    "therapist.appointment_request": Route(params={"request_id": "request"}, get=team_object("200"),
                                           post=team_object("302"),
                                           data={"answer": "kept", "note": "Vi beholder timen."}),
    "therapist.triage": Route(get=clinical("200")),
    "therapist.reach": Route(get=clinical("200")),
    "therapist.statistics": Route(get=clinical("200")),
    "therapist.statistics_csv": Route(get=clinical("200")),
    "therapist.statistics_json": Route(get=clinical("200")),
    "therapist.statistics_report": Route(get=clinical("400")),  # no municipality chosen
    "therapist.urgent": Route(get=clinical("200")),
    # Staff: free times for first conversations (published, withdrawn, the team lead's setting).
    "therapist.slots": Route(get=clinical("200")),
    "therapist.publish_slots": Route(params={"team_id": _team_id}, get=everyone("405"), post=team_object("302"),
                                     prefix="publish", data=_publish_data),
    "therapist.withdraw_slot": Route(params={"slot_id": _fresh_slot}, get=everyone("405"), post=team_object("302"),
                                     data={}),
    "therapist.self_booking": Route(params={"team_id": _team_id}, get=everyone("405"), post=team_lead("302"),
                                    prefix="self_booking", data={"self_booking-enabled": "on"}),
    # Staff: course administration (issue 14, helper "admin"): a team's templates and runs; staff
    # of another team see a run only when it is shared with them (tests/courses/test_admin_*.py).
    "therapist.courses": Route(get=clinical("200")),
    "therapist.course_template_new": Route(get=clinical("200"), post=team_field("302"), prefix="template",
                                           data=_template_data, owners=("a1", "b1")),
    "therapist.course_template": Route(params=COURSE_TEMPLATE, get=team_object("200"), post=team_object("302"),
                                       prefix="template", data=_template_data),
    "therapist.course_material_upload": Route(params=COURSE_TEMPLATE, get=everyone("405"), post=team_object("302"),
                                              prefix="material", data=_material_upload),
    "therapist.course_material": Route(params={"material_id": _course_part("material")}, get=team_object("200")),
    "therapist.course_material_delete": Route(params={"material_id": _fresh_material}, get=everyone("405"),
                                              post=team_object("302"), data={}),
    "therapist.course_run_new": Route(params=COURSE_TEMPLATE, get=team_object("200"), post=team_object("302"),
                                      prefix="run", data=_run_data),
    "therapist.course_run": Route(params=COURSE_RUN, get=team_object("200")),
    "therapist.course_run_edit": Route(params=COURSE_RUN, get=team_object("200"), post=team_object("302"),
                                       prefix="run", data=_run_data),
    "therapist.course_meeting_edit": Route(params={"meeting_id": _course_part("meeting")}, get=everyone("405"),
                                           post=team_object("302"), prefix="meeting",
                                           data=lambda w, o: {"meeting-action": "move", "meeting-day": _day(60),
                                                              "meeting-time": "18:00"}),
    "therapist.course_enrol": Route(params=COURSE_RUN, get=everyone("405"), post=team_object("302"),
                                    prefix="relative", data=_relative_data),
    "therapist.episode_course": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                      prefix="course", data=lambda w, o: {"course-run": str(_course(w, o)["run"])}),
    "therapist.course_withdraw": Route(params={"participant_id": _fresh_course_participant}, get=everyone("405"),
                                       post=team_object("302"), data={}),
    # Staff: one resident's record and safety plan.
    "therapist.resident": Route(params=RESIDENT_PARAMS, get=team_object("200")),
    "therapist.safety_plan": Route(params=RESIDENT_PARAMS, get=team_object("200")),
    "therapist.safety_plan_edit": Route(params=RESIDENT_PARAMS, get=team_object("200"), post=team_object("302"),
                                        data=PLAN),
    # Staff: a referral and its actions.
    "therapist.referral": Route(params=REFERRAL_PARAMS, get=team_object("200")),
    "therapist.referral_attempts": Route(params=REFERRAL_PARAMS, get=team_object("200")),
    "therapist.book_assessment": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="book", data=lambda w, o: {
                                           "book-day": _day(3), "book-time": "10:00", "book-mode": "phone",
                                           "book-place": ""}),
    "therapist.referral_responsible": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                            prefix="responsible", data=_responsible_data),
    "therapist.contact_attempt": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="contact", data={"contact-method": "phone",
                                                               "contact-outcome": "no_answer", "contact-note": ""}),
    "therapist.intake_checklist": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                        prefix="checklist", data={"checklist-goals": "y", "checklist-notes": ""}),
    "therapist.offerings": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                 prefix="offerings", data={"offerings-offerings": "course"}),
    "therapist.first_treatment": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="treatment", data=lambda w, o: {"treatment-day": _day(0)}),
    "therapist.guide_onward": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                    prefix="onward", data=lambda w, o: {
                                        "onward-service": "0", "onward-message": "Ta kontakt med fastlegen.",
                                        "onward-follow_up": _day(14)}),
    "therapist.close_onward": Route(params=REFERRAL_PARAMS, get=everyone("405"), post=team_object("302"),
                                    prefix="close", data={"close-outcome": "not_started",
                                                          "close-note": "Fikk ikke time."}),
    # Staff: an enquiry by phone or on paper (in a municipality one of the user's teams serves).
    "therapist.enquiry_new": Route(get=clinical("200"), post=team_field("302"), prefix="enquiry",
                                   data=_enquiry_data, owners=("a1", "b1")),
    # Staff: the onward directory (entries belong to a team).
    "therapist.directory": Route(get=clinical("200"), post=team_field("302"), prefix="service",
                                 data=_service_data, owners=("a1", "b1")),
    "therapist.directory_edit": Route(params={"service_id": "service"}, get=team_object("200"),
                                      post=team_object("302"), prefix="service", data=_service_edit_data),
    "therapist.directory_delete": Route(params={"service_id": _fresh_service}, get=everyone("405"),
                                        post=team_object("302"), data={}),
    # Staff: an episode of care and its contacts.
    "therapist.episode": Route(params=EPISODE_PARAMS, get=team_object("200")),
    "therapist.episode_answers": Route(params=EPISODE_PARAMS, get=team_object("200")),
    "therapist.episode_contacts": Route(params=EPISODE_PARAMS, get=team_object("200")),
    "therapist.episode_urgent_flag": Route(params=EPISODE_PARAMS, get=team_object("302")),
    "therapist.book_contact": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                    prefix="book", data=lambda w, o: {
                                        "book-day": _day(5), "book-time": "11:00", "book-duration": "45",
                                        "book-kind": "treatment", "book-mode": "phone", "book-place": ""}),
    "therapist.contact_attendance": Route(params={"episode_id": "episode", "appointment_id": "appointment"},
                                          get=everyone("405"), post=team_object("302"), prefix="attendance",
                                          data={"attendance-status": "attended"}),
    "therapist.discharge_episode": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                         prefix="discharge", data={"discharge-work_status_end": "working",
                                                                   "discharge-sick_leave_end": "none",
                                                                   "discharge-end_reason": "completed"}),
    "therapist.episode_instruments": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                           prefix="instruments", data={"instruments-instruments": "GAD-7"}),
    "therapist.episode_responsible": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                           prefix="responsible", data=_responsible_data),
    "therapist.offering_change": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="change", data=_offering_change_data),
    # Staff: reminders and the drop-out routine (issue 13). The world's episodes have nothing
    # missed, so the routine's steps are refused with a message (302), nothing saved.
    "therapist.appointment_reminders": Route(params={"appointment_id": "appointment"}, get=team_object("200")),
    # Staff: a course meeting, for the run's leaders only.
    "therapist.course_meeting": Route(params={"meeting_id": "course_meeting"}, get=course_leader("200")),
    "therapist.course_check_in_screen": Route(params={"meeting_id": "course_meeting"}, get=course_leader("200")),
    "therapist.course_attendance": Route(params={"meeting_id": "course_meeting"}, get=everyone("405"),
                                         post=course_leader("302"), data=lambda w, o: {
                                             "participant": str(w.objects[o]["course_participant"]),
                                             "status": "attended"}),
    "therapist.course_meeting_note": Route(params={"meeting_id": "course_meeting"}, get=everyone("405"),
                                           post=course_leader("302"), prefix="note",
                                           data={"note-note": "Tanker, følelser og handlinger."}),
    "therapist.course_talk": Route(params={"participant_id": "course_participant"}, get=everyone("405"),
                                   post=course_leader("302"), data=_talk_data),
    "therapist.dropout_notice": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"),
                                      prefix="dropout", data=lambda w, o: {"dropout-deadline": _day(14)}),
    "therapist.dropout_close": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"), data={}),
    "therapist.team_reminders": Route(params={"team_id": _team_id}, get=everyone("405"), post=team_lead("302"),
                                      prefix="reminders", data={"reminders-hours": "36"}),
    # Staff: guided self-help (a second assignment in the same episode is refused with a message).
    "therapist.assign_programme": Route(params=EPISODE_PARAMS, get=team_object("200"), post=team_object("302"),
                                        prefix="assign", data=_assign_data),
    "therapist.sleep_window": Route(params=EPISODE_PARAMS, get=team_object("200"), post=team_object("302"),
                                    prefix="window", data={"window-bedtime": "00:30", "window-rise": "06:30",
                                                           "window-checked": SLEEP_CHECKED}),
    "therapist.end_programme": Route(params=EPISODE_PARAMS, get=everyone("405"), post=team_object("302"), data={}),
    "therapist.assign_group": Route(get=clinical("200"), post=clinical("400="), prefix="group", data=_group_data,
                                    owners=OWNERS),
    "therapist.programmes": Route(get=clinical("200")),
    "therapist.programme": Route(params={"slug": "sovn"}, get=clinical("200")),
    "therapist.external_programmes": Route(get=clinical("200"), post=team_field("302"), prefix="external",
                                           data=_external_data, owners=("a1", "b1")),
    "therapist.retire_external_programme": Route(params={"programme_id": _fresh_external}, get=everyone("405"),
                                                 post=team_object("302"), data={}),
    # Staff: urgent flags.
    # The review view (guided self-help check-ins).
    "therapist.review_queue": Route(get=clinical("200")),
    "therapist.review": Route(params=CHECK_IN_PARAMS, get=team_object("200")),
    "therapist.review_complete": Route(params=CHECK_IN_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="done", data={"done-feedback": "Fint arbeid.", "done-minutes": "20"}),
    "therapist.review_open_module": Route(params=CHECK_IN_PARAMS, get=everyone("405"), post=team_object("302"),
                                          prefix="module", data={}),
    "therapist.away": Route(get=everyone("405"), post=clinical("302"), prefix="away",
                            data=lambda w, o: {"away-until": _day(3), "away-away": "y"}),
    "therapist.phrases": Route(get=clinical("200"), post=team_field("302"), prefix="phrase", data=_phrase_data,
                               owners=OWNERS),
    "therapist.phrase_delete": Route(params={"phrase_id": _fresh_phrase}, get=everyone("405"),
                                     post=team_object("302"), data={}),
    "therapist.urgent_flag": Route(params=FLAG_PARAMS, get=team_object("200")),
    "therapist.add_flag_action": Route(params=FLAG_PARAMS, get=everyone("405"), post=team_object("302"),
                                       prefix="action", data={"action-kind": "called", "action-note": ""}),
    "therapist.close_flag": Route(params=FLAG_PARAMS, get=everyone("405"), post=team_object("302"),
                                  prefix="close", data={"close-note": "Snakket med personen, trygg nå."}),
    # Course evaluations: the public form behind a single-use link (a refused send keeps the link
    # usable: no data is a 400 that changes nothing), the resident's open forms, and the staff side.
    "public.evaluation": Route(params={"token": _evaluation_token}, get=everyone("200"), post=everyone("400="),
                               data={"relevance": "9"}),
    "client.course_evaluations": Route(get=resident_only("200")),
    "therapist.course_evaluation_open": Route(params=COURSE_RUN_PARAMS, get=everyone("405"),
                                              post=course_leader("302"), prefix="evaluation",
                                              data={"evaluation-round": "end"}),
    "therapist.course_evaluation_links": Route(params=COURSE_RUN_PARAMS, get=course_leader("200")),
    "therapist.course_results": Route(params=COURSE_RUN_PARAMS, get=team_object("200")),
    "therapist.course_results_csv": Route(params=COURSE_RUN_PARAMS, get=team_object("200")),
    "therapist.course_template_results": Route(params={"template_id": _course_template}, get=team_object("200")),
}

#: POSTs that remove or end something run after the other allowed POSTs.
LAST = ("therapist.guide_onward", "therapist.close_onward", "therapist.discharge_episode", "therapist.close_flag",
        "auth.passkey_remove", "therapist.end_programme")


# --- The world ---------------------------------------------------------------------------------

class World:
    """The teams, residents, staff and objects, and a signed-in client per role."""

    def __init__(self, app, data_app, mailbox) -> None:
        self.app, self.data_app = app, data_app
        self.objects: dict[str, dict[str, int | str]] = {}
        self.queries: dict[str, Any] | None = None
        #: The database as the last refused request left it (None once anything else ran).
        self.last_snapshot: dict[str, tuple[int, str]] | None = None
        with data_app.app_context():
            db = get_session()
            self.teams = {"A": make_team(db), "B": make_team(db)}
            self.municipality_a = self.teams["A"].municipalities[0].id
            self.staff = {
                "therapist_a": make_staff(db, teams=[self.teams["A"]]),
                "therapist_b": make_staff(db, teams=[self.teams["B"]]),
                "lead_a": make_staff(db, role=Role.TEAM_LEAD, teams=[self.teams["A"]]),
                "admin": make_staff(db, role=Role.ADMIN, teams=[self.teams["A"]]),
            }
            self.emails = {owner: email() for owner in OWNERS}
            self.names = {owner: unique(f"Beboer{owner.upper()}") for owner in OWNERS}
            for owner in OWNERS:
                team = self.teams[OWNER_TEAM[owner]]
                staff = self.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0]
                self.objects[owner] = self._resident_objects(db, owner, team, staff)
            db.commit()
            self.staff_ids = {role: user.id for role, (user, _secret) in self.staff.items()}
        self.clients: dict[str, Any] = {}
        self.cookies: dict[str, str | None] = {}
        self.tokens: dict[str, str] = {}
        for role in ROLES:
            client = app.test_client()
            actions = Actions(client, mailbox)
            if role in RESIDENT_ROLES:
                actions.resident_login(self.emails[RESIDENT_ROLES[role]])
            elif role != "anonymous":
                user, secret = self.staff[role]
                actions.staff_login(user.username, PASSWORD, secret)
            # A visitor's CSRF token comes with a form (the sign-in code form); a page without one sets no cookie.
            page = client.get("/login/code" if role == "anonymous" else "/hjelp")
            assert page.status_code == 200
            self.tokens[role] = csrf_token(page.get_data(as_text=True))
            cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
            self.cookies[role] = cookie.value if cookie else None
            self.clients[role] = client

    def _resident_objects(self, db, owner: str, team, staff) -> dict[str, int | str]:
        resident = make_resident(db, team=team, email=self.emails[owner], name=self.names[owner])
        referral = make_referral(db, team=team, resident=resident, urgent=True)
        episode = referral.episode
        flag = urgent_flags.raise_flag(db, resident_id=resident.id, team_id=team.id, reason="crisis",
                                       referral_id=referral.id, episode_id=episode.id)
        contact = outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind="treatment",
                                        starts_at=utcnow() + timedelta(hours=24), duration_minutes=45,
                                        mode="phone", place=None)
        form_request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id)
                                  .order_by(FormRequest.id)).first()
        # The request is on a later contact, so the resident's own request on `contact` is a new one.
        later = outcomes.book_contact(db, actor=staff, episode_id=episode.id, kind="treatment",
                                      starts_at=utcnow() + timedelta(days=8), duration_minutes=45,
                                      mode="phone", place=None)
        asked = appointment_requests.ask(db, resident=resident, appointment_id=later.id, kind="change",
                                         reason=f"Grunn {owner}")
        make_safety_plan(db, resident=resident, warning_signs=f"Tegn {owner}")
        assignment = selfhelp.assign_programme(db, actor=staff, episode_id=episode.id, programme="sovn",
                                               checkin_weekday=local_today().weekday())
        check_in = check_ins.current_check_in(db, resident=resident)
        worksheet = worksheets.save_worksheet(db, resident=resident, kind=WORKSHEETS["weekly_goal"],
                                              client_key=str(uuid.uuid4()), raw={"goal": f"Mål {owner}"}).worksheet
        passkeys = [Passkey(user_id=resident.id, credential_id=unique(f"cred-{owner}").encode(),
                            public_key=b"not-a-real-key", name=f"Telefon {i}") for i in range(2)]
        db.add_all(passkeys)
        service = save_onward_service(db, actor=staff, team_id=team.id, name=unique("Tjeneste"), description="",
                                      phone=None, url=None)
        # A course run of the team led by its therapist, its first meeting now, the resident enrolled.
        template = courses.create_template(db, actor=staff, team_id=team.id, title=unique("Kurs"), meeting_count=2,
                                           meetings=(("Møte 1", "Innhold"), ("Møte 2", "Innhold")))
        soon = utcnow().replace(microsecond=0) + timedelta(minutes=15)
        run = courses.create_run(db, actor=staff, template_id=template.id, starts=[soon, soon + timedelta(weeks=1)],
                                 leader_ids=(staff.id,))
        participant = courses.enrol(db, run_id=run.id, user=resident, episode=episode)
        db.flush()
        return {"resident": resident.id, "referral": referral.id, "episode": episode.id, "flag": flag.id,
                "appointment": contact.id, "form_request": form_request.id, "form_code": form_request.instrument_code,
                "passkey": passkeys[0].id, "spare_passkey": passkeys[1].id, "service": service.id,
                "request": asked.id, "assignment": assignment.id, "check_in": check_in.appointment.id,
                "worksheet": worksheet.id, "course_meeting": run.meetings[0].id,
                "course_participant": participant.id, "check_in_code": run.meetings[0].check_in_code}

    def new_service(self, owner: str) -> int:
        """A fresh directory entry of the owner's team (for the delete action)."""
        with self.data_app.app_context():
            db = get_session()
            team = self.teams[OWNER_TEAM[owner]]
            staff = self.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0]
            service = save_onward_service(db, actor=db.merge(staff), team_id=team.id, name=unique("Ny"),
                                          description="", phone=None, url=None)
            db.commit()
            self.last_snapshot = None
            return service.id

    def new_slot(self, owner: str) -> int:
        """A fresh free time of the owner's team (for the withdraw action)."""
        with self.data_app.app_context():
            db = get_session()
            team = self.teams[OWNER_TEAM[owner]]
            staff = db.merge(self.staff["therapist_a" if OWNER_TEAM[owner] == "A" else "therapist_b"][0])
            slot = slots.publish_slots(db, actor=staff, team_id=team.id, staff_id=staff.id,
                                       first_start=utcnow() + timedelta(days=200 + next(_PUBLISH_DAYS)),
                                       duration_minutes=30, mode="phone")[0]
            db.commit()
            self.last_snapshot = None
            return slot.id

    def url(self, endpoint: str, route: Route, owner: str | None) -> str:
        values = {}
        for name, source in route.params.items():
            if callable(source):
                values[name] = source(self, owner)
            elif isinstance(source, str) and owner is not None and source in self.objects[owner]:
                values[name] = self.objects[owner][source]
            else:
                values[name] = source
        with self.app.test_request_context():
            from flask import url_for

            return url_for(endpoint, **values)

    def request(self, role: str, method: str, url: str, *, route: Route, owner: str | None):
        """One request from the role's session as it was after sign-in."""
        client = self.clients[role]
        name = self.app.config["SESSION_COOKIE_NAME"]
        if self.cookies[role] is None:
            client.delete_cookie(name)
        else:
            client.set_cookie(name, self.cookies[role])
        client.delete_cookie("lang")
        if method == "GET":
            return client.get(url)
        token = self.tokens[role]
        data = route.data(self, owner) if callable(route.data) else dict(route.data or {})
        headers = {"X-CSRFToken": token}
        if route.json_body:
            return client.post(url, data=json.dumps(data), headers={**headers, "Content-Type": "application/json"})
        data["csrf_token"] = token
        if route.prefix:
            data[f"{route.prefix}-csrf_token"] = token
        return client.post(url, data=data, headers=headers)

    def snapshot(self) -> dict[str, tuple[int, str]]:
        """Row count and a hash of every row of every table, ordered by primary key.

        PostgreSQL hashes each table's rows (as text) in one statement; SQLite hashes them here.
        """
        engine = self.data_app.extensions["rph_db"].engine
        postgres = engine.dialect.name == "postgresql"
        if self.queries is None:
            inspector = inspect(engine)
            self.queries = {}
            for table in inspector.get_table_names():
                keys = inspector.get_pk_constraint(table).get("constrained_columns") or [
                    c["name"] for c in inspector.get_columns(table)]
                order = ", ".join(f't."{k}"' for k in keys)
                self.queries[table] = (
                    f"SELECT '{table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY {order}), '')) "
                    f'FROM "{table}" t' if postgres else text(f'SELECT * FROM "{table}" t ORDER BY {order}'))
            if postgres:
                self.queries = {"*": text(" UNION ALL ".join(self.queries.values()))}
        with engine.connect() as conn:
            if postgres:
                return {table: (count, digest) for table, count, digest in conn.execute(self.queries["*"])}
            found = {}
            for table, query in self.queries.items():
                rows = conn.execute(query).all()
                found[table] = (len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest())
            return found


@pytest.fixture(scope="module")
def world(app, data_app, smtp_server):
    return World(app, data_app, smtp_server[1])


# --- Checking one case -------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    role: str
    owner: str | None
    expected: str

    @property
    def unchanged(self) -> bool:
        return self.expected.endswith("=") or self.expected in REFUSED


def _cases(method: str) -> list[Case]:
    cases = []
    for endpoint, route in ROUTES.items():
        policy = route.get if method == "GET" else route.post
        if policy is None:
            continue
        if route.owners:
            owners = route.owners
        elif any(callable(s) or s in OBJECT_KINDS for s in route.params.values()):
            owners = OWNERS
        else:
            owners = (None,)
        for role in ROLES:
            for owner in owners:
                cases.append(Case(endpoint, method, role, owner, policy(role, owner)))
    return cases


def _status(response) -> str:
    if response.status_code in (301, 302, 303):
        location = response.headers.get("Location", "")
        path = location.split("?")[0].replace("http://localhost", "")
        for name, sign_in in SIGNIN_PATHS.items():
            if path == sign_in:
                return name
    return str(response.status_code)


def _run(world: World, case: Case) -> str | None:
    """The case's mismatch, or None."""
    route = ROUTES[case.endpoint]
    url = world.url(case.endpoint, route, case.owner)
    before = (world.last_snapshot or world.snapshot()) if case.unchanged else None
    world.last_snapshot = None
    response = world.request(case.role, case.method, url, route=route, owner=case.owner)
    got = _status(response)
    where = f"{case.method} {url} ({case.endpoint}) as {case.role}" + (f" on {case.owner}'s" if case.owner else "")
    if got != case.expected.rstrip("="):
        return f"{where}: expected {case.expected.rstrip('=')}, got {got}"
    body = response.get_data(as_text=True)
    shown = [o for o in OWNERS if world.names[o] in body and not _may_see(case.role, o)]
    if shown:
        return f"{where}: answered {got} naming {', '.join(shown)}, whom {case.role} may not see"
    if before is not None:
        after = world.last_snapshot = world.snapshot()  # also the next refused case's "before"
        changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        if changed:
            return f"{where}: answered {got} but changed {', '.join(changed)}"
    return None


def _may_see(role: str, owner: str) -> bool:
    """Whose name may appear on any page this role gets: their own, or their team's residents."""
    return RESIDENT_ROLES.get(role) == owner or STAFF_TEAM.get(role) == OWNER_TEAM[owner]


def _in_order(cases: list[Case]) -> list[Case]:
    """Refused cases first (one snapshot serves as the next one's "before"), then the allowed ones,
    those that remove or end something last."""
    return [c for c in cases if c.unchanged] + sorted((c for c in cases if not c.unchanged),
                                                       key=lambda c: c.endpoint in LAST)


# --- The tests ---------------------------------------------------------------------------------

def _suggestion(rule) -> str:
    params = ", ".join(f'"{a}": "<object kind>"' for a in sorted(rule.arguments))
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    parts = [f"params={{{params}}}"] if params else []
    parts.append('get=<policy>' if "GET" in methods else 'get=everyone("405")')
    if "POST" in methods:
        parts += ["post=<policy>", "data={...}"]
    return f'    "{rule.endpoint}": Route({", ".join(parts)}),  # {rule.rule} {methods}'


def test_every_rule_is_in_the_table(app):
    rules = list(app.url_map.iter_rules())
    missing = [_suggestion(r) for r in rules if r.endpoint not in ROUTES]
    assert not missing, ("Routes not in tests/test_access_matrix.py ROUTES; add who may use them:\n"
                         + "\n".join(missing))
    stale = sorted(set(ROUTES) - {r.endpoint for r in rules})
    assert not stale, f"ROUTES has endpoints the app no longer has: {stale}"
    for rule in rules:
        route = ROUTES[rule.endpoint]
        assert set(route.params) == set(rule.arguments), f"{rule.endpoint}: params should be {sorted(rule.arguments)}"
        if "POST" in rule.methods and rule.endpoint != "auth.logout":
            assert route.post is not None, f"{rule.endpoint} takes POST: give it a post= policy and data"


def test_get_matrix(world):
    failures = [f for case in _in_order(_cases("GET")) if (f := _run(world, case))]
    assert not failures, f"{len(failures)} GET case(s) wrong:\n" + "\n".join(failures)


def test_post_matrix(world):
    failures = [f for case in _in_order(_cases("POST")) if (f := _run(world, case))]
    assert not failures, f"{len(failures)} POST case(s) wrong:\n" + "\n".join(failures)


@pytest.mark.parametrize("contact_of", ["a2", "b1"])
def test_attendance_on_another_episodes_contact_changes_nothing(world, contact_of):
    """An episode the therapist may use, with a contact of another episode in the URL: 404, no change."""
    route = ROUTES["therapist.contact_attendance"]
    with world.app.test_request_context():
        from flask import url_for

        url = url_for("therapist.contact_attendance", episode_id=world.objects["a1"]["episode"],
                      appointment_id=world.objects[contact_of]["appointment"])
    before = world.snapshot()
    response = world.request("therapist_a", "POST", url, route=route, owner="a1")
    assert _status(response) == "404"
    assert world.snapshot() == before
    world.last_snapshot = None


def test_sign_out_last(world):
    """Signing out is allowed for everyone; it ends the session, so it runs after the rest."""
    route = Route(post=anonymous_else("302=", "302"), data={})
    for role in ROLES:
        response = world.request(role, "POST", "/logout", route=route, owner=None)
        assert response.status_code == 302, role
        # The old session cookie no longer signs anyone in: the login session is revoked.
        again = world.request(role, "GET", "/me", route=route, owner=None)
        assert _status(again) == "signin", f"{role} still signed in after signing out"
