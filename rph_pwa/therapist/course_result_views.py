"""Course evaluations, the staff side: send the evaluation out (the run's leaders), the printable
sheet of links with a QR code each (leaders; no names for anonymous runs), the results of a run
(n, mean, modes, a bar chart per item, the response rate and the free text; figures of fewer than
five answers only after an explicit step), the same as CSV, and a template's runs side by side.

Staff of the run's team or a team it is shared with see the results (`courses.run_for_staff`);
reading them is audited, one event per person in the run, whether they answered or not.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from ..charts import bar_chart
from ..db import get_session, parse_id, utcnow
from ..forms import BaseForm
from ..measures.definitions import text
from ..models import CourseMeeting, CourseRun
from ..qr import qr_svg
from ..services import audit, courses
from ..services import course_evaluation as svc
from ..services.access import clinical_team_ids
from ..services.errors import NotFound
from ..web import render_audited
from . import bp

END = "end"


class OpenEvaluationForm(BaseForm):
    """Which round to send out: the end of the run, or one meeting (runs evaluated after each)."""

    round = SelectField(_l("Evaluate"), validate_choice=True)


def open_form(run: CourseRun, formdata=None) -> OpenEvaluationForm:
    form = OpenEvaluationForm(formdata=formdata, prefix="evaluation") if formdata is not None else \
        OpenEvaluationForm(prefix="evaluation", formdata=None)
    choices = [(END, _("The whole course, at its end"))]
    if run.evaluation_each_meeting:
        choices += [(str(m.id), _("Meeting %(number)d", number=m.number)) for m in run.meetings if not m.cancelled]
    form.round.choices = choices
    return form


def _round_meeting(run: CourseRun, value: Any) -> CourseMeeting | None:
    """The meeting a `meeting` query or form value names (None: the end); 404 for another run's."""
    if value in (None, "", END):
        return None
    meeting_id = parse_id(value)
    meeting = next((m for m in run.meetings if m.id == meeting_id), None)
    if meeting is None:
        abort(404)
    return meeting




def _mean(value: float | None) -> str:
    return _("No answers") if value is None else format_decimal(value, format="0.0")


def _modes(modes: tuple[int, ...]) -> str:
    return _("No answers") if not modes else ", ".join(str(m) for m in modes)


def _rate(value: float | None) -> str:
    return _("Not known") if value is None else format_percent(value / 100, format="#,##0.0%")


def _item_views(results_items, instrument, lang: str, chart_prefix: str) -> list[dict[str, Any]]:
    options = [o.value for o in instrument.options]
    views = []
    for number, (item, result) in enumerate(zip(instrument.items, results_items), start=1):
        label = text(item.text, lang)
        description = _("Answers per value: %(counts)s.", counts="; ".join(
            f"{value}: {count}" for value, count in zip(options, result.counts)))
        views.append({"number": number, "label": label, "n": result.n, "mean": _mean(result.mean),
                      "modes": _modes(result.modes), "counts": list(zip(options, result.counts)),
                      "chart": bar_chart(result.counts, [str(o) for o in options], title=label,
                                         description=description, chart_id=f"{chart_prefix}-{item.key}")})
    return views


def _audit_results(db, run: CourseRun) -> None:
    audit.record_shown(db, actor=current_user, action="view_course_results", object_type="course_run",
                       shown=[(p.user_id, run.team_id, run.id) for p in svc.run_participants(db, run=run)],
                       now=utcnow())


# --- Views ---------------------------------------------------------------------------------------

@bp.route("/courses/runs/<int:run_id>/evaluation", methods=["POST"])
def course_evaluation_open(run_id: int):
    """Send the evaluation out: a link for each participant and a "new message" to each."""
    db = get_session()
    run = courses.require_leader(db, actor=current_user, run_id=run_id)
    form = open_form(run, formdata=request.form)
    if not form.validate():
        abort(400)
    meeting = _round_meeting(run, form.round.data)
    made = svc.open_evaluation(db, run=run, meeting=meeting)
    db.commit()
    if made:
        flash(_("The evaluation is sent out. Each participant has their own link."), "success")
    else:
        flash(_("Everyone already has a link to this evaluation."), "info")
    return redirect(url_for(".course_evaluation_links", run_id=run.id,
                            meeting=meeting.id if meeting is not None else None))


@bp.route("/courses/runs/<int:run_id>/evaluation/links")
def course_evaluation_links(run_id: int):
    """The printable sheet: one QR code per unused link with its address beside it; names only
    for named runs."""
    db = get_session()
    run = courses.require_leader(db, actor=current_user, run_id=run_id)
    meeting = _round_meeting(run, request.args.get("meeting"))
    links = [link for link in svc.links_for_run(db, run=run, meeting_id=meeting.id if meeting else None)
             if not link.used]
    names = {}
    if not run.evaluation_anonymous:
        names = {p.id: p.user.display_name or _("Name not given") for p in svc.run_participants(db, run=run)}
        audit.record_shown(db, actor=current_user, action="view_course_links", object_type="course_run",
                           shown=[(p.user_id, run.team_id, run.id) for p in svc.run_participants(db, run=run)],
                           now=utcnow())
    sheet = []
    for number, link in enumerate(links, start=1):
        address = url_for("public.evaluation", token=link.token, _external=True)
        sheet.append({"number": number, "address": address, "name": names.get(link.participant_id),
                      "qr": qr_svg(address, title=_("QR code for evaluation form %(number)d", number=number))})
    return render_audited("therapist/courses/results_links.html", run=run, meeting=meeting, sheet=sheet,
                          title=run.template.title)


@bp.route("/courses/runs/<int:run_id>/results")
def course_results(run_id: int):
    """A run's evaluation results (the end, or `?meeting=<id>`); `?figures=shown` shows the
    figures of fewer than five answers."""
    db = get_session()
    run = courses.run_for_staff(db, actor=current_user, run_id=run_id)
    meeting = _round_meeting(run, request.args.get("meeting"))
    results = svc.round_results(db, run=run, meeting=meeting)
    lang = str(get_locale())
    names = {}
    if not run.evaluation_anonymous:
        names = {p.id: p.user.display_name or _("Name not given") for p in svc.run_participants(db, run=run)}
    _audit_results(db, run)
    rounds = [(None if m is None else next((x for x in run.meetings if x.id == m), None))
              for m in svc.evaluation_rounds(db, run)]
    show_figures = not results.few or request.args.get("figures") == "shown"
    leader = courses.is_leader(db, actor=current_user, run_id=run.id)
    return render_audited(
        "therapist/courses/results.html", run=run, meeting=meeting, results=results, rounds=rounds,
        title=run.template.title, items=_item_views(results.items, results.instrument, lang, "item"),
        rate=_rate(results.rate), show_figures=show_figures, names=names,
        free_text_questions=[text(q, lang) for _key, q in svc.free_text_for(results.instrument)],
        open_form=open_form(run) if leader else None, few_limit=svc.FEW_ANSWERS)


@bp.route("/courses/runs/<int:run_id>/results.csv")
def course_results_csv(run_id: int):
    """The same results as CSV: item, n, mean, modes, counts 1-5, then the free text."""
    db = get_session()
    run = courses.run_for_staff(db, actor=current_user, run_id=run_id)
    meeting = _round_meeting(run, request.args.get("meeting"))
    results = svc.round_results(db, run=run, meeting=meeting)
    _audit_results(db, run)
    db.commit()
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(svc.csv_rows(results))
    response = Response(out.getvalue(), mimetype="text/csv; charset=utf-8")
    suffix = f"-meeting-{meeting.number}" if meeting is not None else ""
    response.headers["Content-Disposition"] = f'attachment; filename="course-{run.id}-evaluation{suffix}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/courses/templates/<int:template_id>/results")
def course_template_results(template_id: int):
    """The end-of-run figures of a template's runs side by side (aggregates only: not audited)."""
    db = get_session()
    template = courses.template_for_staff(db, actor=current_user, template_id=template_id)
    teams = clinical_team_ids(db, current_user, what="course")
    columns = svc.template_comparison(db, template=template, visible=courses.visible_to_teams(teams))
    if not columns:
        raise NotFound("course")
    lang = str(get_locale())
    instrument = svc.instrument_for(columns[0].run)
    show_all = request.args.get("figures") == "shown"
    rows = []
    for index, item in enumerate(instrument.items):
        cells = []
        for column in columns:
            result = column.items[index]
            if column.few and not show_all:
                cells.append(_("n = %(n)d (too few answers to show figures)", n=result.n))
            else:
                cells.append(_("Mean %(mean)s, mode %(modes)s, n = %(n)d", mean=_mean(result.mean),
                               modes=_modes(result.modes), n=result.n))
        rows.append((text(item.text, lang), cells))
    rows.append((_("Response rate"), [_rate(c.rate) for c in columns]))
    return render_template("therapist/courses/results_template.html", template=template, columns=columns,
                           rows=rows, show_all=show_all, any_few=any(c.few for c in columns),
                           few_limit=svc.FEW_ANSWERS)
