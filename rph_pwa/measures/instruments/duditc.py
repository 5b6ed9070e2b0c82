"""DUDIT-C, the four consumption questions of DUDIT, version 1. WORDING NOT VERIFIED.

DUDIT (Drug Use Disorders Identification Test, Berman et al. 2005) has 11 questions; DUDIT-C is
its first four, on consumption: how often drugs other than alcohol are used, use of more than one
drug on the same occasion, how many times drugs are taken on a typical day of use, and how often
the person is heavily influenced by drugs. Each scores 0–4, so the total is 0–16.

The handbook names DUDIT-C for substance screening at assessment but does not reprint it, and no
authoritative Norwegian text of the four questions could be checked, so `verified_wording` is False.
What needs checking before clinical use:
  - Every bokmål question and option against the Norwegian DUDIT form published by rop.no /
    snakkomrus.no (Norwegian translation with the DUDIT manual, Østnorsk kompetansesenter 2008).
    The questions and options here follow the structure and meaning of the English form exactly,
    but their Norwegian wording is our best reconstruction, not a copy of that form.
  - The instructions' sentence on what counts as "rusmidler" is our own; the paper form has a list
    of drugs instead.
Nynorsk: no validated nynorsk version exists, so nynorsk readers get the bokmål text.
English: the DUDIT form (Berman, Bergman, Palmstierna & Schlyter, DUDIT manual 2003).

Scoring: no DUDIT-C cut-off for problem use could be confirmed in Norwegian guidance, so the bands
only separate no reported use (0, "none") from any reported use (1–16, "some_use"): any use of
drugs other than alcohol should lead on to the full DUDIT, as rop.no recommends. A deployment can
score with other bands (e.g. `cutoff_bands(...)`) through `score(..., bands=...)`.
"""
from __future__ import annotations

from ..definitions import Instrument, Item, Option, cutoff_bands, localized

MAX_TOTAL = 16


def _options(*labels: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(value, localized(nb=nb, en=en)) for value, (nb, en) in enumerate(labels))


_FREQUENCY = _options(
    ("Aldri", "Never"),
    ("En gang i måneden eller sjeldnere", "Once a month or less often"),
    ("2–4 ganger i måneden", "2–4 times a month"),
    ("2–3 ganger i uken", "2–3 times a week"),
    ("4 ganger i uken eller oftere", "4 times a week or more often"),
)

ITEMS = (
    Item(
        "item1",
        localized(nb="Hvor ofte bruker du andre rusmidler enn alkohol?",
                  en="How often do you use drugs other than alcohol?"),
        options=_FREQUENCY,
    ),
    Item(
        "item2",
        localized(nb="Bruker du flere typer rusmidler ved samme anledning?",
                  en="Do you use more than one type of drug on the same occasion?"),
        options=_FREQUENCY,
    ),
    Item(
        "item3",
        localized(nb="Hvor mange ganger tar du rusmidler en typisk dag når du bruker rusmidler?",
                  en="How many times do you take drugs on a typical day when you use drugs?"),
        options=_options(
            ("0", "0"),
            ("1–2", "1–2"),
            ("3–4", "3–4"),
            ("5–6", "5–6"),
            ("7 eller flere", "7 or more"),
        ),
    ),
    Item(
        "item4",
        localized(nb="Hvor ofte er du kraftig påvirket av rusmidler?",
                  en="How often are you influenced heavily by drugs?"),
        options=_options(
            ("Aldri", "Never"),
            ("Sjeldnere enn en gang i måneden", "Less often than once a month"),
            ("Hver måned", "Every month"),
            ("Hver uke", "Every week"),
            ("Daglig eller nesten daglig", "Daily or almost every day"),
        ),
    ),
)

DUDITC_V1 = Instrument(
    code="DUDIT-C",
    version=1,
    title=localized(
        nb="Bruk av andre rusmidler – DUDIT-C",
        en="DUDIT-C – Drug Use Disorders Identification Test (consumption)",
    ),
    instructions=localized(
        nb="Her er noen spørsmål om rusmidler. Svar så riktig og ærlig som mulig ved å velge det svaret som "
           "passer for deg. Med rusmidler menes her narkotika og vanedannende legemidler brukt på annen måte "
           "eller i større mengder enn foreskrevet, ikke alkohol.",
        en="Here are a few questions about drugs. Please answer as correctly and honestly as possible by "
           "indicating which answer is right for you. Drugs here means illegal drugs and habit-forming "
           "medicines used differently or in larger amounts than prescribed, not alcohol.",
    ),
    items=ITEMS,
    bands=cutoff_bands(1, max_total=MAX_TOTAL, below="none", at_or_above="some_use"),
    attribution=localized(
        nb="DUDIT-C er de fire første spørsmålene i DUDIT (Drug Use Disorders Identification Test). Berman AH, "
           "Bergman H, Palmstierna T, Schlyter F. Evaluation of the Drug Use Disorders Identification Test "
           "(DUDIT) in criminal justice and detoxification settings and in a Swedish population sample. "
           "Eur Addict Res 2005; 11: 22–31.",
        en="DUDIT-C is the first four questions of the DUDIT (Drug Use Disorders Identification Test). Berman "
           "AH, Bergman H, Palmstierna T, Schlyter F. Evaluation of the Drug Use Disorders Identification Test "
           "(DUDIT) in criminal justice and detoxification settings and in a Swedish population sample. "
           "Eur Addict Res 2005; 11: 22–31.",
    ),
    verified_wording=False,
    allow_decline=True,
    source="Bokmål reconstructed (unverified); English: DUDIT manual (Berman et al. 2003)",
)
