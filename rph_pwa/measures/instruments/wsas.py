"""WSAS, Work and Social Adjustment Scale, version 1.

Bokmål: copied word for word from the RPH handbook, VEDLEGG 3 "Kartlegging av fungering i hverdagen
– WSAS" (instructions, items, order and attribution, reproduced there with Isaac Marks'
permission). The PDF extraction split lines; they are rejoined with single spaces and nothing else
is changed. tests/measures/test_wording.py checks these texts against the handbook.

The handbook's scale is the digits 0–8, with only the two ends named in the instructions (0: not
impaired at all, 8: very severely impaired), so the bokmål option labels are the digits alone.

Nynorsk: there is no validated nynorsk version, so nynorsk readers get the validated bokmål text.
English: the standard WSAS wording (Mundt et al. 2002, in its "Because of my [problem] ..." form
used by NHS Talking Therapies) with the anchors 0 not at all, 2 slightly, 4 definitely, 6 markedly,
8 very severely. The form leaves "[problem]" for the clinician to fill in; we fill it with "mental
health problems", matching the handbook's "psykiske plager og vansker".

Bands: < 10 subclinical, 10–20 significant impairment, > 20 moderately severe or worse
(Mundt et al. 2002), keyed "subclinical", "significant", "severe".
"""
from __future__ import annotations

from ..definitions import Band, Instrument, Item, Option, localized

_ANCHORS = {0: "Not at all", 2: "Slightly", 4: "Definitely", 6: "Markedly", 8: "Very severely"}

OPTIONS = tuple(
    Option(value, localized(nb=str(value), en=_ANCHORS.get(value, str(value))))
    for value in range(0, 9)
)

ITEMS = (
    Item("item1", localized(
        nb="Min evne til å arbeide eller studere.",
        en="Because of my mental health problems my ability to work is impaired.",
    )),
    Item("item2", localized(
        nb="Mitt husarbeid (slik som å vaske, rydde, handle, lage mat, betale regninger, passe på hjemmet eller "
           "ta meg av barna).",
        en="Because of my mental health problems my home management (cleaning, tidying, shopping, cooking, "
           "looking after home or children, paying bills) is impaired.",
    )),
    Item("item3", localized(
        nb="Mine sosiale fritidsaktiviteter (som sammen med andre å gå på bar/kafé, selskaper/fester, utflukter, "
           "stevnemøter, besøk, hjemmehygge).",
        en="Because of my mental health problems my social leisure activities (with other people e.g. parties, "
           "bars, clubs, outings, visits, dating, home entertaining) are impaired.",
    )),
    Item("item4", localized(
        nb="Mine private fritidsaktiviteter (som jeg gjør alene, som å lese, samle på ting, sy, gå turer alene, "
           "hagearbeid).",
        en="Because of my mental health problems my private leisure activities (done alone, such as reading, "
           "gardening, collecting, sewing, walking alone) are impaired.",
    )),
    Item("item5", localized(
        nb="Min evne til å etablere og opprettholde nære forhold til andre, inkludert dem jeg bor sammen med.",
        en="Because of my mental health problems, my ability to form and maintain close relationships with "
           "others, including those I live with, is impaired.",
    )),
)

WSAS_V1 = Instrument(
    code="WSAS",
    version=1,
    title=localized(
        nb="Kartlegging av fungering i hverdagen – WSAS",
        en="WSAS – Work and Social Adjustment Scale",
    ),
    instructions=localized(
        nb="Psykiske plager og vansker får ofte konsekvenser på en rekke områder. Bedøm i hvilken grad dine "
           "psykiske plager og vansker har svekket deg i løpet av siste måned, i forhold til de fem områdene "
           "som er nevnt under. For hvert av de følgende punktene angir du din bedømmelse på en skala fra 0 "
           "til 8, hvor 0 betyr at du ikke anser deg svekket i det hele tatt, og hvor 8 betyr at du anser deg "
           "svært alvorlig svekket.",
        en="People's problems sometimes affect their ability to do certain day-to-day tasks in their lives. "
           "To rate your problems look at each section and determine on the scale provided how much your "
           "problem impairs your ability to carry out the activity. 0 means not at all impaired and 8 means "
           "very severely impaired.",
    ),
    items=ITEMS,
    options=OPTIONS,
    bands=(
        Band(0, 9, "subclinical"),
        Band(10, 20, "significant"),
        Band(21, 40, "severe"),
    ),
    attribution=localized(
        nb="WSAS (The Work and Social Adjustment Scale) består av fem ledd som kartlegger hverdagsfungering.\n\n"
           "Gjengitt etter tillatelse fra Isaac Marks, 1. juli 2022.\n\n"
           "Mundt, J. C., Marks, I. M., Shear, M. K. & Greist, J. H. (2002). The Work and Social Adjustment "
           "Scale: a simple measure of impairment in functioning. The British journal of psychiatry: the "
           "journal of mental science, 180, 461–464. https://doi.org/10.1192/bjp.180.5.461",
        en="The Work and Social Adjustment Scale (WSAS) has five items on everyday functioning. The Norwegian "
           "version is reproduced with permission from Isaac Marks, 1 July 2022.\n\n"
           "Mundt, J. C., Marks, I. M., Shear, M. K. & Greist, J. H. (2002). The Work and Social Adjustment "
           "Scale: a simple measure of impairment in functioning. The British journal of psychiatry: the "
           "journal of mental science, 180, 461–464. https://doi.org/10.1192/bjp.180.5.461",
    ),
    verified_wording=True,
    # The ends of the scale as the handbook's instructions name them (shown with every item).
    end_labels=(
        localized(nb="0 = ikke svekket i det hele tatt", en="0 = not at all impaired"),
        localized(nb="8 = svært alvorlig svekket", en="8 = very severely impaired"),
    ),
    source="Rask psykisk helsehjelp handbook, VEDLEGG 3; English: Mundt et al. (2002)",
)
