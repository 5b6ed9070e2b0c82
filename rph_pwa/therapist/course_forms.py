"""Forms of the staff's course administration: a template (with each meeting's content), a
workbook file, a run, moving or cancelling a meeting, and enrolling someone. Validators check
shape and ranges; `services.course_admin` checks access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.datetime import DateField, TimeField
from wtforms.validators import Email, InputRequired, NumberRange, Optional, ValidationError

from .. import codes
from ..codes import CourseKind, CourseMode
from ..forms import BaseForm, BaseSubForm, MultiCheckboxField, PhoneNumber, Refusal, name_filter
from ..services import course_admin as svc
from .forms import length, secure_web_link, sensible_year
from .presenters.common import staff_name

MEETINGS_MAX = 21  # 20 meetings and the follow-up


class MeetingContentForm(BaseSubForm):
    """What one meeting of a template covers."""

    title = StringField(_l("Title of the meeting"), validators=[Optional(), length(svc.TITLE_MAX)])
    content = TextAreaField(_l("Content"), validators=[Optional(), length(svc.CONTENT_MAX)])


class TemplateForm(BaseForm):
    """A course or treatment group template."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=True)
    title = StringField(_l("Title"), validators=[InputRequired(_l("Enter the title.")), length(svc.TITLE_MAX)])
    kind = SelectField(_l("Kind"), choices=codes.choices(CourseKind), validate_choice=True)
    audience = TextAreaField(_l("For whom"), validators=[Optional(), length(svc.CONTENT_MAX)])
    meeting_count = IntegerField(_l("Number of meetings"), default=4, validators=[
        InputRequired(_l("Enter the number of meetings.")),
        NumberRange(1, 20, _l("Enter a number from %(min)s to %(max)s."))])
    meeting_minutes = IntegerField(_l("Length of each meeting in minutes"), default=120, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(15, 480, _l("Enter a length from %(min)s to %(max)s minutes."))])
    follow_up = BooleanField(_l("A follow-up meeting 1-2 months after the last"))
    capacity = IntegerField(_l("Places"), default=20, validators=[
        InputRequired(_l("Enter the number of places.")),
        NumberRange(1, 200, _l("Enter a number from %(min)s to %(max)s."))])
    instruments = MultiCheckboxField(_l("Questionnaires before each meeting"),
                                     choices=[SelectChoice(code, code) for code in svc.COURSE_INSTRUMENTS])
    evaluation_each_meeting = BooleanField(_l("Evaluation after each meeting too (always at the end)"))
    is_open = BooleanField(_l("Open: residents may enrol themselves from the public course page"))
    archived = BooleanField(_l("Archived: kept with its runs and results, no new runs"))
    meetings = FieldList(FormField(MeetingContentForm), min_entries=1, max_entries=MEETINGS_MAX)

    def offer(self, teams, *, template=None) -> TemplateForm:
        self.team.choices = [SelectChoice(team.id, team.name) for team in teams]
        if template is not None and not self.is_submitted():
            self.team.data = template.team_id
            self.title.data, self.kind.data, self.audience.data = template.title, template.kind, template.audience
            self.meeting_count.data, self.meeting_minutes.data = template.meeting_count, template.meeting_minutes
            self.follow_up.data, self.capacity.data = template.follow_up, template.capacity
            self.instruments.data = template.instruments
            self.evaluation_each_meeting.data, self.is_open.data = template.evaluation_each_meeting, template.is_open
            self.archived.data = template.archived
            while len(self.meetings.entries):
                self.meetings.pop_entry()
            for meeting in template.meetings:
                self.meetings.append_entry({"title": meeting.title, "content": meeting.content})
        if not self.is_submitted():
            wanted = (self.meeting_count.data or 1) + (1 if self.follow_up.data else 0)
            while len(self.meetings.entries) < wanted:
                self.meetings.append_entry()
            if template is None:
                self.instruments.data = ["PHQ-9", "GAD-7"]
        return self

    def meeting_contents(self) -> tuple[tuple[str, str], ...]:
        return tuple(((entry.form.title.data or "").strip(), (entry.form.content.data or "").strip())
                     for entry in self.meetings.entries)

    def refusals(self) -> list[Refusal]:
        return [Refusal(ValueError, _l("Choose among the questionnaires listed."), field=self.instruments)]


class MaterialForm(BaseForm):
    """A workbook file for a template."""

    file = FileField(_l("Workbook file"), validators=[InputRequired(_l("Choose a file."))])

    def refusals(self) -> list[Refusal]:
        return [Refusal(svc.MaterialTooLarge, _l("The file is larger than 10 MB. Make it smaller or split it."),
                        field=self.file),
                Refusal(svc.MaterialType, _l("This kind of file cannot be uploaded. Use PDF, PNG, JPEG, DOCX, ODT, "
                                             "PPTX or plain text."), field=self.file)]


class RunSettingsForm(BaseForm):
    """A run's place or video link, places, leaders, the teams sharing it and how it is evaluated
    (editing a run: its meetings are moved one by one on the run page)."""

    mode = SelectField(_l("How"), choices=codes.choices(CourseMode), validate_choice=True)
    place = StringField(_l("Place"), validators=[Optional(), length(svc.PLACE_MAX)])
    video_link = StringField(_l("Video link"), validators=[Optional(), length(500), secure_web_link])
    capacity = IntegerField(_l("Places"), validators=[
        InputRequired(_l("Enter the number of places.")),
        NumberRange(1, 200, _l("Enter a number from %(min)s to %(max)s."))])
    leaders = MultiCheckboxField(_l("Leaders"), coerce=int)
    shares = MultiCheckboxField(_l("Teams that share the run"), coerce=int)
    evaluation_anonymous = SelectField(_l("Evaluation"), choices=[
        SelectChoice("anonymous", _l("Anonymous: one single-use link per participant, answers not linked to anyone")),
        SelectChoice("named", _l("Named: answers linked to the participant, for follow-up"))], validate_choice=True)

    def offer(self, *, leaders, teams, run=None, template=None, me=None) -> RunSettingsForm:
        self.leaders.choices = [SelectChoice(user.id, staff_name(user)) for user in leaders]
        self.shares.choices = [SelectChoice(team.id, team.name) for team in teams]
        if not self.is_submitted():
            if run is not None:
                self.mode.data, self.place.data, self.video_link.data = run.mode, run.place, run.video_link
                self.capacity.data = run.capacity
                self.leaders.data = [leader.user_id for leader in run.leaders]
                self.shares.data = [share.team_id for share in run.shares]
                self.evaluation_anonymous.data = "anonymous" if run.evaluation_anonymous else "named"
            else:
                self.capacity.data = template.capacity if template is not None else 20
                self.leaders.data = [me.id] if me is not None else []
        return self

    def validate_leaders(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one leader (two or more is usual)."))

    def validate(self, extra_validators=None) -> bool:
        """In person needs a place, video a link (the fields are optional on their own)."""
        valid = super().validate(extra_validators)
        if self.mode.data == "office" and not (self.place.data or "").strip() and not self.place.errors:
            self.place.errors = [*self.place.errors, _l("Enter the place of the meetings.")]
            valid = False
        if self.mode.data == "video" and not (self.video_link.data or "").strip() and not self.video_link.errors:
            self.video_link.errors = [*self.video_link.errors, _l("Enter the video link.")]
            valid = False
        return valid

    def refusals(self) -> list[Refusal]:
        return [Refusal(svc.NoLeaders, _l("Choose at least one leader (two or more is usual)."), field=self.leaders),
                Refusal(svc.NotALeaderChoice, _l("Choose leaders among the staff of the teams running the course."),
                        field=self.leaders)]


class RunForm(RunSettingsForm):
    """A new run: the first meeting's date and time (the others weekly after it) and the follow-up."""

    first_day = DateField(_l("Date of the first meeting"),
                          validators=[InputRequired(_l("Enter the date.")), sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    follow_up_day = DateField(_l("Date of the follow-up meeting (optional)"), validators=[Optional(), sensible_year])

    def refusals(self) -> list[Refusal]:
        return [Refusal(svc.PastDate, _l("Choose dates in the future, the follow-up meeting after the last."),
                        field=self.first_day), *super().refusals()]


class MeetingEditForm(BaseForm):
    """Move a meeting, or cancel it."""

    day = DateField(_l("New date"), validators=[Optional(), sensible_year])
    time = TimeField(_l("New time"), validators=[Optional()])
    action = SelectField(choices=[SelectChoice("move", "move"), SelectChoice("cancel", "cancel")], validate_choice=True)

    def validate_day(self, field) -> None:
        if self.action.data == "move" and (field.data is None or self.time.data is None):
            raise ValidationError(_l("Enter the new date and time."))


class EnrolEpisodeForm(BaseForm):
    """Enrol the resident of one of the team's open episodes."""

    episode = SelectField(_l("Person"), coerce=int, validate_choice=True)

    def offer(self, rows) -> EnrolEpisodeForm:
        self.episode.choices = [SelectChoice(0, _l("Choose"))] + [SelectChoice(episode_id, name)
                                                                  for episode_id, name in rows]
        return self

    def validate_episode(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the person to enrol."))


class EnrolRelativeForm(BaseForm):
    """Enrol a relative (pårørende): no episode is made."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=True)
    name = StringField(_l("Name"), filters=[name_filter],
                       validators=[InputRequired(_l("Enter the name.")), length(120)])
    email = EmailField(_l("E-mail address"), validators=[
        Optional(), length(254), Email(_l("Enter an e-mail address like name@example.no."),
                                       check_deliverability=False)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), length(30), PhoneNumber()])

    def offer(self, teams) -> EnrolRelativeForm:
        self.team.choices = [SelectChoice(team.id, team.name) for team in teams]
        return self

    def validate(self, extra_validators=None) -> bool:
        """An e-mail address or a mobile number (both fields are optional on their own)."""
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data and not self.email.errors and not self.phone.errors:
            self.email.errors = [_l("Enter an e-mail address or a mobile number, so the relative gets reminders.")]
            valid = False
        return valid


class EpisodeCourseForm(BaseForm):
    """The episode page's "enrol in a course": one of the runs open to the episode's team."""

    run = SelectField(_l("Course"), coerce=int, validate_choice=True)

    def offer(self, rows) -> EpisodeCourseForm:
        self.run.choices = [SelectChoice(0, _l("Choose"))] + [SelectChoice(row.run.id, row.run.template.title)
                                                        for row in rows]
        return self

    def validate_run(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a course."))
