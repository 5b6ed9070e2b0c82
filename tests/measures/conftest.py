"""The handbook's wording of the validated instruments, as committed in the repo."""
from __future__ import annotations

import json

import pytest

from scripts.expected_wording import EXPECTED


@pytest.fixture(scope="session")
def appendices() -> dict[str, str]:
    """Each validated instrument's appendix in the RPH handbook (whitespace collapsed), by code, from
    tests/measures/expected_wording.json (written by scripts/expected_wording.py from the handbook,
    which is kept outside the repo)."""
    return json.loads(EXPECTED.read_text(encoding="utf-8"))["appendices"]
