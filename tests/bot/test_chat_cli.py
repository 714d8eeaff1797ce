"""`aadbot chat --as EMAIL`: typed lines in, the bot's replies out, through the same handlers as Slack."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main
from sandbox import Sandbox
from tests.fakes.cli import Aadbot

SCENARIO = Path(__file__).parents[2] / "sandbox" / "scenarios" / "fabrikam.json"


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


def _chat(
    aadbot: Aadbot, monkeypatch: pytest.MonkeyPatch, typed: list[str], *args: str, **environment: str
) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(typed) + "\n"))
    finished = aadbot("chat", "--as", "dana@fabrikam.com", *args, environment=environment)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_a_rehearsal_in_serves_environment_leaves_the_bots_database_untouched(
    aadbot: Aadbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, box: Sandbox
) -> None:
    """The `rehearse` steps run `aadbot chat --scenario` where the bot's credentials are, AADBOT_DATABASE_URL
    included: the rehearsal keeps its migration to itself, and the real `start` is not refused after it."""
    live = f"sqlite:///{tmp_path / 'live.db'}"
    rehearsal = _chat(
        aadbot,
        monkeypatch,
        ["start fabrikam-fiber fabrikam.com"],
        "--scenario",
        str(SCENARIO),
        AADBOT_DATABASE_URL=live,
    )
    assert "STARTED MOVING FABRIKAM-FIBER" in rehearsal
    assert not (tmp_path / "live.db").exists()
    assert rehearsal.splitlines()[0] == (
        "(sandbox: a database of its own, for this chat only. AADBOT_DATABASE_URL is not used: the bot's own"
        " database stays untouched. To continue a rehearsal in another chat, run `aadbot sandbox --scenario"
        " FILE`, then chat with AADBOT_SANDBOX_URL set to the address it prints and AADBOT_DATABASE_URL to a"
        " database of the rehearsal's own.)"
    )

    real = _chat(
        aadbot,
        monkeypatch,
        ["start fabrikam-fiber fabrikam.com"],
        AADBOT_DATABASE_URL=live,
        AADBOT_SANDBOX_URL=box.url,
    )
    assert (
        real.splitlines()[0] == f"(database {live}; every Microsoft call goes to the emulator at {box.url})"
    )
    assert "STARTED MOVING FABRIKAM-FIBER" in real


def test_a_rehearsal_continues_in_another_chat_as_the_console_says(
    aadbot: Aadbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, box: Sandbox
) -> None:
    """The emulator and the database both outlive the chat, so the approval of the next chat holds, and
    `:connect` clicks Connect in that emulator."""
    kept = {"AADBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'rehearsal.db'}", "AADBOT_SANDBOX_URL": box.url}
    _chat(aadbot, monkeypatch, ["start fabrikam-fiber fabrikam.com", "invite", "request-approval"], **kept)
    later = _chat(
        aadbot, monkeypatch, [":as lee@fabrikam.com", "approve 1", ":connect", "check-connection"], **kept
    )
    assert "✅ Approved by Lee. Lee connects it in the portal" in later
    assert "(portal: fabrikam-fiber connected to Fabrikam; the connection watch will notice)" in later
    assert "🎉 fabrikam-fiber is now connected to Fabrikam." in later
