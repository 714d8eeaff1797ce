"""*Retry failed* while a replica claims what it withdraws (rev80 1). Hana's list could not reach her and
Lee's decision ("your account is ...") waits to be sent: sending her list again withdraws that message, as
the list holds it. Replica A claims it meanwhile. Read unlocked, the retry's withdrawal then failed on the
message's version and the admin read that nothing was sent again (her list stayed failed), while A went on
to post the change without the list it changes. Locked, A's claim waits for the retry, then finds the
message withdrawn."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import pytest
from sqlmodel import Session

from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage
from storage.outbox_claims import claim_due
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
from workflows.tracking import Tracking

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

    retried = tracking.retry_failed(None)

    replica_a.join()
    assert replica_a.ident is not None
    assert retried.lists >= 1  # her list among them, holding the decision
    assert decided.id not in {message.id for message in claimed}  # never posted without her list
    (withdrawn_decision,) = queued(database, "account_decided")
    assert withdrawn_decision.status == SUPERSEDED
    (her_list,) = [m for m in queued(database, "todo_list") if m.payload["email"] == HANA]
    assert her_list.status == "pending"
    assert her_list.payload["items"][0]["key"] == "sign-in-work-account"
