"""Our own evaluation form for courses and treatment groups, version 1 (H L2511-2540).

The handbook describes the form teams use: how relevant the content was, the leaders' delivery, the
quality of the course material, and two free-text boxes (what was especially useful, what was less
useful); teams compute the mean and mode of each item. Not a validated instrument: three
statements answered 1 (labelled) to 5 (labelled), higher is better. The free-text questions are
`FREE_TEXT` below; the results are computed by `services.course_evaluation`.
"""
from __future__ import annotations

from ..definitions import Band, Instrument, Item, Option, Text, localized

OPTIONS = (
    Option(1, localized(nb="1 – I liten grad", nn="1 – I liten grad", en="1 – Not at all")),
    Option(2, localized(nb="2", nn="2", en="2")),
    Option(3, localized(nb="3", nn="3", en="3")),
    Option(4, localized(nb="4", nn="4", en="4")),
    Option(5, localized(nb="5 – I stor grad", nn="5 – I stor grad", en="5 – Very much")),
)

ITEMS = (
    Item("relevance", localized(nb="Innholdet var relevant for meg.", nn="Innhaldet var relevant for meg.",
                                en="The content was relevant to me.")),
    Item("delivery", localized(nb="Kurslederne formidlet innholdet godt.", nn="Kursleiarane formidla innhaldet godt.",
                               en="The leaders put the content across well.")),
    Item("material", localized(nb="Kursmateriellet var godt.", nn="Kursmateriellet var godt.",
                               en="The course material was good.")),
)

#: The two free-text questions (key, text), asked after the items; both optional.
FREE_TEXT: tuple[tuple[str, Text], ...] = (
    ("useful", localized(nb="Hva var særlig nyttig?", nn="Kva var særleg nyttig?", en="What was especially useful?")),
    ("less_useful", localized(nb="Hva var mindre nyttig?", nn="Kva var mindre nyttig?", en="What was less useful?")),
)

COURSE_EVALUATION_V1 = Instrument(
    code="COURSE-EVAL",
    version=1,
    title=localized(nb="Hva synes du om kurset?", nn="Kva synest du om kurset?",
                    en="What did you think of the course?"),
    instructions=localized(
        nb="Svar ut fra hvor enig du er, fra 1 (i liten grad) til 5 (i stor grad). Svarene hjelper oss å gjøre "
           "kurset bedre.",
        nn="Svar ut frå kor einig du er, frå 1 (i liten grad) til 5 (i stor grad). Svara hjelper oss å gjere "
           "kurset betre.",
        en="Answer by how much you agree, from 1 (not at all) to 5 (very much). Your answers help us make the "
           "course better.",
    ),
    items=ITEMS,
    options=OPTIONS,
    bands=(Band(3, 15, "answered"),),
    attribution=localized(nb="Appens eget evalueringsskjema for kurs og grupper (ikke et validert instrument).",
                          nn="Appen sitt eige evalueringsskjema for kurs og grupper (ikkje eit validert instrument).",
                          en="The app's own evaluation form for courses and groups (not a validated instrument)."),
    source="rph-pwa",
)
