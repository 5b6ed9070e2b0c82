"""Booking the first conversation yourself (services/slots.py): publishing, the offer's rules,
booking, a taken slot, moving once, other teams and withdrawn slots."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import AssessmentSlot, AuditEvent, FormRequest, Role
from rph_pwa.services import slots
from rph_pwa.services.errors import NotFound
from rph_pwa.services.responsibility import NotOnTeam
from tests.factories import make_referral, make_resident, make_staff, make_team


def _team_with_slots(db, *, count=3, hours_ahead=48):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    published = slots.publish_slots(db, actor=therapist, team_id=team.id, staff_id=therapist.id,
                                    first_start=utcnow() + timedelta(hours=hours_ahead), count=count,
                                    duration_minutes=45, mode="video", place=None)
    return team, therapist, published


def _waiting_resident(db, team, **referral):
    resident = make_resident(db, team=team)
    make_referral(db, team=team, resident=resident, **referral)
    return resident


def test_publish_makes_a_series_back_to_back_and_checks_its_input(app, db):
    team, therapist, published = _team_with_slots(db, count=4)
    assert [s.starts_at - published[0].starts_at for s in published] == [timedelta(minutes=45 * i) for i in range(4)]
    assert {s.staff_id for s in published} == {therapist.id} and {s.mode for s in published} == {"video"}
    start = utcnow() + timedelta(days=5)
    kwargs = {"actor": therapist, "team_id": team.id, "staff_id": therapist.id, "duration_minutes": 45,
              "mode": "phone"}
    with pytest.raises(ValueError):
        slots.publish_slots(db, first_start=utcnow() - timedelta(minutes=1), **kwargs)
    with pytest.raises(ValueError):
        slots.publish_slots(db, first_start=start, count=slots.MAX_PER_POST + 1, **kwargs)
    with pytest.raises(ValueError):
        slots.publish_slots(db, first_start=start, **{**kwargs, "mode": "pigeon"})
    with pytest.raises(slots.SlotsOverlap):
        slots.publish_slots(db, first_start=published[1].starts_at + timedelta(minutes=10), **kwargs)
    other_team = make_team(db)
    outsider = make_staff(db, teams=[other_team])[0]
    with pytest.raises(NotOnTeam):
        slots.publish_slots(db, first_start=start, **{**kwargs, "staff_id": outsider.id})
    with pytest.raises(NotFound):
        slots.publish_slots(db, first_start=start, **{**kwargs, "actor": outsider})


def test_offer_lists_free_times_by_day_and_booking_takes_one(app, db):
    team, therapist, published = _team_with_slots(db)
    resident = _waiting_resident(db, team)
    offer = slots.booking_offer(db, resident=resident)
    assert offer.can_book and not offer.can_move and offer.reason == ""
    assert [s.id for day in offer.days for s in day.slots] == [s.id for s in published]
    appointment = slots.book_slot(db, resident=resident, slot_id=published[1].id)
    db.commit()
    assert appointment.booked_by_resident and appointment.kind == "assessment" and appointment.status == "booked"
    assert (appointment.starts_at, appointment.staff_id, appointment.mode) == (
        published[1].starts_at, therapist.id, "video")
    assert db.get(AssessmentSlot, published[1].id).appointment_id == appointment.id
    assert db.scalars(select(FormRequest).where(FormRequest.appointment_id == appointment.id)).all()
    offer = slots.booking_offer(db, resident=resident)
    assert offer.booking.id == appointment.id and not offer.can_book and offer.can_move
    assert published[1].id not in {s.id for day in offer.days for s in day.slots}
    with pytest.raises(slots.NotBookable):
        slots.book_slot(db, resident=resident, slot_id=published[2].id)
    # The team sees it at once, and its list of names is audited.
    rows = slots.team_slots(db, actor=therapist, team_id=team.id)
    booked = [r for r in rows if r.booked]
    assert [(r.id, r.episode_id) for r in booked] == [(published[1].id, appointment.episode_id)]
    assert db.scalars(select(AuditEvent).where(AuditEvent.actor_id == therapist.id,
                                               AuditEvent.object_type == "assessment_slot")).all()


def test_a_taken_slot_is_refused_to_the_next_resident(app, db):
    team, _therapist, published = _team_with_slots(db)
    first, second = _waiting_resident(db, team), _waiting_resident(db, team)
    slots.book_slot(db, resident=first, slot_id=published[0].id)
    with pytest.raises(slots.SlotTaken):
        slots.book_slot(db, resident=second, slot_id=published[0].id)
    assert slots.booking_offer(db, resident=second).can_book  # the other times are still there
    slots.book_slot(db, resident=second, slot_id=published[2].id)


def test_move_once_then_refused(app, db):
    team, _therapist, published = _team_with_slots(db)
    resident = _waiting_resident(db, team)
    appointment = slots.book_slot(db, resident=resident, slot_id=published[0].id)
    moved = slots.move_booking(db, resident=resident, slot_id=published[2].id)
    db.commit()
    assert moved.id == appointment.id and moved.starts_at == published[2].starts_at and moved.resident_moves == 1
    assert db.get(AssessmentSlot, published[0].id).appointment_id is None
    assert db.get(AssessmentSlot, published[2].id).appointment_id == appointment.id
    opens = db.scalars(select(FormRequest.opens_at).where(FormRequest.appointment_id == appointment.id)).all()
    assert opens and set(opens) == {published[2].starts_at - timedelta(hours=48)}
    offer = slots.booking_offer(db, resident=resident)
    assert not offer.possible and offer.reason == "moved"
    with pytest.raises(slots.NotBookable):
        slots.move_booking(db, resident=resident, slot_id=published[0].id)


def test_moving_to_a_taken_slot_keeps_the_old_one(app, db):
    team, _therapist, published = _team_with_slots(db)
    resident, other = _waiting_resident(db, team), _waiting_resident(db, team)
    appointment = slots.book_slot(db, resident=resident, slot_id=published[0].id)
    slots.book_slot(db, resident=other, slot_id=published[1].id)
    with pytest.raises(slots.SlotTaken):
        slots.move_booking(db, resident=resident, slot_id=published[1].id)
    assert db.get(AssessmentSlot, published[0].id).appointment_id == appointment.id
    assert appointment.resident_moves == 0


def test_urgent_referrals_and_teams_that_turned_it_off_get_no_offer(app, db):
    team, _therapist, published = _team_with_slots(db)
    urgent = _waiting_resident(db, team, urgent=True)
    offer = slots.booking_offer(db, resident=urgent)
    assert not offer.possible and offer.reason == "urgent" and offer.days == [] and offer.team.id == team.id
    with pytest.raises(slots.NotBookable):
        slots.book_slot(db, resident=urgent, slot_id=published[0].id)
    resident = _waiting_resident(db, team)
    lead = make_staff(db, role=Role.TEAM_LEAD, teams=[team])[0]
    slots.set_self_booking(db, actor=lead, team_id=team.id, enabled=False)
    assert slots.booking_offer(db, resident=resident).reason == "off"
    with pytest.raises(slots.NotBookable):
        slots.book_slot(db, resident=resident, slot_id=published[0].id)
    slots.set_self_booking(db, actor=lead, team_id=team.id, enabled=True)
    assert slots.booking_offer(db, resident=resident).can_book


def test_only_the_teams_lead_turns_self_booking_off(app, db):
    team, therapist, _published = _team_with_slots(db)
    other_lead = make_staff(db, role=Role.TEAM_LEAD, teams=[make_team(db)])[0]
    for actor in (therapist, other_lead):
        with pytest.raises(NotFound):
            slots.set_self_booking(db, actor=actor, team_id=team.id, enabled=False)
    assert team.self_booking


def test_other_teams_withdrawn_too_soon_and_unknown_slots_are_refused(app, db):
    team, therapist, published = _team_with_slots(db)
    _other_team, _other_therapist, foreign = _team_with_slots(db)
    _soon_team, _soon_therapist, _soon = _team_with_slots(db, count=1, hours_ahead=1)
    resident = _waiting_resident(db, team)
    slots.withdraw_slot(db, actor=therapist, slot_id=published[0].id)
    assert published[0].id not in {s.id for day in slots.booking_offer(db, resident=resident).days for s in day.slots}
    for slot_id in (foreign[0].id, published[0].id, 10**9):
        with pytest.raises(slots.SlotTaken):
            slots.book_slot(db, resident=resident, slot_id=slot_id)
    assert db.get(AssessmentSlot, foreign[0].id).appointment_id is None
    soon_resident = _waiting_resident(db, _soon_team)
    assert slots.booking_offer(db, resident=soon_resident).reason == "no_slots"


def test_withdraw_refuses_booked_slots_and_other_teams(app, db):
    team, therapist, published = _team_with_slots(db)
    _other_team, other_therapist, _foreign = _team_with_slots(db)
    slots.book_slot(db, resident=_waiting_resident(db, team), slot_id=published[0].id)
    with pytest.raises(slots.SlotBooked):
        slots.withdraw_slot(db, actor=therapist, slot_id=published[0].id)
    with pytest.raises(NotFound):
        slots.withdraw_slot(db, actor=other_therapist, slot_id=published[1].id)
    slots.withdraw_slot(db, actor=therapist, slot_id=published[1].id)
    slots.withdraw_slot(db, actor=therapist, slot_id=published[1].id)  # a repeated post is harmless
    assert [r.id for r in slots.team_slots(db, actor=therapist, team_id=team.id)] == [published[0].id, published[2].id]


def test_a_resident_without_a_referral_is_told_so(app, db):
    resident = make_resident(db, team=make_team(db))
    offer = slots.booking_offer(db, resident=resident)
    assert not offer.possible and offer.reason == "no_referral" and offer.team is None
