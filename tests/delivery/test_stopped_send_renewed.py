"""A stopped send that fails lets go of its claim even when the heartbeat renewed it meanwhile: the renewal
is a new version of the row, and `mark_failed` committing the row it had read raised StaleDataError (a
traceback, the worker's batch stopped) and left the claim held, so the newer news that waits for the send to
end waited for the lease to run out instead (rev79 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from bot.delivery.settings import DeliverySettings
from storage import Database, OutboundMessage
from storage.outbox import NewMessage, enqueue_all
from storage.outbox_claims import claim_due, renew_claims
from storage.outbox_sends import begin_send, mark_failed
from tests.workflows.fakes import FakeClock
from workflows.stages.list_messages import may_have_reached, stop_sending

LEASE = DeliverySettings.unpaced().lease


def _renewed_once_read(
    database: Database, monkeypatch: pytest.MonkeyPatch, renew: Callable[[], None]
) -> None:
    """The next session `database` opens runs `renew` (on a session of its own) right after its first
    `get`: the heartbeat's renewal landing between `mark_failed`'s read and its commit."""
    opened = database.session

    def session() -> Session:
        monkeypatch.setattr(database, "session", opened)  # once: `renew` opens its own
        first = opened()
        read = first.get

        def get(*args: object, **kwargs: object) -> object:
            row = read(*args, **kwargs)  # type: ignore[call-overload]
            renew()
            return row

        monkeypatch.setattr(first, "get", get)
        return first

    monkeypatch.setattr(database, "session", session)


def test_a_stopped_send_fails_and_lets_go_though_the_heartbeat_renewed_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    with database.session() as session:
        enqueue_all(session, [NewMessage("lost", "hana@x.com", "access_lost", {})], now=clock.now)
        session.commit()
    (message,) = claim_due(database, worker="a", now=clock.now, lease=LEASE)
    assert message.id is not None
    assert begin_send(database, message.id, worker="a", now=clock.now, lease=LEASE)
    with database.session() as session:  # as a decision stops it
        stopped = session.get(OutboundMessage, message.id)
        assert stopped is not None and stop_sending(stopped)
        session.commit()
    clock.advance(seconds=1)

    def heartbeat() -> None:
        assert renew_claims(database, [message.id], worker="a", now=clock.now, lease=LEASE) == {message.id}

    _renewed_once_read(database, monkeypatch, heartbeat)
    left = mark_failed(
        database,
        message.id,
        worker="a",
        now=clock.now,
        error="timeout",
        retry_after=LEASE,
        maybe_delivered=True,
    )

    assert left is None  # never tried again: it may have reached her
    with database.session() as session:
        ended = session.get(OutboundMessage, message.id)
        assert ended is not None
        assert (may_have_reached(ended), ended.claimed_by, ended.claimed_until) == (True, None, None)
