"""A password typed in a migration's Teams channel (walk38, rev78): Teams channels have no private messages,
so the note telling its sender to delete the message and change the password reaches their personal chat,
and neither the note nor anything else the bot posts repeats it. Over the sandbox's Teams emulation."""

from __future__ import annotations

from typing import Any

from tests.teams.conftest import ORGANIZATION, Teams, texts

CAROL, DANA = "carol@fabrikam.com", "dana@fabrikam.com"
PASSWORD = "Fabrikam2024!"


def _in_channel(entry: dict[str, Any]) -> bool:
    return bool(entry["conversation"]["conversationType"] == "channel")


def test_a_password_typed_in_the_channel_is_noted_in_the_sender_s_personal_chat(teams: Teams) -> None:
    assert teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")["status"] == 200
    before = len(teams.activities())
    assert teams.say(CAROL, f"my password is {PASSWORD} and it does not work")["status"] == 200
    teams.deliver_outbox()
    posted = teams.activities()[before:]
    noted = [entry for entry in posted if "everyone in the channel can read it" in texts(entry)]
    assert noted and not any(_in_channel(entry) for entry in noted)
    assert noted[0] in teams.personal(CAROL)
    assert PASSWORD not in "\n".join(texts(entry) for entry in posted)
