"""Team statistics for reporting: referrals, waiting times, episodes, treatment hours, offerings,
outcomes (PHQ-9, GAD-7, WSAS) and work status, counted without listing anyone.

The figures are what teams report today from home-made spreadsheets (docs/domain.md §8):
"antall henvendelser, inntakstid, pasienter inn, pasienter ut, behandlingstid, bedring/effekt,
sykemeldinger, arbeidsstatus". Outcomes follow the NHS Talking Therapies conventions in
docs/domain.md §3 through `measures.outcome`.

Everything is computed with a handful of aggregate queries, whatever the number of episodes: the
first and last scores come from one query that returns only each episode's first and last rows.
"""
from __future__ import annotations

import statistics as pystats
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from .. import measures
from ..codes import SickLeave, WorkStatus, values
from ..localtime import local_date, start_of_local_day
from ..models import (
    Appointment,
    CheckInReport,
    CourseAttendanceMark,
    CourseLeader,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    Episode,
    MeasureResponse,
    Municipality,
    Referral,
    Team,
    User,
    team_municipality,
)
from ..models.referrals import APPOINTMENT_KINDS, CHANNELS, END_REASONS, OFFERINGS
from .access import clinical_team_ids, is_clinical, require_team, staff_team_ids
from .errors import NotFound
from .selfhelp import CHECKIN_MINUTES

#: Instruments whose first and last scores are reported.
SCORED_CODES = ("PHQ-9", "GAD-7", "WSAS")
#: Coded answers of the referral's work step (the keys the self-referral form stores), so the
#: CSV has the same rows every period. Unknown codes found in the data are added after these.
WORK_STATUSES = values(WorkStatus)
SICK_LEAVES = values(SickLeave)
#: The key for an episode without a recorded value.
NOT_RECORDED = "not_recorded"
#: Offering key for episodes with no agreed offering (yet).
NO_OFFERING = "none"
#: An episode needs this many PHQ-9 and GAD-7 responses to have an outcome.
MIN_SCORED_CONTACTS = 2
#: ... and this many attended treatment contacts (any kind but the assessment conversation):
#: someone guided onward after the assessment was never treated, so is not in the recovery rate.
MIN_TREATMENT_CONTACTS = 2
#: Appointment kinds that are treatment (everything but the assessment conversation, H L252-253).
TREATMENT_KINDS = tuple(kind for kind in APPOINTMENT_KINDS if kind != "assessment")
#: A course meeting's hours are the staff's (length x leaders, once per meeting), not the sum of
#: the participants' contacts.
COURSE_KIND = "course_meeting"


@dataclass(frozen=True)
class Waiting:
    """Days from referral to a later date, in whole local calendar days.

    Denominator of `mean_days` and `median_days`: `episodes`, the episodes referred in the period
    that have the later date. Both are None when `episodes` is 0.
    """

    mean_days: Optional[float]
    median_days: Optional[float]
    episodes: int


@dataclass(frozen=True)
class Outcomes:
    """Outcomes of the treated episodes ended in the period with at least two scored contacts.

    - `eligible`: episodes ended (discharged) in the period with ≥ 2 attended treatment contacts
      (TREATMENT_KINDS: the assessment conversation does not count) and ≥ 2 PHQ-9 and ≥ 2 GAD-7
      responses. Denominator of the PHQ-9/GAD-7 means and of the improvement, reliable recovery and
      deterioration percentages.
    - `caseness_start`: eligible episodes that were a case at the first measurement (PHQ-9 ≥ 10 or
      GAD-7 ≥ 8). Denominator of `recovery_pct`, as NHS Talking Therapies counts recovery.
    - `wsas_episodes`: eligible episodes that also have ≥ 2 WSAS responses (WSAS is asked at start,
      every fourth contact and last). Denominator of the WSAS means.
    - `recovered`, `reliably_improved`, `reliably_recovered`, `reliably_deteriorated`: counts behind
      the percentages (from `measures.outcome`).
    - Means are of the first and of the last total per episode, one decimal; percentages have one
      decimal. Each is None when its denominator is 0.
    """

    eligible: int
    caseness_start: int
    wsas_episodes: int
    phq9_first_mean: Optional[float]
    phq9_last_mean: Optional[float]
    gad7_first_mean: Optional[float]
    gad7_last_mean: Optional[float]
    wsas_first_mean: Optional[float]
    wsas_last_mean: Optional[float]
    recovered: int
    reliably_improved: int
    reliably_recovered: int
    reliably_deteriorated: int
    recovery_pct: Optional[float]
    reliable_improvement_pct: Optional[float]
    reliable_recovery_pct: Optional[float]
    reliable_deterioration_pct: Optional[float]
    #: Episodes ended in the period with end reason "dropped_out", and that as a per cent of all
    #: episodes ended in the period (None when none ended).
    dropped_out: int = 0
    dropout_pct: Optional[float] = None


@dataclass(frozen=True)
class Ended:
    """Episodes ended in the period: why, and how much treatment they had.

    - `end_reasons`: (reason, episodes) for every key in END_REASONS, then unknown codes, then
      "not_recorded" (ended before end reasons were recorded). An episode closed by guiding the
      person onward without a recorded reason counts as "guided_onward".
    - `contacts_median`: median number of attended treatment contacts (TREATMENT_KINDS, the
      assessment conversation not counted) per ended episode, 0 included.
    - `hours_median`: median of the planned minutes of those contacts per ended episode, in hours.
    - `duration_days_median`: median local calendar days from referral to the end.
    All medians have one decimal and are over every episode ended in the period (None if none).
    """

    end_reasons: tuple[tuple[str, int], ...]
    contacts_median: Optional[float]
    hours_median: Optional[float]
    duration_days_median: Optional[float]


@dataclass(frozen=True)
class ReviewMinutes:
    """One therapist's reviewed check-ins in the period and the median minutes recorded."""

    staff_id: int
    name: str
    reviews: int
    minutes_median: Optional[float]


@dataclass(frozen=True)
class Reviews:
    """Guided self-help check-ins reviewed in the period (`CheckInReport.reviewed_at` in it): how
    many, the median of the minutes recorded on their contacts (`Appointment.duration_minutes`),
    and the same per reviewing therapist, beside the norm `norm_minutes` (about 20 minutes)."""

    reviewed: int
    minutes_median: Optional[float]
    by_therapist: tuple[ReviewMinutes, ...]
    norm_minutes: int = CHECKIN_MINUTES


@dataclass(frozen=True)
class TeamAttendance:
    """One team's attended and missed contacts in the period, and the no-show rate."""

    team_id: int
    name: str
    attended: int
    no_shows: int
    no_show_pct: Optional[float]


@dataclass(frozen=True)
class Attendance:
    """Contacts starting in the period that took place (`attended`) or were missed (`no_shows`,
    status "no_show"); `no_show_pct` = no_shows / (attended + no_shows) in per cent, one decimal,
    None when there were none. Cancelled and still booked contacts do not count. `by_team`:
    the same per team in scope, by name."""

    attended: int
    no_shows: int
    no_show_pct: Optional[float]
    by_team: tuple[TeamAttendance, ...] = ()


@dataclass(frozen=True)
class TeamStatistics:
    """Aggregate figures for the actor's teams (or one of them), optionally for the residents of
    one municipality (Referral.municipality_id, the owner municipality for reporting), in the
    period [since, until) of local dates.

    - `referrals_received`: referrals submitted in the period; `referrals_by_channel` splits them by
      channel (CHANNELS: "app", "phone", "paper").
    - `episodes_referred`: episodes referred in the period; the set (and total) behind `offerings`,
      `work_status_start` and `sick_leave_start`, and the base of `first_contact`/`first_treatment`.
    - `first_contact`, `first_treatment`: waiting days, see `Waiting` (denominator: episodes
      referred in the period that have the date).
    - `episodes_started`: episodes whose first treatment is in the period.
    - `episodes_ended`: episodes discharged in the period (including those guided onward); the set
      behind `work_status_end`, `sick_leave_end` and `outcomes`.
    - `treatment_hours`: attended appointments (status "attended") starting in the period, sum of
      their planned minutes in hours with one decimal; `hours_by_kind` splits it by appointment kind.
      Course meetings count staff hours instead of the participants' contacts: each held meeting's
      length times its number of leaders, once (`_course_staff_minutes`).
      A sum, so 0.0 (not None) when there were none.
    - `offerings`: (offering key, episodes) for every key in OFFERINGS and "none" (no offering
      agreed); an episode with several offerings counts once under each.
    - `work_status_*`, `sick_leave_*`: (coded value, episodes), the known codes first and
      "not_recorded" last.
    - `outcomes`: see `Outcomes`.
    - `ended`: end reasons and medians of contacts, hours and duration, see `Ended`.
    - `reviews`: check-ins reviewed in the period and the minutes given, per therapist, see `Reviews`.
    - `attendance`: contacts attended and missed in the period and the no-show rate, per team, see
      `Attendance`.
    """

    since: date
    until: date
    team_ids: tuple[int, ...]
    team_names: tuple[str, ...]
    municipality_id: Optional[int]
    municipality_number: Optional[str]
    municipality_name: Optional[str]
    referrals_received: int
    episodes_referred: int
    first_contact: Waiting
    first_treatment: Waiting
    episodes_started: int
    episodes_ended: int
    treatment_hours: float
    hours_by_kind: tuple[tuple[str, float], ...]
    offerings: tuple[tuple[str, int], ...]
    outcomes: Outcomes
    work_status_start: tuple[tuple[str, int], ...]
    sick_leave_start: tuple[tuple[str, int], ...]
    work_status_end: tuple[tuple[str, int], ...]
    sick_leave_end: tuple[tuple[str, int], ...]
    referrals_by_channel: tuple[tuple[str, int], ...] = ()
    ended: Ended = Ended((), None, None, None)
    reviews: Reviews = Reviews(0, None, ())
    attendance: Attendance = Attendance(0, 0, None)


# --- Arithmetic -----------------------------------------------------------------------------------

def _one_decimal(numerator: float | int | Decimal, denominator: int) -> Optional[float]:
    """numerator / denominator rounded half up to one decimal (exact), None for no denominator."""
    if not denominator:
        return None
    value = Decimal(numerator) / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _percent(count: int, denominator: int) -> Optional[float]:
    return _one_decimal(100 * count, denominator)


def _median(values: list[int] | list[float], per: int = 1) -> Optional[float]:
    """The median of `values` divided by `per`, rounded half up to one decimal; None for no values."""
    if not values:
        return None
    return _one_decimal(Decimal(str(pystats.median(values))), per)


# --- Scope ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scope:
    team_ids: tuple[int, ...]
    municipality_id: Optional[int]
    start: datetime
    end: datetime

    def within(self, column) -> Any:
        return and_(column >= self.start, column < self.end)

    def episodes(self, statement: Select) -> Select:
        """Limit a statement that already selects from (or joins) Episode to the scope."""
        statement = statement.where(Episode.team_id.in_(self.team_ids))
        if self.municipality_id is not None:
            statement = statement.join(Referral, Referral.id == Episode.referral_id).where(
                Referral.municipality_id == self.municipality_id)
        return statement


def _resolve_scope(session: Session, *, actor: User, team_id: Optional[int], municipality_id: Optional[int]
                   ) -> tuple[list[tuple[int, str]], Optional[Municipality]]:
    """The teams (id, name) and municipality in scope; NotFound for anything outside the actor's teams."""
    allowed = clinical_team_ids(session, actor, what="statistics")
    if team_id is not None:
        require_team(session, actor, team_id, what="team")
    wanted = [team_id] if team_id is not None else allowed
    municipality = None
    if municipality_id is not None:
        municipality = session.get(Municipality, municipality_id)
        if municipality is None:
            raise NotFound("municipality")
        # Only the teams that serve this municipality: that is what makes it "theirs".
        wanted = list(session.scalars(select(team_municipality.c.team_id).where(
            team_municipality.c.municipality_id == municipality_id, team_municipality.c.team_id.in_(wanted))))
        if not wanted:
            raise NotFound("municipality")
    teams = [(tid, name) for tid, name in session.execute(
        select(Team.id, Team.name).where(Team.id.in_(wanted)).order_by(Team.name))]
    return teams, municipality


# --- Figures --------------------------------------------------------------------------------------

def _referrals_received(session: Session, scope: _Scope) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Referrals submitted in the period, in all and by channel (one grouped query)."""
    query = select(Referral.channel, func.count()).select_from(Referral).where(
        Referral.team_id.in_(scope.team_ids), scope.within(Referral.submitted_at)).group_by(Referral.channel)
    if scope.municipality_id is not None:
        query = query.where(Referral.municipality_id == scope.municipality_id)
    counts = Counter({channel: int(n) for channel, n in session.execute(query)})
    extra = sorted(k for k in counts if k not in CHANNELS)
    return sum(counts.values()), tuple((key, counts.get(key, 0)) for key in (*CHANNELS, *extra))


def _contains_offering(key: str):
    # Offerings are stored comma separated; wrap in commas so "group" never matches a longer key.
    return (literal(",") + Episode.offerings + literal(",")).like(f"%,{key},%")


def _referred_episodes(session: Session, scope: _Scope) -> tuple[int, list[tuple[str, int]]]:
    """Episodes referred in the period, and their offering mix (one aggregate row)."""
    columns = [func.count()]
    columns += [func.coalesce(func.sum(case((_contains_offering(key), 1), else_=0)), 0) for key in OFFERINGS]
    columns.append(func.coalesce(func.sum(case((func.coalesce(Episode.offerings, "") == "", 1), else_=0)), 0))
    row = session.execute(scope.episodes(select(*columns).select_from(Episode)
                                         .where(scope.within(Episode.referred_at)))).one()
    total, *counts = (int(v or 0) for v in row)
    return total, list(zip((*OFFERINGS, NO_OFFERING), counts))


def _waiting(session: Session, scope: _Scope) -> tuple[Waiting, Waiting]:
    """Waiting days to first contact and to first treatment for episodes referred in the period.

    Only the three dates of episodes that have a later date are read; the median needs the values.
    """
    rows = session.execute(scope.episodes(
        select(Episode.referred_at, Episode.first_contact_at, Episode.first_treatment_at).select_from(Episode)
        .where(scope.within(Episode.referred_at),
               or_(Episode.first_contact_at.is_not(None), Episode.first_treatment_at.is_not(None)))))
    contact: list[int] = []
    treatment: list[int] = []
    for referred, first_contact, first_treatment in rows:
        referred_day = local_date(referred)
        if first_contact is not None:
            contact.append((local_date(first_contact) - referred_day).days)
        if first_treatment is not None:
            treatment.append((local_date(first_treatment) - referred_day).days)

    def summary(days: list[int]) -> Waiting:
        if not days:
            return Waiting(None, None, 0)
        median = Decimal(str(pystats.median(days)))
        return Waiting(_one_decimal(sum(days), len(days)), _one_decimal(median, 1), len(days))

    return summary(contact), summary(treatment)


def _started_and_ended(session: Session, scope: _Scope) -> tuple[int, int]:
    started, ended = session.execute(scope.episodes(
        select(func.coalesce(func.sum(case((scope.within(Episode.first_treatment_at), 1), else_=0)), 0),
               func.coalesce(func.sum(case((scope.within(Episode.discharged_at), 1), else_=0)), 0))
        .select_from(Episode)
        .where(or_(scope.within(Episode.first_treatment_at), scope.within(Episode.discharged_at))))).one()
    return int(started), int(ended)


def _hours(session: Session, scope: _Scope) -> tuple[float, list[tuple[str, float]]]:
    """Attended appointment minutes starting in the period, in hours (total and by kind). Course
    meetings count staff time (`_course_staff_minutes`), not the participants' contacts."""
    minutes = dict(session.execute(scope.episodes(
        select(Appointment.kind, func.sum(Appointment.duration_minutes)).select_from(Appointment)
        .join(Episode, Episode.id == Appointment.episode_id)
        .where(Appointment.status == "attended", Appointment.kind != COURSE_KIND,
               scope.within(Appointment.starts_at))
        .group_by(Appointment.kind))).all())
    minutes[COURSE_KIND] = _course_staff_minutes(session, scope)
    kinds = [*APPOINTMENT_KINDS, *sorted(k for k in minutes if k not in APPOINTMENT_KINDS)]
    by_kind = [(kind, _one_decimal(int(minutes.get(kind) or 0), 60) or 0.0) for kind in kinds]
    return _one_decimal(sum(int(v or 0) for v in minutes.values()), 60) or 0.0, by_kind


def _course_staff_minutes(session: Session, scope: _Scope) -> int:
    """Staff minutes of course meetings held in the period: each meeting's length times its run's
    number of leaders, once per meeting, whatever the number of participants. Held: not cancelled
    and at least one person marked attended. In scope: run by one of the scope's teams (a run
    shared with other teams counts for the team that runs it). With a municipality, only meetings
    attended by at least one participant whose episode's referral is from it; a joint course then
    counts in full for each municipality it served (the figures of municipalities are not added up)."""
    leaders = (select(func.count()).select_from(CourseLeader).where(CourseLeader.run_id == CourseRun.id)
               .correlate(CourseRun).scalar_subquery())
    attended = and_(CourseAttendanceMark.meeting_id == CourseMeeting.id, CourseAttendanceMark.status == "attended")
    query = (select(func.coalesce(func.sum(CourseMeeting.duration_minutes * leaders), 0)).select_from(CourseMeeting)
             .join(CourseRun, CourseRun.id == CourseMeeting.run_id)
             .where(CourseRun.team_id.in_(scope.team_ids), CourseMeeting.cancelled.is_(False),
                    scope.within(CourseMeeting.starts_at), exists().where(attended)))
    if scope.municipality_id is not None:
        query = query.where(exists().where(
            attended, CourseParticipant.id == CourseAttendanceMark.participant_id,
            Episode.id == CourseParticipant.episode_id, Referral.id == Episode.referral_id,
            Referral.municipality_id == scope.municipality_id))
    return int(session.scalar(query) or 0)


def _reviews(session: Session, scope: _Scope) -> Reviews:
    """Check-ins reviewed in the period with the minutes recorded, per reviewing therapist: one
    query reads (therapist, minutes) of each review; the medians need the values."""
    rows = session.execute(scope.episodes(
        select(User.id, User.display_name, User.username, Appointment.duration_minutes).select_from(CheckInReport)
        .join(Appointment, Appointment.id == CheckInReport.appointment_id)
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(User, User.id == CheckInReport.reviewed_by_id)
        .where(scope.within(CheckInReport.reviewed_at), Appointment.status == "attended"))).all()
    names: dict[int, str] = {}
    minutes: dict[int, list[int]] = {}
    for staff_id, display_name, username, duration in rows:
        names[staff_id] = display_name or username or f"#{staff_id}"
        minutes.setdefault(staff_id, []).append(int(duration))
    by_therapist = sorted((ReviewMinutes(staff_id, names[staff_id], len(values), _median(values))
                           for staff_id, values in minutes.items()), key=lambda r: (r.name.casefold(), r.staff_id))
    return Reviews(len(rows), _median([int(r[3]) for r in rows]), tuple(by_therapist))


def _attendance(session: Session, scope: _Scope, teams: list[tuple[int, str]]) -> Attendance:
    """Attended and missed contacts starting in the period, per team (one grouped query)."""
    counts = {(team_id, status): int(n) for team_id, status, n in session.execute(scope.episodes(
        select(Episode.team_id, Appointment.status, func.count()).select_from(Appointment)
        .join(Episode, Episode.id == Appointment.episode_id)
        .where(Appointment.status.in_(("attended", "no_show")), scope.within(Appointment.starts_at))
        .group_by(Episode.team_id, Appointment.status)))}
    by_team = []
    for team_id, name in teams:
        attended, missed = counts.get((team_id, "attended"), 0), counts.get((team_id, "no_show"), 0)
        by_team.append(TeamAttendance(team_id, name, attended, missed, _percent(missed, attended + missed)))
    attended, missed = sum(t.attended for t in by_team), sum(t.no_shows for t in by_team)
    return Attendance(attended, missed, _percent(missed, attended + missed), tuple(by_team))


def _coded_counts(counter: Counter, known: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Counts for every known code (0 if absent), then unknown codes found, then not recorded."""
    extra = sorted(k for k in counter if k not in known and k != NOT_RECORDED)
    return tuple((key, counter.get(key, 0)) for key in (*known, *extra, NOT_RECORDED))


def _work(session: Session, scope: _Scope, *, at_start: bool) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Work status and sick leave counts: at start for episodes referred in the period, at the end
    for episodes ended in the period (one grouped query each)."""
    work, sick, when = ((Episode.work_status_start, Episode.sick_leave_start, Episode.referred_at) if at_start
                        else (Episode.work_status_end, Episode.sick_leave_end, Episode.discharged_at))
    work_counts: Counter = Counter()
    sick_counts: Counter = Counter()
    for work_value, sick_value, n in session.execute(scope.episodes(
            select(work, sick, func.count()).select_from(Episode).where(scope.within(when)).group_by(work, sick))):
        work_counts[work_value or NOT_RECORDED] += n
        sick_counts[sick_value or NOT_RECORDED] += n
    return _coded_counts(work_counts, WORK_STATUSES), _coded_counts(sick_counts, SICK_LEAVES)


@dataclass(frozen=True)
class _EndedEpisode:
    referred_at: datetime
    discharged_at: datetime
    end_reason: str
    treatment_contacts: int
    treatment_minutes: int


def _ended_episodes(session: Session, scope: _Scope) -> dict[int, _EndedEpisode]:
    """{episode id: dates, end reason and attended treatment contacts} for the episodes ended in
    the period, in one grouped query (an outer join to their attended treatment contacts)."""
    guided_onward = exists().where(Referral.id == Episode.referral_id, Referral.status == "guided_onward")
    if scope.municipality_id is not None:
        # scope.episodes joins Referral itself; the correlated test must use its own alias.
        onward = aliased(Referral)
        guided_onward = exists().where(onward.id == Episode.referral_id, onward.status == "guided_onward")
    reason = case((Episode.end_reason.is_not(None), Episode.end_reason),
                  (guided_onward, literal("guided_onward")), else_=literal(NOT_RECORDED))
    rows = session.execute(scope.episodes(
        select(Episode.id, Episode.referred_at, Episode.discharged_at, reason.label("reason"),
               func.count(Appointment.id), func.coalesce(func.sum(Appointment.duration_minutes), 0))
        .select_from(Episode)
        .outerjoin(Appointment, and_(Appointment.episode_id == Episode.id, Appointment.status == "attended",
                                     Appointment.kind.in_(TREATMENT_KINDS)))
        .where(scope.within(Episode.discharged_at))
        .group_by(Episode.id, Episode.referred_at, Episode.discharged_at, Episode.end_reason, Episode.referral_id)))
    return {episode_id: _EndedEpisode(referred, discharged, end_reason, int(contacts), int(minutes))
            for episode_id, referred, discharged, end_reason, contacts, minutes in rows}


def _ended(episodes: dict[int, _EndedEpisode]) -> Ended:
    """End reasons and medians of the episodes ended in the period (no query)."""
    reasons = Counter(e.end_reason for e in episodes.values())
    extra = sorted(k for k in reasons if k not in END_REASONS and k != NOT_RECORDED)
    values = list(episodes.values())
    return Ended(
        end_reasons=tuple((key, reasons.get(key, 0)) for key in (*END_REASONS, *extra, NOT_RECORDED)),
        contacts_median=_median([e.treatment_contacts for e in values]),
        hours_median=_median([e.treatment_minutes for e in values], 60),
        duration_days_median=_median([(local_date(e.discharged_at) - local_date(e.referred_at)).days
                                      for e in values]),
    )


def _first_and_last_scores(session: Session, scope: _Scope) -> dict[int, dict[str, tuple[int, int]]]:
    """{episode_id: {code: (first total, last total)}} for episodes ended in the period, for the
    instruments answered at least MIN_SCORED_CONTACTS times in the episode.

    One query, and only first and last rows leave the database: an aggregate over the covering
    index (episode_id, instrument_code, submitted_at) finds each episode's count and first and last
    time per instrument, and two index look-ups fetch the totals at those times. Responses given at
    the same moment are ordered by id, as a window ordered by (submitted_at, id) would; that
    tie-break is done here. (Window functions — row_number() and count() over the same partition —
    give the same rows but cost SQLite about three times as much: it buffers every response of
    every partition, ~0.45 s for 125,000 responses against ~0.15 s for this.)
    """
    ended = scope.episodes(select(Episode.id).where(scope.within(Episode.discharged_at)))
    groups = (
        select(MeasureResponse.episode_id.label("episode_id"), MeasureResponse.instrument_code.label("code"),
               func.min(MeasureResponse.submitted_at).label("first_at"),
               func.max(MeasureResponse.submitted_at).label("last_at"))
        .where(MeasureResponse.episode_id.in_(ended), MeasureResponse.instrument_code.in_(SCORED_CODES))
        .group_by(MeasureResponse.episode_id, MeasureResponse.instrument_code)
        .having(func.count() >= MIN_SCORED_CONTACTS)
    ).subquery()
    first, last = aliased(MeasureResponse), aliased(MeasureResponse)
    rows = session.execute(
        select(groups.c.episode_id, groups.c.code, first.id, first.total, last.id, last.total)
        .join(first, and_(first.episode_id == groups.c.episode_id, first.instrument_code == groups.c.code,
                          first.submitted_at == groups.c.first_at))
        .join(last, and_(last.episode_id == groups.c.episode_id, last.instrument_code == groups.c.code,
                         last.submitted_at == groups.c.last_at)))
    # (first id, first total, last id, last total); ties at the same moment: lowest id first, highest last.
    picked: dict[tuple[int, str], list[int]] = {}
    for episode_id, code, first_id, first_total, last_id, last_total in rows:
        entry = picked.get((episode_id, code))
        if entry is None:
            picked[(episode_id, code)] = [first_id, first_total, last_id, last_total]
            continue
        if first_id < entry[0]:
            entry[0:2] = [first_id, first_total]
        if last_id > entry[2]:
            entry[2:4] = [last_id, last_total]
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for (episode_id, code), (_fid, first_total, _lid, last_total) in picked.items():
        found.setdefault(episode_id, {})[code] = (first_total, last_total)
    return found


@lru_cache(maxsize=4096)
def _outcome(phq9_first: int, gad7_first: int, phq9_last: int, gad7_last: int) -> measures.Outcome:
    """`measures.outcome` for four totals; cached because thousands of episodes share a few
    hundred combinations and the pure function re-validates its input on every call."""
    return measures.outcome({"PHQ-9": phq9_first, "GAD-7": gad7_first}, {"PHQ-9": phq9_last, "GAD-7": gad7_last})


def _outcomes(session: Session, scope: _Scope, ended: dict[int, _EndedEpisode]) -> Outcomes:
    """First and last means and NHS Talking Therapies outcomes of eligible ended episodes, and
    the drop-out rate of all ended episodes."""
    sums = Counter()
    counts = Counter()
    wsas_episodes = 0
    eligible = 0
    dropped_out = sum(1 for e in ended.values() if e.end_reason == "dropped_out")
    for episode_id, scores in _first_and_last_scores(session, scope).items():
        if "PHQ-9" not in scores or "GAD-7" not in scores:  # fewer than two of either
            continue
        episode = ended.get(episode_id)
        if episode is None or episode.treatment_contacts < MIN_TREATMENT_CONTACTS:  # not treated
            continue
        eligible += 1
        first = {code: scores[code][0] for code in ("PHQ-9", "GAD-7")}
        last = {code: scores[code][1] for code in ("PHQ-9", "GAD-7")}
        for code in ("PHQ-9", "GAD-7"):
            sums[(code, "first")] += first[code]
            sums[(code, "last")] += last[code]
        wsas = scores.get("WSAS")
        if wsas is not None:
            wsas_episodes += 1
            sums[("WSAS", "first")] += wsas[0]
            sums[("WSAS", "last")] += wsas[1]
        result = _outcome(first["PHQ-9"], first["GAD-7"], last["PHQ-9"], last["GAD-7"])
        counts["caseness_start"] += result.caseness_start
        counts["recovered"] += result.recovered
        counts["improved"] += result.reliable_improvement
        counts["reliably_recovered"] += result.reliable_recovery
        counts["deteriorated"] += result.reliable_deterioration
    return Outcomes(
        eligible=eligible, caseness_start=counts["caseness_start"], wsas_episodes=wsas_episodes,
        phq9_first_mean=_one_decimal(sums[("PHQ-9", "first")], eligible),
        phq9_last_mean=_one_decimal(sums[("PHQ-9", "last")], eligible),
        gad7_first_mean=_one_decimal(sums[("GAD-7", "first")], eligible),
        gad7_last_mean=_one_decimal(sums[("GAD-7", "last")], eligible),
        wsas_first_mean=_one_decimal(sums[("WSAS", "first")], wsas_episodes),
        wsas_last_mean=_one_decimal(sums[("WSAS", "last")], wsas_episodes),
        recovered=counts["recovered"], reliably_improved=counts["improved"],
        reliably_recovered=counts["reliably_recovered"], reliably_deteriorated=counts["deteriorated"],
        recovery_pct=_percent(counts["recovered"], counts["caseness_start"]),
        reliable_improvement_pct=_percent(counts["improved"], eligible),
        reliable_recovery_pct=_percent(counts["reliably_recovered"], eligible),
        reliable_deterioration_pct=_percent(counts["deteriorated"], eligible),
        dropped_out=dropped_out, dropout_pct=_percent(dropped_out, len(ended)),
    )


def team_statistics(session: Session, *, actor: User, since: date, until: date, team_id: Optional[int] = None,
                    municipality_id: Optional[int] = None) -> TeamStatistics:
    """Aggregate figures for [since, until) (local dates; `until` is the day after the last day).

    Only clinical staff, and only for their own teams: a team or municipality outside the actor's
    teams (or a non-clinical actor) raises NotFound. With `municipality_id`, only referrals of
    residents living there count, for the actor's (or the chosen) teams that serve it.
    Aggregates only: no person is listed, so no audit event is recorded.
    """
    if until <= since:
        raise ValueError("the period must end after it starts")
    teams, municipality = _resolve_scope(session, actor=actor, team_id=team_id, municipality_id=municipality_id)
    scope = _Scope(team_ids=tuple(tid for tid, _name in teams),
                   municipality_id=municipality.id if municipality else None,
                   start=start_of_local_day(since), end=start_of_local_day(until))
    episodes_referred, offerings = _referred_episodes(session, scope)
    first_contact, first_treatment = _waiting(session, scope)
    started, ended = _started_and_ended(session, scope)
    hours, hours_by_kind = _hours(session, scope)
    work_start, sick_start = _work(session, scope, at_start=True)
    work_end, sick_end = _work(session, scope, at_start=False)
    received, by_channel = _referrals_received(session, scope)
    ended_episodes = _ended_episodes(session, scope)
    return TeamStatistics(
        since=since, until=until, team_ids=scope.team_ids, team_names=tuple(name for _tid, name in teams),
        municipality_id=scope.municipality_id,
        municipality_number=municipality.number if municipality else None,
        municipality_name=municipality.name if municipality else None,
        referrals_received=received, referrals_by_channel=by_channel, episodes_referred=episodes_referred,
        first_contact=first_contact, first_treatment=first_treatment,
        episodes_started=started, episodes_ended=ended,
        treatment_hours=hours, hours_by_kind=tuple(hours_by_kind), offerings=tuple(offerings),
        outcomes=_outcomes(session, scope, ended_episodes), ended=_ended(ended_episodes),
        work_status_start=work_start, sick_leave_start=sick_start, work_status_end=work_end, sick_leave_end=sick_end,
        reviews=_reviews(session, scope), attendance=_attendance(session, scope, teams),
    )


def reporting_scopes(session: Session, *, actor: User) -> tuple[list[Team], list[Municipality]]:
    """The teams and the municipalities they serve that the actor may report on, by name
    (empty for non-clinical staff). Two queries, for the choices of the statistics page."""
    if not is_clinical(actor):
        return [], []
    team_ids = staff_team_ids(session, actor)
    teams = list(session.scalars(select(Team).where(Team.id.in_(team_ids)).order_by(Team.name)))
    municipalities = list(session.scalars(
        select(Municipality).join(team_municipality, team_municipality.c.municipality_id == Municipality.id)
        .where(team_municipality.c.team_id.in_(team_ids)).distinct().order_by(Municipality.name)))
    return teams, municipalities


# --- Reach: whom the team does (not) reach ---------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """Anonymised counts of referrals by dimension, so the team sees whom it does not reach."""

    total: int
    by_age_band: list[tuple[str, int]]
    by_gender: list[tuple[str, int]]
    by_municipality: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]


def reach(session: Session, *, actor: User, since: datetime, until: datetime) -> Reach:
    """Counts for the actor's teams in [since, until). Aggregates only: no person is listed."""
    scope = (Referral.team_id.in_(clinical_team_ids(session, actor, what="reach")), Referral.submitted_at >= since,
             Referral.submitted_at < until)

    def grouped(column) -> list[tuple[str, int]]:
        return [(str(k), n) for k, n in session.execute(
            select(column, func.count()).where(*scope).group_by(column).order_by(column))]

    municipality = [(name, n) for name, n in session.execute(
        select(Municipality.name, func.count()).join(Referral, Referral.municipality_id == Municipality.id)
        .where(*scope).group_by(Municipality.name).order_by(Municipality.name))]
    total = session.scalar(select(func.count()).select_from(Referral).where(*scope)) or 0
    return Reach(total, grouped(Referral.age_band), grouped(Referral.gender), municipality,
                 grouped(Referral.channel))


# --- Export ---------------------------------------------------------------------------------------

def statistics_sections(stats: TeamStatistics) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(section, [(metric key, value)]) in a fixed order, values as numbers (None = no data).

    The single source of the CSV rows and the JSON keys; README.md "Statistics CSV columns"
    defines every key.
    """
    o = stats.outcomes
    return [
        ("scope", [("first_day", stats.since.isoformat()),
                   ("last_day", (stats.until - timedelta(days=1)).isoformat()),
                   ("team_ids", " ".join(str(t) for t in stats.team_ids)),
                   ("municipality_number", stats.municipality_number)]),
        ("referrals", [("received", stats.referrals_received), *stats.referrals_by_channel]),
        ("waiting", [("first_contact_days_mean", stats.first_contact.mean_days),
                     ("first_contact_days_median", stats.first_contact.median_days),
                     ("first_contact_episodes", stats.first_contact.episodes),
                     ("first_treatment_days_mean", stats.first_treatment.mean_days),
                     ("first_treatment_days_median", stats.first_treatment.median_days),
                     ("first_treatment_episodes", stats.first_treatment.episodes)]),
        ("episodes", [("referred", stats.episodes_referred), ("started", stats.episodes_started),
                      ("ended", stats.episodes_ended), ("contacts_median", stats.ended.contacts_median),
                      ("hours_median", stats.ended.hours_median),
                      ("duration_days_median", stats.ended.duration_days_median)]),
        ("end_reasons", list(stats.ended.end_reasons)),
        ("treatment", [("hours", stats.treatment_hours),
                       *((f"hours_{kind}", hours) for kind, hours in stats.hours_by_kind)]),
        ("attendance", [("attended", stats.attendance.attended), ("no_shows", stats.attendance.no_shows),
                        ("no_show_pct", stats.attendance.no_show_pct)]),
        ("check_in_reviews", [("reviewed", stats.reviews.reviewed),
                              ("minutes_median", stats.reviews.minutes_median),
                              ("norm_minutes", stats.reviews.norm_minutes)]),
        ("offerings", list(stats.offerings)),
        ("outcomes", [("eligible_episodes", o.eligible), ("caseness_start_episodes", o.caseness_start),
                      ("phq9_first_mean", o.phq9_first_mean), ("phq9_last_mean", o.phq9_last_mean),
                      ("gad7_first_mean", o.gad7_first_mean), ("gad7_last_mean", o.gad7_last_mean),
                      ("wsas_episodes", o.wsas_episodes),
                      ("wsas_first_mean", o.wsas_first_mean), ("wsas_last_mean", o.wsas_last_mean),
                      ("recovered", o.recovered), ("reliably_improved", o.reliably_improved),
                      ("reliably_recovered", o.reliably_recovered),
                      ("reliably_deteriorated", o.reliably_deteriorated),
                      ("recovery_pct", o.recovery_pct), ("reliable_improvement_pct", o.reliable_improvement_pct),
                      ("reliable_recovery_pct", o.reliable_recovery_pct),
                      ("reliable_deterioration_pct", o.reliable_deterioration_pct),
                      ("dropout_pct", o.dropout_pct)]),
        ("work_status_start", list(stats.work_status_start)),
        ("sick_leave_start", list(stats.sick_leave_start)),
        ("work_status_end", list(stats.work_status_end)),
        ("sick_leave_end", list(stats.sick_leave_end)),
    ]


def _csv_value(value: Any) -> str:
    """Numbers as plain text with a decimal point; no data as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def statistics_rows(stats: TeamStatistics) -> list[tuple[str, str, str]]:
    """(section, metric, value) rows for the CSV download; no data is an empty value."""
    return [(section, key, _csv_value(value)) for section, metrics in statistics_sections(stats)
            for key, value in metrics]


def statistics_dict(stats: TeamStatistics) -> dict[str, dict[str, Any]]:
    """{section: {metric: value}} for the JSON download; no data is null."""
    return {section: dict(metrics) for section, metrics in statistics_sections(stats)}

