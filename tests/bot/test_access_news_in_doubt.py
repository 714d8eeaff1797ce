"""What Hana was told of her access before her list (`told_early`), where chat could not confirm that it
arrived (Teams: a timeout; Slack: a history it may not read): *Retry failed* sends it again, saying so, while
it is the newest she was told, still holds and her list has not gone out; never one that a newer one took
back, nor once the migration has ended. A copy queued again keeps the first copy's doubt until one is
confirmed (console surface, real sandbox and database)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.conversation.messages import SENT_AGAIN, Outgoing
from bot.delivery.outboxes import CollectingSender
from bot.delivery.sender import DeliveryFailed, Envelope, Receipt
from storage import OutboundMessage
from storage.outbox_sends import UNCONFIRMED
from storage.outbox_threads import SUPERSEDED
from tests.bot.conftest import ORG, Chat, notified, started, text_of
from tests.bot.test_closing import subscription_moved
from tests.bot.test_decisions import DANA, GUS, HANA, HANA_MEMBER, connect, dms_to
from tests.bot.test_unreached_given_an_account import fail
from workflows.errors import WorkflowError
from workflows.stages.announcing import ANNOUNCEMENT
from workflows.stages.list_messages import LOST_ACCESS_MESSAGE, TODO_LIST_MESSAGE
from workflows.stages.told_early import ACCESS_BACK_MESSAGE

QUEUED_AGAIN = (
    f"Queued again 1 message of someone's access of {ORG} that failed or may not have arrived; sending now."
)
NOTHING_TO_RETRY = f"No to-do list of {ORG} failed or is in doubt: there is nothing to retry."
CANCELLED = (
    f"The migration of {ORG} was cancelled, so nothing of it is sent again: whoever it may have reached was"
    " told it is called off, and that stands."
)


def _not_confirmed(chat: Chat, kind: str, *, newest: bool = False) -> None:
    """Hana's message of `kind` (the only one, or with `newest` the newest) recorded as its platform could
    not confirm it (`Receipt.unconfirmed`)."""
    with chat.runtime.database.session() as session:
        told = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == kind, OutboundMessage.payload["email"].as_string() == HANA)
            .order_by(OutboundMessage.id.desc())  # type: ignore[union-attr]
        ).all()
        assert newest or len(told) == 1, told
        assert told[0].status == "sent"
        told[0].error_code = UNCONFIRMED
        session.commit()


def _said(outgoing: list[Outgoing]) -> str:
    return " ".join(" ".join(message.message.summary for message in outgoing).split())


def _told_out_then_back(chat: Chat, *, doubted: str) -> None:
    """Told to get ready, then that she loses access, then that it no longer holds: `doubted` of those two
    not confirmed."""
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    chat.say(DANA, f"decide {HANA} no-access")
    if doubted == LOST_ACCESS_MESSAGE:
        _not_confirmed(chat, doubted)
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    if doubted == ACCESS_BACK_MESSAGE:
        _not_confirmed(chat, doubted)


def _retried_to_hana(chat: Chat) -> tuple[str, list[str]]:
    """Dana's *Retry failed*: its answer, and what reached Hana."""
    answer, *sent = chat.say(DANA, f"retry-failed {ORG}", in_dm=True)
    return _said([answer]), dms_to(chat.runtime.conversation.watch() + sent, HANA)


def test_you_keep_access_after_all_that_may_not_have_arrived_is_sent_again_once_saying_so(chat: Chat) -> None:
    """Before her list, nothing else says that the "you lose access" she read no longer holds; `progress`
    names her, as it names a list that may not have arrived."""
    _told_out_then_back(chat, doubted=ACCESS_BACK_MESSAGE)
    (report,) = chat.say(DANA, f"progress {ORG}", in_dm=True)
    assert report.message.summary == (
        f"Advance notice of {ORG}: 10 of 10 people reached; 1 message of someone's access may not have"
        " arrived"
    )
    assert (
        f"1 message telling someone of their access may have reached them or not: {HANA}. Chat did not"
        " confirm it, and no history can be read to check it, so it is not sent again on its own. *Retry"
        " failed* sends it again, saying it is sent again in case the first did not arrive."
    ) in [block.markdown for block in report.message.blocks if hasattr(block, "markdown")]
    assert [button.label for button in report.message.buttons] == ["Refresh", "Retry failed"]

    answer, again = _retried_to_hana(chat)
    assert answer == QUEUED_AGAIN
    (resent,) = again
    assert resent.startswith(f"{SENT_AGAIN} You keep access to {ORG} after all"), resent
    assert _retried_to_hana(chat) == (NOTHING_TO_RETRY, [])
    assert [button.label for button in chat.say(DANA, f"progress {ORG}", in_dm=True)[0].message.buttons] == [
        "Refresh"
    ]


@pytest.mark.parametrize("decided_since", [(), ("no-access", HANA_MEMBER)], ids=["listed", "out-and-back"])
def test_you_keep_access_after_all_is_never_sent_again_once_her_list_went_out(
    chat: Chat, decided_since: tuple[str, ...]
) -> None:
    """Her list, which gives her access, came after it and is newer, as is what a decision since told her
    (out of access, and back with her list): sent again, it would say that her list is still to come."""
    _told_out_then_back(chat, doubted=ACCESS_BACK_MESSAGE)
    connect(chat)
    chat.say(DANA, "notify")
    for decision in decided_since:
        chat.say(DANA, f"decide {HANA} {decision}")

    assert _retried_to_hana(chat) == (NOTHING_TO_RETRY, [])


def test_you_lose_access_that_may_not_have_arrived_is_never_sent_again_once_taken_back(chat: Chat) -> None:
    """Given her account back, she was told so (it may have reached her): "you lose access" again would
    contradict it."""
    _told_out_then_back(chat, doubted=LOST_ACCESS_MESSAGE)
    connect(chat)
    chat.say(DANA, "notify")

    assert _retried_to_hana(chat) == (NOTHING_TO_RETRY, [])


def test_news_the_plan_no_longer_says_is_never_sent_again(chat: Chat) -> None:
    """ "You lose access" in doubt is the newest news she has once "you keep access after all" was stopped
    before it went: the plan, which has her account, decides, not the news."""
    _told_out_then_back(chat, doubted=LOST_ACCESS_MESSAGE)
    with chat.runtime.database.session() as session:
        back = session.exec(select(OutboundMessage).where(OutboundMessage.kind == ACCESS_BACK_MESSAGE)).one()
        back.status = SUPERSEDED
        session.commit()

    assert _retried_to_hana(chat) == (NOTHING_TO_RETRY, [])


def test_news_in_doubt_that_newer_news_repeated_is_never_sent_again(chat: Chat) -> None:
    """Out, back and out again: the first "you lose access" may not have arrived, but the second did, and
    says it; the plan says it too, yet only the newest news counts."""
    _told_out_then_back(chat, doubted=LOST_ACCESS_MESSAGE)
    chat.say(DANA, f"decide {HANA} no-access")

    assert _retried_to_hana(chat) == (NOTHING_TO_RETRY, [])


def _lose_access_in_doubt_then_cancelled(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    chat.say(DANA, f"decide {HANA} no-access")
    _not_confirmed(chat, LOST_ACCESS_MESSAGE)
    chat.say(DANA, f"cancel {ORG}")
    chat.runtime.conversation.watch()  # Hana hears that the move is called off


def test_nothing_is_sent_again_once_the_migration_is_cancelled(chat: Chat) -> None:
    """Hana heard that the move is called off: "you lose access to it when it moves" would contradict it."""
    _lose_access_in_doubt_then_cancelled(chat)

    assert _retried_to_hana(chat) == (CANCELLED, [])


def test_a_cancel_after_retry_failed_read_the_migration_wins(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dana's *Retry failed* read the migration in progress just before Lee cancelled it."""
    started(chat)
    before = chat.runtime.service.status(ORG)
    _lose_access_in_doubt_then_cancelled(chat)
    monkeypatch.setattr(chat.runtime.service, "status", lambda *_, **__: before)

    with pytest.raises(WorkflowError) as refused:
        chat.runtime.tracking.retry_failed(ORG)
    assert str(refused.value) == CANCELLED
    assert dms_to(chat.runtime.conversation.watch(), HANA) == []


def test_you_lose_access_queued_again_and_then_taken_back_is_taken_back_in_words(chat: Chat) -> None:
    """Queued again, not sent yet, when Dana gives her account back: the first copy may have reached her,
    so she hears that it no longer holds, and the copy never goes."""
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    chat.say(DANA, f"decide {HANA} no-access")
    _not_confirmed(chat, LOST_ACCESS_MESSAGE)
    assert chat.runtime.tracking.retry_failed(ORG).news == 1  # queued, not sent

    told = _to_hana(chat.say(DANA, f"decide {HANA} {HANA_MEMBER}") + chat.runtime.conversation.watch())
    assert [message.split(". ")[0] for message in told] == [
        f"You keep access to {ORG} after all Hi Hana, I told you that you lose access to {ORG}"
    ]


def test_a_list_queued_again_and_then_withdrawn_is_said_to_no_longer_hold(chat: Chat) -> None:
    """Her list may not have arrived, and is queued again, not sent yet, when Dana decides that she loses
    access: the first copy may have reached her, so "you lose access" says the list no longer holds."""
    started(chat)
    chat.say(DANA, f"decide {HANA} {HANA_MEMBER}")
    connect(chat)
    chat.say(DANA, "notify")
    _not_confirmed(chat, TODO_LIST_MESSAGE)
    assert chat.runtime.tracking.retry_failed(ORG).lists == 1  # queued, not sent

    (told,) = dms_to(chat.say(DANA, f"decide {HANA} no-access") + chat.runtime.conversation.watch(), HANA)
    assert told.startswith(f"You no longer have access to {ORG} "), told
    assert "The to-do list I sent you no longer holds: nothing" in told, told


def test_a_list_sent_again_that_found_him_out_of_chat_is_said_so_when_he_is_decided_out(chat: Chat) -> None:
    """Gus's list may not have arrived; sent again, it found him on no chat surface: deciding him out, the
    admin reads that chat cannot tell him, whatever became of the first copy."""
    notified(chat)
    with chat.runtime.database.session() as session:
        (listed,) = _lists_to(chat, GUS)
        listed.error_code = UNCONFIRMED
        session.add(listed)
        session.commit()
    assert chat.runtime.tracking.retry_failed(ORG).lists == 1
    fail(chat, [listed], f"no Slack account with the email {GUS}")  # the copy sent again

    answer = " ".join(text_of(chat.say(DANA, f"decide {ORG} {GUS} no-access", in_dm=True)).split())
    assert (
        "Their to-do list is withdrawn. My message telling them they lose access waits to go out, but chat"
        " could not reach them with my last one, so it may never arrive: tell them another way"
    ) in answer, answer


def test_no_list_is_sent_again_once_the_migration_is_completed(chat: Chat) -> None:
    """Gus's list failed; Dana completed the migration anyway: its lists and reminders are over."""
    notified(chat)
    fail(chat, _lists_to(chat, GUS), f"no Slack account with the email {GUS}")
    subscription_moved(chat)
    chat.say(DANA, "check-billing")
    chat.say(DANA, f"complete {ORG} confirm")

    answer, *sent = chat.say(DANA, f"retry-failed {ORG}", in_dm=True)
    assert (_said([answer]), sent) == (
        f"The migration of {ORG} is completed, so nothing of it is sent again: its lists and reminders ended"
        " when it closed.",
        [],
    )
    assert [message.status for message in _lists_to(chat, GUS)] == ["failed"]


def _lists_to(chat: Chat, address: str) -> list[OutboundMessage]:
    with chat.runtime.database.session() as session:
        query = select(OutboundMessage).where(
            OutboundMessage.kind == TODO_LIST_MESSAGE, OutboundMessage.recipient == address
        )
        return list(session.exec(query).all())


@pytest.mark.parametrize("listed", [False, True], ids=["before-notify", "after-notify"])
def test_you_lose_access_awaiting_its_retry_never_goes_after_you_keep_access(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    """fix132 2: "you lose access" timed out on its way to Slack (it may have arrived: the next try looks
    first) and waits to be tried again when Dana gives Hana her account back, before her list or after it.
    Hana hears that she keeps access after all, and the older news is never sent after it, nor at all."""
    lost = _lost_access_timed_out(chat, monkeypatch, listed=listed)
    _kept_and_never_lost_again(chat, lost)


def test_you_lose_access_cut_short_mid_send_never_goes_after_you_keep_access(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fix132 2: the process sending "you lose access" was killed mid-send (it may have arrived); before
    another claims it, Dana gives Hana her account back. The send that was cut short cannot be stopped, but
    it is not tried again after "you keep access after all"."""
    lost = _lost_access_timed_out(chat, monkeypatch, listed=False)
    with chat.runtime.database.session() as session:
        cut_short = session.get(OutboundMessage, lost.id)
        assert cut_short is not None
        cut_short.in_flight, cut_short.claimed_by = True, "killed-worker"
        cut_short.claimed_until = cut_short.not_before = cut_short.created_at  # its lease ran out
        session.commit()
    _kept_and_never_lost_again(chat, lost)


def test_an_advance_notice_cut_short_mid_send_never_goes_after_you_lose_access(chat: Chat) -> None:
    """fix132 2: the process sending Hana's advance notice ("get ready") was killed mid-send; before another
    claims it, Dana decides that she loses access. The notice may have reached her, so she hears that she
    loses access, and "get ready" is never tried again after it."""
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    (notice,) = _news_to_hana(chat, ANNOUNCEMENT)
    with chat.runtime.database.session() as session:
        cut_short = session.get(OutboundMessage, notice.id)
        assert cut_short is not None
        cut_short.status, cut_short.in_flight, cut_short.claimed_by = "pending", True, "killed-worker"
        cut_short.claimed_until = cut_short.not_before = cut_short.created_at  # its lease ran out
        session.commit()

    told = _to_hana(chat.say(DANA, f"decide {HANA} no-access") + chat.runtime.conversation.watch())

    assert [message.split(" Hi ")[0] for message in told] == [f"You lose access to {ORG} when it moves"]
    assert [message.status for message in _news_to_hana(chat, ANNOUNCEMENT)] == [SUPERSEDED]


def _lost_access_timed_out(chat: Chat, monkeypatch: pytest.MonkeyPatch, *, listed: bool) -> OutboundMessage:
    """Announced (`listed`: then connected and notified), then Hana decided out of access: "you lose access"
    timed out on its way (the console's sender as Slack's would fail), and waits to be tried again."""
    started(chat)
    chat.say(DANA, f"announce {ORG} Friday 14:00 UTC")
    if listed:
        connect(chat)
        chat.say(DANA, "notify")
    collect = CollectingSender.send

    async def timing_out(sender: CollectingSender, envelope: Envelope) -> Receipt:
        if envelope.message.summary.startswith(("You lose access", "You no longer have access")):
            raise DeliveryFailed("connection_error", "Slack did not answer", maybe_delivered=True)
        return await collect(sender, envelope)

    monkeypatch.setattr(CollectingSender, "send", timing_out)
    assert _to_hana(chat.say(DANA, f"decide {HANA} no-access")) == []
    monkeypatch.setattr(CollectingSender, "send", collect)
    (lost,) = _news_to_hana(chat, LOST_ACCESS_MESSAGE)
    assert (lost.status, lost.uncertain, lost.attempts) == ("pending", True, 1)  # its retry is due later
    return lost


def _kept_and_never_lost_again(chat: Chat, lost: OutboundMessage) -> None:
    """Dana gives Hana her account back: she hears that she keeps access after all, and once `lost` would
    be due again, nothing more reaches her, as it is stopped."""
    told = _to_hana(chat.say(DANA, f"decide {HANA} {HANA_MEMBER}") + chat.runtime.conversation.watch())
    assert [message.split(". ")[0] for message in told] == [
        f"You keep access to {ORG} after all Hi Hana, I told you that you lose access to {ORG}"
    ]
    with chat.runtime.database.session() as session:  # its retry falls due
        waiting = session.get(OutboundMessage, lost.id)
        assert waiting is not None
        waiting.not_before = waiting.created_at
        session.commit()
    assert _to_hana(chat.runtime.conversation.watch()) == []
    assert [message.status for message in _news_to_hana(chat, LOST_ACCESS_MESSAGE)] == [SUPERSEDED]


def _to_hana(outgoing: list[Outgoing]) -> list[str]:
    """What went to Hana: at her own address, or (listed with her member account decided) at that account."""
    return dms_to(outgoing, HANA) + dms_to(outgoing, HANA_MEMBER)


def _news_to_hana(chat: Chat, kind: str) -> list[OutboundMessage]:
    with chat.runtime.database.session() as session:
        query = select(OutboundMessage).where(
            OutboundMessage.kind == kind, OutboundMessage.payload["email"].as_string() == HANA
        )
        return list(session.exec(query).all())
