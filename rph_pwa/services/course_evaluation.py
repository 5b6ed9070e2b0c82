"""Course evaluation forms: one single-use link per participant, the answers, and their results.

A run's evaluation is **anonymous** (the default) or **named**. Either way each participant gets
their own single-use link (`EvaluationLink`, the token kept encrypted so the participant's course
page and the leaders' printable sheet can show it). An anonymous answer keeps no path back: no
participant id, no link id, a random row id and the day only; a named answer keeps the
participant's id (allows follow-up). Nothing here logs anything about a token, a link or a person.

The results are plain functions over the stored scores (`summarise`, `item_results`,
`response_rate`), so they can be checked on hand-made data.
"""
from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..crypto import secret_digest
from ..localtime import local_today
from ..measures.definitions import Instrument
from ..measures.evaluations import EVALUATIONS, FREE_TEXT
from ..models import (
    CourseAttendanceMark,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseTemplate,
    EvaluationAnswer,
    EvaluationLink,
    User,
)
from .courses import COURSE_LINK
from .errors import DomainError, NotFound
from .reminders import queue_message

#: Fewer answers than this: the figures are shown only after an explicit step (small groups).
FEW_ANSWERS = 5
#: The longest free-text answer kept (the form says so before it is sent).
FREE_TEXT_MAX = 4000


class LinkNotUsable(NotFound):
    """The evaluation link is unknown or already used (the two are not told apart)."""


class InvalidAnswers(DomainError):
    """Some items are missing or outside the scale: `problems` maps item key → "missing" or
    "out_of_range" (the page words them)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("invalid evaluation answers")
        self.problems = dict(problems)


# --- Links ---------------------------------------------------------------------------------------

def instrument_for(run: CourseRun) -> Instrument:
    """The run's evaluation form (its template's, else the course form)."""
    return EVALUATIONS.get(run.template.evaluation_code) or EVALUATIONS["COURSE-EVAL"]


def free_text_for(instrument: Instrument):
    return FREE_TEXT.get(instrument.code, ())


def last_meeting(session: Session, run: CourseRun) -> CourseMeeting | None:
    """The run's last meeting that was not cancelled (the follow-up meeting counts)."""
    return session.scalar(select(CourseMeeting).where(CourseMeeting.run_id == run.id,
                                                      CourseMeeting.cancelled.is_(False))
                          .order_by(CourseMeeting.number.desc()).limit(1))


def attended_count(session: Session, meeting: CourseMeeting | None) -> int:
    if meeting is None:
        return 0
    return session.scalar(select(func.count()).select_from(CourseAttendanceMark).where(
        CourseAttendanceMark.meeting_id == meeting.id, CourseAttendanceMark.status == "attended")) or 0


def in_round(column, meeting_id: int | None):
    """A condition: `column` (a meeting id) is the round's (None: the end of the run)."""
    return column.is_(None) if meeting_id is None else column == meeting_id


def open_evaluation(session: Session, *, run: CourseRun, meeting: CourseMeeting | None = None) -> list[EvaluationLink]:
    """Give each participant of the run one link to the evaluation form and a content-free "new
    message" reminder; returns the links made now (none on a second call: idempotent).

    At the end of the run (`meeting` None) everyone enrolled gets a link, also someone who missed
    the last meeting (they took the course and may have a view); after one meeting, those marked
    as attending it. Withdrawn and waiting people get none."""
    if meeting is not None and meeting.run_id != run.id:
        raise NotFound("course")
    who = select(CourseParticipant).where(CourseParticipant.run_id == run.id, CourseParticipant.status == "enrolled")
    if meeting is not None:
        who = who.join(CourseAttendanceMark, (CourseAttendanceMark.participant_id == CourseParticipant.id)
                       & (CourseAttendanceMark.meeting_id == meeting.id)
                       & (CourseAttendanceMark.status == "attended"))
    participants = list(session.scalars(who.order_by(CourseParticipant.id)))
    meeting_id = meeting.id if meeting is not None else None
    have = set(session.scalars(select(EvaluationLink.participant_id).where(
        EvaluationLink.run_id == run.id,
        in_round(EvaluationLink.meeting_id, meeting_id))))
    made = []
    for participant in participants:
        if participant.id in have:
            continue
        token = secrets.token_urlsafe(24)
        made.append(EvaluationLink(run_id=run.id, meeting_id=meeting_id, participant_id=participant.id,
                                   token_hash=secret_digest(token), token=token, used=False))
    session.add_all(made)
    session.flush()
    users = {p.id: p.user_id for p in participants}
    for link in made:
        queue_message(session, resident_id=users[link.participant_id],
                      key=f"evaluation:{run.id}:{meeting_id or 'end'}:{link.participant_id}", link=COURSE_LINK)
    return made


def links_for_run(session: Session, *, run: CourseRun, meeting_id: int | None = None) -> list[EvaluationLink]:
    """The run's links (for the printable sheet), in a random order for anonymous runs, so the
    sheet's order says nothing about who is who; by participant for named runs."""
    links = list(session.scalars(select(EvaluationLink).where(
        EvaluationLink.run_id == run.id,
        in_round(EvaluationLink.meeting_id, meeting_id))
        .order_by(EvaluationLink.participant_id)))
    if run.evaluation_anonymous:
        random.SystemRandom().shuffle(links)
    return links


def evaluation_rounds(session: Session, run: CourseRun) -> list[int | None]:
    """The rounds the run has links for: meeting ids in meeting order, then None (the end)."""
    rows = session.execute(select(EvaluationLink.meeting_id, CourseMeeting.number).distinct()
                           .outerjoin(CourseMeeting, CourseMeeting.id == EvaluationLink.meeting_id)
                           .where(EvaluationLink.run_id == run.id)).all()
    rows.sort(key=lambda r: (r.meeting_id is None, r.number or 0))
    return [r.meeting_id for r in rows]


def open_links_for_resident(session: Session, *, resident: User) -> list[tuple[EvaluationLink, CourseRun]]:
    """The resident's own unused evaluation links, with their runs (newest run first)."""
    rows = session.execute(
        select(EvaluationLink, CourseRun)
        .join(CourseParticipant, CourseParticipant.id == EvaluationLink.participant_id)
        .join(CourseRun, CourseRun.id == EvaluationLink.run_id)
        .where(CourseParticipant.user_id == resident.id, EvaluationLink.used.is_(False),
               CourseRun.cancelled.is_(False))
        .order_by(CourseRun.id.desc(), EvaluationLink.meeting_id)).all()
    return [(link, run) for link, run in rows]


def usable_link(session: Session, token: str) -> EvaluationLink:
    """The unused link with this token; LinkNotUsable for an unknown or used one alike."""
    if not token or len(token) > 100:
        raise LinkNotUsable("evaluation")
    link = session.scalar(select(EvaluationLink).where(EvaluationLink.token_hash == secret_digest(token)))
    if link is None or link.used:
        raise LinkNotUsable("evaluation")
    return link


# --- Answers -------------------------------------------------------------------------------------

def check_scores(instrument: Instrument, scores: Mapping[str, object]) -> dict[str, int]:
    """Every item answered with one of its options; InvalidAnswers names each problem."""
    problems, clean = {}, {}
    for item in instrument.items:
        allowed = {option.value for option in instrument.options_for(item)}
        value = scores.get(item.key)
        if value is None or value == "":
            problems[item.key] = "missing"
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            problems[item.key] = "out_of_range"
            continue
        if number not in allowed or isinstance(value, bool) or (isinstance(value, float) and value != number):
            problems[item.key] = "out_of_range"
            continue
        clean[item.key] = number
    if problems:
        raise InvalidAnswers(problems)
    return clean


def _clean_text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value[:FREE_TEXT_MAX] or None


def submit(session: Session, *, token: str, scores: Mapping[str, object], useful: str | None = None,
           less_useful: str | None = None, today: date | None = None) -> EvaluationAnswer:
    """Store one filled-in form through a link and use the link up, in one transaction.

    The scores are checked first (a refused form leaves the link usable). The link is marked used
    with `UPDATE ... WHERE used = false`, so a second use, or two sends at the same moment, store
    one answer only (LinkNotUsable for the other). An anonymous answer has no participant and no
    link id; a named one has the link's participant. `answered_on` is the local day only."""
    link = usable_link(session, token)
    run = session.get(CourseRun, link.run_id)
    instrument = instrument_for(run)
    clean = check_scores(instrument, scores)
    taken = session.execute(update(EvaluationLink).where(EvaluationLink.id == link.id, EvaluationLink.used.is_(False))
                            .values(used=True).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise LinkNotUsable("evaluation")
    answer = EvaluationAnswer(run_id=run.id, meeting_id=link.meeting_id,
                              participant_id=None if run.evaluation_anonymous else link.participant_id,
                              instrument_code=instrument.code, instrument_version=instrument.version,
                              scores=clean, useful=_clean_text(useful), less_useful=_clean_text(less_useful),
                              answered_on=today or local_today())
    session.add(answer)
    session.expire(link)
    session.flush()
    return answer


# --- Results (plain functions) -----------------------------------------------------------------

@dataclass(frozen=True)
class ItemResult:
    """One item's figures: n, the mean (one decimal; None without answers), every mode (empty
    without answers) and the count of each option, lowest first."""

    key: str
    n: int
    mean: float | None
    modes: tuple[int, ...]
    counts: tuple[int, ...]


def summarise(key: str, values: Iterable[int], scale: Sequence[int] = (1, 2, 3, 4, 5)) -> ItemResult:
    values = [v for v in values if v in scale]
    counter = Counter(values)
    counts = tuple(counter.get(option, 0) for option in scale)
    if not values:
        return ItemResult(key=key, n=0, mean=None, modes=(), counts=counts)
    top = max(counts)
    return ItemResult(key=key, n=len(values), mean=round(sum(values) / len(values) + 1e-9, 1),
                      modes=tuple(option for option, count in zip(scale, counts) if count == top), counts=counts)


def item_results(instrument: Instrument, answers: Iterable[Mapping[str, int]]) -> list[ItemResult]:
    """Per item of `instrument`, the figures of `answers` (score mappings)."""
    answers = list(answers)
    return [summarise(item.key, (a[item.key] for a in answers if isinstance(a.get(item.key), int)),
                      scale=tuple(o.value for o in instrument.options_for(item)))
            for item in instrument.items]


def response_rate(answers: int, attended_last: int) -> float | None:
    """Answers per participant who attended the last meeting, in per cent (one decimal); None
    when no one is marked as attending it."""
    if not attended_last:
        return None
    return round(100 * answers / attended_last, 1)


@dataclass(frozen=True)
class FreeText:
    """One answer's free text; `participant_id` only for named runs."""

    useful: str | None
    less_useful: str | None
    participant_id: int | None = None


@dataclass(frozen=True)
class RoundResults:
    """The results of one evaluation round of a run (the end, or one meeting)."""

    run: CourseRun
    meeting: CourseMeeting | None
    instrument: Instrument
    n: int
    items: list[ItemResult]
    #: Every answer that has free text; never in the order of answering.
    free_text: list[FreeText]
    links: int
    attended_last: int
    rate: float | None

    @property
    def few(self) -> bool:
        return self.n < FEW_ANSWERS


def round_results(session: Session, *, run: CourseRun, meeting: CourseMeeting | None = None) -> RoundResults:
    """The figures and free text of one round. The free text is sorted by its own text (a stable
    order that is not the order of answering)."""
    instrument = instrument_for(run)
    meeting_id = meeting.id if meeting is not None else None
    answers = list(session.scalars(select(EvaluationAnswer).where(
        EvaluationAnswer.run_id == run.id,
        in_round(EvaluationAnswer.meeting_id, meeting_id))
        .order_by(EvaluationAnswer.id)))
    texts = [FreeText(a.useful, a.less_useful, a.participant_id) for a in answers if a.useful or a.less_useful]
    texts.sort(key=lambda t: (t.useful or "", t.less_useful or ""))
    links = session.scalar(select(func.count()).select_from(EvaluationLink).where(
        EvaluationLink.run_id == run.id,
        in_round(EvaluationLink.meeting_id, meeting_id))) or 0
    attended = attended_count(session, meeting if meeting is not None else last_meeting(session, run))
    return RoundResults(run=run, meeting=meeting, instrument=instrument, n=len(answers),
                        items=item_results(instrument, (a.scores or {} for a in answers)), free_text=texts,
                        links=links, attended_last=attended, rate=response_rate(len(answers), attended))


def run_participants(session: Session, *, run: CourseRun) -> list[CourseParticipant]:
    """Everyone enrolled in the run or withdrawn from it (the results page's audit: one event per
    person, whether or not they answered, so the log says nothing about who did)."""
    return list(session.scalars(select(CourseParticipant).where(CourseParticipant.run_id == run.id,
                                                                 CourseParticipant.status != "waiting")))


@dataclass(frozen=True)
class RunColumn:
    """One run's end-of-run figures, for runs of a template side by side."""

    run: CourseRun
    first_meeting: CourseMeeting | None
    n: int
    items: list[ItemResult]
    rate: float | None

    @property
    def few(self) -> bool:
        return self.n < FEW_ANSWERS


def template_comparison(session: Session, *, template: CourseTemplate, visible) -> list[RunColumn]:
    """The end-of-run figures of each of the template's runs that `visible` (a condition on
    CourseRun) admits, oldest first (three queries in all)."""
    runs = list(session.scalars(select(CourseRun).where(CourseRun.template_id == template.id, visible)
                                .order_by(CourseRun.id)))
    run_ids = [run.id for run in runs]
    scores: dict[int, list[dict]] = {run_id: [] for run_id in run_ids}
    for run_id, answer_scores in session.execute(select(EvaluationAnswer.run_id, EvaluationAnswer.scores).where(
            EvaluationAnswer.run_id.in_(run_ids), EvaluationAnswer.meeting_id.is_(None))):
        scores[run_id].append(answer_scores or {})
    meetings: dict[int, list[CourseMeeting]] = {run_id: [] for run_id in run_ids}
    for meeting in session.scalars(select(CourseMeeting).where(CourseMeeting.run_id.in_(run_ids))
                                   .order_by(CourseMeeting.number)):
        meetings[meeting.run_id].append(meeting)
    last = {run_id: next((m for m in reversed(found) if not m.cancelled), None) for run_id, found in meetings.items()}
    attended = dict(session.execute(
        select(CourseAttendanceMark.meeting_id, func.count()).where(
            CourseAttendanceMark.meeting_id.in_([m.id for m in last.values() if m is not None]),
            CourseAttendanceMark.status == "attended").group_by(CourseAttendanceMark.meeting_id)).all())
    columns = []
    for run in runs:
        instrument = instrument_for(run)
        answers = scores[run.id]
        last_meeting_of_run = last[run.id]
        columns.append(RunColumn(
            run=run, first_meeting=meetings[run.id][0] if meetings[run.id] else None, n=len(answers),
            items=item_results(instrument, answers),
            rate=response_rate(len(answers), attended.get(last_meeting_of_run.id, 0) if last_meeting_of_run else 0)))
    return columns


# --- CSV -----------------------------------------------------------------------------------------

def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(results: RoundResults) -> list[list[str]]:
    """Item figures (item, n, mean, modes, counts 1..5), a blank row, then the free text."""
    scale = [o.value for o in results.instrument.options]
    rows = [["item", "n", "mean", "modes", *(f"count_{v}" for v in scale)]]
    for item in results.items:
        rows.append([csv_cell(item.key), str(item.n), "" if item.mean is None else f"{item.mean:.1f}",
                     " ".join(str(m) for m in item.modes), *(str(c) for c in item.counts)])
    rows += [[], ["useful", "less_useful"]]
    rows += [[csv_cell(t.useful), csv_cell(t.less_useful)] for t in results.free_text]
    return rows
