"""Configuration classes, read from the environment.

`Config` is the development default: an embedded SQLite file, a development outbox for mail and
development-only keys. `ProductionConfig` refuses to start without real secrets.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Development-only keys. They are public (in the source), so ProductionConfig never uses them.
_DEV_FIELD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA="
_DEV_SECRET = "development-only-secret-key-never-use-in-production"
# Development-only VAPID key pair (Web Push). Public as well: production sets its own or has no push.
_DEV_VAPID_PRIVATE = "v6PRqdVpI5IeGSRsYqr4x9dYUHAOH9vbUbZohM_HFUU"
_DEV_VAPID_PUBLIC = "BOpYTd1dvdevRgICTXW6csl7RHv4LrEhJ9G6PYQI0CuVvYJqSd4K9jwHFOFZRGHW_kNKQzKg0eghczdWcr8Es0s"


#: Interface languages, each named in its own language; the first is the default.
LANGUAGE_NAMES = {"nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English"}


def normalise_database_url(url: str) -> str:
    """Map the usual `postgres://` spellings to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


class Config:
    """Development defaults. Every value can be overridden from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET)
    SQLALCHEMY_DATABASE_URL = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'rph.sqlite3'}")
    )
    #: How SQLite transactions begin (the web app, CLI commands and the scheduler alike): IMMEDIATE
    #: takes the write lock at BEGIN, so parallel requests queue instead of failing with
    #: "database is locked". Ignored on PostgreSQL. See docs/architecture.md.
    SQLITE_BEGIN = os.environ.get("SQLITE_BEGIN", "IMMEDIATE")
    #: Fernet keys for field encryption, newest first (comma separated in FIELD_KEYS).
    FIELD_KEYS = _env_list("FIELD_KEYS", _DEV_FIELD_KEY)
    #: Key for keyed hashes used to look up e-mail addresses without storing them in clear.
    LOOKUP_KEY = os.environ.get("LOOKUP_KEY", "development-only-lookup-key")

    WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "localhost")
    WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", "Rask psykisk helsehjelp")
    WEBAUTHN_ORIGIN = os.environ.get("WEBAUTHN_ORIGIN", "http://localhost:5000")

    #: "smtp" sends through MAIL_SERVER; "outbox" writes .eml files to MAIL_OUTBOX (development).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "outbox")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_STARTTLS = os.environ.get("MAIL_USE_STARTTLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "no-reply@localhost")
    MAIL_OUTBOX = os.environ.get("MAIL_OUTBOX", str(ROOT / "instance" / "outbox"))
    #: The scheduler process delivers queued mail this often (seconds).
    SCHEDULER_OUTBOX_SECONDS = float(os.environ.get("SCHEDULER_OUTBOX_SECONDS", "5"))
    #: /healthz answers 503 when a message has waited longer than this (sign-in codes and urgent
    #: notices depend on the scheduler process).
    MAIL_OUTBOX_MAX_AGE_SECONDS = int(os.environ.get("MAIL_OUTBOX_MAX_AGE_SECONDS", "300"))

    #: The name residents see for the installed app and on every notification (the lock screen
    #: shows who sent it): neutral by default, never the service's name. See README "Reminders".
    APP_NAME = os.environ.get("APP_NAME", "Mine avtaler")
    APP_SHORT_NAME = os.environ.get("APP_SHORT_NAME", "Avtaler")

    #: Reminders (the scheduler process sends them). Web Push needs a VAPID key pair: the private
    #: key as PEM or base64url (`flask --app rph_pwa generate-vapid` makes one) and the public key
    #: as base64url; without them push is off and reminders go by SMS or e-mail.
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", _DEV_VAPID_PRIVATE)
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", _DEV_VAPID_PUBLIC)
    #: Who push services may contact about our messages (mailto: or https:).
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@localhost")
    #: Push services the scheduler may post to (a subscription's endpoint must be at one of these
    #: hosts or below them), so a visitor cannot make the server post to an address of their choice.
    PUSH_SERVICE_HOSTS = tuple(_env_list(
        "PUSH_SERVICE_HOSTS", "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com"))
    #: "outbox" writes each SMS as a JSON file to SMS_OUTBOX (development, tests); "http" posts it
    #: to SMS_API_URL (see services/sms.py for the request); "" turns SMS off.
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "outbox")
    SMS_OUTBOX = os.environ.get("SMS_OUTBOX", str(ROOT / "instance" / "sms-outbox"))
    SMS_API_URL = os.environ.get("SMS_API_URL", "")
    SMS_API_TOKEN = os.environ.get("SMS_API_TOKEN", "")
    #: The SMS sender name (at most 11 letters or digits): neutral, never the service's name.
    SMS_SENDER = os.environ.get("SMS_SENDER", "Avtaler")
    #: The scheduler looks for due reminders this often (seconds).
    REMINDER_SECONDS = float(os.environ.get("REMINDER_SECONDS", "15"))
    #: How long a sender holds a claimed delivery before another may send it again (seconds).
    REMINDER_LEASE_SECONDS = int(os.environ.get("REMINDER_LEASE_SECONDS", "120"))
    #: A push not acknowledged as shown within this many minutes falls back to the next channel.
    PUSH_ACK_MINUTES = int(os.environ.get("PUSH_ACK_MINUTES", "30"))
    #: The scheduler process runs this much nicer (POSIX nice) than the web workers, so a burst of
    #: reminders never slows the pages people wait for. 0 keeps the normal priority.
    SCHEDULER_NICE = int(os.environ.get("SCHEDULER_NICE", "10"))
    #: Parallel sends per scheduler run (push and SMS are network calls).
    REMINDER_SENDERS = int(os.environ.get("REMINDER_SENDERS", "8"))

    #: Where residents and staff reach the app: every link in an e-mail is built from this,
    #: never from a request's Host or X-Forwarded-Host header.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000")
    #: Production only: host names accepted besides PUBLIC_BASE_URL's (e.g. an internal name
    #: a load balancer's health check uses). Flask's TRUSTED_HOSTS is set from both.
    EXTRA_TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: Limit applied to every sign-in and code endpoint, per client address.
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute;60 per hour")
    #: Limit on posting self-referral steps, per client address (anonymous visitors).
    REFERRAL_STEP_RATE_LIMIT = os.environ.get("REFERRAL_STEP_RATE_LIMIT", "120 per minute")

    #: How long the public course list (/kurs) is kept rendered per language (seconds): a new
    #: course, or a place taken, shows within this time. 0: rendered for every request.
    COURSE_LIST_KEEP_SECONDS = float(os.environ.get("COURSE_LIST_KEEP_SECONDS", "10"))

    STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("STAFF_IDLE_MINUTES", "30")))
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "rph_session"
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; avoids losing typed text to a stale token
    #: Flask-WTF's HTTPS check wants a Referer; web.check_request_origin checks Origin (or Referer).
    WTF_CSRF_SSL_STRICT = False
    HSTS = False
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    BABEL_DEFAULT_LOCALE = "nb"
    #: Guided self-help: hide modules no clinician has signed off (`status: draft`) from residents.
    #: Staff always see every module with its status. Off by default, because the shipped modules
    #: are drafts until a team's clinicians review them.
    SELFHELP_HIDE_DRAFTS = os.environ.get("SELFHELP_HIDE_DRAFTS", "0") == "1"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "rph_pwa" / "translations")

    MAX_CONTENT_LENGTH = 1024 * 1024
    SHOW_DEV_OUTBOX = True

    #: Instruments whose Norwegian wording is not verified (`verified_wording=False`, e.g. AUDIT-C,
    #: DUDIT-C) are not asked unless named here, e.g. "AUDIT-C,DUDIT-C". They are never required.
    UNVERIFIED_INSTRUMENTS = _env_list("UNVERIFIED_INSTRUMENTS")
    #: AUDIT-C screening cut-offs by sex (total at or above is "elevated"); unknown sex gets the lower.
    AUDITC_CUTOFF_WOMEN = int(os.environ.get("AUDITC_CUTOFF_WOMEN", "3"))
    AUDITC_CUTOFF_MEN = int(os.environ.get("AUDITC_CUTOFF_MEN", "4"))


class ProductionConfig(Config):
    """Production: secrets must come from the environment, cookies are Secure, HSTS is on."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    SHOW_DEV_OUTBOX = False
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    #: Set from PUBLIC_BASE_URL's host (and EXTRA_TRUSTED_HOSTS) when the app is made: a forged
    #: Host header gets 400.
    TRUSTED_HOSTS: list[str] | None = None
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "FIELD_KEYS", "LOOKUP_KEY", "WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN",
                "PUBLIC_BASE_URL")

    @classmethod
    def check_environment(cls, environ: dict[str, str] | os._Environ) -> None:
        """Refuse to start without every secret: there are no fallback secrets in production."""
        missing = [name for name in cls.REQUIRED if not environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration is missing required settings: " + ", ".join(missing)
            )


class TestConfig(Config):
    """Tests: mail through real SMTP on loopback (the tests start it), fast password hashing."""

    ENV_NAME = "test"
    TESTING = True
    MAIL_BACKEND = "smtp"
    SHOW_DEV_OUTBOX = False
    #: Tests see a course they add on /kurs at once.
    COURSE_LIST_KEEP_SECONDS = 0.0
    #: Tests deliver mail when they read it, so mail a test never reads waits for the whole run.
    MAIL_OUTBOX_MAX_AGE_SECONDS = 86400


def config_from_env() -> type[Config]:
    """Pick the config class named by RPH_ENV (development by default)."""
    name = os.environ.get("RPH_ENV", "development")
    if name == "production":
        ProductionConfig.check_environment(os.environ)
        return ProductionConfig
    if name != "development":
        # A typo must not silently run development settings with their public keys.
        raise RuntimeError(f"RPH_ENV must be 'development' or 'production', not {name!r}")
    return Config
