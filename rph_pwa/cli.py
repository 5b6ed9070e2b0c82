"""Command-line chores: `flask --app rph_pwa db upgrade | demo-data | create-user | rotate-keys`."""
from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import with_appcontext

from .db import Base, get_session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> AlembicConfig:
    """Alembic config pointing at our migrations; env.py takes the engine from the app."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database named by DATABASE_URL to the latest migration."""
    url = current_app.extensions["rph_db"].engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no instance/
    command.upgrade(alembic_config(), revision)
    click.echo("Database is up to date.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Step the database back to REVISION."""
    command.downgrade(alembic_config(), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration (review it before committing)."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's current migration."""
    command.current(alembic_config())


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load demo teams, municipalities, staff and residents, and print the demo logins."""
    from .demo import load_demo_data

    session = get_session()
    logins = load_demo_data(session, crypto=current_app.extensions["rph_crypto"])
    session.commit()
    click.echo(logins)


@click.command("create-user")
@click.option("--role", type=click.Choice(["therapist", "team_lead", "admin"]), required=True)
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--team", "teams", multiple=True, help="Team name; repeat for several teams.")
@click.option("--email", default=None)
@click.password_option()
@with_appcontext
def create_user_command(role: str, username: str, display_name: str, teams: tuple[str, ...],
                        email: str | None, password: str) -> None:
    """Create a staff user; prints the TOTP secret to add to an authenticator app."""
    import pyotp
    from sqlalchemy import select

    from .models import Role, Team
    from .services.accounts import create_staff
    from .services.errors import Conflict

    session = get_session()
    found = {t.name: t.id for t in session.scalars(select(Team).where(Team.name.in_(teams)))}
    missing = [t for t in teams if t not in found]
    if missing:
        raise click.ClickException("Unknown team(s): " + ", ".join(missing))
    try:
        user, secret = create_staff(session, username=username, password=password, role=Role(role),
                                    display_name=display_name, team_ids=list(found.values()), email=email,
                                    crypto=current_app.extensions["rph_crypto"])
    except Conflict as exc:
        raise click.ClickException("That username is taken.") from exc
    session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=current_app.config["WEBAUTHN_RP_NAME"])
    click.echo(f"Created {role} {username} (id {user.id}).")
    click.echo(f"TOTP secret: {secret}")
    click.echo(f"Authenticator URI: {uri}")


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command() -> None:
    """Re-encrypt every encrypted field with the newest key in FIELD_KEYS."""
    from . import models  # noqa: F401 - registers every table on Base.metadata
    from .crypto import rotate_all

    engine = current_app.extensions["rph_db"].engine
    with engine.begin() as connection:
        changed = rotate_all(connection, current_app.extensions["rph_crypto"], list(Base.metadata.sorted_tables))
    click.echo(f"Re-encrypted {changed} values with the newest key.")


@click.command("purge-drafts")
@with_appcontext
def purge_drafts_command() -> None:
    """Delete self-referral drafts nobody came back to within 30 days (run daily)."""
    from .services.referral_drafts import purge_expired_drafts

    session = get_session()
    removed = purge_expired_drafts(session)
    session.commit()
    click.echo(f"Deleted {removed} expired drafts.")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the background jobs (mail and reminders every few seconds, clean-up daily) until
    stopped. Run one beside the web server: sign-in codes and reminders depend on it (on
    PostgreSQL a second one waits while the first works)."""
    import logging

    from .scheduling.runner import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)  # one line per run
    run_scheduler(current_app._get_current_object())


@click.command("generate-key")
@with_appcontext
def generate_key_command() -> None:
    """Print a new field-encryption key (put it first in FIELD_KEYS, then run rotate-keys)."""
    from .crypto import generate_key

    click.echo(generate_key())


@click.command("generate-vapid")
def generate_vapid_command() -> None:
    """Print a new VAPID key pair for Web Push (VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY)."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid02
    from py_vapid.utils import b64urlencode

    vapid = Vapid02()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    click.echo(f"VAPID_PRIVATE_KEY={b64urlencode(private)}")
    click.echo(f"VAPID_PUBLIC_KEY={b64urlencode(public)}")


@click.command("totp-code")
@click.argument("username")
@with_appcontext
def totp_code_command(username: str) -> None:
    """Development only: print the current TOTP code of a staff user."""
    import pyotp
    from sqlalchemy import select

    from .models import User

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Not available in production.")
    user = get_session().scalars(select(User).where(User.username == username)).first()
    if user is None or not user.totp_secret:
        raise click.ClickException("No such staff user.")
    click.echo(pyotp.TOTP(user.totp_secret).now())


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for cmd in (db_group, demo_data_command, create_user_command, rotate_keys_command, generate_key_command,
                totp_code_command, purge_drafts_command, scheduler_command, generate_vapid_command):
        app.cli.add_command(cmd)

