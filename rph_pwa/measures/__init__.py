"""Validated questionnaires as data, and pure scoring.

    from rph_pwa.measures import score, outcome, get, text

    result = score("PHQ-9", [1, 2, 0, 1, 1, 0, 2, 0, 1])   # Result(total=8, band="mild", flags={"item9"})
    text(get("PHQ-9").items[0].text, "nn")                 # validated bokmål wording (no nynorsk version)
    outcome({"PHQ-9": 14, "GAD-7": 9}, {"PHQ-9": 6, "GAD-7": 5}).reliable_recovery   # True

Band keys are stable English strings ("minimal", "moderately_severe", ...); translate them in the
interface, not here. Imports nothing from Flask or the database.
"""
from __future__ import annotations

from .definitions import (
    LANGUAGES,
    Band,
    FrozenMap,
    Instrument,
    Item,
    Option,
    Text,
    cutoff_bands,
    localized,
    text,
)
from .registry import INSTRUMENTS, VERSIONS, get
from .scoring import DEFAULT_THRESHOLDS, Outcome, Result, Thresholds, outcome, score

__all__ = [
    "DEFAULT_THRESHOLDS",
    "INSTRUMENTS",
    "LANGUAGES",
    "VERSIONS",
    "Band",
    "FrozenMap",
    "Instrument",
    "Item",
    "Option",
    "Outcome",
    "Result",
    "Text",
    "Thresholds",
    "cutoff_bands",
    "get",
    "localized",
    "outcome",
    "score",
    "text",
]
