"""The resident's safety plan: read it (kept offline by the service worker), print it, edit it.

The client blueprint's `before_request` already keeps everyone but signed-in residents out; a
resident only ever reaches their own plan.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..db import get_session
from ..services import safety_plans
from . import bp
from .safety_forms import SafetyPlanForm, plan_parts, updated_line


@bp.route("/me/safety-plan")
def safety_plan():
    """My safety plan: every part, one-tap phone numbers, when it was last changed and by whom."""
    plan = safety_plans.current_plan(get_session(), resident=current_user)
    content = plan.content if plan is not None else safety_plans.default_content(current_user)
    return render_template("client/safety_plan.html", plan=plan, parts=plan_parts(content),
                           updated=updated_line(plan, viewer_id=current_user.id))


@bp.route("/me/safety-plan/edit", methods=["GET", "POST"])
def safety_plan_edit():
    """Write or change my safety plan; each save is a new version."""
    db = get_session()
    form = SafetyPlanForm()
    if form.validate_on_submit():
        safety_plans.save_plan(db, actor=current_user, resident_id=current_user.id, content=form.content())
        db.commit()
        flash(_("Your safety plan is saved."), "success")
        return redirect(url_for(".safety_plan"))
    if not form.is_submitted():
        _resident, content = safety_plans.editable_content(db, actor=current_user, resident_id=current_user.id)
        form = SafetyPlanForm.for_content(content)
    return render_template("client/safety_plan_edit.html", form=form, heading=_("My safety plan"),
                           cancel_url=url_for(".safety_plan")), 400 if form.is_submitted() else 200
