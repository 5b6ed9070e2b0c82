"""Throughput under gunicorn: the public pages and the signed-in resident home against a bare Flask
endpoint, side by side in one run.

    python -m bench.throughput

The app runs as in production (RPH_ENV=production: debug off, templates not reloaded, throw-away
secrets) on a fresh SQLite file with the demo data, over plain HTTP on loopback. The yardstick is
bench/bare.py (one endpoint returning a small HTML string). Both are served by gunicorn with the
same settings (WORKERS sync workers, as the README's production section recommends) and loaded by
the same generator (bench/serve.py: CONNECTIONS keep-alive users with their own cookie jars).

Each page is measured in ROUNDS slices of SLICE seconds, each right after a slice of the bare
endpoint, so its ratio compares runs seconds apart on a machine whose load changes. The ratio is
the page's requests per second over those bare slices'. Anonymous visitors start without cookies
(their jar keeps what the server sets); the resident home is per@example.no of the demo data,
signed in without the sign-in pages. Goals: public pages >= 0.5x, the resident home >= 0.3x,
no errors. Nothing is asserted.

For reference (no goal), the same slices for bench/signed_in_floor.py: our app with one endpoint
that only does what every signed-in page does first (session, login session, user, headers) and
returns a small string; the fastest any signed-in page of this app can be.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import print_table
from bench.serve import LoadResult, gunicorn, run_load, session_cookie

#: gunicorn sync workers for both servers (the README's production recommendation is `-w 4`).
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONNECTIONS = 20
SLICE = float(os.environ.get("BENCH_SLICE", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
WARM_UP = 1.0
RESIDENT_EMAIL = "per@example.no"
#: (label, path, signed in, goal as a ratio to the bare endpoint)
PAGES = [("front page", "/", False, 0.5),
         ("crisis help", "/hjelp", False, 0.5),
         ("sign-in", "/login", False, 0.5),
         ("self-referral start", "/referral/", False, 0.5),
         ("courses", "/kurs", False, 0.5),
         ("resident home", "/me", True, 0.3)]
#: Not a goal: the fastest any signed-in page can be (bench/signed_in_floor.py), for reference.
FLOOR = ("signed-in floor: our app, signed in, a small string", "/bench/signed-in-floor", True, None)


@dataclass
class Tally:
    """The slices of one target: requests, seconds, latencies and errors added up."""

    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, result: LoadResult) -> None:
        self.requests += result.requests
        self.seconds += result.seconds
        self.latencies += [x for v in result.latencies.values() for x in v]
        self.errors += result.error_count
        self.samples += result.error_samples[:3]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def production_env(database_url: str) -> dict[str, str]:
    """ProductionConfig's required settings with throw-away values (loopback, plain HTTP)."""
    from rph_pwa.crypto import generate_key

    return {"RPH_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(32),
            "FIELD_KEYS": generate_key(), "LOOKUP_KEY": secrets.token_urlsafe(32),
            "WEBAUTHN_RP_ID": "127.0.0.1", "WEBAUTHN_ORIGIN": "https://127.0.0.1",
            "PUBLIC_BASE_URL": "https://127.0.0.1", "MAIL_BACKEND": "outbox", "SMS_BACKEND": "",
            "MAIL_OUTBOX": str(Path(database_url.removeprefix("sqlite:///")).parent / "outbox")}


def demo_database(env: dict[str, str], users: int) -> list[dict[str, str]]:
    """Migrate the database in `env` and load the demo data with `env`'s keys; return `users`
    cookie jars of per@example.no, each a login session of its own."""
    from alembic import command

    from rph_pwa import create_app
    from rph_pwa.cli import alembic_config
    from rph_pwa.config import Config
    from rph_pwa.crypto import field_crypto
    from rph_pwa.db import get_session
    from rph_pwa.demo import load_demo_data
    from rph_pwa.services.accounts import find_by_email

    app = create_app(Config, SQLALCHEMY_DATABASE_URL=env["DATABASE_URL"], SECRET_KEY=env["SECRET_KEY"],
                     FIELD_KEYS=[env["FIELD_KEYS"]], LOOKUP_KEY=env["LOOKUP_KEY"],
                     MAIL_OUTBOX=env["MAIL_OUTBOX"])
    with app.app_context():
        command.upgrade(alembic_config(), "heads")
        db = get_session()
        load_demo_data(db, crypto=field_crypto())
        db.commit()
        resident = find_by_email(db, RESIDENT_EMAIL, field_crypto())
        if resident is None:
            raise RuntimeError(f"the demo data has no {RESIDENT_EMAIL}")
        return [session_cookie(app, user=resident) for _ in range(users)]


def measure(base: str, path: str, jars: list[dict[str, str]], seconds: float) -> LoadResult:
    """CONNECTIONS users GETting `path` again and again for `seconds` (each with its jar)."""
    def script(session) -> None:
        session.timed(path, "GET", path)

    return run_load(base, [(script, dict(jar)) for jar in jars], seconds=seconds)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = production_env(f"sqlite:///{Path(folder) / 'throughput.sqlite3'}")
        resident_jars = demo_database(env, CONNECTIONS)
        anonymous_jars = [{} for _ in range(CONNECTIONS)]
        log = Path(folder) / "gunicorn.log"
        bare_tally: dict[str, Tally] = {path: Tally() for _, path, _, _ in PAGES}
        page_tally: dict[str, Tally] = {path: Tally() for _, path, _, _ in PAGES}
        bare_tally[FLOOR[1]], page_tally[FLOOR[1]] = Tally(), Tally()
        with gunicorn("bench.bare:app", env=env, workers=WORKERS, log=log) as bare, \
                gunicorn("rph_pwa:create_app()", env=env, workers=WORKERS, ready_path="/hjelp", log=log) as app, \
                gunicorn("bench.signed_in_floor:app", env=env, workers=WORKERS, ready_path="/hjelp", log=log) as floor:
            measure(bare, "/", anonymous_jars, WARM_UP)
            measure(floor, FLOOR[1], resident_jars, WARM_UP)
            for _, path, signed_in, _ in PAGES:
                measure(app, path, resident_jars if signed_in else anonymous_jars, WARM_UP)
            for _ in range(ROUNDS):
                for _, path, signed_in, _ in PAGES:
                    bare_tally[path].add(measure(bare, "/", anonymous_jars, SLICE))
                    page_tally[path].add(measure(app, path, resident_jars if signed_in else anonymous_jars, SLICE))
                bare_tally[FLOOR[1]].add(measure(bare, "/", anonymous_jars, SLICE))
                page_tally[FLOOR[1]].add(measure(floor, FLOOR[1], resident_jars, SLICE))
        rows = report(bare_tally, page_tally)
        errors = [s for t in (*bare_tally.values(), *page_tally.values()) for s in t.samples]
        if errors:
            rows.append(("errors (first few)", ""))
            rows += [(f"  {sample}", "") for sample in errors[:10]]
    print_table(f"Throughput under gunicorn ({WORKERS} sync workers each, {CONNECTIONS} keep-alive connections, "
                f"{ROUNDS} x {SLICE:g} s per page, each slice after a bare slice)", rows,
                "Ratio: the page's requests/s over the bare endpoint's in the slices just before it. "
                "RPH_ENV=production on SQLite with the demo data; loopback, plain HTTP.")


def report(bare_tally: dict[str, Tally], page_tally: dict[str, Tally]) -> list[tuple[str, str]]:
    """One row per page and one for the bare endpoint overall, with goals and met/NOT met."""
    everything = Tally()
    for tally in bare_tally.values():
        everything.requests += tally.requests
        everything.seconds += tally.seconds
        everything.latencies += tally.latencies
        everything.errors += tally.errors
    rows = [("bare Flask endpoint (all slices)", figures(everything) + "   goal: 0 errors, "
             + ("met" if everything.errors == 0 else "NOT met"))]
    for label, path, _, goal in PAGES:
        page, bare = page_tally[path], bare_tally[path]
        ratio = page.per_second / bare.per_second if bare.per_second else 0.0
        met = ratio >= goal and page.errors == 0
        rows.append((f"GET {path} ({label})", f"{figures(page)}, {ratio:4.2f}x bare ({bare.per_second:5.0f}/s)"
                     f"   goal: >= {goal}x, 0 errors, {'met' if met else 'NOT met'}"))
    label, path, _, _ = FLOOR
    if page_tally.get(path) and page_tally[path].requests:
        floor, bare = page_tally[path], bare_tally[path]
        ratio = floor.per_second / bare.per_second if bare.per_second else 0.0
        rows.append((f"GET {path} ({label})", f"{figures(floor)}, {ratio:4.2f}x bare ({bare.per_second:5.0f}/s)"
                     "   reference, no goal"))
        home = page_tally["/me"]
        rows.append(("  the resident home over this floor",
                     f"{home.per_second / floor.per_second if floor.per_second else 0.0:4.2f}x"))
    return rows


def figures(tally: Tally) -> str:
    return (f"{tally.per_second:6.0f} req/s, p50 {tally.percentile(50):5.1f} ms, p95 {tally.percentile(95):5.1f} ms, "
            f"{tally.errors} errors")


if __name__ == "__main__":
    main()
