"""A whole migration in Teams, over real loopback HTTP with signed activities, through the sandbox's Teams."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlmodel import select

from storage import Reminder
from tests.teams.conftest import ORGANIZATION, Teams, latest_card, texts
from tests.teams.test_teams_reach import refresh_report

DANA, LEE, ANN, CAROL, IVAN, KIM = (
    f"{name}@fabrikam.com" for name in ("dana", "lee", "ann", "carol", "ivan", "kim")
)


def test_a_whole_migration_in_teams(teams: Teams) -> None:
    before = len(teams.activities())
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com")
    assert teams.deliver_outbox() == 1  # the summary, recorded with the check's result
    said = "\n".join(texts(entry) for entry in teams.activities()[before:])
    assert f"Dana Owner started moving {ORGANIZATION}" in said, said
    assert "admins" in teams.said(ANN, f"invite {ORGANIZATION}").lower()  # refused: not an admin

    plan = teams.said(DANA, f"plan {ORGANIZATION}")
    assert "**" in plan and "*" not in plan.replace("**", "")  # CommonMark bold, no Slack markup left
    assert "invit" in teams.said(DANA, f"invite {ORGANIZATION}").lower()

    before = len(teams.activities())
    teams.say(DANA, f"request-approval {ORGANIZATION}")
    assert teams.deliver_outbox() > 0  # the prompt's copies, recorded with the request
    # the prompt's copies; Lee's names card is a shared card too, and either may reach him first
    prompts = [e for e in teams.activities()[before:] if e["summary"].startswith("Approval #")]
    channel_prompt = next(e for e in prompts if e["conversation"]["conversationType"] == "channel")
    lee_prompt = next(e for e in prompts if e["conversation"]["user"] == LEE)
    card = latest_card(teams.activities(), channel_prompt["id"])
    assert "Approve" not in texts({"attachments": [card["body"]]})  # read-only for everyone...
    lee_id = next(
        u["id"] for u in teams.runtime.sandbox.state()["tenant"]["users"] if u["userPrincipalName"] == LEE
    )  # type: ignore[union-attr]
    assert card["refresh"]["userIds"] == [f"8:orgid:{lee_id}"]  # ...but the other admin, who sees the actions

    # Dana asked, so Teams never shows her the buttons; typed, the workflow refuses her too
    assert "Approve" not in texts({"attachments": [teams.view(DANA, channel_prompt["id"])]})
    approve = teams.action(lee_prompt["id"], "Approve", card=teams.view(LEE, lee_prompt["id"]))
    refused = httpx.post(
        f"{teams.url}/_sandbox/teams/invoke",
        json={"from": DANA, "replyToId": channel_prompt["id"], "action": approve},
        timeout=60,
    )
    assert refused.status_code == 409
    assert "another admin must approve" in teams.said(DANA, f"approve {approve['data']['value']}")

    clicked = teams.click(LEE, channel_prompt["id"], "Approve")
    assert clicked.status_code == 200 and clicked.json()["status"] == 200
    answer = clicked.json()["body"]
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Approved by Lee Admin" in texts({"attachments": [answer["value"]]})
    assert teams.deliver_outbox() > 0  # the decision on every copy, the portal steps, the announcement
    for prompt in prompts:  # every copy now says so
        assert "Approved by Lee Admin" in texts(
            {"attachments": [latest_card(teams.activities(), prompt["id"])]}
        )
    steps = [e for e in teams.personal(LEE) if "Connect directory" in texts(e)]
    assert steps, "the connector gets the portal steps in their personal chat"

    tenant_id = str(teams.runtime.sandbox.state()["tenant"]["id"])  # type: ignore[union-attr]
    httpx.post(
        f"{teams.url}/_sandbox/connect", json={"organization": ORGANIZATION, "tenantId": tenant_id}
    ).raise_for_status()
    before = len(teams.activities())
    teams.watch()
    assert teams.deliver_outbox() > 0  # "connected", recorded with the change
    noticed = [e for e in teams.activities()[before:] if e["conversation"]["conversationType"] == "channel"]
    assert any("connected" in texts(e).lower() for e in noticed), noticed

    teams.say(CAROL, "what happens to my pull requests?", channel=False)  # her Teams client: Tokyo
    teams.say(DANA, f"notify {ORGANIZATION}")
    assert teams.deliver_outbox() > 0
    with teams.runtime.database.session() as session:
        zones = {row.key: row.time_zone for row in session.exec(select(Reminder))}
    assert "Asia/Tokyo" in zones.values()  # reminders come in her working hours
    (todo,) = [e for e in teams.personal(CAROL) if "to-do list" in texts(e).lower()]
    assert not teams.personal(IVAN)  # Ivan blocked the bot
    # Azure DevOps knows Kim as kim@fabrikam-old.com; in Teams she is the directory account the plan maps
    (kims,) = [e for e in teams.personal(KIM) if "to-do list" in texts(e).lower()]
    assert "Recreate your personal access tokens" in teams.said(KIM, "todo", channel=False)
    ticked = teams.click(KIM, kims["id"], "Done").json()
    assert "2 of 3 open, 1 optional" in texts({"attachments": [ticked["body"]["value"]]})
    done = teams.click(CAROL, todo["id"], "Done")
    assert done.json()["status"] == 200
    assert (
        "✅" in texts({"attachments": [done.json()["body"]["value"]]})
        or "done" in texts({"attachments": [done.json()["body"]["value"]]}).lower()
    )

    answer_text = teams.said(CAROL, "do I keep my Visual Studio subscription?", channel=False)
    assert "Visual Studio" in answer_text

    refresh_report(teams)
    channel = [e for e in teams.activities() if e["conversation"]["conversationType"] == "channel"]
    assert any("Progress of" in texts(e) for e in channel)  # the live report, in place, ...
    # ... and every other post and update there: counts, no names but the admins' (the prerequisites name
    # the one who connects, `connector-member`)
    assert [address for address in _addresses_in(channel) if address not in (DANA, LEE)] == []


ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _addresses_in(activities: list[dict[str, Any]]) -> list[str]:
    """The email addresses these activities show (every version: a card updated in place is logged again),
    people's names being their addresses."""
    return [address for entry in activities for address in ADDRESS.findall(texts(entry))]
