"""The building blocks of a validated instrument: immutable, versioned definitions as data.

An `Instrument` holds its items, answer options, severity bands, risk items, an optional
functioning question (asked, never scored) and its attribution, each text in "nb", "nn" and "en".
Every piece is a frozen dataclass, and every text is a read-only `Text` mapping, so a definition
cannot change after import: a new wording or new bands means a new `version`, never an edit.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

#: The interface languages texts are written in (the same codes as `config.LANGUAGE_NAMES`).
LANGUAGES: tuple[str, ...] = ("nb", "nn", "en")

#: Where to look when a text lacks the asked language: nynorsk readers get bokmål before English,
#: and everyone else gets bokmål (the service's default language) before English.
_FALLBACK: dict[str, tuple[str, ...]] = {
    "nn": ("nn", "nb", "en"),
    "nb": ("nb", "nn", "en"),
    "en": ("en", "nb", "nn"),
}


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable str → str mapping (a text per language, or a flag per item)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | None = None, /, **kwargs: str) -> None:
        merged = dict(data or {}, **kwargs)
        for key, value in merged.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"FrozenMap keys and values must be str, got {key!r}: {value!r}")
        self._data: dict[str, str] = merged

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


#: A text in several languages, keyed by language code.
Text = FrozenMap


def localized(*, nb: str, en: str, nn: Optional[str] = None) -> Text:
    """A `Text` in bokmål, nynorsk and English.

    `nn` defaults to the bokmål text. For the validated instruments that default is deliberate:
    there is no validated nynorsk version of PHQ-9, GAD-7, WSAS, AUDIT or DUDIT, and a home-made
    nynorsk translation would no longer be the validated instrument, so nynorsk readers see the
    validated bokmål wording.
    """
    return Text(nb=nb, nn=nb if nn is None else nn, en=en)


def text(texts: Mapping[str, str], lang: str) -> str:
    """The text for `lang`, falling back nn → nb → en (unknown languages start at nb).

    Raises LookupError only if `texts` is empty.
    """
    for candidate in _FALLBACK.get(lang, ("nb", "en", "nn")):
        value = texts.get(candidate)
        if value:
            return value
    for value in texts.values():
        if value:
            return value
    raise LookupError(f"no text in any language (asked for {lang!r})")


def _as_text(value: Mapping[str, str] | Text) -> Text:
    return value if isinstance(value, FrozenMap) else Text(value)


@dataclass(frozen=True)
class Option:
    """One answer option: the value it scores and its label."""

    value: int
    label: Text

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise TypeError(f"option value must be an int, got {self.value!r}")
        object.__setattr__(self, "label", _as_text(self.label))


@dataclass(frozen=True)
class Item:
    """One question. `options` is empty when the item uses its instrument's shared scale."""

    key: str
    text: Text
    options: tuple[Option, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _as_text(self.text))
        object.__setattr__(self, "options", tuple(self.options))
        _check_options(self.options, where=f"item {self.key!r}")


@dataclass(frozen=True)
class Band:
    """A severity band: totals from `min` to `max` (both inclusive) get the stable English `key`."""

    min: int
    max: int
    key: str

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"band {self.key!r} has min {self.min} above max {self.max}")

    def __contains__(self, total: object) -> bool:
        return isinstance(total, int) and self.min <= total <= self.max


def cutoff_bands(cutoff: int, *, max_total: int, below: str, at_or_above: str,
                 min_total: int = 0) -> tuple[Band, Band]:
    """Two bands split at a single cut-off: `min_total`..cutoff-1 is `below`, cutoff.. is `at_or_above`.

    Screening instruments (AUDIT-C, DUDIT-C) use one cut-off that deployments may want to change;
    pass the result as `score(..., bands=...)` rather than editing the instrument.
    """
    if not min_total < cutoff <= max_total:
        raise ValueError(f"cut-off {cutoff} must lie in {min_total + 1}..{max_total}")
    return (Band(min_total, cutoff - 1, below), Band(cutoff, max_total, at_or_above))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_bands(bands: Sequence[Band], *, min_total: int, max_total: int, where: str) -> None:
    """Raise ValueError unless `bands`, in order, cover min_total..max_total without gaps or overlaps."""
    if not bands:
        raise ValueError(f"{where}: no bands")
    expected = min_total
    keys: set[str] = set()
    for band in bands:
        if band.min != expected:
            raise ValueError(f"{where}: band {band.key!r} starts at {band.min}, expected {expected}")
        if band.key in keys:
            raise ValueError(f"{where}: band key {band.key!r} appears twice")
        keys.add(band.key)
        expected = band.max + 1
    if expected - 1 != max_total:
        raise ValueError(f"{where}: bands end at {expected - 1}, expected {max_total}")


def _check_options(options: Sequence[Option], *, where: str) -> None:
    values = [option.value for option in options]
    if len(set(values)) != len(values):
        raise ValueError(f"{where}: option values repeat: {values}")
    if values != sorted(values):
        raise ValueError(f"{where}: option values must be in ascending order: {values}")


@dataclass(frozen=True)
class Instrument:
    """An immutable, versioned questionnaire definition.

    `items` are the scored items, in order. Each item uses its own `options` if it has any, or else
    the shared scale in `options`. `flag_items` maps an item key to the kind of flag an answer above
    the item's lowest value raises (e.g. {"item9": "risk"} for PHQ-9). `functioning_question` is
    asked after the items and never scored. `verified_wording` is False when the Norwegian wording
    has not been checked against an authoritative published version (see the instrument's module).

    `end_labels` are the printed names of the scale's two ends (lowest, highest), shown with every
    item when the options themselves are bare numbers (WSAS). `gate_item` names an item whose lowest
    answer means the later items do not apply: they are not asked and score their lowest value
    (the AUDIT rule: a person who never drinks scores 0 on the consumption questions that follow).
    `allow_decline` lets the person answer "I would rather talk about it" instead (stored, not scored).
    """

    code: str
    version: int
    title: Text
    instructions: Text
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    options: tuple[Option, ...] = ()
    flag_items: FrozenMap = field(default_factory=FrozenMap)
    functioning_question: Optional[Item] = None
    attribution: Text = field(default_factory=Text)
    verified_wording: bool = True
    source: str = ""
    end_labels: tuple[Text, ...] = ()
    gate_item: str = ""
    allow_decline: bool = False

    def __post_init__(self) -> None:
        where = f"{self.code} v{self.version}"
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ValueError(f"{where}: version must be a positive int")
        for name in ("title", "instructions", "attribution"):
            object.__setattr__(self, name, _as_text(getattr(self, name)))
        object.__setattr__(self, "flag_items", _as_text(self.flag_items))
        object.__setattr__(self, "end_labels", tuple(_as_text(label) for label in self.end_labels))
        if self.end_labels and len(self.end_labels) != 2:
            raise ValueError(f"{where}: end_labels name the lowest and the highest answer (two texts)")
        for name in ("items", "bands", "options"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.items:
            raise ValueError(f"{where}: no items")
        keys = [item.key for item in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{where}: item keys repeat: {keys}")
        _check_options(self.options, where=where)
        for item in self.items:
            if not self.options_for(item):
                raise ValueError(f"{where}: item {item.key!r} has no options and there is no shared scale")
        unknown = set(self.flag_items) - set(keys)
        if unknown:
            raise ValueError(f"{where}: flag_items name unknown items {sorted(unknown)}")
        if self.gate_item and self.gate_item not in keys[:-1]:
            raise ValueError(f"{where}: gate_item {self.gate_item!r} must be an item before the last")
        if self.functioning_question is not None and not self.functioning_question.options:
            raise ValueError(f"{where}: the functioning question needs its own options")
        check_bands(self.bands, min_total=self.min_total, max_total=self.max_total, where=where)

    def options_for(self, item: Item) -> tuple[Option, ...]:
        """The answer options of one item: its own, or the instrument's shared scale."""
        return item.options or self.options

    def gated_items(self, answers: Mapping[str, object]) -> tuple[str, ...]:
        """The keys of the items that do not apply given `answers` (item key → value): those after
        `gate_item` when it was answered with its lowest value, else none."""
        if not self.gate_item:
            return ()
        keys = self.item_keys
        position = keys.index(self.gate_item)
        lowest = self.options_for(self.items[position])[0].value
        value = answers.get(self.gate_item)
        return keys[position + 1:] if _is_int(value) and value == lowest else ()

    @property
    def item_keys(self) -> tuple[str, ...]:
        """The keys of the scored items, in order."""
        return tuple(item.key for item in self.items)

    @cached_property  # instruments never change: computed once (the caseload asks per row)
    def min_total(self) -> int:
        """The lowest possible total."""
        return sum(self.options_for(item)[0].value for item in self.items)

    @cached_property
    def max_total(self) -> int:
        """The highest possible total."""
        return sum(self.options_for(item)[-1].value for item in self.items)

    def band_for(self, total: int, bands: Optional[Sequence[Band]] = None) -> str:
        """The key of the band that holds `total` (in `bands` if given, else the instrument's)."""
        for band in self.bands if bands is None else bands:
            if total in band:
                return band.key
        raise ValueError(f"{self.code}: total {total} lies in no band")
