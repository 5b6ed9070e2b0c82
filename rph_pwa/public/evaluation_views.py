"""The course evaluation form behind a participant's single-use link (/evaluering/<token>): no
sign-in, the form built from the evaluation's definition (`measures.evaluations`), and one neutral
page for a link that is unknown or already used (404 for both, so the page reveals nothing).

The token is in the address: the app's `Referrer-Policy: same-origin` keeps it from other sites,
these answers are never cached, and nothing here logs the token, the link or the person.
"""
from __future__ import annotations

import hashlib

from flask import make_response, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import Length

from ..db import get_session
from ..extensions import limiter
from ..forms import BaseForm
from ..measures.definitions import Instrument, text
from ..models import CourseRun
from ..services import course_evaluation as svc
from . import bp


def problem_message(problem: str, number: int):
    """The words for a refused item (`services.course_evaluation.InvalidAnswers`)."""
    if problem == "missing":
        return _l("Answer question %(number)d: choose the answer that fits best.", number=number)
    return _l("Question %(number)d: choose one of the numbers from 1 to 5.", number=number)

#: Per client address. A whole course (up to 40 people) may answer at once on the venue's Wi-Fi,
#: behind one address, opening and sending the form; the 32-byte tokens cannot be guessed anyway.
EVALUATION_LIMIT = "200 per minute;1000 per hour"
TOO_LONG = _l("Please keep this answer under %(max)d characters.", max=svc.FREE_TEXT_MAX)


class EvaluationForm(BaseForm):
    """One radio group per item (checked by the service) and the two free-text questions."""

    instrument: Instrument

    def item_fields(self) -> list:
        return [self[item.key] for item in self.instrument.items]

    def text_fields(self) -> list:
        return [self[key] for key, _text in svc.free_text_for(self.instrument)]


def evaluation_form(instrument: Instrument, lang: str, formdata=None) -> EvaluationForm:
    attrs: dict = {}
    for item in instrument.items:
        choices = [SelectChoice(str(o.value), text(o.label, lang)) for o in instrument.options_for(item)]
        attrs[item.key] = RadioField(text(item.text, lang), choices=choices, validate_choice=False)
    for key, question in svc.free_text_for(instrument):
        attrs[key] = TextAreaField(text(question, lang), validators=[Length(max=svc.FREE_TEXT_MAX, message=TOO_LONG)])
    form_class = type("CourseEvaluationForm", (EvaluationForm,), attrs)
    form = form_class(formdata=formdata) if formdata is not None else form_class(formdata=None)
    form.instrument = instrument
    return form




def _private(body: str, status: int = 200):
    """An answer that names the token in its address: never cached."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def draft_key(token: str) -> str:
    """The key of the typed text on the device: derived from the token, not the token."""
    return hashlib.sha256(f"evaluation-draft:{token}".encode()).hexdigest()[:24]


def _set_errors(form: EvaluationForm, instrument: Instrument, problems: dict[str, str]) -> None:
    for number, item in enumerate(instrument.items, start=1):
        if item.key in problems:
            form[item.key].errors = [problem_message(problems[item.key], number)]


def _show_problems(form: EvaluationForm, instrument: Instrument, scores: dict) -> None:
    try:
        svc.check_scores(instrument, scores)
    except svc.InvalidAnswers as refused:
        _set_errors(form, instrument, refused.problems)


@bp.route("/evaluering/<token>", methods=["GET", "POST"])
@limiter.limit(EVALUATION_LIMIT)
def evaluation(token: str):
    """The evaluation form; on a valid send, the thanks page (the link is then used up)."""
    session = get_session()
    try:
        link = svc.usable_link(session, token)
    except svc.LinkNotUsable:
        return _private(render_template("public/evaluation/unavailable.html"), 404)
    instrument = svc.instrument_for(session.get(CourseRun, link.run_id))
    lang = str(get_locale())
    key = draft_key(token)

    def show(form: EvaluationForm, status: int):
        return _private(render_template("public/evaluation/form.html", form=form, title=text(instrument.title, lang),
                                        instructions=text(instrument.instructions, lang), draft_key=key), status)

    if request.method == "GET":
        return show(evaluation_form(instrument, lang), 200)
    form = evaluation_form(instrument, lang, formdata=request.form)
    scores = {item.key: form[item.key].data for item in instrument.items}
    if not form.validate():  # the items' problems too, so everything to fix shows at once
        _show_problems(form, instrument, scores)
    else:
        try:
            svc.submit(session, token=token, scores=scores, useful=form["useful"].data,
                       less_useful=form["less_useful"].data)
        except svc.InvalidAnswers as refused:
            session.rollback()
            _set_errors(form, instrument, refused.problems)
        except svc.LinkNotUsable:
            session.rollback()
            return _private(render_template("public/evaluation/unavailable.html"), 404)
        else:
            session.commit()
            return _private(render_template("public/evaluation/thanks.html", draft_key=key))
    return show(form, 400)
