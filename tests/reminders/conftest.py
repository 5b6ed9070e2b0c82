"""Fixtures of the reminder tests: a Web Push service on loopback (tests/reminders/stubs.py)."""
from __future__ import annotations

import pytest

from tests.reminders.stubs import PushService


@pytest.fixture(scope="module")
def push_service():
    """One push service per test module; tests use their own subscriptions' paths."""
    service = PushService()
    yield service
    service.close()
