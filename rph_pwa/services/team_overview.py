"""The team lead's view of each of their teams: the caseload per therapist, the waiting list (its
length and the longest wait), the residents' requests not yet answered, and the expected wait for
someone who refers themselves today. Counts and names of staff only: no resident is named, so
nothing here is audited.

The expected wait, kept simple on purpose:

1. A *start* is the moment a referral leaves the waiting list: the assessment
   (`Episode.assessed_at`), or the first treatment when that came first (`first_treatment_at`).
   The starts of the last eight weeks are counted.
2. The waiting list (referrals not yet started, as in the triage queue) is worked through at the
   same pace: the queue estimate is `waiting / starts per day` days. Someone referring today is
   last in the queue, so this is how long they wait if the pace holds.
3. The waits those recent starts actually had (referral to start, in days) give the lower and
   upper quartile. The range shown runs from the smaller to the larger of the lower quartile and
   the queue estimate, up to the larger of the upper quartile and the queue estimate.
4. How sure: it rests on the number of starts. Fewer than 8 starts is "low", fewer than 20
   "medium", otherwise "high". Without any start in eight weeks there is no estimate.
5. If more people referred themselves than started in the eight weeks, the queue is growing and
   the wait will likely be longer than the estimate (`growing`).
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import AppointmentRequest, Episode, Referral, Role, Team, TeamMembership, User
from .access import clinical_only, require_role, staff_team_ids
from .triage import not_started

#: The period the expected wait is estimated from.
ESTIMATE_WEEKS = 8
#: How many starts make the estimate "medium" and "high".
MEDIUM_AFTER, HIGH_AFTER = 8, 20


@dataclass(frozen=True)
class TherapistLoad:
    """Open episodes one therapist is responsible for (None: no one is responsible yet)."""

    staff_id: int | None
    name: str | None
    episodes: int


@dataclass(frozen=True)
class WaitEstimate:
    """The expected wait in days for someone referring today (see the module's docstring)."""

    low_days: int
    high_days: int
    queue_days: int
    starts: int
    referrals: int
    confidence: str

    @property
    def growing(self) -> bool:
        return self.referrals > self.starts


@dataclass(frozen=True)
class TeamOverview:
    """One team of the lead's."""

    team_id: int
    name: str
    loads: list[TherapistLoad] = field(default_factory=list)
    waiting: int = 0
    longest_wait_since: datetime | None = None
    open_requests: int = 0
    estimate: WaitEstimate | None = None


def team_overviews(session: Session, *, actor: User, now: datetime) -> list[TeamOverview]:
    """Each of the team lead's teams (NotFound for anyone else), by name; six queries whatever the
    size of the teams."""
    require_role(actor, Role.TEAM_LEAD, what="team overview")
    team_ids = staff_team_ids(session, actor)
    if not team_ids:
        return []
    teams = session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)).order_by(Team.name)).all()
    loads = _loads(session, team_ids)
    waiting = {team_id: (count, oldest) for team_id, count, oldest in session.execute(
        select(Referral.team_id, func.count(), func.min(Referral.submitted_at))
        .join(Episode, Episode.referral_id == Referral.id)
        .where(Referral.team_id.in_(team_ids), *not_started()).group_by(Referral.team_id))}
    requests = dict(session.execute(
        select(AppointmentRequest.team_id, func.count())
        .where(AppointmentRequest.team_id.in_(team_ids), AppointmentRequest.answered_at.is_(None))
        .group_by(AppointmentRequest.team_id)).all())
    since = now - timedelta(weeks=ESTIMATE_WEEKS)
    waits: dict[int, list[float]] = defaultdict(list)
    for team_id, referred, assessed, treated in session.execute(
            select(Episode.team_id, Episode.referred_at, Episode.assessed_at, Episode.first_treatment_at)
            .where(Episode.team_id.in_(team_ids),
                   or_(Episode.assessed_at >= since, Episode.first_treatment_at >= since))):
        start = min(t for t in (assessed, treated) if t is not None)
        if start >= since:
            waits[team_id].append(max((start - referred).total_seconds() / 86400, 0))
    arrivals = dict(session.execute(
        select(Referral.team_id, func.count()).where(Referral.team_id.in_(team_ids), Referral.submitted_at >= since)
        .group_by(Referral.team_id)).all())
    result = []
    for team_id, name in teams:
        count, oldest = waiting.get(team_id, (0, None))
        result.append(TeamOverview(team_id=team_id, name=name, loads=loads.get(team_id, []), waiting=count,
                                   longest_wait_since=oldest, open_requests=requests.get(team_id, 0),
                                   estimate=estimate_wait(waits.get(team_id, []), waiting=count,
                                                          referrals=arrivals.get(team_id, 0))))
    return result


def _loads(session: Session, team_ids: list[int]) -> dict[int, list[TherapistLoad]]:
    """Per team: every therapist and team lead with their open episodes (none too), by name, and
    the episodes no one is responsible for, last."""
    counts = {(team_id, staff_id): n for team_id, staff_id, n in session.execute(
        select(Episode.team_id, Episode.responsible_id, func.count())
        .where(Episode.team_id.in_(team_ids), Episode.discharged_at.is_(None))
        .group_by(Episode.team_id, Episode.responsible_id))}
    staff = session.execute(
        select(TeamMembership.team_id, User.id, User.display_name, User.username)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id.in_(team_ids), clinical_only())).all()
    loads: dict[int, list[TherapistLoad]] = defaultdict(list)
    members = set()
    for team_id, staff_id, display, username in staff:
        members.add((team_id, staff_id))
        loads[team_id].append(TherapistLoad(staff_id, display or username, counts.get((team_id, staff_id), 0)))
    for team_id in loads:
        loads[team_id].sort(key=lambda load: (load.name or "").casefold())
    # Someone responsible who has left the team still counts (their name is not looked up).
    for (team_id, staff_id), n in counts.items():
        if staff_id is not None and (team_id, staff_id) not in members:
            loads[team_id].append(TherapistLoad(staff_id, None, n))
    for team_id in team_ids:
        loads[team_id].append(TherapistLoad(None, None, counts.get((team_id, None), 0)))
    return dict(loads)


def estimate_wait(waits: list[float], *, waiting: int, referrals: int) -> WaitEstimate | None:
    """The expected wait from the waits of the last eight weeks' starts (days each), the length of
    the waiting list now and the referrals of the same weeks (see the module's docstring)."""
    if not waits:
        return None
    per_day = len(waits) / (ESTIMATE_WEEKS * 7)
    queue_days = math.ceil(waiting / per_day)
    if len(waits) >= 2:
        low, _median, high = statistics.quantiles(waits, n=4, method="inclusive")
    else:
        low = high = waits[0]
    confidence = "high" if len(waits) >= HIGH_AFTER else "medium" if len(waits) >= MEDIUM_AFTER else "low"
    return WaitEstimate(low_days=math.floor(min(low, queue_days)), high_days=math.ceil(max(high, queue_days)),
                        queue_days=queue_days, starts=len(waits), referrals=referrals, confidence=confidence)
