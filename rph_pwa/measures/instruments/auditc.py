"""AUDIT-C, the three consumption questions of the WHO AUDIT, version 1. WORDING NOT VERIFIED.

The handbook names AUDIT-C for substance screening at assessment but does not reprint it, so the
wording here is not checked against the handbook and `verified_wording` is False.

Bokmål: the first three AUDIT questions and their answer options as published by Norsk
Helseinformatikk (nhi.no, "Alkohol-audit"), which gives as its source the Norwegian version of
Aasland, Amundsen, Bovim, Fauske & Mørland (Tidsskr Nor Lægeforen 1990; 110: 1523–7).
What needs checking before clinical use:
  - Compare every question and option with the AUDIT form that Helsedirektoratet and the national
    competence service for co-occurring disorders publish (rop.no, "AUDIT (PDF)"). Options for
    question 3 in particular ("Sjelden", "Noen ganger i måneden", ...) may differ there from the
    WHO pattern ("Less than monthly", "Monthly", ...); use that form's wording if it differs, in a
    new version.
  - The instructions (what an "alkoholenhet" is) are our own short text, drawn from rop.no's
    overview of alcohol units, not part of the validated wording.
Nynorsk: no validated nynorsk version exists, so nynorsk readers get the bokmål text.
English: the WHO AUDIT wording (Babor et al. 2001).

Scoring: total 0–12. Per the AUDIT rules, a person who answers "never" to question 1 is not asked
questions 2 and 3, and they score 0 (`gate_item`). One cut-off, by default 5 ("elevated" at 5 or
more, else "low"), the AUDIT-C threshold in UK guidance for going on to the full AUDIT. Published
cut-offs vary by sex and setting (e.g. ≥ 4 for men and ≥ 3 for women in Bradley et al. 2007), so a
deployment can score with
`cutoff_bands(n, ...)` through `score(..., bands=...)` without changing this definition.
"""
from __future__ import annotations

from ..definitions import Instrument, Item, Option, cutoff_bands, localized

#: AUDIT-C totals at or above this are "elevated" (the instrument's own bands; sex unknown to it).
DEFAULT_CUTOFF = 5
MAX_TOTAL = 12
#: Sex-specific screening cut-offs (Bradley et al. 2007): women ≥ 3, men ≥ 4. Deployments may change them.
DEFAULT_CUTOFF_WOMEN = 3
DEFAULT_CUTOFF_MEN = 4


def cutoff_for(gender: str | None, *, women: int = DEFAULT_CUTOFF_WOMEN, men: int = DEFAULT_CUTOFF_MEN) -> int:
    """The AUDIT-C cut-off for a person of `gender` ("woman", "man", anything else or None):
    women's for women, men's for men, and the lower of the two when the gender is unknown, other
    or not given (so nobody is screened less carefully because of a missing answer)."""
    if gender == "woman":
        return women
    if gender == "man":
        return men
    return min(women, men)


def bands_for(gender: str | None, *, women: int = DEFAULT_CUTOFF_WOMEN, men: int = DEFAULT_CUTOFF_MEN):
    """The two AUDIT-C bands ("low" / "elevated") for `gender`, for `score(..., bands=...)`."""
    return cutoff_bands(cutoff_for(gender, women=women, men=men), max_total=MAX_TOTAL,
                        below="low", at_or_above="elevated")


def _options(*labels: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(value, localized(nb=nb, en=en)) for value, (nb, en) in enumerate(labels))


ITEMS = (
    Item(
        "item1",
        localized(nb="Hvor ofte drikker du alkohol?", en="How often do you have a drink containing alcohol?"),
        options=_options(
            ("Aldri", "Never"),
            ("Månedlig eller sjeldnere", "Monthly or less"),
            ("To til fire ganger i måneden", "2 to 4 times a month"),
            ("To til tre ganger i uken", "2 to 3 times a week"),
            ("Fire ganger i uken eller mer", "4 or more times a week"),
        ),
    ),
    Item(
        "item2",
        localized(
            nb='Hvor mange alkoholenheter (en drink, et glass vin eller 1 liten flaske pilsnerøl) tar du på en '
               '"typisk" drikkedag?',
            en="How many drinks containing alcohol do you have on a typical day when you are drinking?",
        ),
        options=_options(
            ("1-2", "1 or 2"),
            ("3-4", "3 or 4"),
            ("5-6", "5 or 6"),
            ("7-9", "7, 8, or 9"),
            ("10 eller flere", "10 or more"),
        ),
    ),
    Item(
        "item3",
        localized(
            nb="Hvor ofte drikker du seks alkoholenheter eller mer?",
            en="How often do you have six or more drinks on one occasion?",
        ),
        options=_options(
            ("Aldri", "Never"),
            ("Sjelden", "Less than monthly"),
            ("Noen ganger i måneden", "Monthly"),
            ("Noen ganger i uken", "Weekly"),
            ("Nesten daglig", "Daily or almost daily"),
        ),
    ),
)

AUDITC_V1 = Instrument(
    code="AUDIT-C",
    version=1,
    title=localized(
        nb="Alkoholvaner – AUDIT-C",
        en="AUDIT-C – Alcohol Use Disorders Identification Test (consumption)",
    ),
    instructions=localized(
        nb="Spørsmålene handler om bruken din av alkohol. En alkoholenhet er omtrent en flaske øl (33 cl), "
           "et glass vin (12 cl) eller en drink med brennevin (4 cl).",
        en="These questions are about your use of alcohol. One drink (unit) is about a bottle of beer "
           "(33 cl), a glass of wine (12 cl) or a measure of spirits (4 cl).",
    ),
    items=ITEMS,
    bands=cutoff_bands(DEFAULT_CUTOFF, max_total=MAX_TOTAL, below="low", at_or_above="elevated"),
    attribution=localized(
        nb="AUDIT-C er de tre første spørsmålene i AUDIT (Alcohol Use Disorders Identification Test), "
           "utviklet av Verdens helseorganisasjon (WHO). Norsk versjon: Aasland OG, Amundsen A, Bovim G, "
           "Fauske S, Mørland J. Identifisering av pasienter med risiko for alkoholskader. Tidsskr Nor "
           "Lægeforen 1990; 110: 1523–7.",
        en="AUDIT-C is the first three questions of the AUDIT (Alcohol Use Disorders Identification Test), "
           "developed by the World Health Organization. Babor TF, Higgins-Biddle JC, Saunders JB, Monteiro MG. "
           "AUDIT: The Alcohol Use Disorders Identification Test. Guidelines for Use in Primary Care. 2nd ed. "
           "Geneva: WHO; 2001.",
    ),
    verified_wording=False,
    gate_item="item1",
    allow_decline=True,
    source="nhi.no 'Alkohol-audit' (Aasland et al. 1990); English: WHO AUDIT (Babor et al. 2001)",
)
