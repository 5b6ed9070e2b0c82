"""The language switch goes back to a page of this site and nowhere else, and never answers 500."""
from __future__ import annotations

import pytest

from tests.conftest import form_token


def _switch(client, next_value: str, lang: str = "en"):
    token = form_token(client, "/login/code")
    return client.post("/language", data={"csrf_token": token, "lang": lang, "next": next_value})


@pytest.mark.parametrize("target", ["/", "/about", "/referral/step/2", "/find-team?municipality=3",
                                    "/me/safety-plan#part-danger", "/s%C3%B8k?q=%C3%A6", "/hjelp?a=b&c=d"])
def test_a_path_of_this_site_is_kept(client, target):
    response = _switch(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert "lang=en" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", [
    "/\n/evil.example", "/evil\n", "/\r\nSet-Cookie: x=1", "/a\rb",     # line breaks (a 500 before)
    "\t/evil.example", "/\t/evil.example", "/\x0b/evil.example",       # browsers drop tabs: //evil.example
    "/ /evil.example", "/a b", "/\u00a0/evil.example", "/\u2028x",      # whitespace of any kind
    "/\x00", "/a\x1bb", "/a\x7f",                                       # other control characters
    "//evil.example", "///evil.example", "//evil.example/path",         # protocol-relative
    "/\\evil.example", "/\\\\evil.example", "\\\\evil.example", "/a\\b",  # backslashes
    "/%0a/evil.example", "/%0A", "/%0d%0a", "/%09/evil.example", "/%00", "/%20x",  # encoded controls, blanks
    "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", "/%5c",  # encoded slash and backslash
    "https://evil.example/", "http://evil.example", "//evil.example", "evil.example", "javascript:alert(1)",
    "data:text/html,x", "", "x" * 3000, "/" + "a" * 2100,
])
def test_anything_else_goes_to_the_front_page(client, target):
    response = _switch(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "lang=en" in response.headers["Set-Cookie"]


def test_a_missing_next_goes_to_the_front_page(client):
    token = form_token(client, "/login/code")
    response = client.post("/language", data={"csrf_token": token, "lang": "nn"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_bad_language_still_goes_back_safely(client):
    response = _switch(client, "\t/evil.example", lang="klingon")
    assert response.status_code == 302 and response.headers["Location"] == "/"
