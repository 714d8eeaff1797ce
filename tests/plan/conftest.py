from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox, parse_scenario

FABRIKAM = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"
_DATA = json.loads(FABRIKAM.read_text())


@pytest.fixture
def fabrikam() -> dict[str, Any]:
    """The bundled scenario as a dict each test may change."""
    return copy.deepcopy(_DATA)


@pytest.fixture
def box(fabrikam: dict[str, Any]) -> Iterator[Sandbox]:
    with Sandbox(parse_scenario(fabrikam)) as running:
        yield running
