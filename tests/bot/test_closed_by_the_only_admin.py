"""The closed list of the admin who completed a migration, once Azure DevOps names no other admin of the
organization: their help desk to ask, never themselves."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Text
from bot.delivery.outboxes import InlineOutbox
from faq import default_answerer
from storage import Database
from tests.workflows.fakes import DANA, LEE, SUBSCRIPTION_ID, FakeClock, FakeMicrosoft, connect_and_notify
from workflows.directory import Subscription
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking


def test_the_admin_who_completed_it_alone_is_sent_to_their_help_desk(database: Database) -> None:
    microsoft, clock = FakeMicrosoft(), FakeClock()
    dana, lee = Actor(id="U-DANA", email=DANA, name="Dana"), Actor(id="U-LEE", email=LEE, name="Lee")
    service = MigrationService(database, microsoft, clock=clock)
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    tenant = service.status().tenant_id
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=tenant)  # moved
    assert service.complete(None, dana, confirmed=True).completed
    microsoft.org = replace(microsoft.org, administrators=(DANA,))  # Lee has left: Dana is its only admin
    clock.advance(days=1)  # past the admins' list as read at the approval
    tracking = Tracking(database, service, clock=clock)
    conversation = Conversation(
        service, default_answerer(), tracking=tracking, outbox=InlineOutbox(database, clock=clock)
    )
    (reply,) = conversation.command(dana, "todo", channel=None)
    assert [block.markdown for block in reply.message.blocks[1:2] if isinstance(block, Text)] == [
        "You closed the migration of fabrikam: no more reminders come, and nobody follows this list any more."
        " The open items below still apply to you. I know of no other admin of fabrikam: if you are stuck or"
        " unsure what still applies, ask your help desk (Organization settings > Permissions > Project"
        " Collection Administrators shows whether fabrikam has another admin)."
    ]
