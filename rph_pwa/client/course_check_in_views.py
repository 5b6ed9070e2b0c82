"""The participant's check-in at a course meeting: the QR code on the meeting's shared screen
opens this page, which asks to confirm (a GET changes nothing); the POST marks them attended
(`courses.check_in`). An unknown code, a meeting not open for check-in and a person not enrolled
all get the same neutral message. Not signed in: the blueprint's guard sends them to sign in."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..db import get_session
from ..extensions import limiter, signin_limit
from ..services import course_meetings, courses
from ..services.errors import NotFound
from . import bp

#: A check-in code is 32 characters (`CourseMeeting.check_in_code`); anything longer is not one.
CODE_MAX = 64
#: The one answer for every code that cannot be used here now (nothing more is revealed).
NOT_VALID = _l("This check-in code cannot be used now. Ask the leaders to mark you as present.")


@bp.route("/me/courses/check-in/<code>", methods=["GET", "POST"])
@limiter.limit(signin_limit)
def course_check_in(code: str):
    """Confirm that I am at the meeting (GET: the button; POST: marked attended)."""
    db = get_session()
    form = EmptyForm()
    try:
        if len(code) > CODE_MAX:
            raise NotFound("meeting")
        if form.validate_on_submit():
            courses.check_in(db, resident=current_user, code=code)
            db.commit()
            return render_template("client/courses/check_in.html", state="done", form=form)
        course_meetings.check_in_meeting(db, resident=current_user, code=code)
    except NotFound:
        db.rollback()
        return render_template("client/courses/check_in.html", state="invalid", message=NOT_VALID, form=form), 404
    return render_template("client/courses/check_in.html", state="confirm", form=form)
