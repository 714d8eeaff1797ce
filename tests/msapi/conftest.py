from __future__ import annotations

from collections.abc import Iterator

import pytest

from msapi import HttpSession


@pytest.fixture
def sessions() -> Iterator[list[HttpSession]]:
    """HTTP sessions a test opens; closed after it."""
    opened: list[HttpSession] = []
    yield opened
    for session in opened:
        session.close()
