"""Find a resident of my teams by an exact e-mail address or phone number, through the keyed
lookup hashes (`User.email_lookup`, `User.phone_lookup`): no partial matching, and nothing is
decrypted to search. Only residents my teams serve are found (`access.served_by`); each one found
is written to the audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto import FieldCrypto
from ..models import User
from ..models.people import phone_lookup_key
from . import audit
from .access import clinical_team_ids, residents_only, served_by
from .accounts import normalise_email

#: Longer input is neither an address nor a number.
QUERY_MAX = 254
#: A bound on the answer (one address is one person; a shared number may be a few).
MATCH_LIMIT = 20


def lookup_for(query: str, crypto: FieldCrypto) -> tuple[str, str] | None:
    """The column to search and the hash to find: ("email", …) for text with an "@", else
    ("phone", …) for text with digits; None for anything else."""
    text = (query or "").strip()
    if not text or len(text) > QUERY_MAX:
        return None
    if "@" in text:
        return "email", crypto.lookup_hash(normalise_email(text))
    if not any(ch.isdigit() for ch in text):
        return None
    key = phone_lookup_key(text, crypto)
    return ("phone", key) if key else None


def find_resident(session: Session, *, actor: User, query: str, crypto: FieldCrypto,
                  now: datetime) -> list[User]:
    """Residents my teams serve whose e-mail or phone number is exactly `query` (one for an
    address, possibly a few sharing a number), by id. Each one found is audited."""
    team_ids = clinical_team_ids(session, actor, what="search")
    lookup = lookup_for(query, crypto)
    if lookup is None or not team_ids:
        return []
    column = User.email_lookup if lookup[0] == "email" else User.phone_lookup
    found = list(session.scalars(
        select(User).where(column == lookup[1], residents_only(), served_by(team_ids))
        .order_by(User.id).limit(MATCH_LIMIT)))
    # "view_resident": the resident's access log says their contact details were opened.
    audit.record_shown(session, actor=actor, shown=[(u.id, u.team_id, u.id) for u in found],
                       action="view_resident", object_type="resident_search", now=now)
    return found
