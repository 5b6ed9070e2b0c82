"""Flask extensions, created unbound and bound in `create_app`."""
from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def signin_limit() -> str:
    """The rate limit for every sign-in and code endpoint (from config, read per request)."""
    return current_app.config["SIGNIN_RATE_LIMIT"]
