"""Passkey ceremonies around py_webauthn: options, verification, and managing credentials.

Challenges are stored server-side, used once and expire after five minutes. User verification is
always required. The relying party comes from config through `RelyingParty`.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..db import utcnow
from ..models import Passkey, User, WebAuthnChallenge
from ..models.people import new_user_handle
from . import text_input
from .errors import NotFound, PasskeyError

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_NAME_LENGTH = 60
#: A credential (or a registration body holding one) is a few kilobytes and a few levels deep;
#: anything larger or deeper is refused before it is parsed further.
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 10
#: What py_webauthn and the parsers under it raise on malformed input (a browser's bug or an
#: attacker's body): every one of them is a failed ceremony, never a server error.
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError,
             RecursionError, InvalidSignature, UnsupportedAlgorithm)


@dataclass(frozen=True)
class RelyingParty:
    """Who we are to the authenticator: id (host name), display name and expected origin."""

    id: str
    name: str
    origin: str


@dataclass(frozen=True)
class Ceremony:
    """Options to hand to the browser, and the key that finds the stored challenge."""

    key: str
    options_json: str


def _store_challenge(session: Session, *, challenge: bytes, purpose: str, user_id: int | None,
                     user_handle: bytes | None = None) -> str:
    # Expired challenges are swept whenever a new one is made, so the table stays small.
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < utcnow()))
    key = secrets.token_urlsafe(32)
    session.add(WebAuthnChallenge(key=key, challenge=challenge, purpose=purpose, user_id=user_id,
                                  user_handle=user_handle, expires_at=utcnow() + CHALLENGE_LIFETIME))
    session.flush()
    return key


def _take_challenge(session: Session, *, key: str | None, purpose: str) -> WebAuthnChallenge:
    """Fetch and delete a challenge: it can be used only once, and only before it expires."""
    if not key:
        raise PasskeyError("no challenge")
    row = session.scalars(select(WebAuthnChallenge).where(WebAuthnChallenge.key == key)).first()
    if row is None or row.purpose != purpose:
        raise PasskeyError("unknown challenge")
    session.delete(row)
    session.flush()
    if row.expires_at < utcnow():
        raise PasskeyError("challenge expired")
    return row


def _verify(verify: Callable[..., Any], *, rp: RelyingParty, challenge: WebAuthnChallenge,
            credential: dict[str, Any], failure: str, **extra: Any) -> Any:
    """Run one py_webauthn verification against our relying party and the stored challenge, always
    requiring user verification (the library's default is not to); a malformed or failing response
    becomes `PasskeyError(failure)`."""
    try:
        return verify(credential=credential, expected_challenge=challenge.challenge, expected_rp_id=rp.id,
                      expected_origin=rp.origin, require_user_verification=True, **extra)
    except MALFORMED as exc:
        raise PasskeyError(failure) from exc


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    result = []
    for passkey in passkeys:
        transports = []
        for name in filter(None, passkey.transports.split(",")):
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue
        result.append(PublicKeyCredentialDescriptor(id=passkey.credential_id, transports=transports or None))
    return result


def begin_registration(session: Session, *, rp: RelyingParty, user: User | None, user_label: str) -> Ceremony:
    """Options for registering a passkey, for an existing user or a sign-up (user=None)."""
    handle = user.webauthn_user_handle if user is not None else new_user_handle()
    existing = list_passkeys(session, user=user) if user is not None else []
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=handle,
        user_name=user_label,
        user_display_name=user_label,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    key = _store_challenge(session, challenge=options.challenge, purpose="register",
                           user_id=user.id if user is not None else None,
                           user_handle=None if user is not None else handle)
    return Ceremony(key=key, options_json=options_to_json(options))


@dataclass(frozen=True)
class NewPasskey:
    """A verified registration, not yet attached to a user (sign-up creates the user first)."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: str
    backed_up: bool
    user_handle: bytes | None
    user_id: int | None


def finish_registration(session: Session, *, rp: RelyingParty, key: str | None,
                        credential: dict[str, Any]) -> NewPasskey:
    """Verify the browser's attestation against the stored challenge."""
    challenge = _take_challenge(session, key=key, purpose="register")
    verified = _verify(verify_registration_response, rp=rp, challenge=challenge, credential=credential,
                       failure="registration could not be verified")
    if session.scalars(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)).first():
        raise PasskeyError("credential already registered")
    response = credential.get("response")
    transports = (response.get("transports") if isinstance(response, dict) else None) or []
    if not isinstance(transports, list):
        transports = []
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(str(t) for t in transports if isinstance(t, str))[:200],
        backed_up=verified.credential_backed_up,
        user_handle=challenge.user_handle,
        user_id=challenge.user_id,
    )


def add_passkey(session: Session, *, user: User, new: NewPasskey, name: str) -> Passkey:
    """Attach a verified credential to its user."""
    if new.user_id is not None and new.user_id != user.id:
        raise PasskeyError("challenge was for another user")
    passkey = Passkey(
        user_id=user.id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=new.transports,
        backed_up=new.backed_up,
        name=clean_name(name),
    )
    session.add(passkey)
    session.flush()
    return passkey


def begin_authentication(session: Session, *, rp: RelyingParty, user: User | None = None) -> Ceremony:
    """Options for signing in. Without a user the browser offers its discoverable passkeys."""
    allow = _descriptors(list_passkeys(session, user=user)) if user is not None else None
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    key = _store_challenge(session, challenge=options.challenge, purpose="authenticate",
                           user_id=user.id if user is not None else None)
    return Ceremony(key=key, options_json=options_to_json(options))


def finish_authentication(session: Session, *, rp: RelyingParty, key: str | None,
                          credential: dict[str, Any]) -> Passkey:
    """Verify an assertion; returns the passkey used (its user is the one signing in)."""
    challenge = _take_challenge(session, key=key, purpose="authenticate")
    try:
        raw_id = base64url_to_bytes(str(credential.get("rawId") or credential.get("id") or ""))
    except (ValueError, TypeError) as exc:
        raise PasskeyError("malformed credential id") from exc
    passkey = session.scalars(select(Passkey).where(Passkey.credential_id == raw_id)).first()
    if passkey is None or not passkey.user.is_active:
        raise PasskeyError("unknown credential")
    if challenge.user_id is not None and challenge.user_id != passkey.user_id:
        raise PasskeyError("credential belongs to another user")
    verified = _verify(verify_authentication_response, rp=rp, challenge=challenge, credential=credential,
                       failure="assertion could not be verified", credential_public_key=passkey.public_key,
                       credential_current_sign_count=passkey.sign_count)
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = utcnow()
    session.flush()
    return passkey


def list_passkeys(session: Session, *, user: User) -> list[Passkey]:
    """A user's passkeys, oldest first."""
    return list(session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def clean_name(name: str) -> str:
    """A trimmed, bounded passkey name without control, bidi or zero-width characters; empty becomes
    a neutral default (the name arrives as JSON, outside a form)."""
    name = text_input.clean_name(text_input.without_control_characters(name or ""))[:MAX_NAME_LENGTH]
    return name or "Passkey"


def _own_passkey(session: Session, *, user: User, passkey_id: int) -> Passkey:
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise NotFound("passkey")
    return passkey


def rename_passkey(session: Session, *, user: User, passkey_id: int, name: str) -> Passkey:
    """Rename one of the user's own passkeys."""
    passkey = _own_passkey(session, user=user, passkey_id=passkey_id)
    passkey.name = clean_name(name)
    session.flush()
    return passkey


def remove_passkey(session: Session, *, user: User, passkey_id: int) -> None:
    """Remove one of the user's own passkeys. A resident keeps at least one way in: the last
    passkey can be removed only if an e-mail address is confirmed for code sign-in."""
    passkey = _own_passkey(session, user=user, passkey_id=passkey_id)
    remaining = [p for p in list_passkeys(session, user=user) if p.id != passkey.id]
    if user.is_resident and not remaining and not user.email:
        raise PasskeyError("last way in")
    session.delete(passkey)
    session.flush()


def _too_deep(value: Any) -> bool:
    """Whether parsed JSON nests deeper than MAX_JSON_DEPTH (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse_credential(body: bytes | str) -> dict[str, Any]:
    """Parse a credential JSON body, raising PasskeyError for anything that is not a small,
    shallow object (JSON nested thousands deep would otherwise exhaust the recursion limit)."""
    if len(body) > MAX_BODY_BYTES:
        raise PasskeyError("body too large")
    try:
        data = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:
        raise PasskeyError("malformed JSON") from exc
    if not isinstance(data, dict) or _too_deep(data):
        raise PasskeyError("malformed credential")
    return data
