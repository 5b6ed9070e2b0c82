"""What a first visit costs on the wire: `python -m bench.transfer`.

The app runs on a real server on loopback (Werkzeug's, threaded) whose request handler counts
every byte it writes to the socket: status line, headers and body as sent, after compression
(and chunk framing). Debian's Chromium, driven by Playwright, opens each public page in a FRESH
browser context (empty HTTP cache, no service worker) and waits until the service worker is
active and the server has been quiet for a moment: the figure is the page, its assets and
everything the worker fetched on install. Then a later page in the same context (assets come from
the HTTP cache or the worker), and then the same context offline: the crisis page and the offline
page must show with nothing sent.

Goals (issue 15): a first visit <= 60 KB, a later page <= 10 KB, offline 0 bytes.
Nothing here is asserted; tests check the headers and the precache list (tests/test_assets.py).
"""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from bench import print_table
from rph_pwa import create_app
from rph_pwa.config import TestConfig

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
FIRST_VISITS = ("/", "/hjelp", "/login", "/referral/")
#: The page opened after each first visit (another public page of the same site).
LATER = {"/": "/about", "/hjelp": "/", "/login": "/personvern", "/referral/": "/hjelp"}
FIRST_GOAL = 60 * 1024
LATER_GOAL = 10 * 1024
#: The server counts as quiet when nothing was sent for this long (seconds).
QUIET = 0.6

WORKER_ACTIVE = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return registration.active ? registration.active.state : null;
}"""


class Meter:
    """Bytes written to clients, with the requests they answered (path, bytes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0
        self.last = time.monotonic()
        self.requests: list[tuple[str, int]] = []

    def add(self, count: int) -> None:
        with self.lock:
            self.sent += count
            self.last = time.monotonic()

    def answered(self, path: str, count: int) -> None:
        with self.lock:
            self.requests.append((path, count))

    def reset(self) -> None:
        with self.lock:
            self.sent = 0
            self.requests = []

    def wait_quiet(self, quiet: float = QUIET, limit: float = 20) -> int:
        """Wait until nothing was sent for `quiet` seconds; the bytes sent since the last reset."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - self.last < quiet:
            time.sleep(0.05)
        return self.sent


class CountingWriter:
    """The socket's write side, counting what goes through it."""

    def __init__(self, raw, meter: Meter) -> None:
        self.raw = raw
        self.meter = meter
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        self.meter.add(len(data))
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def counting_handler(meter: Meter) -> type[WSGIRequestHandler]:
    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.wfile = CountingWriter(self.wfile, meter)

        def handle_one_request(self) -> None:
            before = self.wfile.count
            super().handle_one_request()
            if self.wfile.count > before:
                meter.answered(getattr(self, "path", "?"), self.wfile.count - before)

        def log_request(self, *args, **kwargs) -> None:  # quiet
            pass

    return Handler


def serve_app(handler: type[WSGIRequestHandler] | None = None):
    """The app (production-like: no template reloading) on a fresh SQLite database, served on a
    free loopback port by Werkzeug's threaded server in a thread; `.shutdown()` stops it."""
    tmp = Path(tempfile.mkdtemp(prefix="rph-transfer-"))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
                     MAIL_BACKEND="outbox", MAIL_OUTBOX=str(tmp / "outbox"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    server = make_server("localhost", 0, app, threaded=True, request_handler=handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def resident_cookie(app) -> dict:
    """The session cookie of a new resident signed in (as after an e-mail code), for the browser."""
    from flask import session

    from rph_pwa.auth.signin import sign_in
    from rph_pwa.db import get_session
    from rph_pwa.models import Municipality, Team, User

    with app.test_request_context("/"):
        db = get_session()
        municipality = Municipality(number="9999", name="Benchby")
        team = Team(name="Bench team", phone="22 33 44 55", inbox_email="team@example.no",
                    municipalities=[municipality])
        db.add(team)
        db.flush()
        resident = User(role="resident", home_municipality_id=municipality.id, team_id=team.id,
                        display_name="Bench Beboer")
        db.add(resident)
        db.flush()
        sign_in(resident, method="code")
        db.commit()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": value, "domain": "localhost", "path": "/"}


def kb(count: int) -> str:
    return f"{count / 1024:6.1f} KB"


def verdict(count: int, goal: int) -> str:
    return f"{kb(count)}   goal: <= {goal // 1024} KB, {'met' if count <= goal else 'NOT met'}"


def top(meter: Meter, n: int = 4) -> str:
    """The largest answers of the last measurement, for the note."""
    largest = sorted(meter.requests, key=lambda r: -r[1])[:n]
    return ", ".join(f"{path.split('?')[0]} {count / 1024:.1f}" for path, count in largest)


def twice(meter: Meter) -> list[str]:
    """Static files whose whole body went out more than once in the last measurement (a 304 is
    under 1 KB and does not count: the browser checked a copy it had). The worker fetches the page
    itself again on purpose: its offline copy is the anonymous page, fetched without cookies."""
    full = [path for path, count in meter.requests if count > 1024 and path.startswith("/static/")]
    return sorted({path.split("?")[0] for path in full if full.count(path) > 1})


def main() -> None:
    from playwright.sync_api import sync_playwright

    meter = Meter()
    server = serve_app(counting_handler(meter))
    base = f"http://localhost:{server.server_port}"
    cookie = resident_cookie(server.app)
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for path in FIRST_VISITS:
                rows.extend(visit(browser, base, path, meter, notes, cookie if path == "/" else None))
            browser.close()
    finally:
        server.shutdown()
    print_table("First visit and later pages, bytes sent by the server (Chromium, fresh context each)",
                rows, "largest answers (KB): " + "; ".join(notes))


def visit(browser, base: str, path: str, meter: Meter, notes: list[str],
          cookie: dict | None = None) -> list[tuple[str, str]]:
    """The rows of one first visit of `path`, a later page (and with `cookie`, the resident's home
    once signed in) and the same context offline."""
    context = browser.new_context(base_url=base, locale="nb-NO", **PHONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    rows: list[tuple[str, str]] = [(f"{path}", "")]
    try:
        meter.reset()
        page.goto(path)
        state = page.evaluate(WORKER_ACTIVE)
        first = meter.wait_quiet()
        notes.append(f"{path}: {top(meter)}")
        rows.append(("  first visit (page, assets, worker install)",
                     verdict(first, FIRST_GOAL) + ("" if state else "  (no active worker)")))
        again = twice(meter)
        rows.append(("  static files sent twice",
                     f"{len(again)} {', '.join(again)}   goal: 0, {'met' if not again else 'NOT met'}"))

        later = LATER[path]
        meter.reset()
        page.goto(later)
        page.wait_for_load_state("load")
        rows.append((f"  later page {later}", verdict(meter.wait_quiet(), LATER_GOAL)))
        if cookie is not None:
            context.add_cookies([cookie])
            meter.reset()
            page.goto("/me")
            page.wait_for_load_state("load")
            home = meter.wait_quiet()
            rows.append(("  later page /me (signed-in resident)", verdict(home, LATER_GOAL)
                         + ("" if page.url.endswith("/me") else f"  (landed on {page.url})")))
            notes.append(f"/me: {top(meter)}")

        meter.reset()
        context.set_offline(True)
        shown = []
        for offline_path, selector in (("/hjelp", "a[href='tel:113']"), ("/offline", "main h1")):
            page.goto(offline_path)
            shown.append(page.locator(selector).count() > 0)
        sent = meter.wait_quiet(quiet=0.3)
        ok = all(shown) and sent == 0
        rows.append(("  offline: /hjelp and /offline",
                     f"{kb(sent)}   shown: {'yes' if all(shown) else 'NO'}   goal: 0 bytes and shown, "
                     f"{'met' if ok else 'NOT met'}"))
    finally:
        context.close()
    return rows


if __name__ == "__main__":
    main()
