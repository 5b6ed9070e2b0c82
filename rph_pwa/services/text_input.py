"""Rules for typed text, stated once: which characters no field may hold, and how names are cleaned.

Control characters (NUL, ESC, DEL, the C1 block ...) are never part of what a person means to
write; NUL cannot even be stored in PostgreSQL text. Multi-line text keeps tab, newline and
carriage return. Bidi overrides and zero-width characters make a name read differently from what
it is (a "Kari" that sorts, searches and compares as something else), so names lose them.
"""
from __future__ import annotations

import re
import unicodedata

#: Characters a multi-line text may hold although they are controls.
LINE_CONTROLS = frozenset("\t\n\r")

#: Zero-width characters, direction marks, bidi embeddings/overrides/isolates, word joiner, BOM.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def is_control(char: str) -> bool:
    """C0 controls, DEL and C1 controls (Unicode category Cc)."""
    return unicodedata.category(char) == "Cc"


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds a control character (tab, newline and CR are allowed in multi-line text)."""
    allowed = LINE_CONTROLS if multiline else frozenset()
    return any(is_control(c) and c not in allowed for c in text)


def mark_control_characters(text: str, *, multiline: bool = False) -> str:
    """`text` with each forbidden control character shown as U+FFFD (�), so the person sees where it was."""
    allowed = LINE_CONTROLS if multiline else frozenset()
    return "".join("\ufffd" if is_control(c) and c not in allowed else c for c in text)


def without_control_characters(text: str) -> str:
    """`text` without control characters (for names that arrive outside a form, e.g. in JSON)."""
    return "".join(c for c in text if not is_control(c))


def strip_invisible(text: str) -> str:
    """`text` without bidi overrides and zero-width characters."""
    return INVISIBLE.sub("", text)


def clean_name(text: str | None) -> str:
    """A name as stored: no bidi overrides or zero-width characters, runs of blanks as one space, trimmed."""
    return " ".join(strip_invisible(text or "").split())
