"""SMS through a provider interface: one real HTTP adapter configured from the environment, and a
file outbox for development and tests.

Every message carries a client reference (the delivery's token). A provider that has already
accepted a reference does not send it again, so a message sent again after a crash collapses
instead of arriving twice; the file outbox does the same by naming each file after it.

The HTTP adapter posts JSON to SMS_API_URL with `Authorization: Bearer SMS_API_TOKEN`:
`{"to": "+4791234567", "from": SMS_SENDER, "text": "...", "reference": "<token>"}`. Any 2xx
answer is success; 408, 429 and 5xx (and timeouts) are tried again later; other 4xx answers are
refused for good. Most Norwegian gateways take this shape or need a small adapter like it.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import phonenumbers
import requests

TIMEOUT = 10
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class SmsError(Exception):
    """The SMS was not sent. `permanent`: trying again cannot help (a bad number, a refusal)."""

    def __init__(self, kind: str, *, permanent: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind[:60]
        self.permanent = permanent


class SmsSender(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> None: ...


def international(number: str) -> str:
    """The number in E.164 form (+47...), or SmsError(permanent) when it cannot be a phone number."""
    try:
        parsed = phonenumbers.parse(number, "NO")
    except phonenumbers.NumberParseException as exc:
        raise SmsError("Bad number", permanent=True) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise SmsError("Bad number", permanent=True)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class FileOutbox:
    """Writes each SMS as `<reference>.json` in a folder (replacing one with the same reference)."""

    folder: str
    sender: str

    def send(self, *, to: str, text: str, reference: str) -> None:
        if not _REFERENCE.match(reference):
            raise SmsError("Bad reference", permanent=True)
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"to": international(to), "from": self.sender, "text": text, "reference": reference},
                          ensure_ascii=False)
        # Written whole, then renamed: a reader never sees half a message.
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(temporary, folder / f"{reference}.json")


@dataclass(frozen=True)
class HttpGateway:
    """Posts each SMS to an HTTP API (see the module docstring for the request)."""

    url: str
    token: str
    sender: str
    timeout: float = TIMEOUT

    def send(self, *, to: str, text: str, reference: str) -> None:
        body = {"to": international(to), "from": self.sender, "text": text, "reference": reference}
        try:
            response = requests.post(self.url, json=body, timeout=self.timeout,
                                     headers={"Authorization": f"Bearer {self.token}"})
        except requests.Timeout as exc:
            raise SmsError("Timeout") from exc
        except (requests.RequestException, OSError) as exc:
            raise SmsError(type(exc).__name__) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        raise SmsError(f"HTTP {status}", permanent=400 <= status < 500 and status not in (408, 429))


def read_outbox(folder: str) -> list[dict]:
    """The messages in a file outbox (tests and the development outbox page)."""
    path = Path(folder)
    if not path.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.json"))]


def sender_from_config(config) -> SmsSender | None:
    """The configured SMS sender, or None when SMS is off."""
    backend = config.get("SMS_BACKEND") or ""
    if backend == "outbox":
        return FileOutbox(config["SMS_OUTBOX"], config["SMS_SENDER"])
    if backend == "http":
        if not config.get("SMS_API_URL"):
            raise RuntimeError("SMS_BACKEND=http needs SMS_API_URL")
        return HttpGateway(config["SMS_API_URL"], config.get("SMS_API_TOKEN", ""), config["SMS_SENDER"])
    if backend:
        raise RuntimeError(f"SMS_BACKEND must be 'outbox', 'http' or empty, not {backend!r}")
    return None
