"""The review page's content: every answer of the self-referral in plain words, built from the
same forms the person filled in (so the wording is exactly what they saw)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _


@dataclass(frozen=True)
class Answer:
    """One question as it was asked, and the answer in words ("" when not answered)."""

    question: str
    answer: str


@dataclass(frozen=True)
class ReviewPart:
    """One step of the flow on the review page, with the number its edit link goes to."""

    number: int
    title: str
    answers: list[Answer]
    complete: bool


def answer_in_words(field) -> str:
    """What a bound field holds, as the person saw it: the chosen options' labels, or the text."""
    if field.type == "BooleanField":
        return _("Yes") if field.data else _("No")
    if hasattr(field, "iter_choices"):
        labels = [str(choice[1]) for choice in field.iter_choices() if choice[2]]
        if field.type == "SelectField" and not field.raw_data:
            return ""  # nothing posted: the preselected first option is not an answer
        return ", ".join(labels)
    if field.raw_data:
        return " ".join(str(value) for value in field.raw_data).strip()
    return "" if field.data is None else str(field.data).strip()


def answers_in_words(form) -> list[Answer]:
    """Every question of a bound step form with its answer in words, in the form's order."""
    return [Answer(str(field.label.text), answer_in_words(field))
            for field in form if field.type not in ("CSRFTokenField", "HiddenField")
            and not (field.type == "BooleanField" and not field.data)]  # an unticked box is no answer


def review_parts(steps: list[tuple[int, str, object, bool]]) -> list[ReviewPart]:
    """The review page's parts from (number, title, form bound to the saved answers, complete)."""
    return [ReviewPart(number, str(title), answers_in_words(form), complete) for number, title, form, complete in steps]
