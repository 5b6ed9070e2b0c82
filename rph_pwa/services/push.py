"""Web Push through pywebpush: one encrypted message (RFC 8291) to one subscription, signed with
the app's VAPID key (RFC 8292).

The message carries a `Topic` header (the delivery's token): a push service keeps only the newest
message per topic for a device, so a message sent again after a crash replaces the first instead
of showing twice. The signature is reused per push service for an hour (signing each message
would cost more than encrypting it).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

#: How long a VAPID signature is used (seconds) and how long it is valid (at most 24 hours).
SIGNATURE_REUSE = 3600
SIGNATURE_VALID = 12 * 3600
#: Seconds to wait for the push service.
TIMEOUT = 10


@dataclass(frozen=True)
class PushResult:
    """What the push service answered: `ok`, `gone` (the subscription no longer exists: 404/410,
    forget it) or a transient failure (`error` names its kind; try again later)."""

    ok: bool = False
    gone: bool = False
    error: str | None = None


class PushSender:
    """Sends Web Push messages with one VAPID key; safe to use from several threads."""

    def __init__(self, *, private_key: str, subject: str, timeout: float = TIMEOUT) -> None:
        self._vapid = Vapid02.from_string(private_key)
        self._subject = subject
        self._timeout = timeout
        self._signatures: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def _authorization(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._signatures.get(audience)
            if cached is None or cached[0] < now:
                claims = {"sub": self._subject, "aud": audience, "exp": int(now + SIGNATURE_VALID)}
                cached = (now + SIGNATURE_REUSE, self._vapid.sign(claims))
                self._signatures[audience] = cached
        return dict(cached[1])

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: bytes, topic: str, ttl: int) -> PushResult:
        """Encrypt `payload` for the subscription and post it; never raises for the service's answer."""
        headers = self._authorization(endpoint)
        headers.update({"Topic": topic, "Urgency": "normal"})
        pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                           requests_session=self._session())
        try:
            response = pusher.send(data=payload, headers=headers, ttl=max(ttl, 60), timeout=self._timeout)
        except requests.Timeout:
            return PushResult(error="Timeout")
        except (requests.RequestException, WebPushException, OSError) as exc:
            return PushResult(error=type(exc).__name__[:60])
        except ValueError:  # keys the encryption cannot use: this subscription can never work
            return PushResult(gone=True, error="Invalid keys")
        if response.status_code in (404, 410):
            return PushResult(gone=True, error=f"HTTP {response.status_code}")
        if 200 <= response.status_code < 300:
            return PushResult(ok=True)
        return PushResult(error=f"HTTP {response.status_code}")
