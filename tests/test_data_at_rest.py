"""Health data at rest: every column is either encrypted or listed in docs/security.md with the
reason it stays in clear, and answers and free text written through the real flows cannot be
found in the raw database (the SQLite file and its WAL, or a `pg_dump` of PostgreSQL)."""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import make_url

from rph_pwa import models  # noqa: F401 - registers every table
from rph_pwa.crypto import EncryptedText
from rph_pwa.db import Base
from rph_pwa.measures import get
from rph_pwa.models import Appointment, FormRequest, Passkey, Referral
from rph_pwa.services.passkeys import NewPasskey, add_passkey
from tests.client.referral_helpers import post_step, send_with_new_account
from tests.conftest import Actions, form_token
from tests.factories import PASSWORD, email, make_staff, make_team

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
CLEAR_HEADING = "#### Kept in clear, and why"
COLUMN_RE = re.compile(r"`([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)`")
OSLO = ZoneInfo("Europe/Oslo")


def _encryption_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("### Encryption at rest")
    end = text.index("\n### ", start + 1)
    return text[start:end]


def documented_clear_columns() -> set[str]:
    """`table.column` entries in the first cell of the table under CLEAR_HEADING."""
    section = _encryption_section()
    assert CLEAR_HEADING in section, f"docs/security.md has no '{CLEAR_HEADING}' in 'Encryption at rest'"
    lines = section[section.index(CLEAR_HEADING):].splitlines()[1:]
    rows = []
    for line in lines:
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append(line)
    found = set()
    for row in rows[1:]:  # the first row is the table's header
        cells = row.strip("|").split("|")
        assert len(cells) >= 2 and cells[1].strip(), f"a row without a reason: {row}"
        names = {f"{t}.{c}" for t, c in COLUMN_RE.findall(cells[0])}
        assert names, f"a row that names no column: {row}"
        found |= names
    return found


def documented_encrypted_columns() -> set[str]:
    section = _encryption_section()
    start = section.index("- **Encrypted columns**")
    end = section.index("\n- **", start + 1)
    return {f"{t}.{c}" for t, c in COLUMN_RE.findall(section[start:end])}


def schema_columns() -> tuple[set[str], set[str]]:
    """(encrypted, clear) columns of the whole schema, as `table.column`."""
    encrypted, clear = set(), set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            (encrypted if isinstance(column.type, EncryptedText) else clear).add(name)
    return encrypted, clear


def test_every_column_is_encrypted_or_documented_as_clear_with_a_reason():
    encrypted, clear = schema_columns()
    documented = documented_clear_columns()
    assert sorted(clear - documented) == [], "columns neither encrypted nor listed (with a reason) in docs/security.md"
    assert sorted(documented - clear - encrypted) == [], "docs/security.md lists columns that do not exist"
    assert sorted(documented & encrypted) == [], "docs/security.md lists encrypted columns as kept in clear"


def test_the_documented_encrypted_columns_are_the_encrypted_columns():
    encrypted, _clear = schema_columns()
    assert documented_encrypted_columns() == encrypted


# --- Sentinels in the raw database ----------------------------------------------------------------

def _items(code: str, values: list[int]) -> dict:
    instrument = get(code)
    assert len(values) == len(instrument.items)
    data = {item.key: str(v) for item, v in zip(instrument.items, values)}
    if instrument.functioning_question is not None:
        data["functioning"] = str(instrument.functioning_question.options[-1].value)
    return data


#: Distinctive item answers (each array is unlikely anywhere else in the database).
REFERRAL_ITEMS = {"PHQ-9": [2, 3, 1, 0, 2, 3, 1, 2, 1], "GAD-7": [3, 1, 2, 0, 3, 1, 2], "WSAS": [7, 5, 3, 8, 6],
                  "AUDIT-C": [3, 2, 1], "DUDIT-C": [0, 1, 2, 3]}
FORM_ITEMS = {"GAD-7": [0, 3, 3, 1, 2, 0, 1], "PHQ-9": [1, 0, 3, 2, 1, 0, 3, 3, 2]}


def _raw_database(app, db) -> bytes:
    """Every byte of the database as stored: the SQLite file and its WAL, or a `pg_dump`."""
    db.commit()
    url = make_url(app.config["SQLALCHEMY_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        with app.extensions["rph_db"].engine.connect() as connection:  # outside a transaction
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        paths = [Path(url.database), Path(url.database + "-wal")]
        return b"".join(p.read_bytes() for p in paths if p.exists())
    pg_dump = shutil.which("pg_dump") or max(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), default=None)
    assert pg_dump, "pg_dump not found"
    target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run([pg_dump, "--no-owner", "--dbname", target], capture_output=True, check=True, timeout=120,
                            env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
    return result.stdout


def _answer_arrays(values: list[int]) -> list[bytes]:
    return [json.dumps(values).encode(), json.dumps(values, separators=(",", ":")).encode()]


def test_answers_and_free_text_from_the_real_flows_are_not_in_the_raw_database(app, db, client, mailbox):
    marker = os.urandom(4).hex()
    sentinels = {name: f"SENTINEL-{name}-{marker}" for name in (
        "own-words", "goals", "earlier-help", "contact-times", "name", "gp-name", "language", "passkey", "place")}
    team = make_team(db)
    staff, secret = make_staff(db, teams=[team])
    db.commit()
    client.environ_base["REMOTE_ADDR"] = "10.9.0.1"  # its own rate-limit budget (the limiter counts per address)

    # A self-referral with distinctive answers and own words, PHQ-9 item 9 above 0 (urgent flag).
    address = email()
    step1 = {"age": 41, "municipality": team.municipalities[0].id, "crisis": "no"}
    assert post_step(client, 1, step1).status_code == 302
    assert post_step(client, 2, {"problems": ["low_mood"], "own_words": sentinels["own-words"], "duration": "gt_1y",
                                 "goals": sentinels["goals"],
                                 "earlier_help": sentinels["earlier-help"]}).status_code == 302
    assert post_step(client, 3, {"work_status": "working", "sick_leave": "none",
                                 "return_to_work": "not_relevant"}).status_code == 302
    for number, (code, values) in enumerate(REFERRAL_ITEMS.items(), start=4):
        assert post_step(client, number, _items(code, values)).status_code == 302
    assert post_step(client, 9, {"name": sentinels["name"], "phone": "412 34 567", "email": address,
                                 "contact_times": sentinels["contact-times"], "voicemail_ok": "no", "sms_ok": "yes",
                                 "meeting_municipality": "0", "gp_consent": "yes", "gp_name": sentinels["gp-name"],
                                 "interpreter": "yes", "language_needs": sentinels["language"],
                                 "gender": "unspecified"}).status_code == 302
    send_with_new_account(client, mailbox, address)
    db.commit()
    referral = db.scalars(select(Referral).join(Referral.team).where(Referral.team_id == team.id)).one()
    assert referral.urgent and "item9" in referral.urgent_reason

    # Staff book the assessment (free text place) for tomorrow: the forms before it open at once.
    staff_client = app.test_client()
    Actions(staff_client, mailbox).staff_login(staff.username, PASSWORD, secret)
    url = f"/therapist/referrals/{referral.id}"
    token = form_token(staff_client, url)
    tomorrow = (datetime.now(OSLO) + timedelta(days=1)).date().isoformat()
    response = staff_client.post(f"{url}/assessment", data={
        "book-day": tomorrow, "book-time": "10:30", "book-mode": "office", "book-place": sentinels["place"],
        "book-csrf_token": token})
    assert response.status_code == 302
    db.commit()
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == referral.episode.id)).one()
    assert appointment.place == sentinels["place"]

    # The resident fills in the before-session forms (item 9 above 0 again).
    for code, values in FORM_ITEMS.items():
        request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == appointment.id,
                                                       FormRequest.instrument_code == code)).one()
        form_url = f"/me/forms/{request.id}"
        token = form_token(client, form_url)
        assert client.post(form_url, data={**_items(code, values), "csrf_token": token}).status_code in (200, 302)

    # A passkey, named by the resident in their own words.
    db.commit()  # end the read transaction (its SQLite snapshot predates the forms)
    new = NewPasskey(credential_id=os.urandom(32), public_key=os.urandom(77), sign_count=0, transports="internal",
                     backed_up=False, user_handle=None, user_id=None)
    passkey = add_passkey(db, user=referral.resident, new=new, name="Passkey")
    db.commit()
    token = form_token(client, "/account/passkeys")
    response = client.post(f"/account/passkeys/{passkey.id}/rename", data={"name": sentinels["passkey"],
                                                                            "csrf_token": token})
    assert response.status_code == 302
    db.commit()
    db.expire_all()
    assert db.get(Passkey, passkey.id).name == sentinels["passkey"]

    raw = _raw_database(app, db)
    found = [text for text in sentinels.values() if text.encode() in raw]
    assert found == [], "free text stored in clear"
    arrays = [values for values in [*REFERRAL_ITEMS.values(), *FORM_ITEMS.values()]
              if any(a in raw for a in _answer_arrays(values))]
    assert arrays == [], "item answers stored in clear"
    # Flags and reasons are short coded words, found elsewhere too (urgent_flag.reason is a listed
    # clear column): look at the raw values instead.
    from sqlalchemy import text
    rows = db.execute(text("SELECT flags, functioning FROM measure_response WHERE resident_id = :r"),
                      {"r": referral.resident_id}).all()
    assert len(rows) == len(REFERRAL_ITEMS) + len(FORM_ITEMS)
    assert all(str(value).startswith("gAAAA") for row in rows for value in row if value is not None)
    reason = db.execute(text("SELECT urgent_reason FROM referral WHERE id = :i"), {"i": referral.id}).scalar_one()
    assert reason.startswith("gAAAA")


# --- The migration encrypts what was stored before ----------------------------------------------

#: Rows as stored before 0006_health_encrypted, in clear (the ids are fixed: the database is new).
OLD_ROWS = [
    "INSERT INTO municipality (id, number, name) VALUES (1, '9901', 'Migrasjon')",
    "INSERT INTO team (id, name, created_at, response_days) VALUES (1, 'Team M', '2026-01-01 10:00:00', 5)",
    "INSERT INTO \"user\" (id, role, webauthn_user_handle, is_active, created_at) "
    "VALUES (1, 'resident', :b1, TRUE, '2026-01-01 10:00:00'), (2, 'therapist', :b2, TRUE, '2026-01-01 10:00:00')",
    "INSERT INTO referral (id, submission_key, resident_id, team_id, municipality_id, status, urgent, urgent_reason, "
    "channel, age_band, gender, submitted_at, answers) VALUES (1, 'k', 1, 1, 1, 'new', TRUE, 'item9', 'app', "
    "'25-34', 'woman', '2026-01-01 10:00:00', 'x')",
    "INSERT INTO episode (id, referral_id, resident_id, team_id, referred_at, offerings, instruments) "
    "VALUES (1, 1, 1, 1, '2026-01-01 10:00:00', '', 'PHQ-9')",
    "INSERT INTO measure_response (id, resident_id, referral_id, episode_id, instrument_code, instrument_version, "
    "answers, functioning, total, band, flags, submitted_at) VALUES "
    "(1, 1, 1, 1, 'PHQ-9', '1', '[1, 1, 2, 2, 3, 3, 0, 0, 1]', 2, 15, 'moderately_severe', 'item9', "
    "'2026-01-01 10:00:00'), (2, 1, 1, 1, 'WSAS', '1', '[8, 1, 7, 2, 6]', NULL, 29, 'severe', '', "
    "'2026-01-01 10:00:00')",
    "INSERT INTO appointment (id, episode_id, staff_id, kind, starts_at, mode, place, created_at, duration_minutes, "
    "status, is_last) VALUES (1, 1, 2, 'assessment', '2026-01-02 10:00:00', 'office', 'Rom 7, legekontoret', "
    "'2026-01-01 10:00:00', 45, 'booked', FALSE)",
    "INSERT INTO form_request (id, appointment_id, episode_id, resident_id, instrument_code, opens_at, response_id) "
    "VALUES (1, 1, 1, 1, 'PHQ-9', '2026-01-01 10:00:00', 1)",
    "INSERT INTO passkey (id, user_id, credential_id, public_key, sign_count, transports, backed_up, name, created_at) "
    "VALUES (1, 1, :b3, :b4, 0, '', FALSE, 'Telefonen til mamma', '2026-01-01 10:00:00')",
]
#: (table, column, id) -> the value in clear.
OLD_VALUES = {
    ("measure_response", "answers", 1): "[1, 1, 2, 2, 3, 3, 0, 0, 1]", ("measure_response", "functioning", 1): "2",
    ("measure_response", "flags", 1): "item9", ("measure_response", "flags", 2): "",
    ("measure_response", "functioning", 2): None, ("referral", "urgent_reason", 1): "item9",
    ("appointment", "place", 1): "Rom 7, legekontoret", ("passkey", "name", 1): "Telefonen til mamma",
}


def _migration_url(app) -> str:
    """A database of its own: a new SQLite file, or a schema of its own on PostgreSQL."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        path = Path(url.database).with_name("migration.sqlite3")
        for old in path.parent.glob("migration.sqlite3*"):
            old.unlink()
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_test"))
    engine.dispose()
    return url.update_query_dict({"options": "-csearch_path=migration_test"}).render_as_string(hide_password=False)


@contextmanager
def _database_with_old_rows(app):
    """An app on a database of its own (the suite's keys), migrated to 0004_safety and holding
    OLD_ROWS as stored then, in clear; yields (app, CLI runner, engine) inside its app context and
    removes the database afterwards."""
    from sqlalchemy import text

    from rph_pwa import create_app
    from rph_pwa.config import TestConfig

    url = _migration_url(app)
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url, FIELD_KEYS=app.config["FIELD_KEYS"],
                       LOOKUP_KEY=app.config["LOOKUP_KEY"])
    try:
        with other.app_context():
            runner = other.test_cli_runner()
            assert runner.invoke(args=["db", "upgrade", "0004_safety"]).exit_code == 0
            engine = other.extensions["rph_db"].engine
            with engine.begin() as connection:
                for statement in OLD_ROWS:
                    blobs = {f"b{i}": bytes([i]) for i in range(1, 5) if f":b{i}" in statement}
                    connection.execute(text(statement), blobs)
            yield other, runner, engine
    finally:
        other.extensions["rph_db"].engine.dispose()
        if not url.startswith("sqlite"):
            from sqlalchemy import create_engine
            engine = create_engine(app.config["SQLALCHEMY_DATABASE_URL"])
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA migration_test CASCADE"))
            engine.dispose()


def test_the_migration_encrypts_existing_rows_and_the_downgrade_decrypts_them(app):
    from sqlalchemy import text

    from rph_pwa.db import get_session

    def values(connection) -> dict:
        return {(t, c, i): connection.execute(text(f"SELECT {c} FROM {t} WHERE id = :i"), {"i": i}).scalar_one()
                for t, c, i in OLD_VALUES}

    with _database_with_old_rows(app) as (other, runner, engine):
        crypto = other.extensions["rph_crypto"]
        result = runner.invoke(args=["db", "upgrade", "0006_health_encrypted"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            stored = values(connection)
            assert connection.execute(text("SELECT count(*) FROM form_request")).scalar_one() == 1
            assert connection.execute(text("SELECT response_id FROM form_request")).scalar_one() == 1
        for key, clear in OLD_VALUES.items():
            if clear is None:
                assert stored[key] is None
            else:
                assert stored[key] != clear and crypto.decrypt(stored[key]) == clear, key
        # The app reads them back through its models.
        from rph_pwa.models import Appointment, MeasureResponse, Passkey, Referral
        session = get_session()
        row = session.execute(select(MeasureResponse.answers, MeasureResponse.functioning, MeasureResponse.flags)
                              .where(MeasureResponse.id == 1)).one()
        assert tuple(row) == ([1, 1, 2, 2, 3, 3, 0, 0, 1], 2, "item9")  # the answers column is EncryptedJSON
        assert session.scalar(select(Referral.urgent_reason).where(Referral.id == 1)) == "item9"
        assert session.scalar(select(Appointment.place).where(Appointment.id == 1)) == "Rom 7, legekontoret"
        assert session.scalar(select(Passkey.name).where(Passkey.id == 1)) == "Telefonen til mamma"
        session.close()

        result = runner.invoke(args=["db", "downgrade", "0005_signin"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            back = values(connection)
            assert connection.execute(text("SELECT count(*) FROM form_request")).scalar_one() == 1
        assert {k: None if v is None else str(v) for k, v in back.items()} == OLD_VALUES


FLAG_ROWS = [
    # No explicit ids: PostgreSQL's sequence must count these rows for the later inserts.
    "INSERT INTO urgent_flag (team_id, resident_id, referral_id, episode_id, reason, raised_at) "
    "VALUES (1, 1, 1, 1, 'item9', '2026-01-01 10:00:00')",
    "INSERT INTO urgent_flag (team_id, resident_id, referral_id, reason, raised_at, closed_at, closed_by_id, "
    "closing_note) VALUES (1, 1, 1, 'crisis', '2026-01-01 10:00:00', '2026-01-02 10:00:00', 2, :note)",
]


def test_the_flag_reason_migration_encrypts_reasons_and_keeps_one_open_flag_per_reason(app):
    """0009: `urgent_flag.reason` is encrypted; the open flag gets its keyed `open_key`, the
    closed one none; raising the same reason again reuses the open flag; downgrade restores."""
    from sqlalchemy import text

    from rph_pwa.db import get_session
    from rph_pwa.services import urgent_flags

    with _database_with_old_rows(app) as (other, runner, engine):
        crypto = other.extensions["rph_crypto"]
        result = runner.invoke(args=["db", "upgrade", "0008_form_once"])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            for statement in FLAG_ROWS:
                connection.execute(text(statement), {"note": crypto.encrypt("Ringt, trygg")}
                                   if ":note" in statement else {})
        result = runner.invoke(args=["db", "upgrade", "0009_flag_reason_encrypted"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, reason, open_key FROM urgent_flag ORDER BY id")).all()
        assert [crypto.decrypt(r.reason) for r in rows] == ["item9", "crisis"]
        assert all(r.reason not in ("item9", "crisis") for r in rows)
        assert rows[0].open_key == crypto.lookup_hash("urgent_flag:1:item9") and rows[1].open_key is None

        # The ORM models are those of the newest schema (later migrations add columns).
        result = runner.invoke(args=["db", "upgrade", "heads"])
        assert result.exit_code == 0, result.output
        session = get_session()
        again = urgent_flags.raise_flag(session, resident_id=1, team_id=1, reason="item9", episode_id=1)
        crisis = urgent_flags.raise_flag(session, resident_id=1, team_id=1, reason="crisis", referral_id=1)
        session.commit()
        assert again.id == rows[0].id and crisis.id not in (rows[0].id, rows[1].id)
        session.close()

        result = runner.invoke(args=["db", "downgrade", "0008_form_once"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            reasons = connection.execute(text("SELECT reason FROM urgent_flag ORDER BY id")).scalars().all()
        assert reasons == ["item9", "crisis", "crisis"]
