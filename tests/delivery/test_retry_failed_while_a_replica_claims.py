"""*Retry failed* while a replica claims what it withdraws (rev80 1). Hana's list could not reach her and
Lee's decision ("your account is ...") waits to be sent: sending her list again withdraws that message, as
the list holds it. Replica A claims it meanwhile. Read unlocked, the retry's withdrawal then failed on the
message's version and the admin read that nothing was sent again (her list stayed failed), while A went on
to post the change without the list it changes. Locked, A's claim waits for the retry, then finds the
message withdrawn; and the lock leaves the migration's version as it was (fix156: a version moved failed
any step running meanwhile at its next heartbeat, `test_inviting_after_connecting`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import pytest
from sqlmodel import Session, select

from bot.delivery.settings import DeliverySettings
from storage import Database, Migration, OutboundMessage
from storage.outbox import enqueue
from storage.outbox_claims import _CLAIM, claim_due
from storage.outbox_threads import SUPERSEDED
from tests.delivery.test_cancel_while_notices_go import waits_for
from tests.workflows.fakes import FakeClock
from tests.workflows.outbox import queued
from tests.workflows.test_lists_given_again import (
    HANA,
    HANA_AT_WORK,
    fail_pending,
    notified,
    tracking,
    with_hana,
)
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages import relisting
from workflows.stages.list_messages import Withdrawn
from workflows.tracking import Retried, Tracking

__all__ = ["notified", "tracking", "with_hana"]
"""`test_lists_given_again`'s Hana, everyone's list queued; over both databases here."""

LEASE = DeliverySettings.unpaced().lease


def test_retry_failed_while_a_replica_claims_the_change_it_withdraws(
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_pending(database)  # the lists could not reach anyone
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    (decided,) = queued(database, "account_decided")

    claimed: list[OutboundMessage] = []
    replica_a = threading.Thread(
        target=lambda: claimed.extend(claim_due(database, worker="replica-a", now=clock.now, lease=LEASE))
    )
    withdrawn = relisting.withdrawn

    def while_withdrawing(messages: Sequence[OutboundMessage], kinds: AbstractSet[str]) -> Withdrawn:
        if replica_a.ident is None:  # the retry has read what it withdraws: A claims it meanwhile
            session = Session.object_session(messages[0])
            assert session is not None
            waits = waits_for(session.connection(), database)
            replica_a.start()
            # it either goes first or waits for the retry; nothing signals the wait, so look every 10 ms
            while replica_a.is_alive() and not waits():
                replica_a.join(0.01)
        return withdrawn(messages, kinds)

    monkeypatch.setattr(relisting, "withdrawn", while_withdrawing)

    version = _version(database)
    retried = tracking.retry_failed(None)

    replica_a.join()
    assert replica_a.ident is not None
    assert retried.lists >= 1  # her list among them, holding the decision
    assert _version(database) == version  # a step running meanwhile heartbeats on it
    assert decided.id not in {message.id for message in claimed}  # never posted without her list
    (withdrawn_decision,) = queued(database, "account_decided")
    assert withdrawn_decision.status == SUPERSEDED
    (her_list,) = [m for m in queued(database, "todo_list") if m.payload["email"] == HANA]
    assert her_list.status == "pending"
    assert her_list.payload["items"][0]["key"] == "sign-in-work-account"


def _version(database: Database) -> int:
    with database.session() as session:
        return session.exec(select(Migration)).one().version


@pytest.mark.backends("postgresql")  # row locks: on SQLite the file's write lock orders the two instead
def test_retry_failed_over_several_batches_does_not_deadlock_with_a_claim_batch(
    tracking: Tracking,
    notified: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The retry reads people so many at a time. Locking each batch's changes as it came to them, it locked
    Ann's change (the newer one) before Hana's; a claim batch holding Hana's and then claiming Ann's waited
    for the retry as the retry waited for it, and PostgreSQL aborted one of them. One query, lowest id first,
    as the batch goes: one of them waits for the other to end."""
    fail_pending(database)
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    (hanas,) = queued(database, "account_decided")
    lists = {message.payload["email"]: message.payload for message in queued(database, "todo_list")}
    ann = next(payload for email, payload in lists.items() if email != HANA)
    assert ann["affected_user_id"] < lists[HANA]["affected_user_id"]  # her batch goes first
    with database.session() as session:  # a change to Ann's list waits too, queued after Hana's
        anns = enqueue(
            session,
            idempotency_key="ann-changed",
            recipient=ann["email"],
            kind="account_decided",
            payload={**hanas.payload, "affected_user_id": ann["affected_user_id"], "email": ann["email"]},
            now=clock.now,
            migration_id=hanas.migration_id,
        )
        session.commit()
    assert hanas.id is not None and anns.id is not None and hanas.id < anns.id
    monkeypatch.setattr("storage.database.IN_LIST_AT_MOST", 1)
    claim = {"now": clock.now, "worker": "replica-a", "until": clock.now + LEASE}
    with database.engine.connect() as batch:
        holding = batch.begin()
        assert batch.execute(_CLAIM, claim | {"message_id": hanas.id}).rowcount == 1  # type: ignore[attr-defined]
        retried: list[Retried | BaseException] = []

        def retrying() -> None:
            try:
                retried.append(tracking.retry_failed(None))
            except BaseException as error:  # the deadlock's victim: the test says which
                retried.append(error)

        retry = threading.Thread(target=retrying)
        retry.start()
        waits = waits_for(batch, database)
        while retry.is_alive() and not waits():  # nothing signals the wait: look every 10 ms
            retry.join(0.01)
        batch.execute(_CLAIM, claim | {"message_id": anns.id})  # the batch goes on up the queue
        holding.commit()
    retry.join()
    assert retried == [Retried(lists=len(lists), news=0)]
    assert {message.status for message in queued(database, "account_decided")} == {SUPERSEDED}
