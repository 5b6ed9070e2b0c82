"""The resident's own open course evaluations: a link to each form they have not filled in yet
(the form itself is the public page behind the link, `public.evaluation`)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..db import get_session
from ..services import course_evaluation as svc
from . import bp


@bp.route("/me/courses/evaluations")
def course_evaluations():
    """My evaluation forms still to fill in, newest course first."""
    rows = svc.open_links_for_resident(get_session(), resident=current_user)
    numbers = {m.id: m.number for _link, run in rows for m in run.meetings}
    forms = [{"title": run.template.title, "meeting": numbers.get(link.meeting_id), "token": link.token}
             for link, run in rows]
    return render_template("client/courses/evaluations.html", forms=forms)
