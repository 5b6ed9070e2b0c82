"""The review view: the queue's rows with their flags and cover reasons, and one check-in's
screen (modules, worksheets with their field labels, scores with the trend, the resident's own
words, earlier feedback, the forms and the timer) as labels ready for the templates."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import charts, measures
from ...codes import label
from ...localtime import to_local
from ...selfhelp import sleep_window
from ...selfhelp.worksheets import WORKSHEETS, WorksheetKind
from ...services.check_in_review import CheckInReview, Queue, QueueRow
from .common import INSTRUMENTS, form_name, page_links, tel_link
from .programmes import hours

#: Sleep diaries are shown as one row per night, not one card each.
SLEEP_DIARY = "sleep_diary"

#: Why a check-in is urgent, by `QueueRow.urgent` key.
URGENT_LABELS = {"episode": _l("Urgent episode"), "flag": _l("Open urgent flag"),
                 "talk_sooner": _l("Asked to talk to someone sooner"),
                 "deterioration": _l("Reliable deterioration")}
#: The resident's answers in the check-in, in order.
ANSWER_LABELS = (("worked_on", _l("What I worked on")), ("helped", _l("What helped")),
                 ("hard", _l("What was hard")), ("question", _l("A question for my therapist")))
SHORT_DATE_PATTERN = "dd.MM"


def _cover(row: QueueRow) -> str:
    if row.cover == "away":
        return _("Cover: %(name)s is away", name=row.responsible_name or "?")
    if row.cover == "overdue":
        return _("Cover: waited more than two working days (%(name)s)", name=row.responsible_name or "?")
    return ""


def queue_row(row: QueueRow, when, urgent: dict[str, str], link: str) -> dict[str, Any]:
    """One row of the queue; `when` formats a time, `urgent` holds the urgent reasons' labels,
    `link` is the review page's URL with "0" for the check-in's id."""
    return {"id": row.appointment_id, "name": row.name, "programme": row.programme,
            "sent_at": when(row.sent_at) if row.sent_at else "", "starts_at": when(row.starts_at),
            "due": when(row.due), "overdue": row.overdue, "url": link.replace("/0", f"/{row.appointment_id}", 1),
            "was_due": _("check-in was due %(when)s", when=when(row.starts_at)) if not row.sent_at else "",
            "urgent": [urgent[k] for k in row.urgent], "cover": _cover(row) if row.cover else ""}


def queue_view(queue: Queue) -> dict[str, Any]:
    """The queue's rows; times as local "dd.mm.yyyy hh:mm" (fast for hundreds of rows, the same in
    every language, like the charts' dates)."""
    def when(moment: datetime) -> str:
        return f"{to_local(moment):%d.%m.%Y %H:%M}"
    urgent = {key: str(text) for key, text in URGENT_LABELS.items()}
    link = url_for("therapist.review", appointment_id=0)
    return {"waiting": [queue_row(r, when, urgent, link) for r in queue.waiting],
            "missing": [queue_row(r, when, urgent, link) for r in queue.missing],
            "waiting_total": queue.waiting_total, "missing_total": queue.missing_total,
            "more_missing": queue.missing_total - len(queue.missing) if queue.page == 1 else 0,
            "pager": queue_pager(queue)}


def queue_pager(queue: Queue) -> dict[str, Any] | None:
    """"Page 2 of 4" with links to the pages before and after (None when one page holds all)."""
    return page_links("therapist.review_queue", queue.page, queue.pages)


def _module_status(state) -> str:
    if not state.available:
        return _("Not open yet")
    if state.finished_at:
        return _("Finished")
    if state.first_read_at:
        return _("Read")
    return _("Opened early") if state.opened_early else _("Open")


def _labels(kind: WorksheetKind) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """A worksheet kind's title, field labels and choice labels, translated once per page."""
    return (str(kind.title), {f.name: str(f.label) for f in kind.fields},
            {f.name: {value: str(text) for value, text in f.choices} for f in kind.fields if f.type == "choice"})


def worksheet_view(worksheet, *, new: bool, labels: dict[str, tuple] | None = None) -> dict[str, Any]:
    """A worksheet's answers under its fields' labels (unknown kinds shown by their answers only).
    `labels` caches `_labels` per kind across the worksheets of one page."""
    kind = WORKSHEETS.get(worksheet.kind)
    content = worksheet.content or {}
    if kind is None:
        rows = [(name, str(value)) for name, value in content.items()]
        title = worksheet.kind
    else:
        cache = labels if labels is not None else {}
        if kind.key not in cache:
            cache[kind.key] = _labels(kind)
        title, names, choices = cache[kind.key]
        rows = [(names[f.name], choices.get(f.name, {}).get(content[f.name], str(content[f.name])))
                for f in kind.fields if content.get(f.name) not in (None, "")]
    return {"id": worksheet.id, "title": title, "new": new, "updated_at": worksheet.updated_at, "rows": rows}


def diary_rows(diaries: list) -> list[dict[str, Any]]:
    """Sleep-diary worksheets as one compact row per night (oldest first): in bed, time asleep,
    sleep efficiency, how well, the note. A night whose times do not add up shows its times only."""
    rows = []
    for worksheet in sorted(diaries, key=lambda w: (w.for_date or w.updated_at.date(), w.id)):
        content = worksheet.content or {}
        night = sleep_window.read_night(content)
        rows.append({"night": worksheet.for_date, "in_bed": f"{content.get('bedtime', '')}–{content.get('rose', '')}",
                     "asleep": hours(night.asleep) if night else "–",
                     "efficiency": f"{night.efficiency} %" if night and night.in_bed else "–",
                     "quality": content.get("quality", "–"), "note": content.get("note", "")})
    return rows


def _trend(code: str, responses: list) -> dict[str, Any]:
    """One instrument's scores in time order with the change from the one before, and a chart."""
    mine = [r for r in responses if r.instrument_code == code]
    rows, before = [], None
    for r in mine:
        rows.append({"at": r.submitted_at, "total": r.total,
                     "change": "" if before is None else f"{r.total - before:+d}"})
        before = r.total
    name = str(label(INSTRUMENTS, code))
    first, last = mine[0], mine[-1]
    description = _("%(code)s went from %(first)s to %(last)s (%(count)s measurements).", code=code,
                    first=first.total, last=last.total, count=len(mine))
    chart_id = "review-chart-" + code.lower().replace("-", "")
    chart = charts.line_chart([charts.ChartPoint(r.submitted_at, r.total, format_date(r.submitted_at,
                                                                                      SHORT_DATE_PATTERN))
                               for r in mine], max_value=measures.get(code).max_total,
                              title=_("%(code)s (%(name)s) over time", code=code, name=name),
                              description=description, chart_id=chart_id) if len(mine) > 1 else None
    return {"code": code, "name": name, "id": "scores-" + code.lower().replace("-", ""), "rows": rows,
            "description": description, "chart": chart}


def review_view(review: CheckInReview, *, now: datetime) -> dict[str, Any]:
    """Everything on the review screen, with labels."""
    report = review.report
    answers = (report.answers or {}) if report is not None else {}
    since = review.since
    progress = {p.module_key: p for p in review.progress}
    labels: dict[str, tuple] = {}
    return {
        "id": review.appointment.id, "episode_id": review.episode.id,
        "name": review.resident.display_name or f"#{review.resident.id}",
        "phone": review.phone, "tel": tel_link(review.phone),
        "programme": review.programme, "since": since, "starts_at": review.appointment.starts_at,
        "sent_at": report.sent_at if report is not None and report.answers else None,
        "missing": report is None, "reviewed": review.reviewed, "can_complete": review.can_complete,
        "reviewed_at": report.reviewed_at if report is not None else None,
        "minutes": review.appointment.duration_minutes,
        "talk_sooner": bool(report and report.talk_sooner),
        "answers": [(str(text), answers[key]) for key, text in ANSWER_LABELS if answers.get(key)],
        "modules": [{"number": s.item.number, "title": s.item.title, "status": _module_status(s),
                     "opened_at": progress[s.item.key].opened_at if s.item.key in progress else None,
                     "first_read_at": s.first_read_at, "finished_at": s.finished_at, "rating": s.rating,
                     "new": any(t is not None and t >= since for t in (s.first_read_at, s.finished_at))}
                    for s in review.modules],
        "next_module": ({"number": review.next_module.number, "title": review.next_module.title}
                        if review.next_module is not None else None),
        "worksheets": [worksheet_view(w.worksheet, new=w.new, labels=labels) for w in review.worksheets
                       if w.worksheet.kind != SLEEP_DIARY],
        "diary": diary_rows([w.worksheet for w in review.worksheets if w.worksheet.kind == SLEEP_DIARY]),
        "trends": [_trend(code, review.responses) for code in ("PHQ-9", "GAD-7")
                   if any(r.instrument_code == code for r in review.responses)],
        "deteriorated": review.deteriorated,
        "earlier": [{"at": r.reviewed_at, "feedback": r.feedback} for r in review.earlier_feedback],
        "forms": [{"name": form_name(f.instrument_code), "answered": f.response_id is not None} for f in review.forms],
        "phrases": [{"id": p.id, "text": p.text} for p in review.phrases],
        "started_at": review.started_at, "elapsed": review.elapsed_minutes(now),
        "started_iso": review.started_at.isoformat(),
    }
