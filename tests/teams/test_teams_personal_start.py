"""Slack beside Teams in one `serve`: a migration started in a Teams personal chat has no channel, and its
messages still go through Teams, not Slack (`RoutingSender` reads the surface it was started on)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlmodel import select

from bot.conversation.messages import Channel, DirectMessage
from bot.delivery.sender import Envelope, Receipt
from bot.delivery.worker import OutboxWorker
from bot.routing import RoutingSender
from bot.runtime import utc_now
from storage import Migration
from tests.teams.conftest import ORGANIZATION, Teams, texts

DANA, LEE = "dana@fabrikam.com", "lee@fabrikam.com"


@dataclass
class SlackBeside:
    """Slack's sender in the same process: what was routed to it."""

    sent: list[DirectMessage | Channel] = field(default_factory=list)

    async def send(self, envelope: Envelope) -> Receipt:
        self.sent.append(envelope.to)
        return Receipt(f"slack/{envelope.key}")


def _deliver_beside_slack(teams: Teams, slack: SlackBeside) -> int:
    """The outbox drained as `serve` does with both surfaces configured."""

    async def drain() -> int:
        surface = teams.surface()
        try:
            senders = {"slack": slack, "teams": surface.sender}
            routing = RoutingSender(teams.runtime.database, senders)
            return await OutboxWorker(teams.runtime.database, routing, clock=utc_now).drain()
        finally:
            await surface.aclose()

    return asyncio.run(drain())


def test_a_migration_started_in_a_teams_personal_chat_is_delivered_through_teams_beside_slack(
    teams: Teams,
) -> None:
    slack = SlackBeside()
    teams.say(DANA, f"start {ORGANIZATION} fabrikam.com", channel=False)
    teams.say(DANA, f"invite {ORGANIZATION}", channel=False)
    teams.say(DANA, f"request-approval {ORGANIZATION}", channel=False)

    delivered = _deliver_beside_slack(teams, slack)

    assert slack.sent == []
    # the start's summary to its starter (no channel to tell), and the approval prompt to the other admin
    summary = [e for e in teams.personal(DANA) if f"started moving {ORGANIZATION}" in texts(e)]
    prompt = [e for e in teams.personal(LEE) if str(e.get("summary")).startswith("Approval #")]
    assert summary and prompt and delivered >= 2
    with teams.runtime.database.session() as session:
        assert session.exec(select(Migration.channel_id, Migration.surface)).all() == [(None, "teams")]
