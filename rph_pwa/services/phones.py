"""Phone numbers: one validator and one stored form for every phone field, via `phonenumbers`.

Norwegian numbers are stored the way Norwegians write them (`412 34 567`, `22 40 00 40`), numbers
abroad in E.164 form (`+46701234567`), so "412 34 567", "+47 412 34 567" and
"0047 41234567" are one number and look the same everywhere. Short service numbers (113,
116 117, 1881 ...) are valid only where a field asks for them (the safety plan's helplines, the
onward directory): a friend's number is never "123".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, shortnumberinfo

DEFAULT_REGION = "NO"
#: Longer input is not a phone number (and `phonenumbers` refuses more than 250 characters).
MAX_INPUT = 40

# What people type between digits: spaces, hyphens, dots, brackets, no-break spaces.
_SEPARATORS = re.compile(r"[\s\-.()\u00a0]")
_SHAPE = re.compile(r"^\+?[0-9]+$")


class PhoneNumberError(ValueError):
    """Not a phone number we can store; `reason` says why, so forms can explain it.

    Reasons: "empty", "characters" (letters or other signs), "country_code" (a "+" not
    followed by a country code, such as "+0047 ..."), "invalid" (no such number).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PhoneNumber:
    """A valid number: `display` is the stored form, `e164` the form for `tel:` links (digits only
    for service numbers, which have no international form)."""

    display: str
    e164: str


def parse_phone(text: str | None, *, region: str = DEFAULT_REGION, service_numbers: bool = False) -> PhoneNumber:
    """Parse and validate a typed number, or raise PhoneNumberError.

    National numbers are read as numbers of `region`; a number abroad needs its country code
    (`+46 ...` or `0046 ...`). With `service_numbers`, short numbers valid in `region` (113,
    116 117, 116 123, 116 111, 1881), typed without a country code, are accepted too.
    """
    compact = _SEPARATORS.sub("", text or "")
    if not compact:
        raise PhoneNumberError("empty", "The phone number is empty.")
    if len(text or "") > MAX_INPUT or not (compact.isascii() and _SHAPE.match(compact)):
        raise PhoneNumberError("characters", "A phone number holds only digits, spaces and a leading +.")
    if compact.startswith("+0"):  # "+0047 ...": after + comes the country code itself
        raise PhoneNumberError("country_code", "A country code never starts with 0; write +47, not +0047.")
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError("invalid", "Not a phone number.") from None
    # Short numbers only as dialled at home: "+47 113" does not reach the emergency line from abroad.
    if service_numbers and compact[0] not in "+0" \
            and shortnumberinfo.is_valid_short_number_for_region(number, region):
        digits = str(number.national_number)
        return PhoneNumber(display=_group_service_number(digits), e164=digits)
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError("invalid", "Not a valid phone number.")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if number.country_code == 47:
        return PhoneNumber(display=_group_norwegian(number), e164=e164)
    return PhoneNumber(display=e164, e164=e164)


def e164_or_none(number: str | None) -> str | None:
    """The E.164 form of a stored number (for a `tel:` link), or None without a valid number."""
    try:
        return parse_phone(number).e164 if number else None
    except PhoneNumberError:
        return None


def normalise_phone(text: str | None, *, region: str = DEFAULT_REGION, service_numbers: bool = False) -> str:
    """The stored (display) form of a typed number, or PhoneNumberError (see `parse_phone`)."""
    return parse_phone(text, region=region, service_numbers=service_numbers).display


def _group_norwegian(number: phonenumbers.PhoneNumber) -> str:
    """412 34 567 for mobile and 8xx numbers, 22 40 00 40 for others (as the numbers are printed)."""
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL).replace(" ", "")
    if len(national) != 8:  # e.g. 02800: as `phonenumbers` prints it
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if national[0] in "489":
        return f"{national[:3]} {national[3:5]} {national[5:]}"
    return f"{national[:2]} {national[2:4]} {national[4:6]} {national[6:]}"


def _group_service_number(digits: str) -> str:
    """116 117 for the six-digit European numbers; shorter ones as digits (113, 1881)."""
    return f"{digits[:3]} {digits[3:]}" if len(digits) == 6 else digits
