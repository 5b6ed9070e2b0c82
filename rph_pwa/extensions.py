"""Flask extensions, created unbound and bound in `create_app`."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import Flask, current_app
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

T = TypeVar("T")


def made_once(app: Flask, name: str, key: Hashable, make: Callable[[], T]) -> T:
    """What `make` makes, kept in `app.extensions[name]` and made again only when `key` (the
    secrets it was made with) changes: for objects that hold nothing of a request but cost
    something to make on every one (the session and CSRF token serializers)."""
    made = app.extensions.get(name)
    if made is None or made[0] != key:
        made = app.extensions[name] = (key, make())
    return made[1]


#: IPv6 clients are counted per /64: one subscriber usually gets a whole /64 and can pick any
#: address in it, so counting single addresses would let one client multiply its limit.
IPV6_CLIENT_PREFIX = 64


def client_key(address: str | None) -> str:
    """The rate-limit key of a client address: an IPv4 address as it is, an IPv6 address as its
    /64 network (an IPv4-mapped IPv6 address as the IPv4 address)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def remote_client_key() -> str:
    """Flask-Limiter's key function: the request's client address (after ProxyFix), per /64 for IPv6."""
    return client_key(get_remote_address())


csrf = CSRFProtect()
compress = Compress()  # bound with its settings in assets.init_app
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=remote_client_key, default_limits=[])


def signin_limit() -> str:
    """The rate limit for every sign-in and code endpoint (from config, read per request)."""
    return current_app.config["SIGNIN_RATE_LIMIT"]


def referral_step_limit() -> str:
    """The rate limit for posting self-referral steps (from config, read per request)."""
    return current_app.config["REFERRAL_STEP_RATE_LIMIT"]
