"""Every instrument version the app knows, keyed by `(code, version)`, and the current one per code.

Both mappings are read-only. To release a new wording or new bands, add a new `Instrument` with the
next version to `_ALL`; old versions stay so stored responses can still be shown and rescored.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Optional

from .definitions import Instrument
from .instruments.auditc import AUDITC_V1
from .instruments.duditc import DUDITC_V1
from .instruments.gad7 import GAD7_V1
from .instruments.phq9 import PHQ9_V1
from .instruments.session_feedback import SESSION_FEEDBACK_V1
from .instruments.wsas import WSAS_V1

_ALL: tuple[Instrument, ...] = (PHQ9_V1, GAD7_V1, WSAS_V1, AUDITC_V1, DUDITC_V1, SESSION_FEEDBACK_V1)


def _by_version(instruments: tuple[Instrument, ...]) -> dict[tuple[str, int], Instrument]:
    found: dict[tuple[str, int], Instrument] = {}
    for instrument in instruments:
        key = (instrument.code, instrument.version)
        if key in found:
            raise RuntimeError(f"instrument {key} is defined twice")
        found[key] = instrument
    return found


#: Every known version, keyed by (code, version).
VERSIONS: Mapping[tuple[str, int], Instrument] = MappingProxyType(_by_version(_ALL))

#: The current (highest) version of each instrument, keyed by code, in display order.
INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType({
    code: max((i for i in _ALL if i.code == code), key=lambda i: i.version)
    for code in dict.fromkeys(i.code for i in _ALL)
})


def get(code: str, version: Optional[int] = None) -> Instrument:
    """The instrument `code` at `version`, or its current version if `version` is None.

    Raises KeyError, naming the known codes or versions, if there is no such instrument.
    """
    if code not in INSTRUMENTS:
        raise KeyError(f"unknown instrument {code!r}; known: {', '.join(INSTRUMENTS)}")
    if version is None:
        return INSTRUMENTS[code]
    try:
        return VERSIONS[(code, version)]
    except KeyError:
        known = sorted(v for c, v in VERSIONS if c == code)
        raise KeyError(f"{code} has no version {version!r}; known: {known}") from None


def asked(codes, enabled_unverified=()) -> tuple[str, ...]:
    """Of `codes`, those to ask: every instrument with verified wording, and one whose wording is
    not verified only if its code is in `enabled_unverified` (a deployment's explicit choice)."""
    enabled = set(enabled_unverified or ())
    return tuple(code for code in codes if get(code).verified_wording or code in enabled)
