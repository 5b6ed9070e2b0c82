"""The resident's own progress in their latest course of care ("since you started this time")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Episode, MeasureResponse, User
from .outcomes import Series, score_rows, series_of


@dataclass(frozen=True)
class EpisodeProgress:
    """The resident's scores in their latest episode, and when it started."""

    started_at: datetime | None
    series: list[Series]


def resident_episode_progress(session: Session, *, resident: User) -> EpisodeProgress:
    """Scores of the resident's latest episode only: an earlier course of care is not this one's start."""
    episode = session.scalars(
        select(Episode).where(Episode.resident_id == resident.id)
        .order_by(Episode.referred_at.desc(), Episode.id.desc()).limit(1)
    ).first()
    if episode is None:
        return EpisodeProgress(None, [])
    rows = session.execute(score_rows(MeasureResponse.resident_id == resident.id,
                                      MeasureResponse.episode_id == episode.id)).all()
    return EpisodeProgress(episode.referred_at, series_of(rows))
