"""A migration driven from its Teams channel names nobody there: Teams channels have no private messages, so
whatever is for the admin who asked alone (who the plan leaves out, who was invited, who the advance notice
missed, a refusal naming someone) reaches their personal chat, never the channel's threads, however short.
The admins, who act in the channel, are named there as they act; the people the migration moves are not."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import FABRIKAM
from tests.teams.conftest import ORGANIZATION, Teams, connect, texts

DANA, LEE, ANN = "dana@fabrikam.com", "lee@fabrikam.com", "ann@fabrikam.com"
ADMINS = {DANA, LEE}
GUS_ID = "57760fff-53cb-5566-bb31-94e36bc30121"


def _people_named() -> set[str]:
    """Every address and display name of the scenario's people other than the admins: who the migration
    moves, as Azure DevOps and the directory know them."""
    scenario = json.loads(FABRIKAM.read_text())
    names: set[str] = set()
    for entitlement in scenario["user_entitlements"]:
        user = entitlement["user"]
        if user["principalName"] not in ADMINS:
            names |= {user["principalName"], user["mailAddress"], user["displayName"]}
    for user in scenario["tenant"]["users"]:
        if user["userPrincipalName"] not in ADMINS:
            names |= {user["userPrincipalName"], user["mail"], user["displayName"], *user["otherMails"]}
    return names


def _in_channel(entry: dict[str, Any]) -> bool:
    return bool(entry["conversation"]["conversationType"] == "channel")


def _named(said: str) -> set[str]:
    said = " ".join(said.split()).casefold()
    return {name for name in _people_named() if name.casefold() in said}


def _summary(teams: Teams) -> dict[str, Any]:
    return next(e for e in reversed(teams.activities()) if _in_channel(e) and "Migration of" in texts(e))


def test_a_migration_walked_in_the_channel_names_its_people_only_in_the_askers_personal_chat(
    teams: Teams,
) -> None:
    clicks: list[str] = []  # what a click's answer shows beside its card in the channel

    def click(upn: str, card: dict[str, Any], title: str) -> None:
        answer = teams.click(upn, card["id"], title).json()
        assert answer["status"] == 200, answer
        body = answer["body"]
        clicks.append(json.dumps(body["value"]) if body else "")
        teams.deliver_outbox()

    def say(upn: str, words: str) -> None:
        assert teams.say(upn, words)["status"] == 200
        teams.deliver_outbox()

    say(DANA, f"start {ORGANIZATION} fabrikam.com")
    click(DANA, _summary(teams), "Users who may have left")
    say(DANA, f"plan {ORGANIZATION}")
    say(DANA, f"announce {ORGANIZATION} 2026-12-10")
    say(DANA, f"decide {ORGANIZATION} gus@fabrikam.com none")  # refused, naming Gus
    say(DANA, f"remove-users {ORGANIZATION} {GUS_ID} confirm")  # Gus has left
    say(ANN, f"invite {ORGANIZATION}")  # refused: Ann is no admin
    click(DANA, _summary(teams), "Invite missing users")
    say(DANA, f"request-approval {ORGANIZATION}")  # the notice missed the invitees
    prompt = next(e for e in teams.activities() if _in_channel(e) and e["summary"].startswith("Approval #1"))
    click(LEE, prompt, "Approve")
    connect(teams)
    teams.watch()
    teams.deliver_outbox()
    connected = next(e for e in reversed(teams.activities()) if _in_channel(e) and "🎉" in texts(e))
    click(DANA, connected, "Send users their to-do lists")
    for words in ("progress", "status", "check-connection", "recheck", "stale-users", "invite"):
        say(DANA, f"{words} {ORGANIZATION}")
    say(DANA, f"check-billing {ORGANIZATION}")

    channel = [texts(entry) for entry in teams.activities() if _in_channel(entry)]
    assert {name: said for said in channel + clicks for name in _named(said)} == {}
    personal = " ".join(" ".join(texts(entry) for entry in teams.personal(DANA)).split())
    for said in (
        "Not told: gus@fabrikam.com, whose only directory account is disabled",  # announce
        "none is not one of gus@fabrikam.com's accounts",  # decide, refused
        "Removed 1 user: gus@fabrikam.com.",
        "erin.eng@gmail.com result: sent",  # invited
        "Not reached by the advance notice of fabrikam-fiber, by name",  # request-approval
        "tell them another way, by email at these addresses: - erin.eng@gmail.com (invited, still to accept",
    ):
        assert said in personal
