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
