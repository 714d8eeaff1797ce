"""The persisted token cache: msal only once a token is asked for, an unreadable file reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from msapi import from_environment
from workflows.directory import MicrosoftError


def _live(cache: Path) -> dict[str, str]:
    return {
        "AZURE_DEVOPS_PAT": "pat",
        "AZURE_CLIENT_ID": "app",
        "AZURE_CLIENT_SECRET": "secret",
        "AADBOT_TOKEN_CACHE": str(cache),
    }


def test_an_unreadable_token_cache_is_reported_when_the_clients_are_made(tmp_path: Path) -> None:
    """msal is imported at the first token, but a broken cache file still stops `serve` at its start."""
    cache = tmp_path / "tokens.json"
    cache.write_text("not json")
    with pytest.raises(MicrosoftError, match=r"tokens\.json is unreadable \(not a token cache\)"):
        from_environment(_live(cache))


def test_clients_made_without_a_token_write_no_cache_file(tmp_path: Path) -> None:
    cache = tmp_path / "tokens.json"
    from_environment(_live(cache)).close()
    assert not cache.exists()
