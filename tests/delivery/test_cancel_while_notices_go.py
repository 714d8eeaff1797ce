"""A `cancel` made while a replica is posting the advance notices just works (fix142). Replica A has claimed
the wave and has Hana's post open; while the cancel stops the notices, A begins posting someone else's.
On PostgreSQL the cancel read the notices unlocked, so A's begin made its rewrite of that notice fail on
the row's version, and Dana read that someone else "just finished" a step. Locked, A's begin waits for the
cancel, then finds the notice stopped and does not post it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text
from sqlmodel import Session

from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage
from storage.outbox_claims import _CLAIM, claim_due
from storage.outbox_sends import begin_send
from storage.outbox_threads import SUPERSEDED
from tests.storage.locks import waited_on
from tests.workflows.fakes import FakeClock
from tests.workflows.outbox import queued
from tests.workflows.test_lists_given_again import HANA, announced, with_hana
from workflows.notices import APPROVAL_PROMPT, CALLED_OFF
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages import closing
from workflows.stages.announcing import ANNOUNCEMENT

__all__ = ["announced", "with_hana"]
"""`test_lists_given_again`'s Hana, everyone's advance notice queued; over both databases here."""

LEASE = DeliverySettings.unpaced().lease


def waits_for(connection: Connection, database: Database) -> Callable[[], bool]:
    """Whether another connection waits for a lock `connection`'s transaction holds: on PostgreSQL a row
    lock of its backend; on SQLite the file's write lock, held from its first write to its commit."""
    if database.engine.dialect.name == "sqlite":
        holding = bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]
        return lambda: holding
    backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return lambda: waited_on(database, backend)


def test_a_cancel_while_a_replica_posts_the_notices_goes_through_and_stops_them(
    announced: MigrationService,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claim_due(database, worker="replica-a", now=clock.now, lease=LEASE, limit=100)
    notices = queued(database, ANNOUNCEMENT)
    (hanas,) = [message for message in notices if message.recipient == HANA]
    other = next(message for message in notices if message.recipient != HANA)
    assert hanas.id is not None and other.id is not None
    assert begin_send(database, hanas.id, worker="replica-a", now=clock.now, lease=LEASE)  # her post is open

    began: list[bool] = []
    replica_a = threading.Thread(
        target=lambda: began.append(
            begin_send(database, other.id or 0, worker="replica-a", now=clock.now, lease=LEASE)
        )
    )
    stop_sending = closing.stop_sending

    def while_stopping(message: OutboundMessage) -> bool:
        if replica_a.ident is None:  # the cancel has read the notices: A begins posting another's meanwhile
            session = Session.object_session(message)
            assert session is not None
            waits = waits_for(session.connection(), database)
            replica_a.start()
            # it either goes first or waits for the cancel; nothing signals the wait, so look every 10 ms
            while replica_a.is_alive() and not waits():
                replica_a.join(0.01)
        return stop_sending(message)

    monkeypatch.setattr(closing, "stop_sending", while_stopping)

    closed = announced.cancel(None, dana, "the budget moved").status

    replica_a.join()
    assert closed.state == "cancelled"
    assert began == [False]  # stopped before A could begin: never posted after "the move is off"
    stopped = {message.id: message for message in queued(database, ANNOUNCEMENT)}
    assert stopped[other.id].status == SUPERSEDED
    assert (stopped[hanas.id].status, stopped[hanas.id].in_flight) == (SUPERSEDED, True)
    assert HANA in {message.recipient for message in queued(database, CALLED_OFF)}


@pytest.mark.backends("postgresql")  # row locks: on SQLite the file's write lock orders the two instead
def test_a_cancel_voiding_a_pending_approval_does_not_deadlock_with_a_claim_batch(
    announced: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    """rev82: a cancel voiding a pending approval locked its prompt (queued after the notices, so a higher id)
    before it locked the notices; a claim batch holding a notice and then claiming the prompt waited for the
    cancel as the cancel waited for it, and PostgreSQL aborted the cancel. Now the cancel locks everything it
    may change first, lowest id first, as the batch does: one of them waits for the other to end."""
    announced.request_approval(None, dana)
    notice = queued(database, ANNOUNCEMENT)[0]
    (prompt, *_) = [message for message in queued(database, APPROVAL_PROMPT) if message.status == "pending"]
    assert notice.id is not None and prompt.id is not None and notice.id < prompt.id
    claim = {"now": clock.now, "worker": "replica-a", "until": clock.now + LEASE}
    with database.engine.connect() as batch:
        holding = batch.begin()
        assert batch.execute(_CLAIM, claim | {"message_id": notice.id}).rowcount == 1  # type: ignore[attr-defined]
        cancelled: list[BaseException | str] = []

        def cancelling() -> None:
            try:
                cancelled.append(announced.cancel(None, dana, "the budget moved").status.state)
            except BaseException as error:  # the deadlock's victim: the test says which
                cancelled.append(error)

        cancel = threading.Thread(target=cancelling)
        cancel.start()
        waits = waits_for(batch, database)
        while cancel.is_alive() and not waits():  # nothing signals the wait: look every 10 ms
            cancel.join(0.01)
        batch.execute(_CLAIM, claim | {"message_id": prompt.id})  # the batch goes on up the queue
        holding.commit()
    cancel.join()
    assert cancelled == ["cancelled"]
