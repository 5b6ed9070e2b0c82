"""Rate limits count an IPv6 client per /64 network (one subscriber picks any address in its /64),
an IPv4 client per address."""
from __future__ import annotations

import secrets

import pytest

from rph_pwa.extensions import client_key
from tests.conftest import post_form


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not-an-address", "not-an-address"),
])
def test_client_key(address, key):
    assert client_key(address) == key


def _post_code_request(app, address: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return post_form(browser, "/login/code", {"email": "nobody@example.no"})


def test_ipv6_addresses_of_one_64_share_a_limit(app):
    prefix = "2001:db8:{:x}:{:x}".format(secrets.randbelow(0xFFFF), secrets.randbelow(0xFFFF))
    other_prefix = f"{prefix[:-1]}{(int(prefix[-1], 16) + 1) % 16:x}"
    before = app.config["SIGNIN_RATE_LIMIT"]
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [_post_code_request(app, f"{prefix}::{n:x}").status_code for n in range(1, 5)]
        other = _post_code_request(app, f"{other_prefix}::1").status_code
    finally:
        app.config["SIGNIN_RATE_LIMIT"] = before
    assert statuses == [302, 302, 302, 429]
    assert other == 302  # another /64 is another client
