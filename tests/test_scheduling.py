"""The test scheduling hints in tests/conftest.py name files that exist: a renamed file would silently lose
its place (a shared `serve` started once per file again, a long file handed out last)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED_SERVES, STARTED_FIRST

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_scheduler_names_exists() -> None:
    named = [*SHARED_SERVES, *STARTED_FIRST]
    assert [file for file in named if not (ROOT / file).is_file()] == []
    assert len(set(STARTED_FIRST)) == len(STARTED_FIRST)
