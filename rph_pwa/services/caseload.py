"""My caseload: the open episodes I am responsible for, with name, phase, offering, next contact,
the last PHQ-9 and GAD-7 with their trend, and the episode's flags; sortable and filterable.

A fixed number of queries whatever the length of the list (grouped and scalar subqueries, never a
query per row). Names are encrypted, so sorting by name happens here, in Python.
The list is audited: one event per resident shown, in one insert.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from ..db import utcnow
from ..models import Appointment, Episode, MeasureResponse, Referral, User
from ..models.referrals import OFFERINGS
from . import audit
from .access import clinical_team_ids
from .outcomes import BUDGET_EXCLUDES, EpisodeFlags, flags_from
from .triage import PHASES, episode_phase

#: The scores shown with a trend (the caseload's and the day's).
TREND_CODES = ("PHQ-9", "GAD-7")
#: Rows on one page of the caseload.
PAGE_SIZE = 50
#: How the list can be sorted (the first is the default).
SORTS = ("name", "next_contact", "phq9", "phase")


@dataclass(frozen=True)
class ScoreTrend:
    """The newest total of one instrument in an episode and how it moved since the one before
    (`change` None with one answer only; `trend` "up", "down" or "same", None then too)."""

    code: str
    total: int
    change: int | None
    at: datetime

    @property
    def trend(self) -> str | None:
        if self.change is None:
            return None
        return "up" if self.change > 0 else "down" if self.change < 0 else "same"


@dataclass(frozen=True)
class ScoreHistory:
    """First, previous and last totals of one instrument in an episode, and how many there are."""

    first: int
    previous: int | None
    last: int
    last_at: datetime
    count: int


def score_histories(session: Session, episode_ids: list[int]) -> dict[int, dict[str, ScoreHistory]]:
    """Per episode and instrument (PHQ-9, GAD-7): first, previous and last total and the count, in
    one query whatever the length of the histories: per episode, a few scalar subqueries that each
    read one end of the (episode, instrument, time) index, instead of ranking every response."""
    if not episode_ids:
        return {}
    result: dict[int, dict[str, ScoreHistory]] = {}
    for episode_id, *values in session.execute(_histories_query().where(Episode.id.in_(episode_ids))):
        found = {}
        for i, code in enumerate(TREND_CODES):
            first, last, last_at, previous, count = values[5 * i:5 * i + 5]
            if count:
                found[code] = ScoreHistory(first=first, previous=previous, last=last, last_at=last_at, count=count)
        result[episode_id] = found
    return result


@cache
def _histories_query():
    """The select of `score_histories` without its episodes, built once (ten subqueries)."""
    columns = []
    for code in TREND_CODES:
        columns += [_pick(code, MeasureResponse.total, newest=False), _pick(code, MeasureResponse.total),
                    _pick(code, MeasureResponse.submitted_at), _pick(code, MeasureResponse.total, offset=1),
                    _count(code)]
    return select(Episode.id, *columns)


def _pick(code: str, column, *, newest: bool = True, offset: int = 0):
    """One value of the episode's newest (or first) response of `code`, `offset` places in."""
    response = aliased(MeasureResponse)
    order = ((response.submitted_at.desc(), response.id.desc()) if newest
             else (response.submitted_at, response.id))
    return (select(getattr(response, column.key))
            .where(response.episode_id == Episode.id, response.instrument_code == code)
            .order_by(*order).limit(1).offset(offset).scalar_subquery())


def _count(code: str):
    response = aliased(MeasureResponse)
    return (select(func.count(response.id))
            .where(response.episode_id == Episode.id, response.instrument_code == code).scalar_subquery())


def trends(histories: dict[str, ScoreHistory]) -> list[ScoreTrend]:
    """The newest score of each instrument with its change since the one before, in TREND_CODES order."""
    return [ScoreTrend(code, h.last, None if h.previous is None else h.last - h.previous, h.last_at)
            for code in TREND_CODES if (h := histories.get(code)) is not None]


@dataclass(frozen=True)
class CaseloadFilters:
    """What to show: one phase, one offering, only episodes with a flag (None/False: all)."""

    phase: str | None = None
    offering: str | None = None
    flagged_only: bool = False

    def __post_init__(self) -> None:
        if self.phase is not None and self.phase not in PHASES:
            raise ValueError("unknown phase")
        if self.offering is not None and self.offering not in OFFERINGS:
            raise ValueError("unknown offering")


@dataclass(frozen=True)
class CaseloadRow:
    """One episode on my caseload."""

    episode_id: int
    referral_id: int
    resident_id: int
    team_id: int
    name: str
    phase: str
    offerings: list[str]
    next_contact: datetime | None
    scores: list[ScoreTrend]
    flags: EpisodeFlags
    urgent_since: datetime | None
    near_budget: bool = False
    flag_keys: list[str] = field(default_factory=list)

    def score(self, code: str) -> ScoreTrend | None:
        return next((s for s in self.scores if s.code == code), None)


#: When an episode counts as near the 15-hour budget (attended treatment minutes), for the flags.
NEAR_BUDGET_MINUTES = 12 * 60


def contact_summary(episode_ids):
    """A grouped subquery over the contacts of `episode_ids` (a list or a subquery): per episode,
    whether an assessment was booked or attended, whether treatment was attended, the attended
    minutes counting towards the budget, and the next booked contact."""
    attended = Appointment.status == "attended"
    treatment = Appointment.kind.not_in(BUDGET_EXCLUDES)
    return (
        select(Appointment.episode_id.label("episode_id"),
               func.max(case((and_(Appointment.kind == "assessment", Appointment.status == "booked"), 1),
                             else_=0)).label("assessment_booked"),
               func.max(case((and_(Appointment.kind == "assessment", attended), 1), else_=0)).label("assessed"),
               func.max(case((and_(Appointment.kind != "assessment", attended), 1), else_=0)).label("treated"),
               func.coalesce(func.sum(case((and_(treatment, attended), Appointment.duration_minutes), else_=0)),
                             0).label("minutes"))
        .where(Appointment.episode_id.in_(episode_ids))
        .group_by(Appointment.episode_id).subquery())


def phase_from_summary(*, status: str, episode, assessment_booked: bool, assessed: bool,
                       treated: bool) -> str:
    """`triage.episode_phase` from the grouped contact summary instead of every contact."""
    contacts = ([("assessment", "booked")] if assessment_booked else []) + (
        [("assessment", "attended")] if assessed else []) + ([("treatment", "attended")] if treated else [])
    return episode_phase(status=status, discharged_at=episode.discharged_at, assessed_at=episode.assessed_at,
                         first_treatment_at=episode.first_treatment_at, contacts=contacts)


@dataclass(frozen=True)
class CaseloadPage:
    """One page of my caseload: its rows, how many episodes match in all, and the page's number."""

    rows: list[CaseloadRow]
    total: int
    page: int
    pages: int


def caseload(session: Session, *, actor: User, sort: str = "name", filters: CaseloadFilters | None = None,
             page: int = 1, now: datetime | None = None) -> CaseloadPage:
    """The open episodes of my teams where I am responsible, filtered, sorted (SORTS; an unknown
    sort is a ValueError) and cut into pages of PAGE_SIZE (a page past the end gives the last).

    Five queries, however long the list: the episodes with their contacts (grouped), the next
    contacts (grouped), the scores, and the audit insert of the rows shown. Scores are read for
    the page's rows only, unless the sort (highest PHQ-9) or the filter (flags) needs them all.
    """
    if sort not in SORTS:
        raise ValueError("unknown sort")
    filters = filters or CaseloadFilters()
    team_ids = clinical_team_ids(session, actor, what="caseload")
    now = now or utcnow()
    mine = (select(Episode.id).where(Episode.responsible_id == actor.id, Episode.team_id.in_(team_ids),
                                     Episode.discharged_at.is_(None)))
    summary = contact_summary(mine.scalar_subquery())
    rows = session.execute(
        # Columns, not the Episode entity: hundreds of rows load without the ORM's bookkeeping.
        select(Episode.id, Episode.referral_id, Episode.resident_id, Episode.team_id, Episode.discharged_at,
               Episode.assessed_at, Episode.first_treatment_at, Episode.offerings, Episode.urgent_since,
               Referral.status, User.display_name, summary.c.assessment_booked, summary.c.assessed,
               summary.c.treated, summary.c.minutes)
        .join(Referral, Referral.id == Episode.referral_id)
        .join(User, User.id == Episode.resident_id)
        .outerjoin(summary, summary.c.episode_id == Episode.id)
        .where(Episode.id.in_(mine))).all()
    ids = [row.id for row in rows]
    upcoming = dict(session.execute(
        select(Appointment.episode_id, func.min(Appointment.starts_at))
        .where(Appointment.episode_id.in_(ids), Appointment.status == "booked", Appointment.starts_at >= now)
        .group_by(Appointment.episode_id)).all()) if ids else {}
    scores_for_all = sort == "phq9" or filters.flagged_only
    histories = score_histories(session, ids) if scores_for_all else {}
    matching = [r for r in (_row(row, upcoming.get(row.id), histories.get(row.id, {})) for row in rows)
                if _matches(r, filters)]
    matching.sort(key=SORT_KEYS[sort])
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = matching[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    if not scores_for_all:  # now the scores (and the flags that need them) of the page's rows
        by_id = {row.id: row for row in rows}
        histories = score_histories(session, [r.episode_id for r in shown])
        shown = [_row(by_id[r.episode_id], r.next_contact, histories.get(r.episode_id, {})) for r in shown]
    audit.record_shown(session, actor=actor, shown=[(r.resident_id, r.team_id, r.episode_id) for r in shown],
                       action="view_episode", object_type="caseload_row", now=now)
    return CaseloadPage(rows=shown, total=len(matching), page=page, pages=pages)


def _row(episode, next_contact: datetime | None, histories: dict[str, ScoreHistory]) -> CaseloadRow:
    """One caseload row from the episode's columns, its contact summary and score histories."""
    name, minutes = episode.display_name, episode.minutes
    phase = phase_from_summary(status=episode.status, episode=episode,
                               assessment_booked=bool(episode.assessment_booked), assessed=bool(episode.assessed),
                               treated=bool(episode.treated))
    phq, gad = histories.get("PHQ-9"), histories.get("GAD-7")
    scored = min(phq.count, gad.count) if phq and gad else 0
    first = {"PHQ-9": phq.first, "GAD-7": gad.first} if scored else {}
    last = {"PHQ-9": phq.last, "GAD-7": gad.last} if scored else {}
    flags, _result = flags_from(urgent=episode.urgent_since is not None, first=first, last=last, scored=scored,
                                budget_minutes=minutes or 0)
    near = not flags.over_budget and (minutes or 0) >= NEAR_BUDGET_MINUTES
    keys = [key for key, on in (("urgent", flags.urgent), ("deterioration", flags.reliable_deterioration),
                                ("not_on_track", flags.not_on_track), ("over_budget", flags.over_budget),
                                ("near_budget", near)) if on]
    return CaseloadRow(episode_id=episode.id, referral_id=episode.referral_id, resident_id=episode.resident_id,
                       team_id=episode.team_id, name=name or f"#{episode.resident_id}", phase=phase,
                       offerings=[o for o in episode.offerings.split(",") if o], next_contact=next_contact,
                       scores=trends(histories), flags=flags, urgent_since=episode.urgent_since,
                       near_budget=near, flag_keys=keys)


def _matches(row: CaseloadRow, filters: CaseloadFilters) -> bool:
    return ((filters.phase is None or row.phase == filters.phase)
            and (filters.offering is None or filters.offering in row.offerings)
            and (not filters.flagged_only or bool(row.flag_keys)))


def _score_key(row: CaseloadRow) -> tuple:
    """Highest PHQ-9 first; no score last."""
    phq = row.score("PHQ-9")
    return (phq is None, -(phq.total if phq else 0), row.name.casefold())


#: Sort keys by SORTS: names alphabetically, the soonest contact first (none last), the highest
#: PHQ-9 first, phases in their usual order.
SORT_KEYS = {
    "name": lambda r: (r.name.casefold(), r.episode_id),
    "next_contact": lambda r: (r.next_contact is None, r.next_contact or datetime.min, r.name.casefold()),
    "phq9": _score_key,
    "phase": lambda r: (PHASES.index(r.phase), r.name.casefold()),
}
