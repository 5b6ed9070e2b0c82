"""Helpers for the concurrency tests: many clients, each in its own thread, started together."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

#: How many requests run at the same moment (the issue's "20 clients").
PARALLEL = 20


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, released at once by a barrier. Each result is the call's
    return value, or the exception it raised (the app runs with TESTING, so an error in a view
    propagates here instead of becoming a 500 page)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def same_browser(app, signed_in):
    """A new Flask test client with the session cookie of `signed_in`: another tab of one browser."""
    other = app.test_client()
    cookie = signed_in.get_cookie(app.config["SESSION_COOKIE_NAME"])
    other.set_cookie(cookie.key, cookie.value)
    return other
