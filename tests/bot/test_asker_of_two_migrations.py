"""Someone on the plan of one of two migrations in progress, asking by direct message before they have a
to-do list, is answered for the migration whose plan names them, not left without one."""

from __future__ import annotations

import pytest

from bot.conversation.handlers import Conversation
from bot.conversation.messages import Text
from bot.delivery.outboxes import InlineOutbox
from faq import AskerContext, default_answerer
from storage import Database
from tests.bot.conftest import text_of
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.fakes import DANA, FakeClock, FakeMicrosoft
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

BOB = Actor(id="U-BOB", email="bob@outlook.com", name="Bob")


@pytest.fixture
def conversation(database: Database) -> Conversation:
    """Fabrikam, which invited Bob, and then Contoso, whose organization has no Bob: both in progress."""
    return two_in_progress(database)


def two_in_progress(database: Database, *, contoso_read: bool = True) -> Conversation:
    """Fabrikam, which invited Bob, and then Contoso, whose organization has no Bob; unless `contoso_read`,
    Contoso's first check failed (Microsoft did not answer), so nobody knows its users yet."""
    microsoft, clock, dana = FakeMicrosoft(), FakeClock(), Actor(id="U-DANA", email=DANA, name="Dana")
    service = MigrationService(database, microsoft, clock=clock)
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    microsoft.org = microsoft.org.__class__(name="contoso", owner=DANA)
    microsoft.users = [user for user in microsoft.users if user.id != "e-bob"]
    if not contoso_read:
        microsoft.broken.add("snapshot")
    service.start("contoso", "fabrikam.com", dana)
    assert service.organizations() == ["contoso", "fabrikam"]
    assert (service.status("contoso").state, service.status("contoso").plan_fingerprint is None) == (
        ("planned", False) if contoso_read else ("failed", True)
    )
    tracking = Tracking(database, service, clock=clock)
    return Conversation(
        service, default_answerer(), tracking=tracking, outbox=InlineOutbox(database, clock=clock)
    )


def test_his_invitation_question_is_answered_for_the_migration_that_invited_him(
    conversation: Conversation,
) -> None:
    reply = " ".join(
        text_of(conversation.command(BOB, "I never got the invitation email", channel=None)).split()
    )
    assert "Your invitation was sent on" in reply and "to bob@outlook.com" in reply


def test_someone_on_neither_plan_gets_the_answer_for_nobody_in_particular(conversation: Conversation) -> None:
    zoe = Actor(id="U-ZOE", email="zoe@contoso.com", name="Zoe")
    reply = text_of(conversation.command(zoe, "I never got the invitation email", channel=None))
    assert "Your invitation was sent" not in reply


def test_someone_on_neither_plan_asking_what_happens_to_them_hears_so(conversation: Conversation) -> None:
    """It got the lock-out advice for whoever clicks Connect ("will I lose access?") or "I don't know"."""
    zoe = Actor(id="U-ZOE", email="zoe@contoso.com", name="Zoe")
    for question in ("will I lose access?", "what happens to me?", "am I affected?"):
        answer = conversation.command(zoe, question, channel=None)[0].message.blocks[0]
        assert isinstance(answer, Text) and answer.markdown.splitlines()[:3] == [
            "What is happening for you",
            "Several Azure DevOps organizations are moving to the company directory, Microsoft Entra ID"
            " (formerly Azure Active Directory), and I do not see you among the users of any of them.",
            "Most likely you are not a user of any of them, or no longer (the admins may have removed you,"
            " for example as inactive): then the move changes nothing for you. Or you sign in to Azure DevOps"
            " with another address than the one I know you by here: then the move may concern you under that"
            " address, and an admin can tell you how.",
        ], question
    bob = conversation.command(BOB, "will I lose access?", channel=None)[0].message.blocks[0]
    assert isinstance(bob, Text) and bob.markdown.splitlines()[2] == (
        "You keep access to fabrikam once you accept your invitation. Your work and history are kept."
    )


@BOTH_BACKENDS
def test_someone_off_the_plans_read_so_far_is_not_told_they_are_off_every_one(database: Database) -> None:
    """rev48: Contoso's users were never read (its first check failed), yet Zoe heard that she is not among
    the users of any migration; she may well be one of Contoso's."""
    conversation = two_in_progress(database, contoso_read=False)
    zoe = Actor(id="U-ZOE", email="zoe@contoso.com", name="Zoe")
    question = "will I lose access?"
    answer = conversation.command(zoe, question, channel=None)[0].message.blocks[0]
    # the answer for someone the bot knows nothing about: no word on migrations whose users it never read
    assert isinstance(answer, Text)
    assert answer.markdown == default_answerer().answer(question, AskerContext()).answer
