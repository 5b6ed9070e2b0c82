"""Plain SQLAlchemy wiring: one engine per app, one Session per app context."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Primary keys are 32-bit integers on PostgreSQL: a larger id can exist nowhere, and asking the
#: database for one is an error there, so URLs and parameters are bounded to this.
MAX_ID = 2**31 - 1


def parse_id(value: object) -> int | None:
    """A database id from user input (URL query or form), or None if it cannot be one."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Database:
    """The engine and session factories of one app, kept in `app.extensions["rph_db"]`: the usual
    one, and `reading` for a request to a view marked `reads_only` (see there)."""

    def __init__(self, url: str, *, sqlite_begin: str = "IMMEDIATE") -> None:
        self.engine: Engine = make_engine(url, sqlite_begin=sqlite_begin)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.reading = sessionmaker(bind=self.engine.execution_options(sqlite_begin="DEFERRED"),
                                    expire_on_commit=False, info={"reads_only": True})
        event.listen(self.reading, "before_flush", _refuse_writes)
        event.listen(self.reading, "do_orm_execute", _refuse_write_statements)


class ReadOnlyViolation(RuntimeError):
    """A view marked `reads_only` tried to write (a programming error: drop the mark)."""


def _refuse_writes(session: Session, _context, _instances) -> None:
    raise ReadOnlyViolation("a reads_only view changed the database")


def _refuse_write_statements(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyViolation("a reads_only view changed the database")


def reads_only(view):
    """Mark a view that never writes. On SQLite its GET and HEAD requests begin their transaction
    DEFERRED (a WAL reader, beside any number of others and one writer) instead of IMMEDIATE, which
    would queue every request behind every other for the write lock: a page many people open at
    once (the resident home) then runs in parallel. A write in such a request raises
    ReadOnlyViolation, since a DEFERRED transaction asked for the write lock can fail at once
    ("database is locked") instead of waiting its turn. PostgreSQL is the same either way."""
    view.reads_only = True
    return view


def request_reads_only() -> bool:
    """Whether this request (a GET or HEAD of a `reads_only` view) gets the reading session."""
    if not has_request_context() or request.method not in ("GET", "HEAD") or request.endpoint is None:
        return False
    return getattr(current_app.view_functions.get(request.endpoint), "reads_only", False)


#: How an SQLite transaction starts (`SQLITE_BEGIN`). A DEFERRED transaction reads first and
#: asks for the write lock at its first write, which fails at once ("database is locked", no
#: waiting) when another connection wrote since the read began. IMMEDIATE takes the write lock at
#: BEGIN and waits its turn (up to the 30 s busy timeout): writers queue instead of failing.
#: WAL readers never block it.
SQLITE_BEGIN_MODES = ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")


def make_engine(url: str, *, sqlite_begin: str = "IMMEDIATE") -> Engine:
    """Create an engine; SQLite gets foreign keys on and real transactions (for savepoints),
    begun as `sqlite_begin` (one of SQLITE_BEGIN_MODES)."""
    if url.startswith("sqlite"):
        begin = sqlite_begin.upper()
        if begin not in SQLITE_BEGIN_MODES:
            raise ValueError(f"SQLITE_BEGIN must be one of {', '.join(SQLITE_BEGIN_MODES)}, not {sqlite_begin!r}")
        # hide_parameters: a failed statement's values (answers, names) never reach a log message.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted or rewritten rows leave no old text behind
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # pragma: no cover - trivial
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', begin)}")

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def init_app(app: Flask) -> None:
    """Bind the database to the app and close the session at the end of each app context."""
    app.extensions["rph_db"] = Database(app.config["SQLALCHEMY_DATABASE_URL"],
                                        sqlite_begin=app.config.get("SQLITE_BEGIN", "IMMEDIATE"))
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The Session of the current app context (created on first use)."""
    if "db_session" not in g:
        database = current_app.extensions["rph_db"]
        g.db_session = (database.reading if request_reads_only() else database.sessionmaker)()
    return g.db_session


@contextmanager
def committed_at_once() -> Iterator[Session]:
    """A Session to write in, committed when the block ends: the request's own, or in a
    `reads_only` request (whose session refuses writes) a new one beside it, for the one write such
    a request may still have to make (signing out an idle staff member). The reading session holds
    no lock, so the new one's IMMEDIATE transaction does not wait for it."""
    session = get_session()
    if not session.info.get("reads_only"):
        yield session
        session.commit()
        return
    with current_app.extensions["rph_db"].sessionmaker() as own:
        yield own
        own.commit()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
