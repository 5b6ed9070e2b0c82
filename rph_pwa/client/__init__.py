"""The resident's pages: home, profile, questionnaires, progress, the safety plan and guided self-help.

The blueprint is made here, guarded once for the whole of it, and its routes are declared in the
modules imported at the bottom (the layout of Miguel Grinberg's microblog).
"""
from flask import Blueprint

from ..auth.signin import guard_blueprint

bp = Blueprint("client", __name__)
# Every page here is the signed-in resident's own; staff and strangers get nothing.
guard_blueprint(bp, admits=lambda user: user.is_resident, sign_in_at="auth.login")


from . import (  # noqa: E402,F401 - declare the routes on bp
    appointment_views,
    booking_views,
    course_check_in_views,
    course_evaluation_views,
    course_views,
    reminder_views,
    safety_views,
    selfhelp_views,
    views,
)
