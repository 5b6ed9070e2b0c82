"""The therapist's review view for guided self-help, separate from the rest of the workspace: the
queue of check-ins (mine, and colleagues' I cover), one check-in on one screen with its timer,
marking it reviewed with the minutes given, opening the next module, the away date and the team's
phrase bank. Every page that shows residents is audited by the service."""
from __future__ import annotations

from functools import partial

from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..db import get_session, utcnow
from ..forms import Refusal, run_form_action, run_page_form_action
from ..services import check_in_review as review_service
from ..services.access import require_clinical, staff_teams
from ..services.errors import Conflict
from ..web import render_audited
from . import bp
from .presenters.review import queue_view, review_view
from .review_forms import AwayForm, CompleteReviewForm, DeletePhraseForm, OpenModuleForm, PhraseForm

CHECK_IN = "/check-ins/<int:appointment_id>"
ALREADY_DONE = _l("Nothing was changed: this check-in has already been marked reviewed, or its episode has ended.")


@bp.route("/check-ins")
def review_queue():
    """My check-ins to review (urgent first, then by due time), the missing ones, and the form to
    say I am away. The residents shown are audited."""
    return _queue_page()


def _queue_page(*, away_form: AwayForm | None = None) -> str:
    require_clinical(current_user)
    queue = review_service.review_queue(get_session(), actor=current_user, now=utcnow(), locale=str(get_locale()),
                                        page=request.args.get("page", 1, type=int))
    form = away_form or AwayForm(formdata=None, prefix="away", until=current_user.away_until)
    return render_audited("therapist/review_queue.html", v=queue_view(queue), away_form=form,
                          away_until=current_user.away_until)


@bp.post("/away")
def away():
    """Mark myself away until a date (inclusive), or back."""
    form = AwayForm(prefix="away")

    def action(db):
        until = None if form.back.data else form.until.data
        review_service.set_away(db, actor=current_user, until=until)
        return until

    return run_form_action(form, action, show=lambda: _queue_page(away_form=form), back=url_for(".review_queue"),
                           done=_l("You are marked back.") if form.back.data else _l(
                               "You are marked away. Your residents' check-ins show to your colleagues in the team."),
                           then=lambda until: url_for(".review_queue"),
                           refusals=[Refusal(ValueError, _l("Choose a day from today and at most a year ahead."),
                                             field=form.until)])


@bp.route(CHECK_IN)
def review(appointment_id: int):
    """One check-in with everything since the last review, the timer and the actions (audited)."""
    return _review_page(appointment_id)


@bp.post(f"{CHECK_IN}/reviewed")
def review_complete(appointment_id: int):
    """Mark the check-in reviewed with the feedback and the minutes given; next week's check-in is
    booked."""
    def action(db, form):
        return review_service.complete_review(db, actor=current_user, appointment_id=appointment_id,
                                              feedback=form.feedback.data, minutes=form.minutes.data,
                                              by_phone=bool(form.by_phone.data), now=utcnow())

    form = CompleteReviewForm(prefix="done")
    return run_page_form_action(
        "done", form, action, page=partial(_review_page, appointment_id),
        back=url_for(".review", appointment_id=appointment_id) + "#record-note",
        done=_l("The check-in is marked reviewed and the minutes are recorded. Copy the note into the "
                "patient record."),
        refusals=[Refusal(Conflict, ALREADY_DONE),
                  Refusal(ValueError, _l("The person sent no check-in this week, so tick that you gave the "
                                         "guidance by phone."), field=form.by_phone)])


@bp.post(f"{CHECK_IN}/open-module")
def review_open_module(appointment_id: int):
    """Open the next module for the resident ahead of the weekly pace."""
    return run_page_form_action(
        "module", OpenModuleForm, lambda db, form: review_service.open_next_module(
            db, actor=current_user, appointment_id=appointment_id, now=utcnow()),
        page=partial(_review_page, appointment_id), back=url_for(".review", appointment_id=appointment_id),
        done=_l("The next module is open for the person."),
        refusals=[Refusal(Conflict, _l("There is no module left to open, or the programme has ended."))])


def _review_page(appointment_id: int, *, bound: tuple[str, FlaskForm] | None = None) -> str:
    db = get_session()
    now = utcnow()
    found = review_service.check_in_review(db, actor=current_user, appointment_id=appointment_id, now=now,
                                           locale=str(get_locale()))
    forms: dict[str, FlaskForm] = {
        "done": CompleteReviewForm(formdata=None, prefix="done", minutes=found.elapsed_minutes(now)),
        "module": OpenModuleForm(formdata=None, prefix="module"),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    note = review_service.record_note(found) if found.reviewed else None
    return render_audited("therapist/review.html", v=review_view(found, now=now), forms=forms, record_note=note)


# --- The phrase bank -----------------------------------------------------------------------------

@bp.route("/phrases", methods=["GET", "POST"])
def phrases():
    """My teams' phrase banks for check-in feedback: the phrases, and a form to add one."""
    require_clinical(current_user)
    db = get_session()
    teams = staff_teams(db, current_user)
    form = PhraseForm(prefix="phrase")
    form.team.choices = [SelectChoice(t.id, t.name) for t in teams]

    def page() -> str:
        names = {t.id: t.name for t in teams}
        found = review_service.phrases_of_my_teams(db, actor=current_user)
        return render_template("therapist/phrases.html", form=form, delete_form=DeletePhraseForm(formdata=None),
                               phrases=[{"id": p.id, "text": p.text, "team": names.get(p.team_id, "")}
                                        for p in found], several_teams=len(teams) > 1)

    return run_form_action(form, lambda db: review_service.add_phrase(
        db, actor=current_user, team_id=form.team.data, text=form.text.data,
    ), show=page, back=url_for(".phrases"), done=_l("The phrase is added to the team's phrase bank."),
        refusals=[Refusal(ValueError, _l("Write the phrase, in at most 500 characters."), field=form.text)])


@bp.post("/phrases/<int:phrase_id>/delete")
def phrase_delete(phrase_id: int):
    """Remove a phrase from my team's bank (the button's form holds only its CSRF token)."""
    return run_form_action(DeletePhraseForm(), lambda db: review_service.delete_phrase(
        db, actor=current_user, phrase_id=phrase_id,
    ), show=lambda: abort(400), back=url_for(".phrases"), done=_l("The phrase is removed."))
