"""The staff workspace (therapists, team leads, admins), under /therapist.

The blueprint is made here, guarded once for the whole of it, and its routes are declared in the
modules imported at the bottom (the layout of Miguel Grinberg's microblog). Object-level access
(my teams, my residents) is checked by the services.
"""
from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user

bp = Blueprint("therapist", __name__)


@bp.before_request
def staff_only():
    """Only staff who passed both factors reach this blueprint (sign-in enforces the second)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.staff_login"))
    if not current_user.is_staff:
        abort(403)
    return None


from . import episode_views, safety_views, statistics_views, urgent_views, views  # noqa: E402,F401 - routes on bp
