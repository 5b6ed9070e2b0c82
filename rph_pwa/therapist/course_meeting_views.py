"""The leader's phone view of one course meeting, its actions, and the shared check-in screen.

- `course_meeting`: who is enrolled with one tap each for attendance (`course_attendance`; a
  small script posts the tap without reloading, else a normal POST and redirect), who checked in
  by QR, the meeting's content, the day's content note (`course_meeting_note`), the forms filled
  in before it with flags, a "fot i bakken" talk per flagged person (`course_talk`) and a note
  per participant to copy into the record. Leaders only; every view audited.
- `course_check_in_screen`: the meeting's QR code and its address, for a projector or a phone
  held up. It shows no name, flag or score.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..db import get_session
from ..forms import Refusal, run_form_action, run_page_form_action
from ..localtime import local_to_utc
from ..models import CourseParticipant
from ..qr import qr_svg
from ..services import course_meetings, courses
from ..services.errors import Conflict, NotFound
from ..urls import external_url
from . import bp
from .course_meeting_forms import AttendanceTapForm, ContentNoteForm, TalkForm

MEETING = "/courses/meetings/<int:meeting_id>"
#: What a tap says (also the script's live message).
TAPPED = {"attended": _l("Marked as came."), "absent": _l("Marked as did not come.")}
NOTE_SAVED = _l("The content note is saved.")
TALK_BOOKED = _l("The talk is booked in the person's episode.")
NO_EPISODE = _l("This person takes part as a relative and has no episode to book a talk in.")
EPISODE_ENDED = _l("The person's episode has ended, so no talk can be booked in it.")
NOTE_TOO_LONG = _l("The note is too long.")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route(MEETING)
def course_meeting(meeting_id: int):
    """One meeting, for its leaders (audited)."""
    return _meeting_page(meeting_id)


def _meeting_page(meeting_id: int, *, bound: tuple[str, object] | None = None,
                  talk: tuple[int, TalkForm] | None = None) -> str:
    """The page; `bound` a page form with its errors, `talk` (participant id, form) a talk form."""
    db = get_session()
    page = course_meetings.meeting_page(db, actor=current_user, meeting_id=meeting_id)
    db.commit()  # the audit events of this read
    forms = {"note": ContentNoteForm(formdata=None, prefix="note", note=page.note),
             "tap": AttendanceTapForm(formdata=None)}
    if bound is not None:
        forms[bound[0]] = bound[1]
    talks = {a.participant_id: TalkForm(formdata=None, prefix=talk_prefix(a.participant_id))
             for a in page.attendees if a.flags and a.episode_id is not None}
    if talk is not None:
        talks[talk[0]] = talk[1]
    return render_template("therapist/courses/meeting.html", page=page, forms=forms, talks=talks,
                           talk_for=talk[0] if talk else None, flag_labels=flag_labels())


def talk_prefix(participant_id: int) -> str:
    """Each person's talk form has its own prefix (the page shows several)."""
    return f"talk{participant_id}"


def flag_labels() -> dict[str, str]:
    return {course_meetings.FLAG_ITEM9: _("Item 9 above 0"),
            course_meetings.FLAG_SEVERE: _("PHQ-9 is %(score)s or higher", score=course_meetings.PHQ9_SEVERE),
            course_meetings.FLAG_WORSE: _("Reliably worse since the first meeting")}


@bp.post(f"{MEETING}/attendance")
def course_attendance(meeting_id: int):
    """One tap: a person came or did not. JSON for the page's script, else back to the page."""
    form = AttendanceTapForm()
    back = url_for(".course_meeting", meeting_id=meeting_id)
    if not form.validate():
        if _wants_json():
            return jsonify({"error": _("Choose came or did not come.")}), 400
        flash(_("Choose came or did not come."), "error")
        return redirect(back)
    db = get_session()
    mark = course_meetings.mark(db, actor=current_user, meeting_id=meeting_id, participant_id=form.participant.data,
                                attended=form.status.data == "attended")
    db.commit()
    said = str(TAPPED[mark.status])
    if _wants_json():
        return jsonify({"participant": form.participant.data, "status": mark.status, "message": said,
                        "record_line": course_meetings.attendance_line(mark.status)})
    flash(said, "success")
    return redirect(f"{back}#person-{form.participant.data}")


@bp.post(f"{MEETING}/note")
def course_meeting_note(meeting_id: int):
    """Save the day's content note."""
    form = ContentNoteForm(prefix="note")
    return run_page_form_action(
        "note", form, lambda db, form: course_meetings.save_note(db, actor=current_user, meeting_id=meeting_id,
                                                               note=form.note.data or ""),
        page=lambda bound: _meeting_page(meeting_id, bound=bound),
        back=url_for(".course_meeting", meeting_id=meeting_id), done=NOTE_SAVED,
        refusals=[Refusal(ValueError, NOTE_TOO_LONG, field=form.note)])


@bp.post("/courses/participants/<int:participant_id>/talk")
def course_talk(participant_id: int):
    """Book a "fot i bakken" talk with a participant; back to the meeting the form was on."""
    db = get_session()
    meeting_id = request.form.get("meeting", type=int)
    meeting = _meeting_of(db, participant_id, meeting_id)
    back = url_for(".course_meeting", meeting_id=meeting.id)
    form = TalkForm(prefix=talk_prefix(participant_id))
    try:
        return run_form_action(form, lambda db: course_meetings.book_talk(
            db, actor=current_user, participant_id=participant_id,
            starts_at=local_to_utc(form.day.data, form.time.data), duration_minutes=form.duration.data,
            mode=form.mode.data, place=(form.place.data or "").strip() or None),
            show=lambda: _meeting_page(meeting.id, talk=(participant_id, form)),
            back=back, done=TALK_BOOKED,
            refusals=[Refusal(course_meetings.NoEpisode, NO_EPISODE)])
    except course_meetings.OtherTeam as error:
        db.rollback()
        flash(_("This person's episode belongs to %(team)s, where you are not on the team. Ask them to book "
                "the talk.", team=error.team_name), "error")
        return redirect(back)
    except Conflict:
        db.rollback()
        flash(str(EPISODE_ENDED), "error")
        return redirect(back)


def _meeting_of(db, participant_id: int, meeting_id: int | None):
    """The meeting the talk form was on, if it is of the participant's run (else the run's first):
    the actor must lead the run (NotFound otherwise)."""
    participant = db.get(CourseParticipant, participant_id)
    if participant is None:
        raise NotFound("participant")
    run = courses.require_leader(db, actor=current_user, run_id=participant.run_id)
    return next((m for m in run.meetings if m.id == meeting_id), run.meetings[0])


@bp.route(f"{MEETING}/check-in")
def course_check_in_screen(meeting_id: int):
    """The meeting's check-in QR code and its address (no names, flags or scores)."""
    db = get_session()
    meeting = courses.meeting_for_leader(db, actor=current_user, meeting_id=meeting_id)
    url = external_url("client.course_check_in", code=meeting.check_in_code)
    return render_template("therapist/courses/meeting_check_in.html", meeting=meeting, url=url,
                           qr=qr_svg(url, title=_("QR code to check in to the meeting")))
