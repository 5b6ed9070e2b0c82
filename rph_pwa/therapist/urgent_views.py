"""Urgent flags for staff: the open flags of my teams (and the closed ones with their notes), one
flag's page with the actions taken, a form to record an action and a form to close it with a note.

The therapist blueprint's `before_request` already keeps everyone but signed-in staff out; the
urgent-flag services check the team and audit every read.
The forms live here because they are used by these views only.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..db import get_session
from ..forms import BaseForm, Refusal, run_form_action
from ..services import urgent_flags
from ..services.errors import Conflict
from ..web import render_audited
from . import bp
from .forms import choices, length
from .presenters.common import URGENT_REASONS, tel_link

#: What was done about a flag, keyed by the stable values the service stores.
ACTION_LABELS = {
    "called": _l("Called the person"),
    "safety_plan": _l("Made or went through a safety plan"),
    "referred_legevakt": _l("Referred to the out-of-hours doctor (legevakt)"),
    "referred_dps": _l("Referred to the district psychiatric centre (DPS)"),
    "risk_assessment": _l("Formal suicide risk assessment by a doctor or psychologist"),
    "other": _l("Other"),
}
#: Pages that show how many flags are open (the workspace link and the triage notice).
COUNTED_ENDPOINTS = ("therapist.index", "therapist.triage")


class FlagActionForm(BaseForm):
    """One thing done about an urgent flag, with an optional note."""

    kind = RadioField(_l("What was done"), choices=choices(ACTION_LABELS),
                      validators=[InputRequired(_l("Choose what was done."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), length(1000)])


class CloseFlagForm(BaseForm):
    """Close an urgent flag: the note is required, so a flag never goes down silently."""

    note = TextAreaField(_l("Why the flag can be closed"), validators=[
        DataRequired(_l("Write what was done and why the flag can be closed.")), length(2000)])


@bp.context_processor
def open_flag_count() -> dict:
    """The number of open flags for the workspace link and the triage notice (a count, not audited).

    A context processor because those two views are not ours to change; other pages skip the query.
    """
    if (request.endpoint not in COUNTED_ENDPOINTS or not current_user.is_authenticated
            or not current_user.is_staff):
        return {}
    return {"open_flag_count": urgent_flags.count_open(get_session(), actor=current_user)}


@bp.route("/urgent")
def urgent():
    """Open flags of my teams, oldest first, and the closed ones with their notes (every row audited)."""
    db = get_session()
    return render_audited("therapist/urgent.html", flags=urgent_flags.open_flags(db, actor=current_user),
                          closed=urgent_flags.closed_flags(db, actor=current_user), reasons=URGENT_REASONS,
                          kinds=ACTION_LABELS)


@bp.route("/urgent/<int:flag_id>")
def urgent_flag(flag_id: int):
    """One flag with the actions taken, and the forms to add an action and to close it (audited)."""
    return _flag_page(flag_id)


@bp.post("/urgent/<int:flag_id>/actions")
def add_flag_action(flag_id: int):
    """Record what was done about the flag."""
    form = FlagActionForm(prefix="action")
    return run_form_action(form, lambda db: urgent_flags.add_action(
        db, actor=current_user, flag_id=flag_id, kind=form.kind.data, note=form.note.data,
    ), show=lambda: _flag_page(flag_id, bound=("action", form)), back=url_for(".urgent_flag", flag_id=flag_id),
        done=_l("The action is recorded."),
        refusals=[Refusal(Conflict, _l("The flag is closed, so no more actions can be added."))])


@bp.post("/urgent/<int:flag_id>/close")
def close_flag(flag_id: int):
    """Close the flag with a note; the episode's urgent mark ends with its last open flag."""
    form = CloseFlagForm(prefix="close")
    return run_form_action(form, lambda db: urgent_flags.close_flag(
        db, actor=current_user, flag_id=flag_id, note=form.note.data,
    ), show=lambda: _flag_page(flag_id, bound=("close", form)), back=url_for(".urgent_flag", flag_id=flag_id),
        done=_l("The flag is closed. The note is kept with it."),
        refusals=[Refusal(Conflict, _l("The flag was already closed."), category="info")])


@bp.route("/episodes/<int:episode_id>/urgent-flag")
def episode_urgent_flag(episode_id: int):
    """From the episode page's "Follow up" link to the episode's open flag (closing needs a note)."""
    db = get_session()
    flag_id = urgent_flags.flag_id_for_episode(db, actor=current_user, episode_id=episode_id)
    db.commit()  # a mark made before flags existed has just got its flag
    if flag_id is None:
        flash(_("No urgent flag is open for this episode."), "info")
        return redirect(url_for(".episode", episode_id=episode_id))
    return redirect(url_for(".urgent_flag", flag_id=flag_id))


def _flag_page(flag_id: int, *, bound: tuple[str, FlaskForm] | None = None) -> str:
    db = get_session()
    flag = urgent_flags.view_flag(db, actor=current_user, flag_id=flag_id)
    db.commit()  # the audit event of this read
    forms: dict[str, FlaskForm] = {"action": FlagActionForm(formdata=None, prefix="action"),
                                   "close": CloseFlagForm(formdata=None, prefix="close")}
    if bound is not None:
        forms[bound[0]] = bound[1]
    return render_template("therapist/urgent_flag.html", flag=flag, forms=forms, reasons=URGENT_REASONS,
                           kinds=ACTION_LABELS, tel=tel_link(flag.resident_phone))
