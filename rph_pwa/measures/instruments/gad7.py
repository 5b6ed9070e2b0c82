"""GAD-7, Generalized Anxiety Disorder 7-item scale, version 1.

Bokmål: copied word for word from the RPH handbook, VEDLEGG 2 "Kartlegging av angst – GAD-7"
(items, order, answer options, functioning question and attribution). The PDF extraction split
lines; they are rejoined with single spaces and nothing else is changed.
tests/measures/test_wording.py checks these texts against the handbook so they cannot drift.

Nynorsk: there is no validated nynorsk version, so nynorsk readers get the validated bokmål text.
English: the official GAD-7 wording from phqscreeners.com (Pfizer).

Bands are the published ones (Spitzer et al. 2006), as used by NHS Talking Therapies; the handbook
itself leaves scoring to kognitiv.no. Caseness (≥ 8) belongs to outcomes, not to these bands.
"""
from __future__ import annotations

from ..definitions import Band, Instrument, Item, Option, localized

OPTIONS = (
    Option(0, localized(nb="Ikke i det hele tatt", en="Not at all")),
    Option(1, localized(nb="Noen dager", en="Several days")),
    Option(2, localized(nb="Mer enn halvparten av dagene", en="More than half the days")),
    Option(3, localized(nb="Nesten hver dag", en="Nearly every day")),
)

ITEMS = (
    Item("item1", localized(
        nb="Følt deg nervøs, engstelig eller på tuppa.",
        en="Feeling nervous, anxious or on edge",
    )),
    Item("item2", localized(
        nb="Ikke klart å stoppe eller kontrollere bekymringene dine.",
        en="Not being able to stop or control worrying",
    )),
    Item("item3", localized(
        nb="Bekymret deg for mye om ulike ting.",
        en="Worrying too much about different things",
    )),
    Item("item4", localized(
        nb="Hatt vansker med å slappe av.",
        en="Trouble relaxing",
    )),
    Item("item5", localized(
        nb="Vært så rastløs at det har vært vanskelig å sitte stille.",
        en="Being so restless that it is hard to sit still",
    )),
    Item("item6", localized(
        nb="Blitt lett irritert eller ergret deg over ting.",
        en="Becoming easily annoyed or irritable",
    )),
    Item("item7", localized(
        nb="Følt deg redd som om noe forferdelig kunne komme til å skje.",
        en="Feeling afraid as if something awful might happen",
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

GAD7_V1 = Instrument(
    code="GAD-7",
    version=1,
    title=localized(
        nb="Kartlegging av angst – GAD-7",
        en="GAD-7 – Generalized Anxiety Disorder scale",
    ),
    instructions=localized(
        nb="Hvor ofte har du vært plaget av de følgende problemene i løpet av de siste to ukene?",
        en="Over the last 2 weeks, how often have you been bothered by the following problems?",
    ),
    items=ITEMS,
    options=OPTIONS,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
    functioning_question=FUNCTIONING_QUESTION,
    attribution=localized(
        nb="GAD-7 er en del av Patient Health Questionnaire (PHQ; Spitzer, Kroenke & Williams, 1999), består "
           "av syv ledd og måler sentrale symptomer på angst. Spørreskjemaet brukes både i klinisk praksis og "
           "i forskning.\n\n"
           "Ulike oversettelser av GAD-7 er fritt tilgjengelig på www.phqscreeners.com, og du finner det på "
           "norsk på kognitiv.no. Her finner du også skåringsveiledning.\n\n"
           "Johnson, S.U., Ulvenes, P.G., Øktedalen, T. & Hoffart, A. (2019). General Anxiety disorder 7-item "
           "(GAD-7) scale in a heterogeneous psychiatric sample. Frontiers in Psychology, 10: 1713: doi: "
           "10.3389/fpsyg.2019.01713\n\n"
           "Spitzer, R.L., Kroenke, K. & Williams, J.B. (1999). Validation and utility of a self-report "
           "version of PRIME-MD: The PHQ Primary Care Study. Journal of the American Medical Association, "
           "282, 1737–1744.",
        en="Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
           "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
           "distribute.\n\n"
           "Spitzer, R.L., Kroenke, K., Williams, J.B.W. & Löwe, B. (2006). A brief measure for assessing "
           "generalized anxiety disorder: the GAD-7. Archives of Internal Medicine, 166, 1092–1097.",
    ),
    verified_wording=True,
    source="Rask psykisk helsehjelp handbook, VEDLEGG 2; English: phqscreeners.com",
)
