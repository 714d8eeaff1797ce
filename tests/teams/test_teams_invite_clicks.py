"""Two admins press *Invite missing users* on the channel's card one after the other (walk37 finding 10):
the channel reads how many were invited, naming nobody; the first admin reads who in their personal chat;
the second reads there who invited them a moment before, and when, not that nobody needed an invitation."""

from __future__ import annotations

from typing import Any

from tests.teams.conftest import ORGANIZATION, Teams, texts

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"


def _in_channel(entry: dict[str, Any]) -> bool:
    return bool(entry["conversation"]["conversationType"] == "channel")


def test_the_channel_hears_the_count_and_the_second_admin_who_invited_before(teams: Teams) -> None:
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    teams.deliver_outbox()
    summary = next(e for e in teams.activities() if _in_channel(e) and "Migration of" in texts(e))
    before = len(teams.activities())

    for admin in (LEE, DANA):
        assert teams.click(admin, summary["id"], "Invite missing users").json()["status"] == 200
        teams.deliver_outbox()

    said = teams.activities()[before:]
    counted = (
        f"📨 Invitations for {ORGANIZATION}, by Lee Admin: 2 invited. Who they are is for Lee Admin alone: I"
        " send it to them privately."
    )
    assert [(e["summary"], " ".join(texts(e).split())) for e in said if _in_channel(e)] == [
        (counted, f"{counted} {counted}")  # its notification's summary, and the card's one line
    ]
    lees = " ".join(texts(e) for e in said if e["conversation"]["user"] == LEE)
    assert "2 invited." in lees and "erin.eng@gmail.com" in lees
    (sent, _) = [e for e in teams.runtime.service.audit_trail(ORGANIZATION) if e.action == "invitations_sent"]
    danas = [texts(e) for e in said if e["conversation"]["user"] == DANA and e["op"] == "send"]
    assert [text.splitlines()[0] for text in danas] == [
        f"Nobody needs an invitation now: Lee Admin invited 2 people at {sent.at:%Y-%m-%d %H:%M} UTC."
    ]
