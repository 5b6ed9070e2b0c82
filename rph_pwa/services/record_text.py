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
