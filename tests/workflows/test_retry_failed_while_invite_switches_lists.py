"""*Retry failed* clicked while invite, after connecting, switches the lists of those it invited (its last
transaction): both lock the migration before the lists, so one waits for the other, and the one that waited
acts on what the other left. Locked in the opposite order, PostgreSQL aborted one of them as a deadlock (the
admin read "Something went wrong", or invite was left in `inviting_after_connecting` with no list switched);
on SQLite invite's rewrite of a list the retry had queued again failed on its version; and a retry that read
the failed lists before waiting answered that nothing had failed while they all stayed failed (rev85)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from sqlmodel import Session

from storage import AffectedUser, Database, Migration, OutboundMessage
from tests.delivery.test_cancel_while_notices_go import waits_for
from tests.storage.databases import BOTH_BACKENDS
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from tests.workflows.test_inviting_after_connecting import _fail, found_connected
from tests.workflows.test_lists_given_again import HANA, HANA_AT_WORK, fail_pending, notified, with_hana
from workflows import tracking as tracking_module
from workflows.directory import Invitation
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages import late_invitees, resending
from workflows.stages.list_messages import INVITED_MESSAGE, LIST_MESSAGES, TODO_LIST_MESSAGE
from workflows.tracking import Retried, Tracking

__all__ = ["found_connected", "notified", "with_hana"]

pytestmark = BOTH_BACKENDS

_LOCK_SEEN_WITHIN = 1000
"""Looks, 10 ms apart, for the other thread to wait for a lock: nothing signals the wait."""


def _everyones_list_failed(service: MigrationService, database: Database, dana: Actor) -> int:
    """`notify` before invite: nobody's list reached them. How many lists failed."""
    service.notify(None, dana)
    lists = queued(database, TODO_LIST_MESSAGE)
    for message in lists:
        assert message.id is not None
        _fail(database, message.id)
    return len(lists)


def _until(waited: Callable[[], bool], still: Callable[[], bool] = lambda: True) -> None:
    """Look every 10 ms until another transaction `waited` for this one's lock, while it `still` can."""
    for _ in range(_LOCK_SEEN_WITHIN):
        if waited() or not still():
            return
        threading.Event().wait(0.01)


def _retry_clicked(
    service: MigrationService, database: Database, clock: FakeClock
) -> tuple[threading.Thread, list[Retried | BaseException]]:
    """*Retry failed* as an admin clicks it, in a thread for the test to start, and what it answers or
    raises (the deadlock's victim, a stale rewrite)."""
    tracking = Tracking(database, service, clock=clock)
    retried: list[Retried | BaseException] = []

    def retry() -> None:
        try:
            retried.append(tracking.retry_failed(None))
        except BaseException as error:
            retried.append(error)

    return threading.Thread(target=retry), retried


def _listed_with_the_invitation(database: Database) -> None:
    """Every whole list waits to be sent, and Bob's and Cy's open with accepting the invitation."""
    lists = queued(database, TODO_LIST_MESSAGE)
    assert {message.status for message in lists} == {"pending"}
    firsts = {message.payload["email"]: message.payload["items"][0]["key"] for message in lists}
    assert (firsts["bob@outlook.com"], firsts["cy@gmail.com"]) == ("accept-invitation", "accept-invitation")


def test_a_retry_clicked_while_invite_switches_the_lists_sends_them_with_the_invitation(
    found_connected: MigrationService,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = _everyones_list_failed(found_connected, database, dana)
    retry, retried = _retry_clicked(found_connected, database, clock)
    lists_told = late_invitees.lists_told

    def then_retry(session: Session, people: Sequence[AffectedUser]) -> Sequence[OutboundMessage]:
        told = lists_told(session, people)
        if retry.ident is None and told:  # invite holds Bob's and Cy's lists: an admin clicks *Retry failed*
            waits = waits_for(session.connection(), database)
            retry.start()
            _until(waits, retry.is_alive)
        return told

    monkeypatch.setattr(late_invitees, "lists_told", then_retry)
    result = found_connected.invite(None, dana)
    retry.join()

    assert result.status.state == "users_notified"
    # the retry waited for invite, then sent every list again as invite left it: with the invitation, which
    # their notices of the changed items no longer need to say
    assert retried == [Retried(lists=failed, news=0)]
    _listed_with_the_invitation(database)
    assert {message.status for message in queued(database, INVITED_MESSAGE)} == {"superseded"}


def test_invite_waits_for_a_retry_that_holds_the_migration_and_switches_the_lists_it_queued_again(
    found_connected: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = _everyones_list_failed(found_connected, database, dana)
    retry, retried = _retry_clicked(found_connected, database, clock)
    holds_the_migration = threading.Event()
    locked = tracking_module._locked

    def locked_until_invite_waits(session: Session, migration_id: int) -> Migration:
        row = locked(session, migration_id)
        waits = waits_for(session.connection(), database)
        holds_the_migration.set()
        _until(waits)
        return row

    invite_guest = microsoft.invite_guest

    def retried_meanwhile(tenant_id: str, **invitation: str) -> Invitation:
        if invitation["email"] == "cy@gmail.com":  # the last one: an admin clicks *Retry failed*
            retry.start()
            holds_the_migration.wait()
        return invite_guest(tenant_id, **invitation)

    monkeypatch.setattr(tracking_module, "_locked", locked_until_invite_waits)
    microsoft.invite_guest = retried_meanwhile  # type: ignore[method-assign]
    result = found_connected.invite(None, dana)
    retry.join()

    assert retried == [Retried(lists=failed, news=0)]
    # invite then found the lists waiting to be sent again, and wrote the invitation into them: no notice
    assert result.status.state == "users_notified"
    _listed_with_the_invitation(database)
    assert queued(database, INVITED_MESSAGE) == []


@pytest.mark.backends("postgresql")  # on SQLite the retry's write lock holds the sign-in off until it ends
def test_a_retry_a_sign_in_overtook_sends_the_lists_still_failed_and_not_hers_twice(
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sign-in watch sends her list again without locking the migration: the retry's commit fails on
    its version. Answering that nothing failed left everyone else's list failed."""
    fail_pending(database)  # not in chat: nobody signed in with their work account yet
    notified.decide_account(None, HANA, HANA_AT_WORK, lee)
    fail_pending(database)
    failed = [message for kind in sorted(LIST_MESSAGES) for message in queued(database, kind)]
    others = [message for message in failed if message.payload["email"] != HANA]
    assert {message.status for message in failed} == {"failed"} and others != failed
    clock.advance(hours=1)
    microsoft.sign_in("e-hana", clock.now)
    signed_in: list[bool] = []
    as_now = resending.as_now

    def signed_in_meanwhile(
        session: Session, messages: Sequence[OutboundMessage]
    ) -> Sequence[OutboundMessage]:
        if not signed_in:  # she signs in while the retry reads the failed lists: the watch sends hers
            signed_in.append(True)
            assert [check.verified for check in notified.check_due_sign_ins()] == [(HANA,)]
        return as_now(session, messages)

    monkeypatch.setattr(resending, "as_now", signed_in_meanwhile)
    retried = Tracking(database, notified, clock=clock).retry_failed(None)

    assert retried == Retried(lists=len(others), news=0)
    again = [message for kind in sorted(LIST_MESSAGES) for message in queued(database, kind)]
    assert "failed" not in {message.status for message in again}


@pytest.mark.backends("postgresql")  # on SQLite the retry's write lock holds every rival off until it ends
def test_a_retry_whose_failed_lists_keep_changing_says_nothing_was_queued_not_that_nothing_failed(
    found_connected: MigrationService,
    database: Database,
    clock: FakeClock,
    dana: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _everyones_list_failed(found_connected, database, dana)
    as_now = resending.as_now

    def changed_meanwhile(session: Session, messages: Sequence[OutboundMessage]) -> Sequence[OutboundMessage]:
        with database.session() as rival:  # each time, a list changes before the retry can queue it
            changed = rival.get_one(OutboundMessage, messages[0].id)
            changed.attempts += 1
            rival.commit()
        return as_now(session, messages)

    monkeypatch.setattr(resending, "as_now", changed_meanwhile)
    with pytest.raises(WorkflowError) as refused:
        Tracking(database, found_connected, clock=clock).retry_failed(None)

    assert str(refused.value) == (
        "Nothing of fabrikam was queued again: its failed messages kept changing while I queued them (someone"
        " who signs in gets their list again by themselves). Retry failed again in a moment: it sends"
        " whatever is still failed then."
    )
    assert {message.status for message in queued(database, TODO_LIST_MESSAGE)} == {"failed"}
