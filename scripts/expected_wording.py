"""Write tests/measures/expected_wording.json: the RPH handbook's appendices 1–3, which print the
validated bokmål wording of PHQ-9, GAD-7 and WSAS, with all whitespace collapsed.

The wording tests compare the instruments with that file, so they run on a fresh clone; the
handbook itself stays outside the repo (../shared/seeds), and when it is there the tests also check
that the file still says what the handbook says. Run this again only when the handbook changes:

    python scripts/expected_wording.py [path/to/handbook.txt]
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDBOOK = REPO_ROOT.parent / "shared" / "seeds" / "001_825eaccd86211715.txt"
EXPECTED = REPO_ROOT / "tests" / "measures" / "expected_wording.json"

#: Each instrument's appendix runs from its heading to the next one.
APPENDIX = {"PHQ-9": ("VEDLEGG 1", "VEDLEGG 2"), "GAD-7": ("VEDLEGG 2", "VEDLEGG 3"),
            "WSAS": ("VEDLEGG 3", "VEDLEGG 4")}


def normalise(value: str) -> str:
    """All whitespace collapsed to single spaces (the handbook's PDF text extraction splits lines and
    pads with no-break spaces)."""
    return " ".join(value.split())


def extract_appendices(handbook: str) -> dict[str, str]:
    """Each instrument's appendix text from the handbook's text, normalised."""
    text = normalise(handbook)
    sections = {}
    for code, headings in APPENDIX.items():
        start, end = (re.search(rf"\b{heading}\b", text) for heading in headings)
        if not (start and end and start.start() < end.start()):
            raise ValueError(f"{code}: appendix headings {headings} not found in the handbook")
        sections[code] = text[start.end():end.start()].strip()
    return sections


def main(argv: list[str]) -> int:
    handbook = Path(argv[1]) if len(argv) > 1 else HANDBOOK
    data = {"source": handbook.name, "appendices": extract_appendices(handbook.read_text(encoding="utf-8"))}
    EXPECTED.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED.relative_to(REPO_ROOT)} from {handbook}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
