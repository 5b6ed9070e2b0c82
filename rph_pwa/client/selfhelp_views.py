"""The resident's guided self-help: my programme, reading a module, worksheets and my self-help
plan, and the weekly check-in.

URLs name modules and worksheet kinds by number and worksheets by id, never by what they are
about. The service worker keeps these pages on the device for offline use (`rph-user-selfhelp`,
until sign-out); what is typed in a worksheet or a check-in is kept in the device's storage by
static/js/form-drafts.js and static/js/worksheets.js until the server has it.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..db import get_session, utcnow
from ..localtime import local_today
from ..notices import notify_team_urgent
from ..selfhelp import content
from ..selfhelp.worksheets import SELFHELP_PLAN, WORKSHEETS, WorksheetInvalid, WorksheetKind
from ..services import check_ins, external_programmes, resident_home, selfhelp, sleep_windows, worksheets
from ..services.errors import Conflict
from . import bp
from .selfhelp_forms import CheckInForm, FinishModuleForm, worksheet_fields
from .views import draft_owner_key, opaque_key


def _locale() -> str:
    return str(get_locale())


def _programme() -> selfhelp.ResidentProgramme | None:
    return selfhelp.resident_programme(get_session(), resident=current_user, today=local_today(), locale=_locale(),
                                       hide_drafts=current_app.config["SELFHELP_HIDE_DRAFTS"])


@bp.after_request
def mark_owner(response: Response) -> Response:
    """Every resident page says whose it is with an opaque key (`X-RPH-Owner`), so the service
    worker drops offline copies of another person's pages when someone else signs in here."""
    owner = draft_owner_key()
    if owner:
        response.headers["X-RPH-Owner"] = owner
    return response


@bp.route("/me/selfhelp", endpoint="selfhelp")
def selfhelp_home():
    """My programme: this week's module, every module open or when it opens, the next check-in,
    my worksheets and my self-help plan. Without a programme: what guided self-help is."""
    programme = _programme()
    check_in = check_ins.current_check_in(get_session(), resident=current_user) if programme else None
    window = (sleep_windows.approved_window(get_session(), assignment_id=programme.assignment.id)
              if programme and programme.assignment.programme else None)
    return render_template("client/selfhelp/programme.html", programme=programme, check_in=check_in,
                           sleep_window=window.window if window else None)


@bp.route("/me/selfhelp/modules/<int:number>", methods=["GET", "POST"])
def selfhelp_module(number: int):
    """Read one open module of my programme; say I have finished it (with a rating if I like)."""
    db = get_session()
    programme = _programme()
    if programme is None:
        abort(404)
    state = selfhelp.resident_module(programme, number)
    form = FinishModuleForm()
    if form.validate_on_submit():
        selfhelp.finish_module(db, assignment=programme.assignment, state=state, rating=form.rating_value())
        db.commit()
        flash(_("Well done. The module is marked as finished."), "success")
        return redirect(url_for(".selfhelp"))
    if not form.is_submitted():
        selfhelp.record_read(db, assignment=programme.assignment, state=state)
        db.commit()
        if state.rating is not None:
            form.rating.data = str(state.rating)
    module = state.item.module
    worksheet = WORKSHEETS.get(state.item.worksheet or "")
    return render_template(
        "client/selfhelp/module.html", programme=programme, state=state, form=form,
        html=content.localized(module.html, _locale()) if module else None,
        exercise=content.localized(module.exercises, _locale()) if module else None,
        worksheet=worksheet, where_link=external_programmes.is_link(state.item.where),
    ), 400 if form.is_submitted() else 200


@bp.route("/me/selfhelp/worksheets", endpoint="worksheets")
def worksheets_list():
    """My worksheets, grouped by kind, newest first; a new one of any kind."""
    rows = worksheets.resident_worksheets(get_session(), resident=current_user)
    kinds = [kind for kind in WORKSHEETS.values() if not kind.single]
    return render_template("client/selfhelp/worksheets.html", groups=worksheets.by_kind(rows), kinds=kinds,
                           label_of=worksheets.label_of)


def _worksheet_page(kind: WorksheetKind, client_key: str, values: dict[str, Any], *, worksheet=None,
                    errors: dict[str, Any] | None = None, status: int = 200):
    template = "client/selfhelp/plan.html" if kind.single else "client/selfhelp/worksheet.html"
    return render_template(
        template, kind=kind, client_key=client_key, worksheet=worksheet,
        fields=worksheet_fields(kind, values, errors), errors=errors or {},
        draft_key=opaque_key("worksheet-draft", current_user.id, client_key),
    ), status


@bp.route("/me/selfhelp/worksheets/new/<int:kind_number>")
def worksheet_new(kind_number: int):
    """An empty worksheet of one kind, named by a new random key (the self-help plan has its own page)."""
    kind = worksheets.kind_by_number(kind_number)
    if kind.single:
        return redirect(url_for(".selfhelp_plan"))
    return _worksheet_page(kind, str(uuid.uuid4()), {})


@bp.route("/me/selfhelp/worksheets/<int:worksheet_id>")
def worksheet(worksheet_id: int):
    """One of my worksheets, to read and change."""
    sheet = worksheets.own_worksheet(get_session(), resident=current_user, worksheet_id=worksheet_id)
    kind = worksheets.kind_of(sheet)
    if kind.single:
        return redirect(url_for(".selfhelp_plan"))
    return _worksheet_page(kind, sheet.client_key, dict(sheet.content or {}), worksheet=sheet)


@bp.route("/me/selfhelp/plan")
def selfhelp_plan():
    """My self-help plan: what I have written, and the form to write or change it."""
    plan = worksheets.selfhelp_plan(get_session(), resident=current_user)
    return _worksheet_page(WORKSHEETS[SELFHELP_PLAN], worksheets.PLAN_KEY, dict(plan.content or {}) if plan else {},
                           worksheet=plan)


def _json_save() -> tuple[dict[str, Any], int]:
    """A save from the device (static/js/worksheets.js): {kind, client_key, answers, partial}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return {"status": "bad request"}, 400
    number, key, answers = data.get("kind"), data.get("client_key"), data.get("answers")
    if (not isinstance(number, int) or isinstance(number, bool) or not isinstance(key, str)
            or not isinstance(answers, dict)
            or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in answers.values())):
        return {"status": "bad request"}, 400
    kind = worksheets.kind_by_number(number)
    db = get_session()
    try:
        saved = worksheets.save_worksheet(db, resident=current_user, kind=kind, client_key=key, raw=answers,
                                          partial=data.get("partial") is True)
    except worksheets.BadClientKey:
        return {"status": "bad request"}, 400
    except WorksheetInvalid as invalid:
        return {"status": "invalid", "errors": {name: str(message) for name, message in invalid.errors.items()}}, 400
    db.commit()
    sheet = saved.worksheet
    url = url_for(".selfhelp_plan") if kind.single else url_for(".worksheet", worksheet_id=sheet.id)
    return {"status": "saved", "id": sheet.id, "revision": sheet.revision, "url": url}, 200


@bp.post("/me/selfhelp/worksheets/save")
def worksheet_save():
    """Save a worksheet, from its form or from the device's copy (JSON with X-CSRFToken). Saving
    the same worksheet again (its key) changes the one stored, never makes a second."""
    if request.is_json:
        return _json_save()
    number = request.form.get("kind", "")
    if not number.isascii() or not number.isdigit() or len(number) > 3:
        abort(400)
    kind = worksheets.kind_by_number(int(number))
    key = request.form.get("client_key", "")
    raw = {f.name: request.form.get(f.name, "") for f in kind.fields}
    db = get_session()
    try:
        saved = worksheets.save_worksheet(db, resident=current_user, kind=kind, client_key=key, raw=raw)
    except worksheets.BadClientKey:
        abort(400)
    except WorksheetInvalid as invalid:
        key = worksheets.key_for(kind, key)
        sheet = worksheets.worksheet_by_key(db, resident=current_user, client_key=key)
        return _worksheet_page(kind, key, raw, worksheet=sheet, errors=invalid.errors, status=400)
    db.commit()
    flash(_("Saved."), "success")
    if kind.single:
        return redirect(url_for(".selfhelp_plan"))
    return redirect(url_for(".worksheet", worksheet_id=saved.worksheet.id))


@bp.route("/me/selfhelp/check-in", methods=["GET", "POST"])
def check_in():
    """The weekly check-in: write to the therapist, see the forms due and when it will be read,
    and the therapist's feedback (opening this page marks new feedback as seen)."""
    db = get_session()
    current = check_ins.current_check_in(db, resident=current_user)
    form = CheckInForm()
    if form.is_submitted():
        appointment_id = request.form.get("appointment", "")
        if not appointment_id.isascii() or not appointment_id.isdigit() or len(appointment_id) > 12:
            abort(400)
        if form.validate():
            try:
                report = check_ins.submit_check_in(db, resident=current_user, appointment_id=int(appointment_id),
                                                   answers=form.answers(), talk_sooner=form.talk_sooner.data)
            except Conflict:
                db.rollback()
                flash(_("You have already sent this check-in. Your therapist has it."), "info")
                return redirect(url_for(".check_in"))
            inbox = current_user.team.inbox_email if current_user.team else None
            if report.talk_sooner and inbox:
                notify_team_urgent(inbox)  # content-free, committed with the check-in and its flag
            db.commit()
            return render_template("client/selfhelp/check_in_sent.html", report=report,
                                   read_by=check_ins.read_by(due=report.appointment.starts_at, sent=report.sent_at),
                                   draft_key=opaque_key("check-in-draft", current_user.id, report.appointment_id))
    feedback = check_ins.feedback_list(db, resident=current_user)
    if not form.is_submitted() and any(r.feedback_seen_at is None for r in feedback):
        check_ins.mark_feedback_seen(feedback)
        db.commit()
    waiting = check_ins.waiting_report(db, resident=current_user)
    now = utcnow()
    return render_template(
        "client/selfhelp/check_in.html", current=current, form=form, feedback=feedback, waiting=waiting,
        form_names=resident_home.FORM_NAMES, form_name_unknown=resident_home.FORM_NAME_UNKNOWN,
        read_by=check_ins.read_by(due=current.appointment.starts_at, sent=now) if current else None,
        waiting_read_by=check_ins.read_by(due=waiting.appointment.starts_at, sent=waiting.sent_at) if waiting else None,
        draft_key=opaque_key("check-in-draft", current_user.id, current.appointment.id) if current else None,
    ), 400 if form.is_submitted() else 200
