"""services/course_admin.py: places never exceeded by parallel enrolments, who sees which runs and
participants, leaders and sharing teams checked, meetings moved only ahead, workbook file types."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import AuditEvent, CourseParticipant, CourseShare, Episode, User
from rph_pwa.services import course_admin as svc
from rph_pwa.services.errors import NotFound
from tests.factories import enrol_participant, make_course_run, make_monitored_episode, make_staff, make_team


def test_parallel_enrolments_never_exceed_the_places(app, db):
    run, leaders = make_course_run(db, capacity=3)
    staff = leaders[0]
    episodes = [make_monitored_episode(db, team=run.team, offerings="course") for _ in range(8)]
    db.commit()
    run_id, staff_id, episode_ids = run.id, staff.id, [e.id for e in episodes]
    barrier, errors = threading.Barrier(len(episode_ids)), []

    def enrol(episode_id: int) -> None:
        with app.app_context():
            session = app.extensions["rph_db"].sessionmaker()
            try:
                barrier.wait(timeout=10)  # all at once (each transaction takes SQLite's write lock at its start)
                actor = session.get(User, staff_id)
                svc.enrol_episode(session, actor=actor, run_id=run_id, episode_id=episode_id)
                session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
                session.rollback()
            finally:
                session.close()

    threads = [threading.Thread(target=enrol, args=(i,)) for i in episode_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    db.commit()
    statuses = dict(db.execute(select(CourseParticipant.status, func.count()).where(CourseParticipant.run_id == run_id)
                               .group_by(CourseParticipant.status)).all())
    assert statuses == {"enrolled": 3, "waiting": 5}


def test_another_teams_run_is_hidden_until_shared(db):
    home, other = make_team(db), make_team(db)
    run, leaders = make_course_run(db, team=home)
    outsider, _ = make_staff(db, teams=[other])
    listing = svc.course_list(db, actor=outsider)
    assert run.id not in [r.run.id for r in listing.coming + listing.in_progress + listing.finished]
    with pytest.raises(NotFound):
        svc.run_page(db, actor=outsider, run_id=run.id)
    db.add(CourseShare(run_id=run.id, team_id=other.id))
    db.flush()
    listing = svc.course_list(db, actor=outsider)
    assert run.id in [r.run.id for r in listing.coming]
    with pytest.raises(NotFound):
        svc.run_to_manage(db, actor=outsider, run_id=run.id)


def test_sharing_team_sees_only_its_own_participants_and_leaders_see_all(db):
    home, other = make_team(db), make_team(db)
    outsider, _ = make_staff(db, teams=[other])
    guest_leader, _ = make_staff(db, teams=[other])
    run, leaders = make_course_run(db, team=home, shared_with=[other],
                                   leaders=[make_staff(db, teams=[home])[0], guest_leader])
    home_person = enrol_participant(db, run=run)
    home_relative = enrol_participant(db, run=run, role="relative")
    guest_person = enrol_participant(db, run=run, team=other)
    page = svc.run_page(db, actor=outsider, run_id=run.id)
    assert [r.participant.id for r in page.enrolled] == [guest_person.id]
    assert page.enrolled_count == 3 and not page.manage
    shown = db.scalars(select(AuditEvent.subject_id).where(AuditEvent.actor_id == outsider.id)).all()
    assert shown == [guest_person.user_id]
    with pytest.raises(NotFound):
        svc.withdraw_participant(db, actor=outsider, participant_id=home_person.id)
    for viewer in (guest_leader, leaders[0]):
        page = svc.run_page(db, actor=viewer, run_id=run.id)
        assert {r.participant.id for r in page.enrolled} == {home_person.id, home_relative.id, guest_person.id}


def test_enrolment_from_an_episode_of_another_team_or_closed_is_refused(db):
    home, other = make_team(db), make_team(db)
    run, leaders = make_course_run(db, team=home)
    foreign = make_monitored_episode(db, team=other, offerings="course")
    with pytest.raises(NotFound):
        svc.enrol_episode(db, actor=leaders[0], run_id=run.id, episode_id=foreign.id)
    closed = make_monitored_episode(db, team=home)
    db.get(Episode, closed.id).discharged_at = utcnow()
    with pytest.raises(NotFound):
        svc.enrol_episode(db, actor=leaders[0], run_id=run.id, episode_id=closed.id)
    with pytest.raises(NotFound):
        svc.enrol_episode(db, actor=leaders[0], run_id=run.id, episode_id=10 ** 12)
    offered = make_monitored_episode(db, team=home, offerings="course")
    plain = make_monitored_episode(db, team=home, offerings="individual")
    ids = [episode_id for episode_id, _ in svc.enrolable_episodes(db, actor=leaders[0], run=run)]
    assert ids.index(offered.id) < ids.index(plain.id)


def test_leaders_must_be_clinical_staff_of_the_running_or_sharing_teams(db):
    home, other = make_team(db), make_team(db)
    run, leaders = make_course_run(db, team=home)
    stranger, _ = make_staff(db, teams=[other])
    start = utcnow() + timedelta(days=3)
    common = dict(actor=leaders[0], template_id=run.template_id, first_start=start, mode="office", place="Sal",
                  video_link=None, capacity=5, evaluation_anonymous=True, follow_up_at=None)
    with pytest.raises(svc.NoLeaders):
        svc.new_run(db, leader_ids=(), shared_team_ids=(), **common)
    with pytest.raises(svc.NotALeaderChoice):
        svc.new_run(db, leader_ids=(stranger.id,), shared_team_ids=(), **common)
    joint = svc.new_run(db, leader_ids=(leaders[0].id, stranger.id), shared_team_ids=(other.id,), **common)
    assert {s.team_id for s in joint.shares} == {other.id}
    with pytest.raises(svc.PastDate):
        svc.new_run(db, leader_ids=(leaders[0].id,), shared_team_ids=(),
                    **{**common, "first_start": utcnow() - timedelta(hours=1)})
    with pytest.raises(NotFound):
        svc.new_run(db, leader_ids=(leaders[0].id,), shared_team_ids=(10 ** 12,), **common)


def test_more_places_take_people_from_the_waiting_list(db):
    run, leaders = make_course_run(db, capacity=1)
    enrol_participant(db, run=run)
    waiting = enrol_participant(db, run=run)
    assert waiting.status == "waiting"
    svc.edit_run(db, actor=leaders[0], run_id=run.id, mode="office", place="Sal", video_link=None, capacity=2,
                 leader_ids=tuple(leader.user_id for leader in run.leaders), shared_team_ids=(),
                 evaluation_anonymous=True)
    assert waiting.status == "enrolled"


def test_meetings_move_only_ahead_and_someone_elses_meeting_is_not_found(db):
    run, leaders = make_course_run(db)
    stranger, _ = make_staff(db, teams=[make_team(db)])
    meeting = run.meetings[0]
    with pytest.raises(svc.PastDate):
        svc.change_meeting(db, actor=leaders[0], meeting_id=meeting.id, starts_at=utcnow() - timedelta(days=1),
                           cancel=False)
    with pytest.raises(NotFound):
        svc.change_meeting(db, actor=stranger, meeting_id=meeting.id, starts_at=None, cancel=True)
    svc.change_meeting(db, actor=leaders[0], meeting_id=meeting.id, starts_at=None, cancel=True)
    assert meeting.cancelled


def test_workbook_file_types_come_from_the_extension_allow_list():
    assert svc.material_type("Arbeidsbok.PDF") == "application/pdf"
    for name in ("skript.html", "svg.svg", "ingen", "x.exe"):
        with pytest.raises(svc.MaterialType):
            svc.material_type(name)


def test_the_contacts_ahead_follow_a_changed_place_and_mode(db):
    from rph_pwa.models import Appointment

    run, leaders = make_course_run(db)
    participant = enrol_participant(db, run=run)
    svc.edit_run(db, actor=leaders[0], run_id=run.id, mode="video", place="", video_link="https://video.example.no/k",
                 capacity=run.capacity, leader_ids=tuple(leader.user_id for leader in run.leaders),
                 shared_team_ids=(), evaluation_anonymous=True)
    db.expire_all()
    contacts = db.scalars(select(Appointment).where(Appointment.episode_id == participant.episode_id)).all()
    assert contacts and {(c.mode, c.place) for c in contacts} == {("video", None)}


def test_a_relative_is_found_by_address_or_phone_and_a_staff_address_is_refused(db, data_app):
    from rph_pwa.services.accounts import set_email

    crypto = data_app.extensions["rph_crypto"]
    run, leaders = make_course_run(db)
    common = dict(actor=leaders[0], run_id=run.id, team_id=run.team_id, crypto=crypto)
    first = svc.enrol_relative(db, name="Kari Nordmann", email="kari.parorende@example.no", phone=None, **common)
    assert first.role == "relative" and first.episode_id is None and first.user.team_id == run.team_id
    again = svc.relative_account(db, team=run.team, name="Kari", email="Kari.Parorende@example.no", phone=None,
                                 crypto=crypto)
    assert again.id == first.user_id
    by_phone = svc.enrol_relative(db, name="Per", email=None, phone="+4741234999", **common)
    assert svc.relative_account(db, team=run.team, name="Per", email=None, phone="412 34 999",
                                crypto=crypto).id == by_phone.user_id
    set_email(leaders[1], "leder.kurs@example.no", crypto)
    with pytest.raises(NotFound):
        svc.enrol_relative(db, name="Leder", email="leder.kurs@example.no", phone=None, **common)
    with pytest.raises(NotFound):
        svc.enrol_relative(db, name="X", email="x.y@example.no", phone=None,
                           **{**common, "team_id": make_team(db).id})
