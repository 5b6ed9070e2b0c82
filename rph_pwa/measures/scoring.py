"""Pure scoring: answers → total, band and flags; first and last PHQ-9/GAD-7 totals → outcome.

No Flask, no database: services call these and store the results with the instrument's
`(code, version)`. Thresholds are the published conventions in docs/domain.md §3 (also used by
NHS Talking Therapies); a deployment may pass its own `Thresholds` or bands.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional, Union

from .definitions import Band, Instrument, check_bands
from .registry import get


@dataclass(frozen=True)
class Result:
    """A scored response. `flags` holds the keys of flagged items, e.g. {"item9"} for PHQ-9."""

    code: str
    version: int
    total: int
    band: str
    flags: frozenset[str]
    answers: tuple[int, ...]
    #: The item keys in the order of `answers` (from the definition that scored them).
    item_keys: tuple[str, ...] = ()

    def value_of(self, key: str) -> int | None:
        """The answer to the item `key` (e.g. "item9"), found by key, never by position."""
        return self.answers[self.item_keys.index(key)] if key in self.item_keys else None


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True is not an answer.
    return isinstance(value, int) and not isinstance(value, bool)


def _resolve(instrument: Union[str, Instrument], version: Optional[int]) -> Instrument:
    if isinstance(instrument, Instrument):
        if version is not None and version != instrument.version:
            raise ValueError(f"{instrument.code} v{instrument.version} given with version={version}")
        return instrument
    return get(instrument, version)


def _validated_answers(defn: Instrument, answers: Sequence[int]) -> tuple[int, ...]:
    count = len(defn.items)
    if isinstance(answers, (str, bytes, bytearray, Mapping)) or not isinstance(answers, Sequence):
        raise ValueError(
            f"{defn.code} answers must be a sequence of {count} ints in item order, "
            f"got {type(answers).__name__}"
        )
    if len(answers) != count:
        raise ValueError(
            f"{defn.code} expects {count} answers ({defn.items[0].key}–{defn.items[-1].key}, "
            f"functioning question excluded), got {len(answers)}"
        )
    gated = set(defn.gated_items({item.key: value for item, value in zip(defn.items, answers)}))
    checked: list[int] = []
    for position, (item, value) in enumerate(zip(defn.items, answers), start=1):
        where = f"{defn.code} {item.key} (question {position} of {count})"
        if item.key in gated:
            # The gate answered "never": this item does not apply and scores its lowest value,
            # whatever was sent for it (AUDIT rule).
            checked.append(defn.options_for(item)[0].value)
            continue
        if value is None:
            raise ValueError(f"{where}: answer is missing")
        if not _is_int(value):
            raise ValueError(f"{where}: answer must be an int, got {type(value).__name__} {value!r}")
        allowed = [option.value for option in defn.options_for(item)]
        if value not in allowed:
            raise ValueError(f"{where}: answer {value} is not one of the allowed values {allowed}")
        checked.append(value)
    return tuple(checked)


def score(instrument: Union[str, Instrument], answers: Sequence[int], *,
          version: Optional[int] = None, bands: Optional[Sequence[Band]] = None) -> Result:
    """Score one response.

    `instrument` is a code such as "PHQ-9" (current version unless `version` is given) or an
    `Instrument`. `answers` are the scored items' values in the instrument's order, without the
    functioning question. `bands` replaces the instrument's bands (e.g. a deployment's AUDIT-C
    cut-off); it must cover every possible total.

    Raises ValueError, naming the item, for a wrong count, a missing (None) answer, a value that is
    not an int (bool, float and str included) or a value outside the item's options. Items that
    do not apply because of the instrument's `gate_item` (AUDIT-C item 1 "never") score their
    lowest value and may be None.
    """
    defn = _resolve(instrument, version)
    values = _validated_answers(defn, answers)
    if bands is not None:
        bands = tuple(bands)
        check_bands(bands, min_total=defn.min_total, max_total=defn.max_total,
                    where=f"bands for {defn.code}")
    total = sum(values)
    flags = frozenset(
        item.key
        for item, value in zip(defn.items, values)
        if item.key in defn.flag_items and value > defn.options_for(item)[0].value
    )
    return Result(
        code=defn.code,
        version=defn.version,
        total=total,
        band=defn.band_for(total, bands),
        flags=flags,
        answers=values,
        item_keys=tuple(item.key for item in defn.items),
    )


@dataclass(frozen=True)
class Thresholds:
    """Caseness and reliable-change thresholds for PHQ-9 and GAD-7 outcomes."""

    phq9_caseness: int = 10
    gad7_caseness: int = 8
    phq9_reliable_change: int = 6
    gad7_reliable_change: int = 4

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not _is_int(value) or value < 1:
                raise ValueError(f"threshold {name} must be a positive int, got {value!r}")


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Outcome:
    """The outcome of an episode, from its first and last PHQ-9 and GAD-7 totals.

    - caseness_start / caseness_end: PHQ-9 ≥ 10 or GAD-7 ≥ 8 at the first / last measurement.
    - recovered: a case at the start and not a case at the end (never True if not a case at start).
    - reliable_improvement: at least one measure reliably better and neither reliably worse.
    - reliable_deterioration: at least one measure reliably worse.
    - reliable_recovery: recovered and reliable_improvement.
    """

    caseness_start: bool
    caseness_end: bool
    recovered: bool
    reliable_improvement: bool
    reliable_deterioration: bool
    reliable_recovery: bool


_OUTCOME_CODES = ("PHQ-9", "GAD-7")


def _totals(measurement: Mapping[str, Union[int, Result]], which: str) -> dict[str, int]:
    if not isinstance(measurement, Mapping):
        raise ValueError(f"{which} measurement must be a mapping of PHQ-9 and GAD-7 totals")
    totals: dict[str, int] = {}
    for code in _OUTCOME_CODES:
        if measurement.get(code) is None:
            raise ValueError(f"{which} measurement lacks a {code} total")
        value = measurement[code]
        if isinstance(value, Result):
            if value.code != code:
                raise ValueError(f"{which} measurement gives a {value.code} result as {code}")
            value = value.total
        maximum = get(code).max_total
        if not _is_int(value) or not 0 <= value <= maximum:
            raise ValueError(f"{which} {code} total must be an int from 0 to {maximum}, got {value!r}")
        totals[code] = value
    return totals


def outcome(first: Mapping[str, Union[int, Result]], last: Mapping[str, Union[int, Result]], *,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Outcome:
    """Recovery and reliable change between the first and last measurement of an episode.

    `first` and `last` map "PHQ-9" and "GAD-7" to totals (or to their `Result`). Only episodes with
    at least two scored contacts have an outcome; the caller picks the first and the last.
    Raises ValueError if a total is missing or impossible.
    """
    start, end = _totals(first, "first"), _totals(last, "last")
    caseness = {"PHQ-9": thresholds.phq9_caseness, "GAD-7": thresholds.gad7_caseness}
    reliable = {"PHQ-9": thresholds.phq9_reliable_change, "GAD-7": thresholds.gad7_reliable_change}

    def is_case(totals: dict[str, int]) -> bool:
        return any(totals[code] >= caseness[code] for code in _OUTCOME_CODES)

    better = any(start[code] - end[code] >= reliable[code] for code in _OUTCOME_CODES)
    worse = any(end[code] - start[code] >= reliable[code] for code in _OUTCOME_CODES)
    case_start, case_end = is_case(start), is_case(end)
    recovered = case_start and not case_end
    improvement = better and not worse
    return Outcome(
        caseness_start=case_start,
        caseness_end=case_end,
        recovered=recovered,
        reliable_improvement=improvement,
        reliable_deterioration=worse,
        reliable_recovery=recovered and improvement,
    )
