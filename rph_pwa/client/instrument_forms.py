"""WTForms built from a validated instrument's definition (indico's make_survey_form idea):
the wording, order and answer options come only from `rph_pwa.measures`, never from templates."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice
from wtforms.validators import InputRequired, StopValidation

from ..forms import BaseForm
from ..measures.definitions import Instrument, text
from ..measures.registry import get

#: Why the substance questions are asked (H L3585–3600: say why, there can be much shame in it).
WHY_WE_ASK = {
    "AUDIT-C": _l("We ask everyone about alcohol, because drinking often affects sleep, mood and anxiety, and it "
                  "helps us suggest the right help. There are no right or wrong answers, and it is not about "
                  "judging you."),
    "DUDIT-C": _l("We ask everyone about drugs and medicines used to get high, because they often affect sleep, "
                  "mood and anxiety, and it helps us suggest the right help. There are no right or wrong "
                  "answers, and it is not about judging you."),
}


@dataclass(frozen=True)
class InstrumentView:
    """What the template shows around the questions (all text already in the user's language).
    `attribution` is for staff pages; resident pages do not show it."""

    code: str
    title: str
    instructions: str
    attribution: str
    risk_fields: tuple[str, ...]
    end_labels: tuple[str, ...] = ()
    why_we_ask: str = ""
    gate_item: str = ""
    gated_items: tuple[str, ...] = ()
    gate_label: str = ""
    verified_wording: bool = True


class _RequiredUnless:
    """InputRequired, except when `skip(form)` says the question does not apply (then no answer
    is needed and any error is cleared, like `Optional`)."""

    field_flags = {}

    def __init__(self, message, skip) -> None:
        self.required = InputRequired(message)
        self.skip = skip

    def __call__(self, form, field) -> None:
        if self.skip(form):
            if not field.raw_data or not field.raw_data[0]:
                field.errors[:] = []
                field.data = None
                raise StopValidation()
            return
        self.required(form, field)


class InstrumentForm(BaseForm):
    """Base class: one radio group per item, plus the functioning question if there is one."""

    instrument: Instrument
    instrument_view: InstrumentView

    def item_fields(self) -> list:
        return [self[item.key] for item in self.instrument.items]

    def is_declined(self) -> bool:
        """The person chose "I would rather talk about it" (only offered where allowed)."""
        return "declined" in self._fields and bool(self["declined"].data)

    def gated(self) -> tuple[str, ...]:
        """Item keys that do not apply to the answers given (AUDIT-C 2–3 after "never")."""
        raw = {}
        for item in self.instrument.items:
            try:
                raw[item.key] = int(self[item.key].raw_data[0]) if self[item.key].raw_data else None
            except (TypeError, ValueError):
                raw[item.key] = None
        return self.instrument.gated_items(raw)

    def all_lowest(self) -> bool:
        """Every item answered with its lowest value ("no problems": the functioning question,
        asked only "if you have experienced any of these problems", does not apply)."""
        for item in self.instrument.items:
            field = self[item.key]
            try:
                value = int(field.raw_data[0]) if field.raw_data else None
            except (TypeError, ValueError):
                return False
            if value != self.instrument.options_for(item)[0].value:
                return False
        return True

    def scored_values(self) -> dict:
        """The answers in the instrument's order (None for items that did not apply), the
        (unscored) functioning answer, and whether the person declined to answer."""
        if self.is_declined():
            return {"answers": None, "functioning": None, "declined": True}
        gated = set(self.gated())
        answers = [None if item.key in gated else int(self[item.key].data) for item in self.instrument.items]
        functioning = self["functioning"].data if self.instrument.functioning_question else None
        return {"answers": answers, "functioning": None if functioning is None else int(functioning)}


def _choices(options, lang: str) -> list[SelectChoice]:
    return [SelectChoice(option.value, text(option.label, lang)) for option in options]


def instrument_form(code: str, lang: str, formdata=None, *, allow_decline: bool = False) -> InstrumentForm:
    """A form for `code` in `lang`: every item required, answers coerced to int and range-checked
    by the radio choices themselves (a value outside the scale is refused).

    Items after the instrument's gate item are not required when the gate was answered with its
    lowest value; the functioning question is not required when every item is at its lowest; with
    `allow_decline` (and an instrument that allows it) "I would rather talk about it" is offered and,
    when chosen, nothing else is required."""
    instrument = get(code)
    attrs: dict = {}
    decline = allow_decline and instrument.allow_decline
    gated_keys = instrument.gated_items({instrument.gate_item: instrument.options_for(
        instrument.items[instrument.item_keys.index(instrument.gate_item)])[0].value}) if instrument.gate_item else ()

    def skip_item(key):
        return lambda form: form.is_declined() or key in form.gated()

    for number, item in enumerate(instrument.items, start=1):
        message = _l("Answer question %(number)d: choose the answer that fits best.", number=number)
        if decline or item.key in gated_keys:
            validator = _RequiredUnless(message, skip_item(item.key))
        else:
            validator = InputRequired(message)
        attrs[item.key] = RadioField(text(item.text, lang), coerce=int,
                                     choices=_choices(instrument.options_for(item), lang), validators=[validator])
    if instrument.functioning_question is not None:
        question = instrument.functioning_question
        message = _l("Answer the last question, on how difficult the problems have made things for you.")
        attrs["functioning"] = RadioField(
            text(question.text, lang), coerce=int, choices=_choices(question.options, lang),
            validators=[_RequiredUnless(message, lambda form: form.is_declined() or form.all_lowest())])
    if decline:
        attrs["declined"] = BooleanField(_l("I would rather talk about it"))
    form_class = type(f"{instrument.code.replace('-', '')}Form", (InstrumentForm,), attrs)
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.instrument = instrument
    form.instrument_view = InstrumentView(
        code=instrument.code, title=text(instrument.title, lang), instructions=text(instrument.instructions, lang),
        attribution=text(instrument.attribution, lang) if instrument.attribution else "",
        risk_fields=tuple(instrument.flag_items),
        end_labels=tuple(text(label, lang) for label in instrument.end_labels),
        why_we_ask=str(WHY_WE_ASK.get(instrument.code, "")),
        gate_item=instrument.gate_item, gated_items=tuple(gated_keys),
        gate_label=text(instrument.options_for(instrument.items[instrument.item_keys.index(instrument.gate_item)])[0]
                        .label, lang) if instrument.gate_item else "",
        verified_wording=instrument.verified_wording,
    )
    return form
