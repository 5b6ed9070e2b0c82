"""The staff workspace (therapists, team leads, admins), under /therapist.

The blueprint is made here, guarded once for the whole of it, and its routes are declared in the
modules imported at the bottom (the layout of Miguel Grinberg's microblog). Object-level access
(my teams, my residents) is checked by the services.
"""
from flask import Blueprint

from ..auth.signin import guard_blueprint

bp = Blueprint("therapist", __name__)
# Only staff who passed both factors reach this blueprint (sign-in enforces the second).
guard_blueprint(bp, admits=lambda user: user.is_staff, sign_in_at="auth.staff_login")


from . import (  # noqa: E402,F401 - declare the routes on bp
    course_meeting_views,
    course_result_views,
    course_views,
    day_views,
    episode_views,
    reminder_views,
    review_views,
    safety_views,
    selfhelp_views,
    slot_views,
    statistics_views,
    urgent_views,
    views,
)
