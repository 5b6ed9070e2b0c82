"""A resident's safety plan seen by their team: the plan with its version history, and the same
form as the resident's to add to it (saved as a new version authored by the therapist).

The therapist blueprint's `before_request` already keeps everyone but signed-in staff out; the
service checks the team and audits every read and edit
(staff of other teams get 404 and leave no audit event).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..client.safety_forms import SafetyPlanForm, author_label, plan_parts, updated_line
from ..db import get_session
from ..services import safety_plans
from ..services.access import resident_for_staff
from . import bp

#: A resident's safety plan, seen by their team.
PLAN = "/residents/<int:resident_id>/safety-plan"


def _resident_label(resident) -> str:
    return resident.display_name or _("Resident %(label)s", label=f"#{resident.id}")


@bp.route(PLAN)
def safety_plan(resident_id: int):
    """The resident's plan as it is now, and who saved each version when (audited read)."""
    db = get_session()
    view = safety_plans.staff_view(db, actor=current_user, resident_id=resident_id)
    db.commit()  # the audit event of this read
    content = view.plan.content if view.plan is not None else safety_plans.default_content(view.resident)
    history = [{"number": v.number, "at": v.created_at, "who": author_label(v.author_name, v.author_role)}
               for v in view.history]
    return render_template("therapist/safety_plan.html", plan=view.plan, parts=plan_parts(content),
                           updated=updated_line(view.plan, viewer_id=current_user.id), history=history,
                           resident_id=resident_id, name=_resident_label(view.resident))


@bp.route(f"{PLAN}/edit", methods=["GET", "POST"])
def safety_plan_edit(resident_id: int):
    """Add to the resident's plan with the resident's form; saved as a new version (audited)."""
    db = get_session()
    form = SafetyPlanForm()
    if not form.is_submitted():
        resident, content = safety_plans.editable_content(db, actor=current_user, resident_id=resident_id)
        db.commit()  # the audit event of this read
        form = SafetyPlanForm.for_content(content)
    else:
        resident = resident_for_staff(db, actor=current_user, resident_id=resident_id)
        if form.validate_on_submit():
            safety_plans.save_plan(db, actor=current_user, resident_id=resident_id, content=form.content())
            db.commit()
            flash(_("The safety plan is saved as a new version."), "success")
            return redirect(url_for(".safety_plan", resident_id=resident_id))
    return render_template("therapist/safety_plan_edit.html", form=form, name=_resident_label(resident),
                           heading=_("Safety plan: %(name)s", name=_resident_label(resident)),
                           cancel_url=url_for(".safety_plan", resident_id=resident_id)
                           ), 400 if form.is_submitted() else 200
