"""The admins' replies count the to-do lists they queue as people read a count: one list, or many."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.conversation.messages import Text
from sandbox import Sandbox, parse_scenario
from storage import OutboundMessage
from tests.bot.conftest import DANA, ORG, Chat, connected, text_of


@pytest.fixture
def dana_alone(chat: Chat, box: Sandbox, fabrikam: dict[str, Any]) -> Chat:
    """Dana's migration, connected, with her alone in the organization."""
    fabrikam["user_entitlements"] = [
        entitlement
        for entitlement in fabrikam["user_entitlements"]
        if entitlement["user"]["principalName"] == DANA
    ]
    box.reset(parse_scenario(fabrikam))
    connected(chat)
    return chat


def test_notify_of_one_person_queues_one_to_do_list(dana_alone: Chat) -> None:
    (report,) = [message for message in dana_alone.say(DANA, "notify") if message.updates]
    assert report.message.summary == "Queued 1, sending"
    assert report.message.blocks[1] == Text(  # after the heading
        f"Queued 1 to-do list for {ORG}, sending now. This message shows the progress; `progress` gives the"
        " details."
    )


def test_retry_failed_of_one_list_queues_one_to_do_list_again(dana_alone: Chat) -> None:
    dana_alone.say(DANA, "notify")
    with dana_alone.runtime.database.session() as session:
        (sent,) = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")).all()
        sent.status, sent.error_code = "failed", "channel_not_found"
        session.commit()
    (retried, _list) = dana_alone.say(DANA, "retry-failed")
    assert text_of([retried]).strip() == (
        f"Queued again 1 to-do list of {ORG} that failed or may not have arrived; sending now."
    )


def test_retry_failed_with_every_list_sent_says_there_is_nothing_to_retry(dana_alone: Chat) -> None:
    dana_alone.say(DANA, "notify")
    (answer,) = dana_alone.say(DANA, "retry-failed")
    assert text_of([answer]).strip() == (
        f"No to-do list of {ORG} failed or is in doubt: there is nothing to retry."
    )
