"""What Hana was told of her access before her list (`told_early`), where chat could not confirm that it
arrived (Teams: a timeout; Slack: a history it may not read): *Retry failed* sends it again, saying so, while
it is the newest she was told and still holds, as it does when it failed; never one that a newer one took
back (console surface, real sandbox and database)."""

from __future__ import annotations

from sqlmodel import select

from bot.conversation.messages import SENT_AGAIN, Outgoing
from storage import OutboundMessage
from storage.outbox_sends import UNCONFIRMED
from tests.bot.conftest import ORG, Chat, started
from tests.bot.test_decisions import DANA, HANA, HANA_MEMBER, connect, dms_to
from workflows.stages.list_messages import LOST_ACCESS_MESSAGE
from workflows.stages.told_early import ACCESS_BACK_MESSAGE

QUEUED_AGAIN = f"Queued again 1 to-do list of {ORG} that failed or may not have arrived; sending now."
NOTHING_TO_RETRY = f"No to-do list of {ORG} failed or is in doubt: there is nothing to retry."


def _not_confirmed(chat: Chat, kind: str) -> None:
    """Hana's message of `kind` recorded as its platform could not confirm it (`Receipt.unconfirmed`)."""
    with chat.runtime.database.session() as session:
        told = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == kind, OutboundMessage.recipient == HANA)
        ).one()
        assert told.status == "sent"
        told.error_code = UNCONFIRMED
        session.commit()


def _said(outgoing: list[Outgoing]) -> str:
    return " ".join(" ".join(message.message.summary for message in outgoing).split())


def _decided_out_then_back(chat: Chat, *, doubted: str) -> None:
    """Told to get ready, then that she loses access, then that it no longer holds: `doubted` of those two
    not confirmed; then connected and notified."""
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    chat.say(DANA, f"decide {HANA} no-access")
    if doubted == LOST_ACCESS_MESSAGE:
        _not_confirmed(chat, doubted)
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    if doubted == ACCESS_BACK_MESSAGE:
        _not_confirmed(chat, doubted)
    connect(chat)
    chat.say(DANA, "notify")


def test_you_keep_access_after_all_that_may_not_have_arrived_is_sent_again_once_saying_so(chat: Chat) -> None:
    """Her list does not say that the "you lose access" she read no longer holds: only this message does."""
    _decided_out_then_back(chat, doubted=ACCESS_BACK_MESSAGE)

    retried = chat.say(DANA, f"retry-failed {ORG}", in_dm=True)
    assert _said(retried).startswith(QUEUED_AGAIN), _said(retried)
    (again,) = dms_to(chat.runtime.conversation.watch() + retried, HANA)
    assert again.startswith(f"{SENT_AGAIN} You keep access to {ORG} after all"), again
    assert _said(chat.say(DANA, f"retry-failed {ORG}", in_dm=True)) == NOTHING_TO_RETRY


def test_you_lose_access_that_may_not_have_arrived_is_never_sent_again_once_taken_back(chat: Chat) -> None:
    """Given her account back, she was told so (it may have reached her): "you lose access" again would
    contradict it."""
    _decided_out_then_back(chat, doubted=LOST_ACCESS_MESSAGE)

    retried = chat.say(DANA, f"retry-failed {ORG}", in_dm=True)
    assert _said(retried) == NOTHING_TO_RETRY
    assert dms_to(chat.runtime.conversation.watch() + retried, HANA) == []
