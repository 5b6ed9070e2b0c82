"""PHQ-9, Patient Health Questionnaire (depression), version 1.

Bokmål: copied word for word from the RPH handbook, VEDLEGG 1 "Kartlegging av depresjon – PHQ-9"
(items, order, answer options, functioning question and attribution). The PDF extraction split
lines; they are rejoined with single spaces and nothing else is changed.
tests/measures/test_wording.py checks these texts against the handbook so they cannot drift.

Nynorsk: there is no validated nynorsk version, so nynorsk readers get the validated bokmål text.
English: the official PHQ-9 wording from phqscreeners.com (Pfizer).

Bands are the published ones (Kroenke, Spitzer & Williams 2001), as used by NHS Talking Therapies;
the handbook itself leaves scoring to kognitiv.no. Item 9 asks about thoughts of being better off
dead or of self-harm: any answer above 0 raises the "risk" flag.
"""
from __future__ import annotations

from ..definitions import Band, FrozenMap, Instrument, Item, Option, localized

OPTIONS = (
    Option(0, localized(nb="Ikke i det hele tatt", en="Not at all")),
    Option(1, localized(nb="Noen dager", en="Several days")),
    Option(2, localized(nb="Mer enn halvparten av dagene", en="More than half the days")),
    Option(3, localized(nb="Nesten hver dag", en="Nearly every day")),
)

ITEMS = (
    Item("item1", localized(
        nb="Liten interesse for eller glede av å gjøre ting.",
        en="Little interest or pleasure in doing things",
    )),
    Item("item2", localized(
        nb="Følt deg nedfor, deprimert eller fylt av håpløshet.",
        en="Feeling down, depressed, or hopeless",
    )),
    Item("item3", localized(
        nb="Vansker med å sovne, sove uten avbrudd eller sovet for mye.",
        en="Trouble falling or staying asleep, or sleeping too much",
    )),
    Item("item4", localized(
        nb="Følt deg trett eller energiløs.",
        en="Feeling tired or having little energy",
    )),
    Item("item5", localized(
        nb="Dårlig matlyst eller å spise for mye.",
        en="Poor appetite or overeating",
    )),
    Item("item6", localized(
        nb="Vært misfornøyd med deg selv eller følt deg mislykket, eller følt at du har sviktet deg selv "
           "eller familien din.",
        en="Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    )),
    Item("item7", localized(
        nb="Vansker med å konsentrere deg om ting, slik som å lese avisen eller se på tv.",
        en="Trouble concentrating on things, such as reading the newspaper or watching television",
    )),
    Item("item8", localized(
        nb="Beveget deg eller snakket så langsomt at andre kan ha merket det? Eller motsatt – følt deg så "
           "urolig eller rastløs at du har beveget deg mye mer enn vanlig.",
        en="Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
           "fidgety or restless that you have been moving around a lot more than usual",
    )),
    Item("item9", localized(
        nb="Tanker om at det ville vært bedre om du var død eller om å skade deg selv.",
        en="Thoughts that you would be better off dead or of hurting yourself in some way",
    )),
)

FUNCTIONING_QUESTION = Item(
    "functioning",
    localized(
        nb="Hvis du har opplevd ett eller flere av de problemene som nevnes, i hvor stor grad har problemene "
           "gjort det vanskelig for deg å utføre arbeidet ditt, ordne med ting hjemme eller å komme overens "
           "med andre?",
        en="If you checked off any problems, how difficult have these problems made it for you to do your "
           "work, take care of things at home, or get along with other people?",
    ),
    options=(
        Option(0, localized(nb="Ikke vanskelig i det hele tatt", en="Not difficult at all")),
        Option(1, localized(nb="Litt vanskelig", en="Somewhat difficult")),
        Option(2, localized(nb="Svært vanskelig", en="Very difficult")),
        Option(3, localized(nb="Ekstremt vanskelig", en="Extremely difficult")),
    ),
)

PHQ9_V1 = Instrument(
    code="PHQ-9",
    version=1,
    title=localized(
        nb="Kartlegging av depresjon – PHQ-9",
        en="PHQ-9 – Patient Health Questionnaire (depression)",
    ),
    instructions=localized(
        nb="Hvor ofte har du vært plaget av ett eller flere av de følgende problemene i løpet av de siste to "
           "ukene?",
        en="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    ),
    items=ITEMS,
    options=OPTIONS,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately_severe"),
        Band(20, 27, "severe"),
    ),
    flag_items=FrozenMap(item9="risk"),
    functioning_question=FUNCTIONING_QUESTION,
    attribution=localized(
        nb="PHQ 9 er en del av Patient Health Questionnaire (Spitzer et al., 1999), består av ni ledd og måler "
           "sentrale symptomer på depresjon. Spørreskjemaet brukes både i klinisk praksis og i forskning.\n\n"
           "Ulike oversettelser av PHQ 9 er fritt tilgjengelig på www.phqscreeners.com, og du finner det på "
           "norsk også på kognitiv.no. Her finner du også skåringsveiledning.\n\n"
           "Spitzer, R.L., Kroenke, K. & Williams, J.B. (1999). Validation and utility of a self-report "
           "version of PRIME-MD: The PHQ Primary Care Study. Journal of the American Medical Association, "
           "282, 1737–1744.",
        en="Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
           "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
           "distribute.\n\n"
           "Spitzer, R.L., Kroenke, K. & Williams, J.B. (1999). Validation and utility of a self-report "
           "version of PRIME-MD: The PHQ Primary Care Study. Journal of the American Medical Association, "
           "282, 1737–1744.",
    ),
    verified_wording=True,
    source="Rask psykisk helsehjelp handbook, VEDLEGG 1; English: phqscreeners.com",
)
