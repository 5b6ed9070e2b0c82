"""The evaluation forms courses and groups use, keyed by code: questionnaires as data like the
outcome instruments (`registry`), kept apart so they are never offered as an outcome form."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .definitions import Instrument, Text
from .instruments.course_evaluation import COURSE_EVALUATION_V1
from .instruments.course_evaluation import FREE_TEXT as COURSE_FREE_TEXT

#: Every evaluation form's current version, by code.
EVALUATIONS: Mapping[str, Instrument] = MappingProxyType({COURSE_EVALUATION_V1.code: COURSE_EVALUATION_V1})
#: Each form's free-text questions (key, text), by code.
FREE_TEXT: Mapping[str, tuple[tuple[str, Text], ...]] = MappingProxyType({COURSE_EVALUATION_V1.code: COURSE_FREE_TEXT})
