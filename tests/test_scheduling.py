"""The test scheduling hints in tests/conftest.py name files that exist: a renamed file would silently lose
its place (a shared `serve` started once per file again, a long file handed out last)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED_SERVES, STARTED_FIRST

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_scheduler_names_exists() -> None:
    assert [file for file in SHARED_SERVES if not (ROOT / file).is_file()] == []
    units = set(SHARED_SERVES.values())
    assert [name for name in STARTED_FIRST if name not in units and not (ROOT / name).is_file()] == []
    assert len(set(STARTED_FIRST)) == len(STARTED_FIRST)


def test_a_file_that_shares_a_serve_is_handed_out_by_its_unit_s_name() -> None:
    """xdist's work queue knows such a file only by its unit's name: listed by its own, it keeps no place."""
    assert [name for name in STARTED_FIRST if name in SHARED_SERVES] == []
