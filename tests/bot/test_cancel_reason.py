"""`cancel [ORG] [REASON]` with the organization left out (walk 33, finding 11): with one migration in
progress the words are its reason, asked back with a button before anything ends; with several, or a
first word close to a migration's name, nothing is cancelled and the reply says how to write it."""

from __future__ import annotations

import pytest

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Heading, Text
from bot.delivery.outboxes import InlineOutbox
from faq import default_answerer
from storage import Database
from tests.bot.conftest import DANA, ORG, Chat, started, text_of
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY


def test_with_one_migration_the_words_after_cancel_are_its_reason_asked_back_first(chat: Chat) -> None:
    started(chat)
    asked = chat.say(DANA, "cancel changed our mind")
    assert chat.state() == "planned"
    (button,) = asked[0].message.buttons
    assert (button.action, button.value) == ("cancel", f"{ORG} changed our mind")
    (heading, text, _) = asked[0].message.blocks
    assert heading == Heading(f"Cancel the migration of {ORG}?")
    assert isinstance(text, Text) and text.markdown == (
        "`changed` is not a migration I know, so I read “changed our mind”"
        f" as the reason for cancelling {ORG}, the only migration in progress. It is planned. Cancelling"
        " ends it for good: everyone who was told about the move, or invited for it, hears that it is off,"
        " and whoever holds the portal steps is told not to connect. To name the migration yourself, say"
        f" `cancel {ORG} REASON`."
    )

    cancelled = chat.click(DANA, asked, "Cancel migration")
    assert chat.state() == "cancelled"
    assert [m.message.summary for m in cancelled] == [
        f"Dana cancelled the migration of {ORG}: changed our mind. Nothing more happens."
    ]


def test_a_first_word_close_to_the_migrations_name_is_a_typo_not_a_reason(chat: Chat) -> None:
    started(chat)
    reply = text_of(chat.say(DANA, "cancel fabrikam-fibre budget freeze"))
    assert " ".join(reply.split()) == (
        "I know no migration called `fabrikam-fibre`, so I cancelled nothing."
        f" Did you mean `cancel {ORG} budget freeze`?"
    )
    assert chat.state() == "planned"


@pytest.fixture
def two_in_progress(database: Database) -> tuple[Conversation, MigrationService]:
    microsoft, clock = FakeMicrosoft(), FakeClock()
    service = MigrationService(database, microsoft, clock=clock)
    dana = Actor(id="U-DANA", email=DANA, name="Dana")
    service.start("fabrikam", "fabrikam.com", dana)
    microsoft.org = microsoft.org.__class__(name="contoso", owner=DANA)
    service.start("contoso", "fabrikam.com", dana)
    tracking = Tracking(database, service, clock=clock)
    outbox = InlineOutbox(database, clock=clock)
    return Conversation(service, default_answerer(), tracking=tracking, outbox=outbox), service


def test_with_two_migrations_a_reason_alone_cancels_nothing_and_says_how_to_write_it(
    two_in_progress: tuple[Conversation, MigrationService],
) -> None:
    conversation, service = two_in_progress
    dana = Actor(id="U-DANA", email=DANA, name="Dana")
    reply = text_of(conversation.command(dana, "cancel changed our mind", channel=None))
    assert " ".join(reply.split()) == (
        "Several migrations are in progress (`contoso`, `fabrikam`), so I cancelled nothing: `changed` is"
        " none of them. Say `cancel ORG REASON`, e.g. `cancel contoso changed our mind`."
    )
    assert service.organizations() == ["contoso", "fabrikam"]
