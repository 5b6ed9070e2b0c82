"""Programmes a team uses from outside the app (a book, a video series, a web course): registered
with a title, a length in weeks and its modules as chapter or episode titles, each with a link or
page numbers; retired when the team stops offering it (assignments keep it).

Any clinical member of the team (therapist or team lead) registers and retires them: the
therapists who give the guidance know which books and videos the team uses.

Checking what was typed is pure (`parse_modules`), so the form and the service share one rule: a
line is "Chapter title | link or pages"; only an https address counts as a link (`is_link`),
anything else (a `javascript:` address too) is kept as plain text about where to find it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import ExternalProgramme, Team, User
from .access import clinical_team_ids, require_team, team_object

TITLE_MAX = 200
WHERE_MAX = 300
MODULES_MAX = 40
WEEKS_MIN, WEEKS_MAX = 1, 26
#: An https address without blanks: shown as a link. Anything else is text.
LINK = re.compile(r"^https://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class ModulesInvalid(ValueError):
    """The module lines do not fit: `reason` is one of "none", "too_many", "no_title",
    "title_long", "where_long"; `line` the 1-based line it concerns (0 for the whole list)."""

    def __init__(self, reason: str, line: int = 0):
        super().__init__(f"{reason} (line {line})")
        self.reason, self.line = reason, line


def is_link(where: str | None) -> bool:
    """Whether a module's "where" is a secure link to show as one (else it is shown as text)."""
    return bool(where) and LINK.match(where) is not None


def parse_modules(text: str) -> list[dict[str, str]]:
    """The modules typed one per line as "Chapter title | link or pages" (the part after the first
    "|" is optional); blank lines are skipped. Raises ModulesInvalid."""
    modules = []
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        title, _bar, where = (part.strip() for part in line.partition("|"))
        if not title:
            raise ModulesInvalid("no_title", number)
        if len(title) > TITLE_MAX:
            raise ModulesInvalid("title_long", number)
        if len(where) > WHERE_MAX:
            raise ModulesInvalid("where_long", number)
        modules.append({"title": title, "where": where})
        if len(modules) > MODULES_MAX:
            raise ModulesInvalid("too_many")
    if not modules:
        raise ModulesInvalid("none")
    return modules


def modules_text(programme: ExternalProgramme) -> str:
    """The modules as the form's lines (to show a registered programme again)."""
    return "\n".join(f"{m.get('title', '')} | {m.get('where', '')}".rstrip(" |") for m in programme.modules)


def register(session: Session, *, actor: User, team_id: int, title: str, weeks: int,
             modules: str | list[dict[str, str]]) -> ExternalProgramme:
    """Register a programme of one of the actor's teams. `modules`: the typed lines or parsed
    modules (checked again either way). Raises ModulesInvalid or ValueError (title, weeks)."""
    require_team(session, actor, team_id, what="team")
    title = " ".join(str(title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise ValueError("title")
    if not isinstance(weeks, int) or not WEEKS_MIN <= weeks <= WEEKS_MAX:
        raise ValueError("weeks")
    if not isinstance(modules, str):
        modules = "\n".join(f"{m.get('title', '')} | {m.get('where', '')}" for m in modules)
    programme = ExternalProgramme(team_id=team_id, title=title, weeks=weeks, modules=parse_modules(modules),
                                  created_by_id=actor.id)
    session.add(programme)
    session.flush()
    return programme


def retire(session: Session, *, actor: User, programme_id: int) -> ExternalProgramme:
    """The team stops offering the programme; residents who have it keep it."""
    programme = team_object(session, actor, ExternalProgramme, programme_id, what="programme")
    if programme.retired_at is None:
        programme.retired_at = utcnow()
        session.flush()
    return programme


@dataclass(frozen=True)
class TeamProgramme:
    """A registered programme with its team's name, for lists."""

    programme: ExternalProgramme
    team_name: str


def team_programmes(session: Session, *, actor: User, include_retired: bool = False) -> list[TeamProgramme]:
    """The programmes of the actor's teams (retired ones too if asked), by team and title, in one query."""
    team_ids = clinical_team_ids(session, actor, what="programmes")
    if not team_ids:
        return []
    query = (select(ExternalProgramme, Team.name).join(Team, Team.id == ExternalProgramme.team_id)
             .where(ExternalProgramme.team_id.in_(team_ids)).order_by(Team.name, ExternalProgramme.title,
                                                                      ExternalProgramme.id))
    if not include_retired:
        query = query.where(ExternalProgramme.retired_at.is_(None))
    return [TeamProgramme(programme=p, team_name=name) for p, name in session.execute(query)]
