"""Outbound messages: queued once, claimed by one worker at a time, retried, given up on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from storage import Database, Migration, OutboundMessage, outbox, outbox_claims
from storage.outbox import NewMessage, enqueue, enqueue_all
from storage.outbox_claims import claim_due
from storage.outbox_sends import mark_failed, mark_sent
from tests.storage.rows import NOW, add_migration
from tests.storage.statements import statements, verbs

LEASE = timedelta(minutes=1)


def _queue(database: Database, *keys: str) -> None:
    with database.session() as session:
        for key in keys:
            enqueue(
                session,
                idempotency_key=key,
                recipient=f"{key}@x.com",
                kind="todo_list",
                payload={"k": key},
                now=NOW,
            )
        session.commit()


def test_the_same_key_queues_one_message(database: Database) -> None:
    _queue(database, "a", "b")
    _queue(database, "a")
    with database.session() as session:
        assert sorted(m.idempotency_key for m in session.exec(select(OutboundMessage)).all()) == ["a", "b"]


def _new(key: str) -> NewMessage:
    return NewMessage(key, f"{key}@x.com", "todo_list", {"k": key})


def _stored(database: Database) -> dict[str, OutboundMessage]:
    with database.session() as session:
        return {m.idempotency_key: m for m in session.exec(select(OutboundMessage)).all()}


def test_a_batch_queues_each_key_once_and_returns_what_was_there_before(database: Database) -> None:
    _queue(database, "a")
    with database.session() as session:
        enqueue(session, idempotency_key="b", recipient="b@x.com", kind="todo_list", payload={}, now=NOW)
        queued = enqueue_all(session, [_new("a"), _new("b"), _new("c"), _new("c")], now=NOW)
        assert queued[0].id is not None and queued[0].payload == {"k": "a"}  # committed before: as it was
        assert queued[1].payload == {}  # queued earlier in this transaction
        assert queued[2] is queued[3] and queued[2].id is None  # twice in the batch: one message
        session.commit()
    stored = _stored(database)
    assert sorted(stored) == ["a", "b", "c"]
    new = stored["c"]
    assert (new.recipient, new.kind, new.payload, new.not_before) == ("c@x.com", "todo_list", {"k": "c"}, NOW)


def test_a_batch_rolled_back_queues_nothing(database: Database) -> None:
    with database.session() as session:
        enqueue_all(session, [_new("a"), _new("b")], now=NOW)
        session.rollback()
    assert _stored(database) == {}
    _queue(database, "a")
    assert sorted(_stored(database)) == ["a"]


def test_a_wave_is_looked_up_so_many_keys_at_a_time_and_inserted_together(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.database.IN_LIST_AT_MOST", 10)  # as thousands are to the real 500
    wave = 25
    _queue(database, "person-0")
    with database.session() as session, statements(database) as seen:
        queued = enqueue_all(session, [_new(f"person-{n}") for n in range(wave)], now=NOW)
        fresh = sum(message.id is None for message in queued)
        session.commit()
    assert fresh == wave - 1
    assert verbs(seen) == {"SELECT": 3, "INSERT": 1}  # a lookup per ten keys, not per key; one insert
    assert len(_stored(database)) == wave


def test_a_rivals_change_fails_the_callers_commit_not_the_lookup_of_a_key(database: Database) -> None:
    """The lookup writes none of the caller's changes: a rival's commit of the same row since must fail the
    caller's commit (`workflows.schedules.commit_quietly` tells it so), not the `enqueue` before it."""
    migration_id = add_migration(database)
    with database.session() as session:
        mine = session.get(Migration, migration_id)
        assert mine is not None
        mine.state = "blocked"
        with database.session() as rival:
            theirs = rival.get(Migration, migration_id)
            assert theirs is not None
            theirs.state = "connecting"
            rival.commit()
        message = enqueue(
            session, idempotency_key="a", recipient="a@x.com", kind="todo_list", payload={}, now=NOW
        )
        assert message.id is None
        with pytest.raises(StaleDataError):
            session.commit()
    assert _stored(database) == {}


def test_two_workers_never_claim_the_same_message(database: Database) -> None:
    _queue(database, "a", "b", "c")
    first = claim_due(database, worker="w1", now=NOW, lease=LEASE, limit=2)
    second = claim_due(database, worker="w2", now=NOW, lease=LEASE)
    assert [m.idempotency_key for m in first] == ["a", "b"]
    assert [m.idempotency_key for m in second] == ["c"]
    assert claim_due(database, worker="w3", now=NOW, lease=LEASE) == []


def test_a_message_someone_waits_for_is_claimed_before_a_wave_and_the_claims_lock_up_the_ids(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(database, "a", "b", "c")  # to-do lists: a wave's
    with database.session() as session:
        for key, kind in (
            ("prompt", "approval_prompt"),
            ("thanks", "sign_in_verified"),
            ("line", "chat_message"),
        ):
            enqueue(session, idempotency_key=key, recipient="lee@x.com", kind=kind, payload={}, now=NOW)
        session.commit()
    claimed_ids: list[int] = []
    execute = Session.execute

    def recorded(self: Session, statement: Any, params: Any = None, **options: Any) -> Any:
        if statement is outbox_claims._CLAIM:
            claimed_ids.append(params["message_id"])
        return execute(self, statement, params, **options)

    monkeypatch.setattr(Session, "execute", recorded)

    first = claim_due(database, worker="w1", now=NOW, lease=LEASE, limit=3)
    assert [m.idempotency_key for m in first] == ["prompt", "line", "a"]  # sent in this order
    assert claimed_ids == sorted(claimed_ids)  # locked lowest id first, as `lists_told` locks them
    rest = claim_due(database, worker="w2", now=NOW, lease=LEASE)
    assert [m.idempotency_key for m in rest] == ["b", "c", "thanks"]
    assert {m.idempotency_key: m.priority for m in first + rest} == {
        "prompt": outbox.URGENT,
        "line": outbox.URGENT,
        **dict.fromkeys(["a", "b", "c", "thanks"], outbox.BULK),
    }


def test_a_crashed_workers_lease_expires(database: Database) -> None:
    _queue(database, "a")
    [claimed] = claim_due(database, worker="w1", now=NOW, lease=LEASE)
    [reclaimed] = claim_due(database, worker="w2", now=NOW + LEASE * 2, lease=LEASE)
    assert reclaimed.id == claimed.id and reclaimed.attempts == 2
    assert claimed.id is not None
    assert not mark_sent(database, claimed.id, worker="w1", now=NOW)  # w1 lost it
    assert mark_sent(database, claimed.id, worker="w2", now=NOW)
    with database.session() as session:
        stored = session.get(OutboundMessage, claimed.id)
        assert stored is not None and (stored.status, stored.sent_at) == ("sent", NOW)
    assert claim_due(database, worker="w3", now=NOW + LEASE * 10, lease=LEASE) == []


def test_failures_are_retried_later_then_given_up(database: Database) -> None:
    _queue(database, "a")
    now = NOW
    for attempt in range(1, 4):
        [message] = claim_due(database, worker="w", now=now, lease=LEASE)
        assert message.id is not None and message.attempts == attempt
        assert mark_failed(
            database,
            message.id,
            worker="w",
            now=now,
            error="channel_not_found",
            retry_after=timedelta(minutes=5),
            max_attempts=3,
        ) == ("failed" if attempt == 3 else "pending")
        assert claim_due(database, worker="w", now=now + timedelta(minutes=1), lease=LEASE) == []
        now += timedelta(minutes=5)
    with database.session() as session:
        stored = session.exec(select(OutboundMessage)).one()
        assert (stored.status, stored.attempts, stored.last_error) == ("failed", 3, "channel_not_found")
