"""A second yardstick of the throughput benchmark: our app as deployed, with one extra endpoint that
a signed-in resident GETs and that returns a small HTML string. It does what every signed-in page
does before its own work (the session cookie, the login session and the user loaded, the language,
the security headers, the refreshed session cookie) and nothing else, so it is the fastest any
signed-in page of this app can be. Only this benchmark serves it."""
from flask import abort
from flask_login import current_user

from rph_pwa import create_app
from rph_pwa.db import reads_only

app = create_app()


@app.get("/bench/signed-in-floor")
@reads_only
def signed_in_floor() -> str:
    if not current_user.is_authenticated:
        abort(401)
    return f"<!doctype html><html lang=nb><title>Hei</title><p>Hei {current_user.id}</p></html>"
