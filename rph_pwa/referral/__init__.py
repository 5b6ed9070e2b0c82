"""The self-referral flow (public, no sign-in until the last step), under /referral.

Its own package, not a second blueprint inside `client`: the pages serve people who are not yet
residents (the client blueprint keeps everyone else out), the templates already live in
templates/referral/, and the blueprint is named after its package like the others. It uses
auth's forms and sign-in and the client's step forms; neither of those imports it.
"""
from flask import Blueprint

bp = Blueprint("referral", __name__, url_prefix="/referral")


@bp.after_request
def no_store(response):
    """These pages show what the person answered, before any sign-in: never keep them in a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


from . import views  # noqa: E402,F401 - declares the routes on bp
