"""WTForms built from a validated instrument's definition (indico's make_survey_form idea):
the wording, order and answer options come only from `rph_pwa.measures`, never from templates."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from ..forms import BaseForm
from ..measures.definitions import Instrument, text
from ..measures.registry import get


@dataclass(frozen=True)
class InstrumentView:
    """What the template shows around the questions (all text already in the user's language)."""

    code: str
    title: str
    instructions: str
    attribution: str
    risk_fields: tuple[str, ...]


class InstrumentForm(BaseForm):
    """Base class: one radio group per item, plus the functioning question if there is one."""

    instrument: Instrument
    instrument_view: InstrumentView

    def item_fields(self) -> list:
        return [self[item.key] for item in self.instrument.items]

    def scored_values(self) -> dict:
        """The answers in the instrument's order, and the (unscored) functioning answer."""
        answers = [int(self[item.key].data) for item in self.instrument.items]
        functioning = self["functioning"].data if self.instrument.functioning_question else None
        return {"answers": answers, "functioning": None if functioning is None else int(functioning)}


def _choices(options, lang: str) -> list[SelectChoice]:
    return [SelectChoice(option.value, text(option.label, lang)) for option in options]


def instrument_form(code: str, lang: str, formdata=None) -> InstrumentForm:
    """A form for `code` in `lang`: every item required, answers coerced to int and range-checked
    by the radio choices themselves (a value outside the scale is refused)."""
    instrument = get(code)
    message = _l("Please answer this question.")
    attrs: dict = {}
    for item in instrument.items:
        attrs[item.key] = RadioField(text(item.text, lang), coerce=int,
                                     choices=_choices(instrument.options_for(item), lang),
                                     validators=[InputRequired(message)])
    if instrument.functioning_question is not None:
        question = instrument.functioning_question
        attrs["functioning"] = RadioField(text(question.text, lang), coerce=int,
                                          choices=_choices(question.options, lang),
                                          validators=[InputRequired(message)])
    form_class = type(f"{instrument.code.replace('-', '')}Form", (InstrumentForm,), attrs)
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.instrument = instrument
    form.instrument_view = InstrumentView(
        code=instrument.code, title=text(instrument.title, lang), instructions=text(instrument.instructions, lang),
        attribution=text(instrument.attribution, lang) if instrument.attribution else "",
        risk_fields=tuple(instrument.flag_items),
    )
    return form
