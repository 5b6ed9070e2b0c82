"""The resident's pages: home, profile, questionnaires, progress and the safety plan.

The blueprint is made here, guarded once for the whole of it, and its routes are declared in the
modules imported at the bottom (the layout of Miguel Grinberg's microblog).
"""
from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user

bp = Blueprint("client", __name__)


@bp.before_request
def residents_only():
    """Every page here is the signed-in resident's own; staff and strangers get nothing."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if not current_user.is_resident:
        abort(403)
    return None


from . import safety_views, views  # noqa: E402,F401 - declare the routes on bp
