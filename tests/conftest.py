"""Shared fixtures: a real database (SQLite file, or PostgreSQL from TEST_DATABASE_URL), a real
SMTP server on loopback, the app, a live server for the browser tests, and the helpers every test
file shares: posting a form with its CSRF token (`post_form`), signing in (`actions`), and counting
queries (`count_queries`)."""
from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, event, text
from werkzeug.serving import make_server

from rph_pwa import create_app
from rph_pwa.config import TestConfig, normalise_database_url
from rph_pwa.db import get_session
from tests.factories import PASSWORD, make_resident, make_staff, make_team
from tests.factories import email as new_email_address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deliver_queued_mail(app) -> None:
    """Run the real outbox delivery for `app`'s database now, as the scheduler process would."""
    from rph_pwa.db import utcnow
    from rph_pwa.services.mail import MailSettings, deliver_outbox

    with app.app_context():
        session = get_session()
        settings = MailSettings.from_config(app.config)
        while deliver_outbox(session, settings, now=utcnow(), limit=200).sent:
            pass


class Mailbox:
    """Messages received by the loopback SMTP server.

    Requests only queue mail; reading it with `to` or `last_code` first delivers what the test
    app has queued (the real `deliver_outbox`), so a test reads mail as a person would once the
    scheduler has run. `received_to` reads without delivering.
    """

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()
        #: The app whose outbox `to` delivers first (set by the `app` fixture).
        self.app = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def received_to(self, address: str) -> list:
        """Messages to `address` the server has received so far (nothing is delivered first)."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def to(self, address: str) -> list:
        """Messages to `address`, after delivering everything queued in the test app's outbox."""
        if self.app is not None:
            deliver_queued_mail(self.app)
        return self.received_to(address)

    def last_code(self, address: str) -> str:
        """The six-digit code in the newest message to `address`."""
        messages = self.to(address)
        assert messages, f"no mail to {address}"
        body = messages[-1].get_body(("plain",)).get_content()
        return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server[1]


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        engine = create_engine(url)
        with engine.begin() as conn:  # start from an empty schema every run
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_dir / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def live_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory, smtp_server, live_port) -> dict:
    tmp_dir = tmp_path_factory.mktemp("db")
    controller, _mailbox = smtp_server
    return dict(
        SQLALCHEMY_DATABASE_URL=_database_url(tmp_dir),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        WEBAUTHN_RP_ID="localhost",
        WEBAUTHN_ORIGIN=f"http://localhost:{live_port}",
        SIGNIN_RATE_LIMIT="1000 per minute",
        REFERRAL_STEP_RATE_LIMIT="100000 per minute",
        MAIL_OUTBOX=str(tmp_dir / "outbox"),
        SMS_OUTBOX=str(tmp_dir / "sms-outbox"),
        # The push-service stub (tests/reminders) listens on loopback.
        PUSH_SERVICE_HOSTS=("127.0.0.1", "localhost", "fcm.googleapis.com"),
        # The tests walk all nine referral steps; tests/client/test_questionnaire_presentation.py
        # checks the default (unverified instruments off).
        UNVERIFIED_INSTRUMENTS=["AUDIT-C", "DUDIT-C"],
    )


@pytest.fixture(scope="session")
def app(app_settings, smtp_server):
    app = create_app(TestConfig, **app_settings)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    smtp_server[1].app = app  # reading the mailbox delivers this app's outbox first
    yield app
    smtp_server[1].app = None
    app.extensions["rph_db"].engine.dispose()


@pytest.fixture(scope="session")
def data_app(app, app_settings):
    """A second app on the same database for test set-up. Requests to `app` then push their own
    app context (Flask reuses an already pushed context of the same app, which would share `g`)."""
    # DEFERRED: a test keeps this session's transaction open while requests run. A deferred
    # reader holds no lock (WAL), so requests (BEGIN IMMEDIATE) are never kept waiting by it.
    other = create_app(TestConfig, **{**app_settings, "SQLITE_BEGIN": "DEFERRED"})
    yield other
    other.extensions["rph_db"].engine.dispose()


@pytest.fixture
def db(data_app):
    """A Session in an app context; tests commit what they create (each test makes unique rows)."""
    with data_app.app_context():
        session = get_session()
        yield session
        session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app, live_port):
    """The app served over HTTP on localhost for the browser (passkeys need a host name)."""
    server = make_server("localhost", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{live_port}"
    server.shutdown()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token in a page's HTML (a form's hidden field or the page's meta tag)."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def form_token(client, url: str, **get_args) -> str:
    """GET `url` with `client` (as a browser opens the page first) and return its CSRF token."""
    return csrf_token(client.get(url, **get_args).get_data(as_text=True))


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, prefix: str | None = None,
              headers: dict | None = None, follow: bool = False):
    """Post a form as the browser would: with the CSRF token of the page it is on (`page`, default
    `url`). A page with several forms prefixes each one's fields, its CSRF field too: `prefix`."""
    token = form_token(client, page or url)
    data = dict(data or {})
    if prefix:
        data = {**{f"{prefix}-{key}": value for key, value in data.items()}, f"{prefix}-csrf_token": token}
    else:
        data["csrf_token"] = token
    return client.post(url, data=data, headers=headers or {}, follow_redirects=follow)


def random_address() -> str:
    """A random 10.x.y.z client address: a test's own budget under the per-address rate limits."""
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62_500 % 250}"


def refresh(db) -> None:
    """End the test session's transaction (an SQLite reader keeps its snapshot) and forget what it
    had loaded, so it reads what the app wrote since."""
    db.commit()
    db.expire_all()


class Actions:
    """Sign-in through the real forms (the tutorial's AuthActions idea)."""

    def __init__(self, client, mailbox) -> None:
        self.client = client
        self.mailbox = mailbox

    def post_form(self, url: str, data: dict | None = None, follow: bool = False, page: str | None = None,
                  prefix: str | None = None):
        """`post_form` with this client."""
        return post_form(self.client, url, data, page=page, prefix=prefix, follow=follow)

    def staff_login(self, username: str, password: str, secret: str):
        import pyotp

        response = self.post_form("/staff/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        code = pyotp.TOTP(secret).now()
        return self.post_form("/staff/login/second-factor", {"code": code})

    def login_staff(self, db, *teams, role=None):
        """A new staff member of `teams` (a therapist unless `role`), reading English (the
        assertions use the English texts), signed in; returns the user."""
        staff, secret = make_staff(db, teams=list(teams), **({"role": role} if role else {}))
        staff.locale = "en"
        db.commit()
        self.staff_login(staff.username, PASSWORD, secret)
        return staff

    def resident_login(self, email: str):
        response = self.post_form("/login/code", {"email": email})
        assert response.status_code == 302
        code = self.mailbox.last_code(email)
        return self.post_form("/login/code/verify", {"code": code})

    def login_resident_without_referral(self, db):
        """A new resident of a new team, reading English, with no referral yet, signed in."""
        address = new_email_address()
        resident = make_resident(db, team=make_team(db), email=address)
        resident.locale = "en"
        db.commit()
        self.resident_login(address)
        return resident

    def login_resident_with_programme(self, db, **kwargs):
        """A resident in guided self-help (`make_selfhelp(db, **kwargs)`) signed in by e-mail code;
        returns (resident, assignment)."""
        from flask import current_app

        from rph_pwa.models import User
        from rph_pwa.services.accounts import set_email
        from tests.factories import make_selfhelp

        assignment, _episode, _therapist = make_selfhelp(db, **kwargs)
        resident = db.get(User, assignment.resident_id)
        address = new_email_address()
        set_email(resident, address, current_app.extensions["rph_crypto"])
        db.commit()
        self.resident_login(address)
        return resident, assignment


@pytest.fixture
def actions(client, mailbox):
    return Actions(client, mailbox)


@contextmanager
def recorded_statements(engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs while the block is open, in a list that the block can read
    (and clear) as it goes."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def cold_statement_count(db, call) -> int:
    """How many statements `call()` runs on the test's session `db` from a cold start: loaded rows
    and the cached team ids forgotten, so every run counts the same look-ups."""
    from rph_pwa.services.access import forget_team_ids

    db.expire_all()
    forget_team_ids(db)
    with recorded_statements(db.get_bind()) as statements:
        call()
    return len(statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as statements:` records the statements the app runs in the block
    (requests through `client`); `count_queries(db.get_bind())` those of the test's own session."""
    return lambda engine=None: recorded_statements(engine if engine is not None else app.extensions["rph_db"].engine)
