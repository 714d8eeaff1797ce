"""With a copy of the approval prompt in the channel, each approver gets whom it affects by name in a message
of its own; once the approval is settled (decided, void, expired) that message says how, by whom and when,
and names nobody any more. One still waiting to be sent when it is settled never goes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.conversation.messages import DirectMessage, Outgoing
from sandbox import Sandbox
from storage import Approval, Database, OutboundMessage
from tests.bot.conftest import DANA, LEE, ORG, Chat, started, text_of
from tests.fakes.runtimes import runtime_on
from workflows import notices

NAMED = ("erin.eng@gmail.com", "frank.f@outlook.com", "gus@fabrikam.com", "hana@contoso.com")
"""Whom approval #1 affects (requested anyway: nobody invited), as Lee's message names them."""
HEADING = "WHO APPROVAL #1 AFFECTED: CONNECT FABRIKAM-FIBER"
NO_LONGER_NAMED = (
    "This message named them while the approval waited for a decision; it is settled, so it no longer does."
    " `plan fabrikam-fiber` here lists everyone."
)


def _lees_names(outgoing: list[Outgoing]) -> list[Outgoing]:
    return [
        message
        for message in outgoing
        if message.to == DirectMessage(LEE) and message.message.summary.startswith("Who approval #1 affect")
    ]


def _asked(chat: Chat) -> Outgoing:
    """Approval #1 requested in the channel: Lee's message naming whom it affects."""
    started(chat)
    (named,) = _lees_names(chat.say(DANA, "request-approval anyway"))
    assert all(address in text_of([named]) for address in NAMED)
    return named


def _settled(outgoing: list[Outgoing], named: Outgoing) -> str:
    """Lee's message, as the settling updates it in place (the same thread: no second message), as the
    console prints it (the heading in capitals), its lines joined."""
    (settled,) = _lees_names(outgoing)
    assert settled.updates == named.updates == "approval-people:1:lee@fabrikam.com"
    return " ".join(text_of([settled]).split())


def _when(chat: Chat, action: str) -> str:
    entry = next(e for e in reversed(chat.runtime.service.audit_trail(ORG)) if e.action == action)
    return f"{entry.at:%Y-%m-%d %H:%M} UTC"


def test_a_rejection_updates_the_approvers_names_to_who_rejected_when_and_why(chat: Chat) -> None:
    named = _asked(chat)
    rejected = chat.say(LEE, "reject 1 wait for release")
    assert _settled(rejected, named) == (
        f"{HEADING} 🚫 Rejected by Lee on {_when(chat, 'reject')}. Reason: wait for release {NO_LONGER_NAMED}"
    )


def test_an_approval_updates_the_approvers_names_to_who_approved_and_when(chat: Chat) -> None:
    named = _asked(chat)
    approved = chat.say(LEE, "approve 1")
    assert _settled(approved, named) == (
        f"{HEADING} ✅ Approved by Lee on {_when(chat, 'approve')}. Lee connects it in the portal:"
        " https://dev.azure.com/fabrikam-fiber > Organization settings > Microsoft Entra ID > Connect"
        " directory > Fabrikam > Connect. I watch the organization and confirm once it is connected."
        f" {NO_LONGER_NAMED}"
    )


def test_a_connection_outside_the_approval_voids_the_approvers_names(chat: Chat) -> None:
    named = _asked(chat)
    chat.portal_connect()
    assert _settled(chat.runtime.conversation.watch(), named) == (
        f"{HEADING} ⌛ Void on {_when(chat, 'void_approval')}. This request no longer holds: the organization"
        f" was connected in the portal meanwhile. {NO_LONGER_NAMED}"
    )


class _Later:
    """The real time, moved on by the test."""

    def __init__(self) -> None:
        self.moved = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.moved


@pytest.fixture
def later(sqlite_database: Database, box: Sandbox) -> Iterator[tuple[Chat, _Later]]:
    clock = _Later()
    runtime = runtime_on(box, sqlite_database, clock=clock)
    try:
        yield Chat(runtime, restores=False), clock
    finally:
        runtime.close()


def test_an_expiry_updates_the_approvers_names_to_say_it_expired(later: tuple[Chat, _Later]) -> None:
    chat, clock = later
    named = _asked(chat)
    with chat.runtime.database.session() as session:
        (expires_at,) = session.exec(select(Approval.expires_at)).all()
    clock.moved = timedelta(hours=25)
    expired = _settled(chat.runtime.conversation.watch(), named)
    assert expired == (
        f"{HEADING} ⌛ Expired. This approval request expired at {expires_at:%Y-%m-%d %H:%M} UTC; run"
        f" `request-approval` for a fresh one. {NO_LONGER_NAMED}"
    )


def test_names_still_waiting_to_go_when_the_approval_is_settled_never_go(chat: Chat) -> None:
    started(chat)
    dana, lee = chat.person(DANA), chat.person(LEE)
    service = chat.runtime.service
    service.request_approval(ORG, dana, anyway=True)  # queued, not delivered yet
    service.decide(1, lee, approve=False, reason="not now")

    with chat.runtime.database.session() as session:
        kinds = (notices.APPROVAL_PEOPLE, notices.PEOPLE_SETTLED)
        queued = session.exec(select(OutboundMessage).where(col(OutboundMessage.kind).in_(kinds))).all()
        assert [(row.kind, row.recipient, row.status) for row in queued] == [
            (notices.APPROVAL_PEOPLE, LEE, "superseded")
        ]
    delivered = chat.say(DANA, "status")
    assert _lees_names(delivered) == []


def test_settling_an_approval_reads_no_approvers_names_to_find_the_messages_it_updates(chat: Chat) -> None:
    """rev47 finding 5: settling approval #2 loaded every names message of the migration, each with whom it
    names, to keep the ones of approval #2 (matched by thread in Python). The thread is matched in SQL, and
    of each message only what settling it needs is read: the names stay in the database."""
    _asked(chat)
    chat.say(LEE, "reject 1 wait for release")
    chat.say(DANA, "request-approval anyway")
    loaded: list[str] = []

    def on_load(message: OutboundMessage, context: object) -> None:
        if message.kind == notices.APPROVAL_PEOPLE:
            loaded.append(message.idempotency_key)

    event.listen(OutboundMessage, "load", on_load)
    try:
        settled = chat.say(LEE, "reject 2 still not now")
    finally:
        event.remove(OutboundMessage, "load", on_load)
    assert loaded == []
    to_lee = [
        (message.message.summary, message.updates) for message in settled if message.to == DirectMessage(LEE)
    ]
    assert to_lee == [("Who approval #2 affected: 🚫 Rejected by Lee", "approval-people:2:lee@fabrikam.com")]
