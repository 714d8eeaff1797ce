from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox, parse_scenario

FABRIKAM = Path(__file__).parents[1] / "sandbox" / "scenarios" / "fabrikam.json"
_FABRIKAM_DATA = json.loads(FABRIKAM.read_text())

_LEAKY_PREFIXES = ("SLACK_", "AADBOT_", "AZURE_", "MSAL_", "AZDO_", "TEAMS_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own tokens or settings never leak into a test."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def fabrikam() -> dict[str, Any]:
    """The bundled scenario as a dict each test may change."""
    return copy.deepcopy(_FABRIKAM_DATA)


@pytest.fixture
def box(fabrikam: dict[str, Any]) -> Iterator[Sandbox]:
    """The sandbox serving `fabrikam` over loopback HTTP."""
    with Sandbox(parse_scenario(fabrikam)) as running:
        yield running
