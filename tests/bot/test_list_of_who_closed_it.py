"""The closed list of the admin who completed a migration: the organization's other admins to ask, a few of
them by name however many there are, or, once Azure DevOps names no other admin, their help desk; never
themselves."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Text
from bot.delivery.outboxes import InlineOutbox
from faq import default_answerer
from storage import Database
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.fakes import DANA, LEE, SUBSCRIPTION_ID, FakeClock, FakeMicrosoft, connect_and_notify
from workflows.directory import Subscription
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY


def closed_by_dana(database: Database, admins: tuple[str, ...]) -> list[str]:
    """What Dana's `todo` says after she completed the migration, once `admins` are the organization's."""
    microsoft, clock = FakeMicrosoft(), FakeClock()
    dana, lee = Actor(id="U-DANA", email=DANA, name="Dana"), Actor(id="U-LEE", email=LEE, name="Lee")
    service = MigrationService(database, microsoft, clock=clock)
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    tenant = service.status().tenant_id
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=tenant)  # moved
    assert service.complete(None, dana, confirmed=True).completed
    microsoft.org = replace(microsoft.org, administrators=admins)
    clock.advance(days=1)  # past the admins' list as read at the approval
    tracking = Tracking(database, service, clock=clock)
    conversation = Conversation(
        service, default_answerer(), tracking=tracking, outbox=InlineOutbox(database, clock=clock)
    )
    (reply,) = conversation.command(dana, "todo", channel=None)
    return [block.markdown for block in reply.message.blocks[1:2] if isinstance(block, Text)]


@BOTH_BACKENDS
def test_the_admin_who_completed_it_alone_is_sent_to_their_help_desk(database: Database) -> None:
    assert closed_by_dana(database, (DANA,)) == [  # Lee has left: Dana is its only admin
        "You closed the migration of fabrikam: no more reminders come, and nobody follows this list any more."
        " The open items below still apply to you. I know of no other admin of fabrikam: if you are stuck or"
        " unsure what still applies, ask your help desk (Organization settings > Permissions > Project"
        " Collection Administrators shows whether fabrikam has another admin)."
    ]


def test_the_admin_who_completed_it_among_many_is_given_three_to_ask(database: Database) -> None:
    """rev48: every other admin was listed, as many as the organization has."""
    others = tuple(f"admin{number}@fabrikam.com" for number in range(1, 7))
    assert closed_by_dana(database, (DANA, *others)) == [
        "You closed the migration of fabrikam: no more reminders come, and nobody follows this list any more."
        " The open items below still apply to you. If you are stuck or unsure what still applies, ask another"
        " admin of fabrikam: admin1@fabrikam.com, admin2@fabrikam.com, admin3@fabrikam.com and 3 more."
    ]
