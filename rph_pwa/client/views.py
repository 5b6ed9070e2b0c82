"""Resident views: home, own profile, and who has opened my record."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import ProfileForm
from ..db import get_session
from ..services import audit
from ..services.residents import ProfileInput, update_profile

bp = Blueprint("client", __name__)


@bp.before_request
def residents_only():
    """Every page here is the signed-in resident's own; staff and strangers get nothing."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if not current_user.is_resident:
        abort(403)
    return None


@bp.route("/me")
def home():
    """The resident's start page: their team and what they can do."""
    return render_template("client/home.html", team=current_user.team, municipality=current_user.home_municipality)


@bp.route("/me/profile", methods=["GET", "POST"])
def profile():
    """Edit your own contact details."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        data = ProfileInput(
            display_name=(form.display_name.data or "").strip() or None,
            phone=" ".join((form.phone.data or "").split()) or None,
            contact_note=(form.contact_note.data or "").strip() or None,
        )
        update_profile(get_session(), resident=current_user, data=data)
        get_session().commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".profile"))
    return render_template("client/profile.html", form=form), 400 if form.errors else 200


@bp.route("/me/access-log")
def access_log():
    """Who among the staff has opened your record, and when."""
    rows = audit.events_about(get_session(), resident=current_user)
    return render_template("client/access_log.html", rows=rows)
