"""`aadbot chat --as EMAIL`: typed lines in, the bot's replies out, through the same handlers as Slack."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main


def test_chat_plays_a_conversation_from_standard_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    typed = [
        "start fabrikam-fiber fabrikam.com",
        ":as ann@fabrikam.com",
        "invite",
        ":dm do I keep my visual studio subscription?",
        ":quit",
    ]
    lines = "\n".join(typed) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["chat", "--as", "dana@fabrikam.com"]) == 0
    out = capsys.readouterr().out
    assert "STARTED MOVING FABRIKAM-FIBER" in out
    assert "now speaking as Ann" in out
    assert "is for the organization's admins" in out  # Ann may not invite
    assert "my.visualstudio.com" in out
    assert list(tmp_path.iterdir()) == []  # the sandbox's chat leaves no database behind
