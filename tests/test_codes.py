"""Coded values (rph_pwa/codes.py): every value has a label in every language, the database
accepts exactly the enum's values, forms offer exactly them, and record texts are bokmål."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from rph_pwa import codes
from rph_pwa.client.referral_forms import TroublesForm, WorkForm
from rph_pwa.codes import (
    ATTENDANCE,
    END_REASON_EXPLAINED,
    SICK_LEAVE_ANSWERS,
    WORK_ANSWERS,
    AppointmentKind,
    AppointmentStatus,
    Channel,
    ContactMethod,
    ContactOutcome,
    EndReason,
    MeetingMode,
    Offering,
    Problem,
    ReferralStatus,
    SickLeave,
    WorkStatus,
    values,
)
from rph_pwa.db import Base
from rph_pwa.services import record_text
from rph_pwa.therapist.episode_forms import AttendanceForm, BookContactForm, DischargeForm, OfferingChangeForm
from rph_pwa.therapist.forms import BookAssessmentForm, ContactAttemptForm, EnquiryForm, OfferingsForm

TRANSLATIONS = Path(__file__).resolve().parent.parent / "rph_pwa" / "translations"
CODED = (WorkStatus, SickLeave, Problem, MeetingMode, AppointmentKind, AppointmentStatus, Offering, EndReason,
         ReferralStatus, Channel, ContactMethod, ContactOutcome)
#: Other wordings of a coded value: each must cover the enum.
WORDINGS = ((WorkStatus, WORK_ANSWERS), (SickLeave, SICK_LEAVE_ANSWERS), (EndReason, END_REASON_EXPLAINED))


def _translated(lang: str) -> set[str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return {m.id for m in read_po(handle) if m.id and m.string and not m.fuzzy}


def _all_labels():
    for enum in CODED:
        for member in enum:
            yield member, member.label
    for enum, wording in WORDINGS:
        for member in enum:
            yield member, wording[member]


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_every_coded_value_has_a_translated_label(app, lang):
    translated = _translated(lang) if lang != "en" else None
    with app.test_request_context():
        for member, lazy in _all_labels():
            with force_locale("en"):
                msgid = str(lazy)
            with force_locale(lang):
                text = str(lazy)
            assert text and text != member.value, f"{lang}: {type(member).__name__}.{member.name}"
            if translated is not None:
                assert msgid in translated, f"{lang}: no translation of {msgid!r}"


@pytest.mark.parametrize("enum, wording", WORDINGS)
def test_other_wordings_cover_every_value(enum, wording):
    assert list(wording) == list(enum)


def _in_list(table: str, column: str) -> tuple[str, ...]:
    """The values a CheckConstraint `<column> IN (...)` on `table` allows, in the order written."""
    for constraint in Base.metadata.tables[table].constraints:
        text = str(getattr(constraint, "sqltext", ""))
        found = re.search(rf"\b{column} IN \(([^)]*)\)", text)
        if found:
            return tuple(re.findall(r"'([^']*)'", found.group(1)))
    raise AssertionError(f"no check on {table}.{column}")


@pytest.mark.parametrize("table, column, enum", [
    ("referral", "status", ReferralStatus), ("referral", "channel", Channel),
    ("episode", "end_reason", EndReason), ("appointment", "mode", MeetingMode),
    ("appointment", "kind", AppointmentKind), ("appointment", "status", AppointmentStatus),
])
def test_enum_values_are_what_the_database_allows(table, column, enum):
    assert _in_list(table, column) == values(enum)


def test_check_constraints_render_the_sql_of_the_migrations():
    """Built from the enums, the constraints are the very text the migrations created (no new migration)."""
    texts = {str(c.sqltext) for table in ("referral", "episode", "appointment")
             for c in Base.metadata.tables[table].constraints if hasattr(c, "sqltext")}
    assert {"mode IN ('phone', 'office', 'video')",
            "kind IN ('assessment', 'treatment', 'check_in', 'course_meeting')",
            "status IN ('booked', 'attended', 'cancelled', 'no_show')",
            "channel IN ('app', 'phone', 'paper', 'course')",  # 'course' since migration 0018
            "status IN ('new', 'in_contact', 'assessed', 'accepted', 'guided_onward', 'closed')",
            "end_reason IS NULL OR end_reason IN ('completed', 'guided_onward', 'dropped_out', 'declined', 'other')",
            } <= texts


def _choice_values(field) -> tuple[str, ...]:
    return tuple(choice.value for choice in field.kwargs["choices"])


@pytest.mark.parametrize("field, enum", [
    (DischargeForm.end_reason, EndReason), (DischargeForm.work_status_end, WorkStatus),
    (DischargeForm.sick_leave_end, SickLeave), (BookContactForm.kind, AppointmentKind),
    (BookContactForm.mode, MeetingMode), (BookAssessmentForm.mode, MeetingMode),
    (OfferingsForm.offerings, Offering), (OfferingChangeForm.offerings, Offering),
    (ContactAttemptForm.method, ContactMethod), (ContactAttemptForm.outcome, ContactOutcome),
    (EnquiryForm.problems, Problem), (WorkForm.work_status, WorkStatus), (WorkForm.sick_leave, SickLeave),
    (TroublesForm.problems, Problem),
])
def test_form_choices_are_the_coded_values(field, enum):
    assert _choice_values(field) == values(enum)


def test_attendance_buttons_are_appointment_statuses():
    assert _choice_values(AttendanceForm.status) == values(ATTENDANCE) == ("attended", "no_show", "cancelled")


def test_end_reason_options_are_labelled_with_their_explanation(app):
    with app.test_request_context(), force_locale("en"):
        labels = [str(choice.label) for choice in DischargeForm.end_reason.kwargs["choices"]]
    assert labels[0] == "Completed: the goal was reached or the treatment finished"


@pytest.mark.parametrize("lang", ["en", "nn", "nb"])
def test_record_texts_are_bokmal_whatever_the_page_language(app, lang):
    with app.test_request_context(), force_locale(lang):
        page_label = str(WorkStatus.WORKING.label)
        assert record_text.label(WorkStatus, "working") == "i arbeid"
        assert record_text.label(Offering, "individual") == "individuell terapi"
        assert record_text.label(Problem, "anxiety") == "bekymring, frykt eller angst"
        assert record_text.label(EndReason, "declined") == "takket nei til tilbudet"
        assert record_text.label(AppointmentKind, "treatment") == "behandling"
        # ... and the page's own language is back afterwards.
        assert str(WorkStatus.WORKING.label) == page_label
    assert page_label == {"en": "Working", "nn": "I arbeid", "nb": "I arbeid"}[lang]


def test_labels_kept_for_the_request_follow_a_change_of_language(app):
    with app.test_request_context(), force_locale("en"):
        assert codes.label(WorkStatus, "working") == "Working"
        with force_locale("nb"):  # as a record text does, inside the same request
            assert codes.label(WorkStatus, "working") == "I arbeid"
        assert codes.label(WorkStatus, "working") == "Working"


def test_record_text_keeps_unknown_keys_and_leaves_missing_ones_empty(app):
    with app.test_request_context():
        assert record_text.label(WorkStatus, "sabbatical") == "sabbatical"
        assert record_text.label(WorkStatus, None) == "" and record_text.label(WorkStatus, "") == ""


def test_label_reads_missing_and_unknown_values(app):
    with app.test_request_context(), force_locale("en"):
        assert codes.label(MeetingMode, "video") == "By video"
        assert codes.label(MeetingMode, None) == "Not answered" == codes.label(MeetingMode, "")
        assert codes.label(MeetingMode, "carrier_pigeon") == "Carrier pigeon"
        assert codes.label({"x": "Ex"}, "x") == "Ex" and codes.label({}, "some_key") == "Some key"


def test_choices_can_be_limited_and_reworded(app):
    with app.test_request_context(), force_locale("en"):
        only = codes.choices(AppointmentStatus, only=(AppointmentStatus.NO_SHOW,))
        reworded = codes.choices(SickLeave, SICK_LEAVE_ANSWERS)
    assert [(c.value, str(c.label)) for c in only] == [("no_show", "Did not attend")]
    assert [str(c.label) for c in reworded] == ["No", "Yes, partly (graded)", "Yes, fully"]
