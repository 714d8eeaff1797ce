"""The Teams SDK's token validator, vendored into bot/teams/ so that checking a token does not import the
whole SDK, is still the installed SDK's: an upgrade that changes it fails here until it is vendored again.

The SDK's files are read from its installed distribution, never imported (importing the SDK costs a second of
CPU in every test process that does it).
"""

from __future__ import annotations

import difflib
from importlib.metadata import distribution
from pathlib import Path

import pytest

TEAMS = Path(__file__).resolve().parents[2] / "bot" / "teams"

VENDORED = {
    "_token_validator.py": ("microsoft-teams-apps", "microsoft_teams/apps/auth/token_validator.py"),
    "_cloud_environment.py": ("microsoft-teams-api", "microsoft_teams/api/auth/cloud_environment.py"),
}
"""Each copy in bot/teams/, by the distribution and the file in it that it copies."""
REPLACED_LINES = {
    "from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment": (
        "from bot.teams._cloud_environment import PUBLIC, CloudEnvironment"
    ),
}
"""The SDK's lines that the copies change, each to the line that replaces it (the copies' headers say why)."""


def _installed(package: str, path: str) -> tuple[str, list[str]]:
    """The distribution's name and version, and the lines of one of its files (CRLF in the wheel)."""
    found = distribution(package)
    (file,) = [file for file in found.files or () if file.as_posix() == path]
    return f"{package} {found.version}", Path(str(found.locate_file(file))).read_text().splitlines()


def _header_and_body(name: str) -> tuple[str, list[str]]:
    """The copy's leading comment (where it comes from, the licence), as one line, and the rest."""
    lines = (TEAMS / name).read_text().splitlines()
    length = next(number for number, line in enumerate(lines) if not line.startswith("#"))
    words = " ".join(line.removeprefix("#") for line in lines[:length]).split()
    return " ".join(words), lines[length:]


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_the_vendored_copy_is_the_installed_sdk_s_file_but_for_the_documented_lines(name: str) -> None:
    package, path = VENDORED[name]
    release, sdk_lines = _installed(package, path)
    header, body = _header_and_body(name)

    expected = [REPLACED_LINES.get(line, line) for line in sdk_lines]
    diff = "\n".join(difflib.unified_diff(expected, body, f"{release} {path}", name, lineterm=""))
    assert not diff, f"{name} is not {release}'s file: vendor it again, review the change\n{diff}"
    assert f"package {release}, file {path} (repository microsoft/teams.py," in header
    assert "MIT License Copyright (c) Microsoft Corporation. Permission is hereby granted" in header
