"""The self-referral's account step when a passkey cannot be made: a one-time code to the address
in the draft (the codes themselves are `email_codes`' draft codes), the account it proves, and
the address a passkey-made account may still confirm after submitting.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..crypto import FieldCrypto
from ..models import Referral, ReferralDraft, User
from . import email_codes
from .accounts import create_resident, find_by_email, normalise_email, set_email
from .errors import InvalidCode
from .referral_drafts import draft_data
from .referrals import referral_answers


def issue_draft_code(session: Session, *, draft: ReferralDraft, crypto: FieldCrypto) -> str | None:
    """A one-time code for the address in the draft's contact step, bound to that address.

    None when there is no address, or the address has had its codes for this hour (the caller
    answers the same way, so nobody learns anything about the address).
    """
    email = (draft_data(draft).get("contact") or {}).get("email") or ""
    if not email:
        return None
    return email_codes.request_draft_code(session, draft_id=draft.id, email=email, crypto=crypto)


def email_to_confirm(session: Session, *, referral: Referral, user: User, crypto: FieldCrypto) -> str | None:
    """The address given in the referral's contact step, when the account has no sign-in address
    yet (it was made with a passkey) and nobody else uses it: confirming it gives the person a way
    in if they lose their phone. None otherwise."""
    address = normalise_email(str((referral_answers(referral).get("contact") or {}).get("email") or ""))
    if not address or user.email_lookup is not None or referral.resident_id != user.id:
        return None
    if find_by_email(session, address, crypto) is not None:
        return None
    return address


def account_from_draft_code(session: Session, *, draft: ReferralDraft, code: str, crypto: FieldCrypto,
                            locale: str | None = None) -> User:
    """Check the code; return the resident with the address it was sent to, or a new one with it.

    The code proves only the address it was sent to: it is refused when the draft's address has
    changed since (changing it also closes the code).
    """
    data = draft_data(draft)
    email = (data.get("contact") or {}).get("email") or ""
    address = email_codes.verify_draft_code(session, draft_id=draft.id, email=email, code=code, crypto=crypto)
    user = find_by_email(session, address, crypto)
    if user is not None and user.is_resident:
        return user
    if user is not None:
        raise InvalidCode("address belongs to staff")
    try:
        with session.begin_nested():  # two referrals for one new address at once: the unique hash decides
            user = create_resident(session, municipality_id=int(data["eligibility"]["municipality_id"]),
                                   locale=locale)
            set_email(user, address, crypto)
            session.flush()
    except IntegrityError:
        user = find_by_email(session, address, crypto)
        if user is None or not user.is_resident:
            raise InvalidCode("address taken") from None
    return user
