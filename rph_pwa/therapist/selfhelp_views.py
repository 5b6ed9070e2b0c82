"""Guided self-help for staff: assigning a programme from an episode or to a group of residents,
ending it, the programme library (every module in full, its sign-off and the team's ratings), the
team's own (external) programmes, and the sleep window of the Søvn programme.

The therapist blueprint's guard keeps everyone but signed-in staff out; the services check the
team of every episode, assignment and programme, and audit the reads of residents' data. The
library holds no resident data (its ratings are aggregates) and is not audited.
"""
from __future__ import annotations

from flask import abort, current_app, render_template, url_for
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..db import get_session
from ..forms import Refusal, run_form_action
from ..localtime import local_today
from ..selfhelp import content
from ..services import external_programmes, selfhelp, selfhelp_library, sleep_windows
from ..services.access import require_clinical, staff_teams
from ..services.errors import Conflict
from . import bp
from .presenters import programmes as present
from .selfhelp_forms import AssignForm, ExternalProgrammeForm, GroupAssignForm, SleepWindowForm

EPISODE = "/episodes/<int:episode_id>"
ASSIGNED = _l("The programme is assigned and the first check-in is booked.")
#: Assigning in an episode that has ended or already has a programme.
NOT_NOW = Refusal(Conflict, _l("The programme could not be assigned: the episode has ended, or a programme is "
                               "already open in it."))


def _locale() -> str:
    return str(get_locale() or "nb")


def _hide_drafts() -> bool:
    return bool(current_app.config.get("SELFHELP_HIDE_DRAFTS"))


# --- One episode ---------------------------------------------------------------------------------

@bp.route(f"{EPISODE}/selfhelp", methods=["GET", "POST"])
def assign_programme(episode_id: int):
    """The episode's programme: assign one (programme, check-in day, pace, start), or see the open
    one with its modules' states and end it."""
    db = get_session()
    found = selfhelp_library.episode_programme(db, actor=current_user, episode_id=episode_id, audited=False)
    team_rows = external_programmes.team_programmes(db, actor=current_user)
    form = AssignForm(prefix="assign").offer(present.programme_choices(_locale(), team_rows,
                                                                       team_id=found.episode.team_id))
    back = url_for(".assign_programme", episode_id=episode_id)
    return run_form_action(form, lambda db: selfhelp_library.assign(
        db, actor=current_user, episode_id=episode_id, hide_drafts=_hide_drafts(), **form.chosen(),
    ), show=lambda: _assign_page(episode_id, form), back=back, done=ASSIGNED, refusals=[*form.refusals(), NOT_NOW])


@bp.post(f"{EPISODE}/selfhelp/end")
def end_programme(episode_id: int):
    """End the episode's open programme; worksheets and the self-help plan stay the resident's."""
    return run_form_action(EmptyForm(), lambda db: selfhelp_library.end_episode_programme(
        db, actor=current_user, episode_id=episode_id,
    ), show=lambda: abort(400), back=url_for(".assign_programme", episode_id=episode_id),
        done=_l("The programme is ended. The person keeps their worksheets and self-help plan."),
        refusals=[Refusal(Conflict, _l("No programme is open in this episode."), category="info")])


def _assign_page(episode_id: int, form: AssignForm) -> str:
    db = get_session()
    found = selfhelp_library.episode_programme(db, actor=current_user, episode_id=episode_id)
    db.commit()  # the audit event of this read
    programme = None
    if found.assignment is not None:
        states = selfhelp.module_states(found.assignment, found.progress, today=local_today(), locale=_locale())
        programme = present.open_programme(found.assignment, states, _locale())
    return render_template("therapist/selfhelp/assign.html", found=found, form=form, programme=programme,
                           name=found.resident.display_name or f"#{found.resident.id}",
                           discharged=found.episode.discharged_at is not None, end_form=EmptyForm(formdata=None))


# --- A group -------------------------------------------------------------------------------------

@bp.route("/selfhelp/group", methods=["GET", "POST"])
def assign_group():
    """One programme to several of my residents at once (guided self-help in a group), all or nothing."""
    require_clinical(current_user)
    db = get_session()
    candidates = selfhelp_library.group_candidates(db, actor=current_user)
    team_rows = external_programmes.team_programmes(db, actor=current_user)
    form = GroupAssignForm(prefix="group").offer(present.programme_choices(_locale(), team_rows))
    form.offer_residents(candidates)
    count = len(form.episodes.data or []) if form.is_submitted() else 0

    def show() -> str:
        db.commit()  # the audit events of the names shown
        return render_template("therapist/selfhelp/group.html", form=form, candidates=candidates)

    return run_form_action(form, lambda db: selfhelp_library.assign_group(
        db, actor=current_user, episode_ids=list(form.episodes.data), hide_drafts=_hide_drafts(), **form.chosen(),
    ), show=show, back=url_for(".assign_group"),
        done=ngettext("The programme is assigned to %(num)d resident, and the first check-in is booked.",
                      "The programme is assigned to %(num)d residents, and each first check-in is booked.", count),
        refusals=form.refusals())


# --- The library ---------------------------------------------------------------------------------

@bp.route("/programmes")
def programmes():
    """Every programme in the app with its modules, sign-off and the team's ratings, and the teams' own."""
    db = get_session()
    ratings = selfhelp_library.module_ratings(db, actor=current_user)
    shipped = [present.shipped_programme(p, _locale(), ratings) for p in content.programmes().values()]
    own = [present.team_programme(row, ratings) for row in external_programmes.team_programmes(db, actor=current_user)]
    return render_template("therapist/selfhelp/programmes.html", shipped=shipped, own=own)


@bp.route("/programmes/<slug>")
def programme(slug: str):
    """One programme in full: the text of every module, with its sign-off."""
    require_clinical(current_user)
    found = content.programme(slug)
    if found is None:
        abort(404)
    ratings = selfhelp_library.module_ratings(get_session(), actor=current_user)
    return render_template("therapist/selfhelp/programme.html",
                           p=present.shipped_programme(found, _locale(), ratings, with_text=True))


@bp.route("/programmes/external", methods=["GET", "POST"], endpoint="external_programmes")
def external_programmes_page():
    """The teams' own programmes (a book, videos, a web course): register one, retire one."""
    require_clinical(current_user)
    form = ExternalProgrammeForm(prefix="external").offer(staff_teams(get_session(), current_user))
    return run_form_action(form, lambda db: external_programmes.register(
        db, actor=current_user, team_id=form.team.data, title=form.title.data, weeks=form.weeks.data,
        modules=form.modules.data,
    ), show=lambda: _external_page(form), back=url_for(".external_programmes"),
        done=_l("The programme is registered. It can now be assigned from an episode."),
        refusals=[Refusal(ValueError, _l("Check the title and the number of weeks."), field=form.title)])


@bp.post("/programmes/external/<int:programme_id>/retire")
def retire_external_programme(programme_id: int):
    """The team stops offering a programme; residents who have it keep it."""
    return run_form_action(EmptyForm(), lambda db: external_programmes.retire(
        db, actor=current_user, programme_id=programme_id,
    ), show=lambda: abort(400), back=url_for(".external_programmes"),
        done=_l("The programme is retired. Residents who have it keep it."))


def _external_page(form: ExternalProgrammeForm) -> str:
    db = get_session()
    ratings = selfhelp_library.module_ratings(db, actor=current_user)
    rows = external_programmes.team_programmes(db, actor=current_user, include_retired=True)
    return render_template("therapist/selfhelp/external.html", form=form,
                           own=[present.team_programme(row, ratings) for row in rows],
                           retire_form=EmptyForm(formdata=None))


# --- The sleep window ----------------------------------------------------------------------------

@bp.route(f"{EPISODE}/sleep-window", methods=["GET", "POST"])
def sleep_window(episode_id: int):
    """The last week's sleep diary, the app's suggestion and the approved window; the therapist
    approves a window after the checklist of when sleep restriction is not for the person."""
    db = get_session()
    found = selfhelp_library.episode_programme(db, actor=current_user, episode_id=episode_id, audited=False)
    form = SleepWindowForm(prefix="window")
    return run_form_action(form, lambda db: _approve(db, found, form), show=lambda: _sleep_page(found, form),
                           back=url_for(".sleep_window", episode_id=episode_id),
                           done=_l("The sleep window is approved. The person sees it with the sleep programme."),
                           refusals=[*form.refusals(), Refusal(Conflict, _l("No programme is open in this episode, "
                                                                            "so no window can be approved."))])


def _approve(db, found: selfhelp_library.EpisodeProgramme, form: SleepWindowForm):
    if found.assignment is None:
        raise Conflict("no open programme")
    return sleep_windows.approve(db, actor=current_user, assignment_id=found.assignment.id,
                                 bedtime=form.bedtime.data, rise=form.rise.data)


def _sleep_page(found: selfhelp_library.EpisodeProgramme, form: SleepWindowForm) -> str:
    db = get_session()
    page = None
    if found.assignment is not None:
        page = sleep_windows.suggestion_for(db, actor=current_user, assignment_id=found.assignment.id)
        db.commit()  # the audit event of this read
        if not form.is_submitted():
            base = page.suggestion if page.suggestion else (page.current.window if page.current else None)
            if base is not None:
                form.bedtime.data = base["bedtime"] if isinstance(base, dict) else base.bedtime
                form.rise.data = base["rise"] if isinstance(base, dict) else base.rise
    return render_template("therapist/selfhelp/sleep_window.html", found=found, page=page, form=form,
                           name=found.resident.display_name or f"#{found.resident.id}", present=present)
