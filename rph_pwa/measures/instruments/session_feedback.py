"""Our own short session-feedback form (alliance and usefulness), version 1.

The handbook mentions SRS and "Gjensidig evaluering av samtalen" for individual work and guided
self-help (H L2498–2509). SRS/ORS are licensed, so this is a short form of our own, not a validated
instrument: four statements about the last talk, answered 0 (not at all) to 4 (completely).
Higher is better. Bands: 0–9 "concern" (worth talking about together), 10–16 "good".
"""
from __future__ import annotations

from ..definitions import Band, Instrument, Item, Option, localized

OPTIONS = (
    Option(0, localized(nb="Ikke i det hele tatt", nn="Ikkje i det heile", en="Not at all")),
    Option(1, localized(nb="Litt", nn="Litt", en="A little")),
    Option(2, localized(nb="Noe", nn="Noko", en="Somewhat")),
    Option(3, localized(nb="Mye", nn="Mykje", en="Mostly")),
    Option(4, localized(nb="Helt", nn="Heilt", en="Completely")),
)

ITEMS = (
    Item("item1", localized(nb="Jeg følte meg hørt og forstått.", nn="Eg kjende meg høyrd og forstått.",
                            en="I felt heard and understood.")),
    Item("item2", localized(nb="Vi snakket om det som var viktig for meg.",
                            nn="Vi snakka om det som var viktig for meg.",
                            en="We talked about what mattered to me.")),
    Item("item3", localized(nb="Måten vi jobbet på, passet for meg.", nn="Måten vi jobba på, passa for meg.",
                            en="The way we worked suited me.")),
    Item("item4", localized(nb="Samtalen var nyttig for meg.", nn="Samtalen var nyttig for meg.",
                            en="The talk was useful to me.")),
)

SESSION_FEEDBACK_V1 = Instrument(
    code="SESSION-FEEDBACK",
    version=1,
    title=localized(nb="Hvordan var forrige samtale?", nn="Korleis var den førre samtalen?",
                    en="How was your last talk?"),
    instructions=localized(
        nb="Tenk på den siste samtalen eller veiledningen du hadde med oss. Svarene hjelper oss å gjøre "
           "hjelpen bedre for deg. Det finnes ingen riktige eller gale svar.",
        nn="Tenk på den siste samtalen eller rettleiinga du hadde med oss. Svara hjelper oss å gjere hjelpa "
           "betre for deg. Det finst ingen rette eller gale svar.",
        en="Think about your last talk or guidance call with us. Your answers help us make the help better "
           "for you. There are no right or wrong answers.",
    ),
    items=ITEMS,
    options=OPTIONS,
    bands=(Band(0, 9, "concern"), Band(10, 16, "good")),
    attribution=localized(nb="Rask psykisk helsehjelp-appens eget tilbakemeldingsskjema (ikke et validert instrument).",
                          nn="Appen sitt eige tilbakemeldingsskjema (ikkje eit validert instrument).",
                          en="The app's own feedback form (not a validated instrument)."),
    source="rph-pwa",
)
