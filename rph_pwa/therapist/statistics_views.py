"""Team statistics pages: the figures for a period (page, CSV and JSON) and a printable yearly
report for one municipality. Aggregates only, so nothing here is audited.

The routes are on the therapist blueprint, which already requires staff sign-in.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any, Optional

from flask import Response, render_template, request, url_for
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, ValidationError
from wtforms.validators import Optional as OptionalValue

from ..codes import AppointmentKind, EndReason, Offering, SickLeave, WorkStatus, labels
from ..db import get_session, parse_id
from ..forms import BaseForm
from ..localtime import local_today
from ..services import statistics as svc
from ..services.access import require_clinical
from . import bp
from .forms import ReachForm

NOT_RECORDED_LABEL = _l("Not recorded")
KIND_LABELS = labels(AppointmentKind)
CHANNEL_LABELS = {"app": _l("Referrals in the app"), "phone": _l("Enquiries by phone"),
                  "paper": _l("Enquiries on paper")}
LABELS = {
    "end_reasons": {**labels(EndReason), svc.NOT_RECORDED: NOT_RECORDED_LABEL},
    "work_status": {**labels(WorkStatus), svc.NOT_RECORDED: NOT_RECORDED_LABEL},
    "sick_leave": {**labels(SickLeave), svc.NOT_RECORDED: NOT_RECORDED_LABEL},
    "offerings": {**labels(Offering), svc.NO_OFFERING: _l("No offering agreed yet")},
}


def _optional_int(value: Any) -> Optional[int]:
    """'' or a missing value means "all"; anything else must be a whole number."""
    if value is None or value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id")  # WTForms turns this into "Not a valid choice"
    return number


class StatisticsForm(ReachForm):
    """The period (both days included), team and municipality of the statistics (query string)."""

    team = SelectField(_l("Team"), coerce=_optional_int, validate_choice=False)
    municipality = SelectField(_l("Where the residents live"), coerce=_optional_int, validate_choice=False)


def _sensible_year_number(_form, field) -> None:
    """A year the service can report on (a typed word is already "Not a valid integer value")."""
    if field.data is not None and not 2000 <= field.data <= 2100:
        raise ValidationError(_l("Enter a year between 2000 and 2100."))


class ReportForm(BaseForm):
    """The year and municipality of the printable yearly report (query string)."""

    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[OptionalValue(), _sensible_year_number])
    municipality = SelectField(_l("Municipality"), coerce=_optional_int, validate_choice=False,
                               validators=[InputRequired(_l("Choose a municipality."))])


# --- Views ---------------------------------------------------------------------------------------

@bp.route("/statistics")
def statistics():
    """Team figures for a period (default: this calendar year), with CSV and JSON downloads."""
    form, report_form = _statistics_forms()
    stats = _requested(form)
    if stats is None:
        return _page(form, report_form, None), 400
    return _page(form, report_form, stats)


@bp.route("/statistics.csv")
def statistics_csv():
    """The same figures as `section,metric,value` rows (no person-level data)."""
    form, report_form = _statistics_forms()
    stats = _requested(form)
    if stats is None:
        return _page(form, report_form, None), 400
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "metric", "value"))
    writer.writerows(svc.statistics_rows(stats))
    return _attachment(out.getvalue(), "text/csv; charset=utf-8", _filename(stats, "csv"))


@bp.route("/statistics.json")
def statistics_json():
    """The same figures as JSON: {section: {metric: value}}, null for no data."""
    form, _report_form = _statistics_forms()
    stats = _requested(form)
    if stats is None:
        return {"errors": {name: [str(e) for e in errors] for name, errors in form.errors.items()}}, 400
    body = json.dumps(svc.statistics_dict(stats), ensure_ascii=False, indent=2)
    return _attachment(body, "application/json", _filename(stats, "json"))


@bp.route("/statistics/report")
def statistics_report():
    """A printable one-page yearly report for one municipality."""
    _teams, municipalities = _scopes_or_404()
    form = ReportForm(formdata=request.args)
    form.municipality.choices = _municipality_choices(municipalities, everyone=False)
    if not form.validate():
        return render_template("therapist/statistics_report.html", form=form, report=None), 400
    year = form.year.data or local_today().year
    form.year.data = year
    stats = svc.team_statistics(get_session(), actor=current_user, since=date(year, 1, 1),
                                until=date(year + 1, 1, 1), municipality_id=form.municipality.data)
    return render_template("therapist/statistics_report.html", form=form, report=_report(stats, year))


# --- Helpers -------------------------------------------------------------------------------------

def _scopes_or_404():
    """My teams and their municipalities; only clinical staff see statistics (others get 404)."""
    require_clinical(current_user, what="statistics")
    return svc.reporting_scopes(get_session(), actor=current_user)


def _municipality_choices(municipalities, *, everyone: bool) -> list[SelectChoice]:
    first = [SelectChoice("", _("All municipalities"))] if everyone else [SelectChoice("", _("Choose"))]
    return first + [SelectChoice(m.id, m.name) for m in municipalities]


def _statistics_forms() -> tuple[StatisticsForm, ReportForm]:
    teams, municipalities = _scopes_or_404()
    form = StatisticsForm(formdata=request.args)
    form.team.choices = [SelectChoice("", _("All my teams"))] + [SelectChoice(t.id, t.name) for t in teams]
    form.municipality.choices = _municipality_choices(municipalities, everyone=True)
    report_form = ReportForm(formdata=None)
    report_form.municipality.choices = _municipality_choices(municipalities, everyone=False)
    return form, report_form


def _requested(form: StatisticsForm) -> Optional[svc.TeamStatistics]:
    """The figures for the form's period and scope; None if the form is not valid (404 if out of scope)."""
    if not form.validate():
        return None
    this_year = local_today().year
    since, until = form.since.data, form.until.data
    # A missing end is the end of the start's year, and the other way round, so the period is valid.
    since = since or date(until.year if until else this_year, 1, 1)
    until = until or date(since.year, 12, 31)
    form.since.data, form.until.data = since, until
    return svc.team_statistics(get_session(), actor=current_user, since=since, until=until + timedelta(days=1),
                               team_id=form.team.data, municipality_id=form.municipality.data)


def _page(form: StatisticsForm, report_form: ReportForm, stats: Optional[svc.TeamStatistics]) -> str:
    if stats is None:
        return render_template("therapist/statistics.html", form=form, report_form=report_form, stats=None)
    report_form.year.data = stats.since.year
    report_form.municipality.data = stats.municipality_id
    query = {"since": stats.since.isoformat(), "until": (stats.until - timedelta(days=1)).isoformat(),
             "team": form.team.data, "municipality": stats.municipality_id}
    return render_template("therapist/statistics.html", form=form, report_form=report_form, stats=stats,
                           last_day=stats.until - timedelta(days=1), tables=_tables(stats),
                           csv_url=url_for(".statistics_csv", **query), json_url=url_for(".statistics_json", **query))


def _attachment(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(stats: svc.TeamStatistics, ext: str) -> str:
    return f"rph-statistics-{stats.since.isoformat()}-{(stats.until - timedelta(days=1)).isoformat()}.{ext}"


# --- Presentation (labels and formatting; templates decide nothing) -----------------------------

def _number(value: Any) -> str:
    """A count or a one-decimal figure in the reader's language; "No data" for None."""
    if value is None:
        return _("No data")
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0")
    return format_decimal(value)


def _pct(value: Optional[float]) -> str:
    return _("No data") if value is None else format_percent(value / 100, format="#,##0.0%")


def _coded_rows(labels: dict, start: tuple, end: tuple) -> list[tuple[str, list[str]]]:
    """Rows (label, [at start, at end]) for coded values present at either time."""
    starts, ends = dict(start), dict(end)
    keys = [k for k, _n in start] + [k for k, _n in end if k not in starts]
    return [(str(labels.get(k, k)), [_number(starts.get(k, 0)), _number(ends.get(k, 0))]) for k in keys]


def _tables(stats: svc.TeamStatistics) -> list[dict[str, Any]]:
    """Every table of the page: id, caption, column headings and (row heading, cells)."""
    o, c, t, e = stats.outcomes, stats.first_contact, stats.first_treatment, stats.ended
    value = [_("Value")]
    return [
        {"id": "referrals", "title": _("Referrals and waiting times"), "heading": _("Figure"), "columns": value,
         "rows": [
             (_("Referrals received"), [_number(stats.referrals_received)]),
             *((str(CHANNEL_LABELS.get(k, k)), [_number(n)]) for k, n in stats.referrals_by_channel),
             (_("Episodes referred"), [_number(stats.episodes_referred)]),
             (_("Days to first contact, mean"), [_number(c.mean_days)]),
             (_("Days to first contact, median"), [_number(c.median_days)]),
             (_("Episodes with a first contact"), [_number(c.episodes)]),
             (_("Days to first treatment, mean"), [_number(t.mean_days)]),
             (_("Days to first treatment, median"), [_number(t.median_days)]),
             (_("Episodes with a first treatment"), [_number(t.episodes)]),
         ]},
        {"id": "episodes", "title": _("Episodes and treatment time"), "heading": _("Figure"), "columns": value,
         "rows": [
             (_("Episodes started (first treatment)"), [_number(stats.episodes_started)]),
             (_("Episodes ended"), [_number(stats.episodes_ended)]),
             (_("Treatment contacts per ended episode, median"), [_number(e.contacts_median)]),
             (_("Treatment hours per ended episode, median"), [_number(e.hours_median)]),
             (_("Days from referral to end, median"), [_number(e.duration_days_median)]),
             (_("Hours in attended appointments"), [_number(stats.treatment_hours)]),
             *((_("Hours: %(kind)s", kind=KIND_LABELS.get(kind, kind)), [_number(hours)])
               for kind, hours in stats.hours_by_kind),
         ]},
        {"id": "attendance", "title": _("Attended and missed contacts (no-show rate)"), "heading": _("Team"),
         "columns": [_("Attended"), _("Did not attend"), _("No-show rate")],
         "rows": [(t.name, [_number(t.attended), _number(t.no_shows), _pct(t.no_show_pct)])
                  for t in stats.attendance.by_team]
         + ([(_("All teams"), [_number(stats.attendance.attended), _number(stats.attendance.no_shows),
                               _pct(stats.attendance.no_show_pct)])] if len(stats.attendance.by_team) > 1 else [])},
        {"id": "check-in-reviews", "title": _("Guided self-help: minutes per reviewed check-in"),
         "heading": _("Therapist"), "columns": [_("Check-ins reviewed"), _("Median minutes"), _("Norm")],
         "rows": [(r.name, [_number(r.reviews), _number(r.minutes_median), _number(stats.reviews.norm_minutes)])
                  for r in stats.reviews.by_therapist]
         + [(_("All therapists"), [_number(stats.reviews.reviewed), _number(stats.reviews.minutes_median),
                                   _number(stats.reviews.norm_minutes)])]},
        {"id": "end-reasons", "title": _("Why episodes ended"), "heading": _("Reason"), "columns": [_("Episodes")],
         "rows": [(str(LABELS["end_reasons"].get(k, k)), [_number(n)]) for k, n in e.end_reasons]},
        {"id": "offerings", "title": _("Offerings agreed, episodes referred in the period"),
         "heading": _("Offering"), "columns": [_("Episodes")],
         "rows": [(str(LABELS["offerings"].get(k, k)), [_number(n)]) for k, n in stats.offerings]},
        {"id": "scores", "title": _("Mean scores at the first and last answer"), "heading": _("Questionnaire"),
         "columns": [_("First"), _("Last"), _("Episodes")],
         "rows": [("PHQ-9", [_number(o.phq9_first_mean), _number(o.phq9_last_mean), _number(o.eligible)]),
                  ("GAD-7", [_number(o.gad7_first_mean), _number(o.gad7_last_mean), _number(o.eligible)]),
                  ("WSAS", [_number(o.wsas_first_mean), _number(o.wsas_last_mean), _number(o.wsas_episodes)])]},
        {"id": "outcomes", "title": _("Recovery and reliable change"), "heading": _("Outcome"),
         "columns": [_("Episodes"), _("Out of"), _("Per cent")],
         "rows": [
             (_("Recovery"), [_number(o.recovered), _number(o.caseness_start), _pct(o.recovery_pct)]),
             (_("Reliable improvement"), [_number(o.reliably_improved), _number(o.eligible),
                                          _pct(o.reliable_improvement_pct)]),
             (_("Reliable recovery"), [_number(o.reliably_recovered), _number(o.eligible),
                                       _pct(o.reliable_recovery_pct)]),
             (_("Reliable deterioration"), [_number(o.reliably_deteriorated), _number(o.eligible),
                                            _pct(o.reliable_deterioration_pct)]),
             (_("Dropped out"), [_number(o.dropped_out), _number(stats.episodes_ended), _pct(o.dropout_pct)]),
         ]},
        {"id": "work", "title": _("Work status at start and end"), "heading": _("Work status"),
         "columns": [_("At start"), _("At end")],
         "rows": _coded_rows(LABELS["work_status"], stats.work_status_start, stats.work_status_end)},
        {"id": "sick-leave", "title": _("Sick leave at start and end"), "heading": _("Sick leave"),
         "columns": [_("At start"), _("At end")],
         "rows": _coded_rows(LABELS["sick_leave"], stats.sick_leave_start, stats.sick_leave_end)},
    ]


def _summary(stats: svc.TeamStatistics, year: int) -> list[str]:
    """A few plain sentences for readers who are not clinicians (politicians, the municipality)."""
    o = stats.outcomes
    sentences = [
        ngettext("In %(year)s, %(num)d person living in %(municipality)s referred themselves to %(team)s.",
                 "In %(year)s, %(num)d people living in %(municipality)s referred themselves to %(team)s.",
                 stats.referrals_received, year=year, municipality=stats.municipality_name,
                 team=", ".join(stats.team_names)),
        _("During the year, %(started)s started treatment and %(ended)s ended it. The team spent %(hours)s hours "
          "in appointments with them.", started=_number(stats.episodes_started), ended=_number(stats.episodes_ended),
          hours=_number(stats.treatment_hours)),
    ]
    if stats.first_contact.median_days is not None:
        sentences.append(_("Half of them were contacted within %(days)s days after referring themselves.",
                           days=_number(stats.first_contact.median_days)))
    if o.eligible:
        sentences.append(_("Of the %(eligible)s who ended after at least two treatment contacts and answered the "
                           "questionnaires at least twice, %(improved)s improved reliably (%(pct)s).",
                           eligible=_number(o.eligible),
                           improved=_number(o.reliably_improved), pct=_pct(o.reliable_improvement_pct)))
        if o.caseness_start:
            sentences.append(_("Of the %(cases)s who started with clear symptoms, %(recovered)s recovered (%(pct)s).",
                               cases=_number(o.caseness_start), recovered=_number(o.recovered),
                               pct=_pct(o.recovery_pct)))
    else:
        sentences.append(_("No one ended after at least two treatment contacts with questionnaires answered at "
                           "least twice, so there is no data on the effect of treatment."))
    return sentences


def _report(stats: svc.TeamStatistics, year: int) -> dict[str, Any]:
    """Everything the yearly report shows, labelled and formatted."""
    o, sick_start, sick_end = stats.outcomes, dict(stats.sick_leave_start), dict(stats.sick_leave_end)
    on_leave_start = sick_start.get("graded", 0) + sick_start.get("full", 0)
    on_leave_end = sick_end.get("graded", 0) + sick_end.get("full", 0)
    rows = [
        (_("Referrals received"), _number(stats.referrals_received)),
        (_("Days to first contact, median"), _number(stats.first_contact.median_days)),
        (_("Days to first treatment, median"), _number(stats.first_treatment.median_days)),
        (_("Episodes started (first treatment)"), _number(stats.episodes_started)),
        (_("Episodes ended"), _number(stats.episodes_ended)),
        (_("Hours in attended appointments"), _number(stats.treatment_hours)),
        (_("Treatment contacts per ended episode, median"), _number(stats.ended.contacts_median)),
        (_("Days from referral to end, median"), _number(stats.ended.duration_days_median)),
        (_("Guided onward to other help"), _number(dict(stats.ended.end_reasons).get("guided_onward", 0))),
        (_("Dropped out"), _pct(o.dropout_pct)),
        (_("No-show rate (missed contacts)"), _pct(stats.attendance.no_show_pct)),
        (_("Ended after at least two treatment contacts with questionnaires answered at least twice"),
         _number(o.eligible)),
        (_("Recovery"), _pct(o.recovery_pct)),
        (_("Reliable improvement"), _pct(o.reliable_improvement_pct)),
        (_("Reliable deterioration"), _pct(o.reliable_deterioration_pct)),
        (_("PHQ-9 (depression), mean first and last"),
         _("%(first)s to %(last)s", first=_number(o.phq9_first_mean), last=_number(o.phq9_last_mean))),
        (_("GAD-7 (anxiety), mean first and last"),
         _("%(first)s to %(last)s", first=_number(o.gad7_first_mean), last=_number(o.gad7_last_mean))),
        (_("WSAS (work and social functioning), mean first and last"),
         _("%(first)s to %(last)s", first=_number(o.wsas_first_mean), last=_number(o.wsas_last_mean))),
        (_("On sick leave at start (episodes referred)"), _number(on_leave_start)),
        (_("On sick leave at end (episodes ended)"), _number(on_leave_end)),
    ]
    return {"year": year, "municipality": stats.municipality_name, "team": ", ".join(stats.team_names),
            "since": stats.since, "last_day": stats.until - timedelta(days=1),
            "made": local_today(), "summary": _summary(stats, year), "rows": rows}
