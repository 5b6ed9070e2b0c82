"""Operations: health check, PWA files, CLI commands."""
from __future__ import annotations

import json

from sqlalchemy import select

from rph_pwa.models import Team, User


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "ok" and health["database"] == "ok" and health["mail_outbox"]["status"] == "ok"


def test_manifest_is_installable_shape(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    assert manifest["shortcuts"]


def test_service_worker_is_served_from_root_uncached_with_version(client):
    response = client.get("/service-worker.js")
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert "__VERSION__" not in body and "rph-static-" in body


def test_demo_data_is_idempotent_and_prints_logins(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    second = runner.invoke(args=["demo-data"])
    assert first.exit_code == second.exit_code == 0
    assert "TOTP secret" in first.output and "terapeut" in first.output
    teams = db.scalars(select(Team).where(Team.name == "RPH Lofoten (interkommunalt)")).all()
    assert len(teams) == 1
    assert {m.number for m in teams[0].municipalities} == {"1860", "1859", "1874"}


def test_create_user_prints_a_totp_secret(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "therapist", "--username", "cli-therapist", "--name", "Cli T",
              "--password", "long-enough-password"])
    assert result.exit_code == 0, result.output
    assert "TOTP secret:" in result.output
    assert db.scalars(select(User).where(User.username == "cli-therapist")).one().is_staff
    again = app.test_cli_runner().invoke(
        args=["create-user", "--role", "therapist", "--username", "cli-therapist", "--name", "X",
              "--password", "long-enough-password"])
    assert again.exit_code != 0 and "taken" in again.output


def test_purge_drafts_removes_only_expired_ones(app, db):
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.models import ReferralDraft
    from rph_pwa.services.referral_drafts import start_draft

    old, _ = start_draft(db, eligibility={"age": 30})
    old.expires_at = utcnow() - timedelta(days=1)
    fresh, _ = start_draft(db, eligibility={"age": 30})
    db.commit()
    ids = (old.id, fresh.id)
    result = app.test_cli_runner().invoke(args=["purge-drafts"])
    assert result.exit_code == 0, result.output
    db.commit()
    remaining = set(db.scalars(select(ReferralDraft.id).where(ReferralDraft.id.in_(ids))))
    assert remaining == {ids[1]}


def test_demo_data_shows_the_therapists_day(app, db):
    """terapeut is responsible for Per and has two appointments today (by phone, and by video with
    its link) and a change request waiting; the team has free slots next week; Per keeps tomorrow's
    check-in. A second run adds nothing."""
    from datetime import timedelta

    from sqlalchemy import func

    from rph_pwa.localtime import local_date, local_today
    from rph_pwa.models import Appointment, AppointmentRequest, AssessmentSlot, CheckInReport, Episode, Worksheet

    def counts() -> tuple[int, ...]:
        return tuple(db.scalar(select(func.count()).select_from(model))
                     for model in (User, Episode, Appointment, AppointmentRequest, AssessmentSlot))

    from tests.factories import make_referral, make_team

    make_referral(db, team=make_team(db))  # other rows first: the demo's own are found by name
    db.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    db.expire_all()
    before = counts()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    db.expire_all()
    assert counts() == before

    crypto = app.extensions["rph_crypto"]
    terapeut = db.scalars(select(User).where(User.username == "terapeut")).one()

    def resident(email: str) -> User:
        return db.scalars(select(User).where(User.email_lookup == crypto.lookup_hash(email))).one()

    per, mona, jonas = resident("per@example.no"), resident("mona@example.no"), resident("jonas@example.no")
    assert mona.display_name == "Mona Nilsen" and mona.phone and jonas.phone
    episodes = {e.resident_id: e for e in db.scalars(select(Episode).where(
        Episode.resident_id.in_([per.id, mona.id, jonas.id])))}
    assert {e.responsible_id for e in episodes.values()} == {terapeut.id}
    mine = db.scalars(select(Appointment).where(Appointment.staff_id == terapeut.id)).all()
    today = sorted((a for a in mine if local_date(a.starts_at) == local_today()
                    and a.kind not in ("check_in", "course_meeting")),
                   key=lambda a: a.starts_at)
    assert [a.mode for a in today] == ["phone", "video"]
    # Sara, in guided self-help: today's weekly check-in is sent and waits for terapeut's review.
    sara = resident("sara@example.no")
    waiting = db.scalars(select(CheckInReport).where(CheckInReport.resident_id == sara.id,
                                                     CheckInReport.reviewed_at.is_(None))).one()
    assert local_date(waiting.appointment.starts_at) == local_today() and waiting.appointment.staff_id == terapeut.id
    assert db.scalar(select(func.count()).select_from(Worksheet).where(Worksheet.resident_id == sara.id)) == 14
    assert today[1].video_link == "https://video.example.no/rom/abc" and today[0].video_link is None
    tomorrow = local_today() + timedelta(days=1)
    assert any(a.episode_id == episodes[per.id].id and local_date(a.starts_at) == tomorrow for a in mine)
    request = db.scalars(select(AppointmentRequest).where(AppointmentRequest.resident_id == jonas.id)).one()
    assert request.kind == "change" and request.reason and request.open_appointment_id == request.appointment_id
    slots = db.scalars(select(AssessmentSlot).where(AssessmentSlot.staff_id == terapeut.id)).all()
    monday = local_today() + timedelta(days=7 - local_today().weekday())
    assert len(slots) >= 3 and all(monday <= local_date(s.starts_at) < monday + timedelta(days=7)
                                   and s.appointment_id is None for s in slots)


def test_demo_data_has_a_finished_course_with_evaluations_and_one_running_led_by_terapeut(app, db):
    """The acceptance's demo: a finished run with its evaluations in, and a run in progress led by
    terapeut with a relative and a flagged participant (item 9 above 0, raised as urgent)."""
    from sqlalchemy import func

    from rph_pwa.db import utcnow
    from rph_pwa.models import CourseLeader, CourseParticipant, CourseRun, EvaluationAnswer, UrgentFlag

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert runner.invoke(args=["demo-data"]).exit_code == 0  # idempotent: one of each run
    db.expire_all()
    terapeut = db.scalars(select(User).where(User.username == "terapeut")).one()
    from rph_pwa.demo_courses import TITLE
    from rph_pwa.models import CourseTemplate

    runs = db.scalars(select(CourseRun).join(CourseTemplate, CourseTemplate.id == CourseRun.template_id)
                      .where(CourseTemplate.title == TITLE).order_by(CourseRun.id)).all()
    assert len(runs) == 2
    finished, running = runs
    assert max(m.starts_at for m in finished.meetings) < utcnow()
    assert db.scalar(select(func.count()).select_from(EvaluationAnswer)
                     .where(EvaluationAnswer.run_id == finished.id, EvaluationAnswer.participant_id.is_(None))) >= 5
    assert min(m.starts_at for m in running.meetings) < utcnow() < max(m.starts_at for m in running.meetings)
    assert terapeut.id in db.scalars(select(CourseLeader.user_id).where(CourseLeader.run_id == running.id)).all()
    roles = db.scalars(select(CourseParticipant.role).where(CourseParticipant.run_id == running.id)).all()
    assert "relative" in roles and roles.count("participant") >= 5
    assert db.scalar(select(func.count()).select_from(UrgentFlag).where(UrgentFlag.closed_at.is_(None))) >= 1
