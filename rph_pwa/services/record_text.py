"""Norwegian wording for texts copied into the municipal patient record and sent to the GP.

The record is kept in Norwegian whatever language the staff member reads the app in, so these
are plain constants rather than UI translations.
"""

WORK = {"working": "i arbeid", "studying": "studerer/går på skole", "job_seeking": "arbeidssøkende",
        "benefits": "mottar ytelser", "retired": "pensjonist", "other": "annet"}
SICK_LEAVE = {"none": "nei", "graded": "gradert", "full": "full"}
OFFERINGS = {"course": "kurs", "guided_self_help": "veiledet selvhjelp", "group": "behandlingsgruppe",
             "individual": "individuell terapi"}


def label(mapping: dict[str, str], key: str | None) -> str:
    """The record wording of a coded value (the key itself if unknown, empty if missing)."""
    return mapping.get(key, key) if key else ""


#: Reasons for ending an episode (`Episode.end_reason`, handbook L4989–4993).
END_REASONS = {"completed": "behandlingen er fullført", "guided_onward": "veiledet videre til annen hjelp",
               "dropped_out": "avbrutt av pasienten", "declined": "takket nei til tilbudet", "other": "annet"}
#: What the person told the team they want help with (the referral's `problems` keys).
PROBLEMS = {"anxiety": "bekymring, frykt eller angst", "low_mood": "nedstemthet", "sleep": "søvnvansker",
            "substances": "alkohol, rusmidler eller medisiner", "stress": "stress eller utbrenthet",
            "other": "annet"}
#: Kinds of contact, as the record counts them ("behandlingssamtaler: 3").
CONTACTS = {"assessment": "kartleggingssamtaler", "treatment": "behandlingssamtaler",
            "check_in": "oppfølginger i veiledet selvhjelp", "course_meeting": "kurssamlinger"}
