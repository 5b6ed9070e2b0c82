"""Coded values, in one place: each is an enum whose values are the strings stored in the database
(and in the referral's answers), in display order, with its translated label.

Forms build their choices with `choices`, pages show a stored value with `label`, statistics and
the patient-record texts take their wording from here too (record texts through the bokmål
catalog, see `services.record_text`). Model `CheckConstraint`s list `values(...)`, so adding a
value here needs a migration.

A few coded values are worded differently where the wording is a different sentence, not a
different name: the resident answers the referral in the first person ("I work") and staff choose
an end reason with its explanation. Those wordings are tables keyed by the enum, next to it.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Mapping, Optional, TypeVar

from flask import g, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice


class Coded(StrEnum):
    """A coded value: `member.value` is the stored string, `member.label` its (lazy) label."""

    label: Any

    def __new__(cls, value: str, label: Any):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


C = TypeVar("C", bound=Coded)


def coded(name: str, doc: str, **labels: Any) -> type[Coded]:
    """A coded value's enum from its table of stored values and labels, in display order. Each
    member is named after its value in capitals: `WorkStatus.JOB_SEEKING == "job_seeking"`."""
    enum = Coded(name, [(value.upper(), (value, label)) for value, label in labels.items()],
                 module=__name__, qualname=name)
    enum.__doc__ = doc
    return enum


WorkStatus = coded("WorkStatus", "What the person does most of the day (the referral's work step; at discharge).",
                   working=_l("Working"), studying=_l("Studying or at school"), job_seeking=_l("Looking for work"),
                   benefits=_l("Receives benefits (for example from NAV)"), retired=_l("Retired"), other=_l("Other"))
SickLeave = coded("SickLeave", "Sick leave now (the referral's work step; at discharge).",
                  none=_l("No"), graded=_l("Partly (graded)"), full=_l("Fully"))
Problem = coded("Problem", "What the person wants help with (the referral's `problems`, several allowed).",
                anxiety=_l("Worry, fear or anxiety"), low_mood=_l("Low mood or feeling down"),
                sleep=_l("Sleep problems"), substances=_l("Alcohol, drugs or medicines"),
                stress=_l("Stress or feeling burnt out"), other=_l("Something else"))
MeetingMode = coded("MeetingMode", "How a contact takes place (`Appointment.mode`).",
                    phone=_l("By phone"), office=_l("At the office"), video=_l("By video"))
AppointmentKind = coded(
    "AppointmentKind", "The kind of a contact (`Appointment.kind`); all but the assessment are treatment.",
    assessment=_l("Assessment"), treatment=_l("Treatment"), check_in=_l("Guided self-help check-in"),
    course_meeting=_l("Course meeting"))
AppointmentStatus = coded("AppointmentStatus", "Whether a contact took place (`Appointment.status`).",
                          booked=_l("Booked"), attended=_l("Attended"), cancelled=_l("Cancelled"),
                          no_show=_l("Did not attend"))

#: The statuses staff set by hand, in the order of the per-contact buttons (a booked contact is
#: never set back to booked).
ATTENDANCE = (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)

Offering = coded("Offering", "What the team offers (`Episode.offerings`, several allowed: mixed care).",
                 course=_l("Course"), guided_self_help=_l("Guided self-help"), group=_l("Treatment group"),
                 individual=_l("Individual therapy"))
EndReason = coded("EndReason", "Why an episode ended, recorded at discharge (`Episode.end_reason`, H L4989-4993).",
                  completed=_l("Completed"), guided_onward=_l("Guided onward to other help"),
                  dropped_out=_l("Dropped out"), declined=_l("Declined the offer"), other=_l("Other reason"))
ReferralStatus = coded("ReferralStatus", "Where a referral stands (`Referral.status`).",
                       new=_l("New"), in_contact=_l("In contact"), assessed=_l("Assessed"), accepted=_l("Accepted"),
                       guided_onward=_l("Guided onward"), closed=_l("Closed"))
Channel = coded("Channel", "How a referral came (`Referral.channel`): the app, registered by staff, or "
                "a resident's own enrolment on an open course (its short screen creates the episode).",
                app=_l("App"), phone=_l("Phone"), paper=_l("Paper form"), course=_l("Course enrolment"))
ContactMethod = coded("ContactMethod", "How staff tried to reach the person (`ContactAttempt.method`); `app` is "
                      "the content-free message the app sends after a missed appointment (drop-out routine).",
                      phone=_l("Phone"), sms=_l("Text message (SMS)"), letter=_l("Letter"), email=_l("E-mail"),
                      app=_l("Message through the app's reminders"))
ReminderKind = coded(
    "ReminderKind", "What a reminder is about (`Reminder.kind`); the texts never say more than this.",
    appointment=_l("Appointment reminder"), appointment_soon=_l("Appointment reminder, shortly before"),
    message=_l("New message"), test=_l("Test notification"))
ReminderChannel = coded("ReminderChannel", "How a reminder reaches the resident (`ReminderDelivery.channel`), "
                        "chosen in this order of preference in the resident's settings.",
                        push=_l("Notification on this phone"), sms=_l("Text message (SMS)"), email=_l("E-mail"))
DeliveryState = coded(
    "DeliveryState", "Where one delivery of a reminder by one channel stands (`ReminderDelivery.state`).",
    claimed=_l("Being sent"), retrying=_l("Failed, will try again"), sent=_l("Sent"), shown=_l("Shown on the phone"),
    failed=_l("Failed"))
ReminderOutcome = coded(
    "ReminderOutcome", "How a reminder ended (`Reminder.outcome`).",
    delivered=_l("Delivered"), unconfirmed=_l("Sent, not confirmed shown"),
    dropped=_l("Not sent: the appointment was cancelled, moved or is over"),
    no_channel=_l("Not sent: no way to reach the person"), failed=_l("Not sent: every way failed"))
CourseKind = coded("CourseKind", "What a course template is (`CourseTemplate.kind`, H L676-695, L726-744).",
                   course=_l("Course"), group=_l("Treatment group"))
CourseMode = coded("CourseMode", "Where a course run meets (`CourseRun.mode`): all in person or all online "
                   "(H L3910-3924).", office=_l("In person"), video=_l("By video"))
CourseRole = coded("CourseRole", "How a person takes part in a run (`CourseParticipant.role`): relatives "
                   "(pårørende) take part on equal terms but fill in no outcome forms by default and never "
                   "count in outcome statistics (H L824-831).",
                   participant=_l("Participant"), relative=_l("Relative"))
EnrolmentStatus = coded("EnrolmentStatus", "Where a person stands in a run (`CourseParticipant.status`).",
                        enrolled=_l("Enrolled"), waiting=_l("On the waiting list"), withdrawn=_l("Withdrawn"))
CourseAttendance = coded("CourseAttendance", "Whether a participant came to a meeting "
                         "(`CourseAttendanceMark.status`).", attended=_l("Attended"), absent=_l("Absent"))
CheckInVia = coded("CheckInVia", "Who marked attendance (`CourseAttendanceMark.via`): a leader's tap, or the "
                   "participant scanning the meeting's QR code.", leader=_l("Leader"), qr=_l("QR code"))
RequestKind = coded("RequestKind", "What a resident asks of an appointment (`AppointmentRequest.kind`).",
                    change=_l("Change the time"), cancel=_l("Cancel"))
RequestAnswer = coded("RequestAnswer", "How the team answered a resident's request (`AppointmentRequest.answer`).",
                      moved=_l("Moved to a new time"), cancelled=_l("Cancelled"), kept=_l("Kept as it is"))
ContactOutcome = coded("ContactOutcome", "The result of a try to reach the person (`ContactAttempt.outcome`).",
                       reached=_l("Reached the person"), no_answer=_l("No answer"), left_message=_l("Left a message"))


#: The resident's own answers on the referral's work step (first person), by work status.
WORK_ANSWERS = {
    WorkStatus.WORKING: _l("I work"), WorkStatus.STUDYING: _l("I study or go to school"),
    WorkStatus.JOB_SEEKING: _l("I am looking for work"),
    WorkStatus.BENEFITS: _l("I receive benefits (for example from NAV)"),
    WorkStatus.RETIRED: _l("I am retired"), WorkStatus.OTHER: _l("Other"),
}
#: ... and about sick leave.
SICK_LEAVE_ANSWERS = {SickLeave.NONE: _l("No"), SickLeave.GRADED: _l("Yes, partly (graded)"),
                      SickLeave.FULL: _l("Yes, fully")}
#: End reasons with what each means, as staff choose one at discharge.
END_REASON_EXPLAINED = {
    EndReason.COMPLETED: _l("Completed: the goal was reached or the treatment finished"),
    EndReason.GUIDED_ONWARD: _l("Guided onward: needs another kind of help"),
    EndReason.DROPPED_OUT: _l("Dropped out: stopped coming or could not be reached"),
    EndReason.DECLINED: _l("Declined the offer"),
    EndReason.OTHER: _l("Other reason"),
}


def values(enum: type[Coded]) -> tuple[str, ...]:
    """The stored strings, in display order (plain `str`, so `repr` gives SQL-ready literals)."""
    return tuple(member.value for member in enum)


def labels(enum: type[C]) -> dict[str, Any]:
    """Stored string → lazy label, in display order."""
    return {member.value: member.label for member in enum}


def choices(enum: type[C], wording: Optional[Mapping[C, Any]] = None,
            *, only: Optional[tuple[C, ...]] = None) -> list[SelectChoice]:
    """WTForms choices for a coded value: every member (or `only` these, in that order), labelled
    with the enum's label or with `wording` (a table keyed by the enum, e.g. `WORK_ANSWERS`)."""
    members = only if only is not None else tuple(enum)
    return [SelectChoice(m.value, wording[m] if wording is not None else m.label) for m in members]


def label(known: type[Coded] | Mapping[str, Any], value: Optional[str]) -> str:
    """The translated label of a stored value, from a coded value's enum or a table of labels.
    A missing value reads "Not answered"; a value not known is shown readably ("some_key" →
    "Some key") rather than hidden."""
    if value is None or value == "":
        return _("Not answered")
    if not has_app_context():
        return _translate(known, value)
    # Translated once per request: a queue of hundreds of cards repeats the same few labels. The
    # locale is part of the key because record texts switch to bokmål inside a request.
    memo = g.setdefault("code_labels", {})
    key = (id(known), value, str(get_locale()))
    if key not in memo:
        memo[key] = _translate(known, value)
    return memo[key]


def _translate(known: type[Coded] | Mapping[str, Any], value: str) -> str:
    try:
        return str(known[value] if isinstance(known, Mapping) else known(value).label)
    except (KeyError, ValueError):
        return str(value).replace("_", " ").capitalize()
