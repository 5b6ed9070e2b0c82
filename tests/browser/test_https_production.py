"""Production mode over HTTPS: the app as it is deployed (gunicorn, RPH_ENV=production, Secure
cookies, HSTS, Flask-WTF's strict HTTPS checks) with a throw-away certificate made here.

A resident signs in by e-mail code, makes a passkey and signs in with it; a staff member signs in
with password + TOTP. Mail goes through the real outbox and the `flask scheduler` process to the
loopback SMTP server, as in production.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port

BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-passord-2026"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, valid for one day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _wait_for(url: str, context: ssl.SSLContext, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(url, context=context, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the HTTPS server did not start")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def production(tmp_path_factory, smtp_server):
    """The app in production mode behind gunicorn with TLS, its scheduler, and demo data."""
    folder = tmp_path_factory.mktemp("https")
    cert, key = make_certificate(folder)
    port = free_port()
    origin = f"https://localhost:{port}"
    controller, _mailbox = smtp_server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "RPH_", "TEST_DATABASE"))},
        "RPH_ENV": "production",
        "SECRET_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{folder / 'prod.sqlite3'}",
        "FIELD_KEYS": Fernet.generate_key().decode(),
        "LOOKUP_KEY": Fernet.generate_key().decode(),
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": origin,
        "PUBLIC_BASE_URL": origin,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(controller.port),
        "MAIL_SENDER": "no-reply@localhost",
        "SIGNIN_RATE_LIMIT": "1000 per minute",
        "SCHEDULER_OUTBOX_SECONDS": "1",
    }
    flask = [str(BIN / "flask"), "--app", "rph_pwa"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    demo = subprocess.run([*flask, "demo-data"], env=env, check=True, capture_output=True, text=True).stdout
    secret = re.search(r"terapeut\s+\S+\s+TOTP secret (\S+)", demo).group(1)

    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"localhost:{port}", "--workers", "1", "--threads", "4",
         "--certfile", str(cert), "--keyfile", str(key), "rph_pwa:create_app()"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    scheduler = subprocess.Popen([*flask, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        context = ssl.create_default_context(cafile=str(cert))
        _wait_for(origin + "/healthz", context, server)
        yield {"origin": origin, "totp_secret": secret}
    finally:
        _stop(scheduler)
        _stop(server)


@pytest.fixture
def https_page(browser, production):
    from tests.browser.conftest import PHONE

    context = browser.new_context(base_url=production["origin"], ignore_https_errors=True, locale="nb-NO",
                                  **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _wait_for_code(mailbox, address: str, after: int, seconds: float = 20) -> str:
    """The code in the first message to `address` after the first `after` ones (the scheduler
    delivers it within a few seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = mailbox.received_to(address) if hasattr(mailbox, "received_to") else mailbox.to(address)
        if len(messages) > after:
            body = messages[after].get_body(("plain",)).get_content()
            return re.search(r"\b(\d{6})\b", body).group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code reached {address}")


def _count(mailbox, address: str) -> int:
    return len(mailbox.received_to(address) if hasattr(mailbox, "received_to") else mailbox.to(address))


def test_production_headers_over_https(https_page, production):
    response = https_page.goto("/login/code")  # a form: its token starts the session cookie
    headers = response.headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin")
    cookies = https_page.context.cookies()
    assert cookies and all(c["secure"] for c in cookies)


def test_resident_signs_in_by_code_then_by_passkey_over_https(https_page, production, mailbox):
    page = https_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    address = "kari@example.no"
    seen = _count(mailbox, address)

    page.goto("/login/code")
    page.locator("#email").fill(address)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/login/code/verify")
    page.locator("#code").fill(_wait_for_code(mailbox, address, seen))
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/account/passkeys")

    page.locator("#passkey-name").fill("Telefon")
    page.get_by_role("button", name=re.compile("Legg til passnøkkel|Add passkey", re.I)).click()
    page.locator("input[id^=name-]").first.wait_for()

    page.get_by_role("button", name=re.compile("Logg ut|Sign out")).click()
    page.wait_for_url("**/signed-out")
    page.context.clear_cookies()  # a first visit: the kept page carries no token, the script fetches one
    page.goto("/login")
    assert page.locator("meta[name=csrf-token]").count() == 0
    page.get_by_role("button", name=re.compile("Logg inn med passnøkkel|Sign in with passkey", re.I)).click()
    page.wait_for_url("**/me")
    assert "Kari" in page.content()


def test_staff_signs_in_with_password_and_totp_over_https(https_page, production):
    page = https_page
    page.goto("/staff/login")
    page.locator("#username").fill("terapeut")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/staff/login/second-factor")
    page.locator("#code").fill(pyotp.TOTP(production["totp_secret"]).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/therapist/")
    assert page.url.startswith(production["origin"])
