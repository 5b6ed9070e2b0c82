"""Why an episode ended (issue 9, H L4989-4993): recorded at discharge through the service and the
episode page's discharge form, kept on correction, and refused by the database when unknown."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from rph_pwa.models import Episode
from rph_pwa.services import outcomes
from tests.factories import make_monitored_episode, make_staff, make_team


def test_discharge_records_the_end_reason(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    episode = make_monitored_episode(db, team=team)
    outcomes.discharge(db, actor=staff, episode_id=episode.id, work_status_end="working", sick_leave_end="none",
                       end_reason="dropped_out")
    db.commit()
    assert db.get(Episode, episode.id).end_reason == "dropped_out"
    # Saving the work status again keeps the reason; choosing another corrects it.
    outcomes.discharge(db, actor=staff, episode_id=episode.id, work_status_end="studying", sick_leave_end="none")
    assert db.get(Episode, episode.id).end_reason == "dropped_out"
    outcomes.discharge(db, actor=staff, episode_id=episode.id, work_status_end="studying", sick_leave_end="none",
                       end_reason="completed")
    db.commit()
    assert db.get(Episode, episode.id).end_reason == "completed"
    with pytest.raises(ValueError):
        outcomes.discharge(db, actor=staff, episode_id=episode.id, work_status_end="working", sick_leave_end="none",
                           end_reason="bored")


def test_the_database_refuses_an_unknown_end_reason(db):
    team = make_team(db)
    episode = make_monitored_episode(db, team=team)
    db.commit()
    episode.end_reason = "bored"
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


