"""The responsible therapist of an episode: chosen from the team's therapists and team leads,
changed only with a note, every choice kept; nobody outside the team sets it."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from rph_pwa.db import utcnow
from rph_pwa.models import Episode, ResponsibleChange, Role
from rph_pwa.services import responsibility
from rph_pwa.services.errors import Conflict, NotFound
from tests.factories import make_referral, make_staff, make_team


def _episode(db, team) -> Episode:
    return make_referral(db, team=team).episode


def test_the_first_choice_needs_no_note_and_a_change_needs_one(db):
    team = make_team(db)
    (first, _), (second, _) = make_staff(db, teams=[team]), make_staff(db, role=Role.TEAM_LEAD, teams=[team])
    episode = _episode(db, team)
    change = responsibility.set_responsible(db, actor=first, episode_id=episode.id, therapist_id=first.id)
    assert episode.responsible_id == first.id
    assert (change.from_id, change.to_id, change.staff_id, change.note) == (None, first.id, first.id, None)

    for note in (None, "", "   "):
        with pytest.raises(responsibility.NoteRequired):
            responsibility.set_responsible(db, actor=first, episode_id=episode.id, therapist_id=second.id, note=note)
    assert episode.responsible_id == first.id

    handover = responsibility.set_responsible(db, actor=first, episode_id=episode.id, therapist_id=second.id,
                                              note="  Ferie i tre uker; veiledning videre hos teamleder. ")
    assert episode.responsible_id == second.id
    assert (handover.from_id, handover.to_id, handover.note) == (
        first.id, second.id, "Ferie i tre uker; veiledning videre hos teamleder.")
    history = responsibility.responsible_changes(db, actor=second, episode=episode)
    assert [(c.from_id, c.to_id) for c in history] == [(None, first.id), (first.id, second.id)]
    # The note is encrypted at rest.
    raw = db.execute(text("SELECT note FROM responsible_change WHERE id = :id"), {"id": handover.id}).scalar_one()
    assert raw.startswith("gAAAA") and "Ferie" not in raw


def test_choosing_the_one_already_responsible_changes_nothing(db):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    episode = _episode(db, team)
    responsibility.set_responsible(db, actor=therapist, episode_id=episode.id, therapist_id=therapist.id)
    assert responsibility.set_responsible(db, actor=therapist, episode_id=episode.id,
                                          therapist_id=therapist.id) is None
    assert len(db.scalars(select(ResponsibleChange).where(ResponsibleChange.episode_id == episode.id)).all()) == 1


def test_only_a_therapist_or_team_lead_of_the_episodes_team_can_be_responsible(db):
    team, other = make_team(db), make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    elsewhere, _ = make_staff(db, teams=[other])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    gone, _ = make_staff(db, teams=[team])
    gone.is_active = False
    episode = _episode(db, team)
    for candidate in (elsewhere, admin, gone):
        with pytest.raises(responsibility.NotOnTeam):
            responsibility.set_responsible(db, actor=therapist, episode_id=episode.id, therapist_id=candidate.id)
    with pytest.raises(responsibility.NotOnTeam):
        responsibility.set_responsible(db, actor=therapist, episode_id=episode.id, therapist_id=2_000_000_000)
    assert episode.responsible_id is None
    assert [u.id for u in responsibility.team_therapists(db, actor=therapist, team_id=team.id)] == [therapist.id]


def test_staff_of_another_team_and_admins_cannot_set_it(db):
    team, other = make_team(db), make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    outsider, _ = make_staff(db, teams=[other])
    lead_elsewhere, _ = make_staff(db, role=Role.TEAM_LEAD, teams=[other])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    episode = _episode(db, team)
    for actor in (outsider, lead_elsewhere, admin):
        with pytest.raises(NotFound):
            responsibility.set_responsible(db, actor=actor, episode_id=episode.id, therapist_id=therapist.id)
        with pytest.raises(NotFound):
            responsibility.team_therapists(db, actor=actor, team_id=team.id)
        with pytest.raises(NotFound):
            responsibility.responsible_changes(db, actor=actor, episode=episode)
    with pytest.raises(NotFound):  # an unknown episode is the same answer
        responsibility.set_responsible(db, actor=therapist, episode_id=2_000_000_000, therapist_id=therapist.id)
    assert episode.responsible_id is None


def test_an_ended_episode_keeps_its_responsible_therapist(db):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    episode = _episode(db, team)
    episode.discharged_at = utcnow()
    with pytest.raises(Conflict):
        responsibility.set_responsible(db, actor=therapist, episode_id=episode.id, therapist_id=therapist.id)
    assert episode.responsible_id is None


def test_a_note_longer_than_the_limit_is_refused(db):
    team = make_team(db)
    (first, _), (second, _) = make_staff(db, teams=[team]), make_staff(db, teams=[team])
    episode = _episode(db, team)
    responsibility.set_responsible(db, actor=first, episode_id=episode.id, therapist_id=first.id)
    with pytest.raises(ValueError):
        responsibility.set_responsible(db, actor=first, episode_id=episode.id, therapist_id=second.id,
                                       note="x" * (responsibility.NOTE_MAX + 1))
    assert episode.responsible_id == first.id
