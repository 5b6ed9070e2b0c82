"""The app as deployed, for throughput and load benchmarks: gunicorn on loopback, a small load
generator of our own (threads, keep-alive connections, a cookie jar per virtual user), and signed-in
sessions made without the sign-in pages (a login session and Flask's signed session cookie).

Loopback only and bounded in time: nothing here talks to another host.
"""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from rph_pwa.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, *, env: dict[str, str], workers: int = 4, threads: int = 1,
             ready_path: str = "/healthz", log: Path | None = None) -> Iterator[str]:
    """gunicorn serving `app_spec` (e.g. "rph_pwa:create_app()") on a free loopback port with
    `workers` processes (`threads` > 1: the gthread worker); yields its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "--chdir", str(ROOT)]
    if threads > 1:
        args += ["-k", "gthread", "--threads", str(threads)]
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([*args, app_spec], env={**os.environ, **env}, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (exit {proc.returncode}); see {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", ready_path)
                if conn.getresponse().status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Client:
    """One virtual user: a keep-alive connection to `base` and the cookies the server set."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        sent = {"Accept-Encoding": "gzip, deflate, br", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=sent)
                answer = self.conn.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()  # the server closed a kept-alive connection: open a new one, once
                if attempt == 2:
                    raise
        for value in answer.headers.get_all("Set-Cookie") or ():
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        headers = {k.lower(): v for k, v in answer.getheaders()}
        return Response(answer.status, headers, decoded(data, headers.get("content-encoding", "")))

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def close(self) -> None:
        self.conn.close()


def decoded(data: bytes, encoding: str) -> bytes:
    """The body as the page was written: a browser unpacks what the server compressed (the request
    offered gzip, deflate and br), and so do the scripts, which look for a form's CSRF token."""
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    if encoding in ("gzip", "deflate"):
        return zlib.decompress(data, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    if encoding not in ("", "identity"):
        raise ValueError(f"an encoding the request did not offer: {encoding}")
    return data


@dataclass
class LoadResult:
    """Requests, errors and latencies (ms) of one load run, per label and in all."""

    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float, label: str | None = None) -> float:
        samples = sorted(self.latencies.get(label, []) if label else
                         [x for v in self.latencies.values() for x in v])
        if not samples:
            return float("nan")
        return samples[min(len(samples) - 1, int(len(samples) * p / 100))]


#: A virtual user's script: called again and again with its client and a `step(label, response_ok)`
#: recorder until time is up; it makes requests with `timed(label, method, path, ...)`.
Script = Callable[["Session"], None]


class Session:
    """What a script sees: its client and `timed`, which makes one request and records it."""

    def __init__(self, client: Client, result: LoadResult, lock: threading.Lock, stop_at: float,
                 ok: Callable[[Response], bool]) -> None:
        self.client, self._result, self._lock, self.stop_at, self._ok = client, result, lock, stop_at, ok

    @property
    def done(self) -> bool:
        return time.monotonic() >= self.stop_at

    def timed(self, label: str, method: str, path: str, *, expect: Callable[[Response], bool] | None = None,
              **kw) -> Response | None:
        start = time.perf_counter()
        try:
            response = self.client.request(method, path, **kw)
            failed = not (expect or self._ok)(response)
            why = f"{label}: {method} {path} answered {response.status}"
        except Exception as exc:  # noqa: BLE001 - a failed request is an error of the run, counted
            response, failed, why = None, True, f"{label}: {method} {path} raised {exc!r}"
        elapsed = (time.perf_counter() - start) * 1000
        with self._lock:
            self._result.latencies.setdefault(label, []).append(elapsed)
        if failed:
            self.failed(why, label)
        return None if failed else response

    def failed(self, why: str, label: str = "script") -> None:
        """Count an error of the run under `label`, and keep its first few reasons."""
        with self._lock:
            self._result.errors[label] = self._result.errors.get(label, 0) + 1
            if len(self._result.error_samples) < 10:
                self._result.error_samples.append(why)


def run_load(base: str, users: list[tuple[Script, dict[str, str]]], *, seconds: float,
             ok: Callable[[Response], bool] = lambda r: r.status == 200) -> LoadResult:
    """Run each (script, cookies) as a virtual user in its own thread for `seconds`; every
    request is timed and an answer `ok` does not accept counts as an error."""
    result, lock = LoadResult(seconds=seconds), threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(script: Script, cookies: dict[str, str]) -> None:
        client = Client(base, cookies)
        session = Session(client, result, lock, stop_at, ok)
        try:
            while not session.done:
                try:
                    script(session)
                except Exception as exc:  # noqa: BLE001 - a script that cannot go on is an error of the run
                    session.failed(f"the script stopped: {exc!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=user, args=pair, daemon=True) for pair in users]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    result.seconds = time.monotonic() - started
    return result


def session_cookie(app, *, user, staff: bool = False) -> dict[str, str]:
    """The cookies of `user` signed in (a new login session, Flask's signed session cookie),
    made without the sign-in pages. Needs an app context; commits the login session."""
    from datetime import datetime, timezone

    from rph_pwa.db import get_session
    from rph_pwa.services import login_sessions

    db = get_session()
    token = login_sessions.start_login_session(db, user=user, method="bench")
    db.commit()
    data = {"_user_id": token, "_fresh": True}
    if staff:
        data["last_active"] = datetime.now(timezone.utc).timestamp()
    serializer = app.session_interface.get_signing_serializer(app)
    return {app.config.get("SESSION_COOKIE_NAME", "session"): serializer.dumps(data)}
