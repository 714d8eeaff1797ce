"""After connecting, whoever has no directory account can still be invited as a B2B guest: once per
address, audited, permission checked, and always back in the connected step it began in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.conversation.messages import Text
from bot.delivery.render import envelope_of
from storage import AffectedUser, Database, OutboundMessage
from storage.outbox import NOT_IN_CHAT
from storage.outbox_claims import renew_claims
from storage.outbox_sends import begin_send
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.locks import waited_on
from tests.storage.statements import statements
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft, ProcessKilled
from tests.workflows.outbox import queued, tells_how_to_keep_benefits_as
from workflows._views import item_payload
from workflows.directory import DirectoryUser, Invitation, OrgUser
from workflows.errors import WorkflowError
from workflows.mapping import map_by_hand
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.stages.list_messages import INVITED_MESSAGE
from workflows.tracking import Retried, Tracking

pytestmark = SQLITE_ONLY


@pytest.fixture
def found_connected(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> MigrationService:
    """Someone clicked Connect before the bot was asked: Bob and Cy have no directory account."""
    microsoft.connect(microsoft.tenant_info.id)
    assert service.start("fabrikam", "fabrikam.com", dana).state == "connected"
    return service


def _moves(service: MigrationService) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.state_before, e.state_after) for e in service.audit_trail() if e.action != "start"]


def test_invite_after_connecting_invites_once_and_stays_connected(
    found_connected: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    texts: list[str] = []
    invite_guest = microsoft.invite_guest

    def recording(tenant_id: str, **invitation: str) -> Invitation:
        texts.append(invitation["message"])
        return invite_guest(tenant_id, **invitation)

    microsoft.invite_guest = recording  # type: ignore[method-assign]
    result = found_connected.invite(None, dana)
    assert (
        texts
        == [
            "fabrikam now signs in to Azure DevOps with Fabrikam accounts. Accept this invitation to get your"
            " access back."
        ]
        * 2
    )
    assert result.status.state == "connected" and not result.denied
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]
    assert result.message.startswith("2 invited.")
    assert "once they accept it and sign in with that address, they are back in" in result.message
    assert "`notify` gives them that step on their to-do lists" in result.message
    assert f"to keep it, {map_by_hand('them', 'the guest account')}." in result.message
    assert result.status.next_commands == ("notify", "invite")

    again = found_connected.invite(None, lee)  # safe to repeat: the guests are in the directory now
    assert again.outcomes == ()
    assert again.message == "Nobody needs an invitation now: Dana invited 2 people at 2026-11-02 09:00 UTC."
    assert len(microsoft.invitations) == 2
    assert (
        _moves(found_connected)[2:]
        == [  # after check and found_connected
            ("invite", "connected", "inviting_after_connecting"),
            ("invitations_sent", "inviting_after_connecting", "connected"),
        ]
        * 2
    )
    with pytest.raises(WorkflowError, match=r"What you can do next: `notify`, `invite`\."):
        found_connected.cancel(None, dana)

    notified = found_connected.notify(None, dana)
    bob = next(user for user in notified.users if user.email == "bob@outlook.com")
    assert bob.items[0].key == "accept-invitation"
    assert "sign in to https://dev.azure.com/fabrikam with that same address" in bob.items[0].body
    assert "accepting gets your access back" in bob.items[0].body
    assert (
        "admins can map it to your guest account bob@outlook.com (Organization settings > Microsoft Entra ID"
        in bob.items[0].body
    )
    assert "Without it you lose access" not in bob.items[0].body


def test_someone_given_a_directory_account_after_connecting_is_told_to_sign_in_with_it(
    found_connected: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    microsoft.add_directory_user("bob@outlook.com", user_type="Guest")  # added in the portal meanwhile
    notified = found_connected.notify(None, dana)
    bob = next(user for user in notified.users if user.email == "bob@outlook.com")
    cy = next(user for user in notified.users if user.email == "cy@gmail.com")
    assert [item.key for item in bob.items][:1] + [item.key for item in cy.items][:1] == [
        "sign-in-work-account",
        "ask-for-access",
    ]
    assert "recreate-pats" in [item.key for item in bob.items]
    assert (
        "admins can map it to bob@outlook.com (Organization settings > Microsoft Entra ID > Resolve"
        in bob.items[0].body
    )
    with database.session() as session:
        lists = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")).all()
    (told,) = [message for message in lists if message.recipient == "bob@outlook.com"]
    assert not any("identity carries over" in note for note in told.payload["notes"])
    found_connected.invite(None, dana)  # only Cy is still without an account
    assert microsoft.invitations == ["cy@gmail.com"]


def _lists_sent(database: Database) -> None:
    with database.session() as session:
        for message in session.exec(select(OutboundMessage)).all():
            message.status = "sent"
        session.commit()


def test_an_invitee_already_told_to_ask_for_access_is_told_to_accept_instead(
    found_connected: MigrationService, database: Database, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    _lists_sent(database)
    bob = found_connected.todo_list("bob@outlook.com")
    (asking,) = [item for item in bob if item.key == "ask-for-access"]

    result = found_connected.invite(None, dana)
    assert result.status.state == "users_notified"
    assert (
        "I changed 2 to-do lists to say what each now needs; my message telling them is on its way."
        in result.message
    )
    first = found_connected.todo_list("bob@outlook.com")[0]
    assert (first.id, first.key, first.done_at) == (asking.id, "accept-invitation", None)
    assert (
        'Microsoft sent an invitation email from "Microsoft Invitations on behalf of" the company to'
        " bob@outlook.com"
    ) in first.body
    found_connected.invite(None, dana)  # nothing new to tell anyone
    with database.session() as session:
        told = session.exec(select(OutboundMessage).where(OutboundMessage.kind == INVITED_MESSAGE)).all()
    assert sorted(message.recipient for message in told) == ["bob@outlook.com", "cy@gmail.com"]
    assert told[0].payload["items"][0]["key"] == "accept-invitation"


@BOTH_BACKENDS
def test_the_lists_and_messages_of_every_invitee_after_connecting_are_read_in_one_query_each(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    microsoft.users += [
        OrgUser(id=f"e-{name}", principal_name=name) for name in ("dee@yahoo.com", "eve@aol.com")
    ]
    microsoft.connect(microsoft.tenant_info.id)
    service.start("fabrikam", "fabrikam.com", dana)
    service.notify(None, dana)

    with statements(database) as seen:
        result = service.invite(None, dana)

    assert "I changed 4 to-do lists to say what each now needs" in result.message
    reads = [
        statement for statement in seen if statement.startswith("SELECT") and "FROM todo_item" in statement
    ]
    assert len(reads) == 2  # who waits for an account, then all their lists: none per invitee (4 here)
    # which list has not reached them and whether they subscribe: one read of their messages, locked; then
    # one of an earlier cancel's messages telling any of them to ignore an invitation (`ignored_invitations`)
    their_messages = [statement for statement in seen if " FROM outbound_message WHERE " in statement]
    assert len(their_messages) == 2
    if database.engine.dialect.name == "postgresql":
        assert their_messages[0].endswith(" FOR UPDATE")


def _work_account_made_while_inviting(microsoft: FakeMicrosoft) -> None:
    """Cy gets a work account between the invite's reading of the directory and its look-up of her."""
    snapshot = microsoft.snapshot
    microsoft.snapshot = lambda *args, **kwargs: (  # type: ignore[method-assign]
        snapshot(*args, **kwargs),
        microsoft.directory.append(
            DirectoryUser(id="g-cy", user_principal_name="cy@fabrikam.com", mail="cy@gmail.com")
        ),
    )[0]


def test_someone_invite_finds_in_the_directory_after_the_lists_is_told_to_sign_in_with_that_account(
    found_connected: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    _lists_sent(database)
    cy = found_connected.todo_list("cy@gmail.com")
    asking = next(item for item in cy if item.key == "ask-for-access")
    _work_account_made_while_inviting(microsoft)
    result = found_connected.invite(None, dana)
    assert [o.status for o in result.outcomes if o.email == "cy@gmail.com"] == ["found"]
    assert (
        "I changed 2 to-do lists to say what each now needs; my message telling them is on its way."
        in result.message
    )
    now = found_connected.todo_list("cy@gmail.com")
    assert (now[0].id, now[0].key) == (asking.id, "sign-in-work-account")
    assert (
        "sign in as cy@fabrikam.com" in now[0].body
        and "admins can map it to cy@fabrikam.com (Organization settings > Microsoft Entra ID > Resolve"
        in now[0].body
    )
    assert [item.key for item in now].count("recreate-pats") == 1
    with database.session() as session:
        told = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.kind == INVITED_MESSAGE, OutboundMessage.recipient == "cy@fabrikam.com"
            )
        ).one()
    assert told.payload["invited"] is False
    assert [item["key"] for item in told.payload["items"]] == [
        "sign-in-work-account",
        "recreate-pats",
        "visual-studio-subscription",  # a subscriber whose sign-in moves from cy@gmail.com
    ]


def _messages_to(database: Database, address: str, status: str = "pending") -> list[OutboundMessage]:
    """The messages of a `status` to the person notified as `address`, oldest first."""
    with database.session() as session:
        messages = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
    whose = next(m.payload["affected_user_id"] for m in messages if m.payload.get("email") == address)
    return [m for m in messages if m.payload.get("affected_user_id") == whose and m.status == status]


def _her_list_once_invite_found_her_work_account(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> OutboundMessage:
    """Lists out, then an invite that finds Cy's work account: the one message waiting for her."""
    service.notify(None, dana)
    _work_account_made_while_inviting(microsoft)
    service.invite(None, dana)
    (her_list,) = _messages_to(database, "cy@gmail.com")
    return her_list


def test_an_invitation_before_his_list_went_out_is_on_that_list_and_in_no_message_after_it(
    found_connected: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    with database.session() as session:  # a worker has claimed the lists, and is about to send them
        for message in session.exec(select(OutboundMessage)).all():
            message.claimed_by, message.claimed_until = "worker-1", clock.now + timedelta(minutes=5)
        session.commit()
    result = found_connected.invite(None, dana)
    assert (
        "I changed 2 to-do lists to say what each now needs; my message telling them is on its way."
        in result.message
    )

    (his_list,) = _messages_to(database, "bob@outlook.com")
    assert his_list.kind == "todo_list" and his_list.id is not None
    now = found_connected.todo_list("bob@outlook.com")
    assert his_list.payload["items"] == [item_payload(entry) for entry in now]
    assert his_list.payload["items"][0]["key"] == "accept-invitation"
    # what the worker read of it is not his list any more: it must not send
    assert not begin_send(database, his_list.id, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))


def test_a_list_not_sent_yet_that_now_holds_the_invitation_no_longer_opens_with_the_wait_for_it(
    found_connected: MigrationService, database: Database, dana: Actor
) -> None:
    """His list said the admins must give him a way in; `invite` gave him one before it went out: it opens
    as any list does, not with a wait that is over."""
    found_connected.notify(None, dana)
    (his_list,) = _messages_to(database, "bob@outlook.com")
    assert _opening(his_list).startswith(f"{OPENS} Before you can sign in, the migration admins")
    found_connected.invite(None, dana)
    (his_list,) = _messages_to(database, "bob@outlook.com")
    assert his_list.payload["items"][0]["key"] == "accept-invitation"
    assert _opening(his_list) == f"{OPENS} Here is what *you* need to do; press Done as you go."


OPENS = "Hi Bob, fabrikam on Azure DevOps now uses Fabrikam accounts."


def _opening(message: OutboundMessage) -> str:
    """The words a whole list opens with, under its heading."""
    opening = envelope_of(message).message.blocks[1]
    assert isinstance(opening, Text)
    return opening.markdown


def test_a_list_that_holds_a_late_invitation_goes_where_the_message_it_replaces_would_have(
    found_connected: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    her_list = _her_list_once_invite_found_her_work_account(found_connected, microsoft, database, dana)
    # Cy reads chat as her new work account: her notify-time address is no account Teams knows
    assert her_list.kind == "todo_list"
    assert (her_list.recipient, her_list.payload["directory_id"]) == ("cy@fabrikam.com", "g-cy")
    # Bob's guest account is found by its object id: a guest's sign-in name is no address
    (his_list,) = _messages_to(database, "bob@outlook.com")
    with database.session() as session:
        bob = session.exec(select(AffectedUser).where(AffectedUser.email == "bob@outlook.com")).one()
    assert bob.directory_id is not None and his_list.payload["directory_id"] == bob.directory_id


@contextmanager
def _heartbeat_while_rewriting(database: Database, clock: FakeClock) -> Iterator[list[threading.Thread]]:
    """On the first item `invite` rewrites (its lists read by then), the worker holding the lists renews
    its claim on them from another connection: done, or waiting for `invite`'s transaction to end."""
    started: list[threading.Thread] = []

    def heartbeat() -> None:
        with database.session() as session:
            ids = [m.id for m in session.exec(select(OutboundMessage)).all() if m.id is not None]
        renew_claims(database, ids, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))

    def on_statement(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if started or not statement.startswith("UPDATE todo_item"):
            return
        started.append(threading.Thread(target=heartbeat))
        started[0].start()
        pid = connection.connection.dbapi_connection.info.backend_pid
        for _attempt in range(500):
            if not started[0].is_alive() or waited_on(database, pid):
                return
            time.sleep(0.01)

    event.listen(database.engine, "before_cursor_execute", on_statement)
    try:
        yield started
    finally:
        event.remove(database.engine, "before_cursor_execute", on_statement)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_renewing_its_claim_while_invite_rewrites_the_lists_neither_fails_it_nor_sends_them(
    found_connected: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    with database.session() as session:  # the worker sending the lists holds them
        for message in session.exec(select(OutboundMessage)).all():
            message.claimed_by, message.claimed_until = "worker-1", clock.now + timedelta(minutes=1)
        session.commit()

    with _heartbeat_while_rewriting(database, clock) as heartbeats:
        result = found_connected.invite(None, dana)
    heartbeats[0].join(timeout=10)

    assert result.status.state == "users_notified" and "I changed 2 to-do lists" in result.message
    (his_list,) = _messages_to(database, "bob@outlook.com")
    assert his_list.payload["items"][0]["key"] == "accept-invitation" and his_list.id is not None
    assert not begin_send(database, his_list.id, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))


@BOTH_BACKENDS
@pytest.mark.parametrize("her_list", ["failed", "failed while being sent"])
def test_a_list_sent_again_after_an_account_was_found_for_her_says_what_a_late_account_means(
    her_list: str,
    found_connected: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
) -> None:
    found_connected.notify(None, dana)
    (queued,) = _messages_to(database, "cy@gmail.com")
    assert queued.id is not None
    if her_list == "failed while being sent":  # too late to rewrite: a notice of the changed items follows
        with database.session() as session:
            claimed = session.get_one(OutboundMessage, queued.id)
            claimed.claimed_by, claimed.claimed_until = "worker-1", clock.now + timedelta(minutes=5)
            session.commit()
        assert begin_send(database, queued.id, worker="worker-1", now=clock.now, lease=timedelta(minutes=5))
    else:
        _fail(database, queued.id)
    _work_account_made_while_inviting(microsoft)
    found_connected.invite(None, dana)
    if her_list == "failed while being sent":
        _fail(database, queued.id)
    Tracking(database, found_connected, clock=clock).retry_failed(None)

    (heard,) = _messages_to(database, "cy@gmail.com")
    assert heard.kind == "todo_list"
    now = found_connected.todo_list("cy@gmail.com")
    assert heard.payload["items"] == [item_payload(entry) for entry in now]
    assert heard.payload["items"][0]["key"] == "sign-in-work-account"
    # not "you keep signing in as cy@gmail.com" (her subscription's benefits follow that address), nor "an
    # admin maps your old identity" (Connect did not carry it over: her items say what to do)
    assert heard.payload["notes"] == [
        "There is no downtime: your work items, repositories and history stay where they are."
    ]


def test_a_subscriber_given_a_work_account_after_connecting_is_told_how_to_keep_her_benefits(
    found_connected: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    her_list = _her_list_once_invite_found_her_work_account(found_connected, microsoft, database, dana)
    tells_how_to_keep_benefits_as("cy@fabrikam.com", her_list.payload["items"])


def test_a_list_queued_before_lists_kept_their_facts_still_tells_a_subscriber_her_benefits_carry_over(
    found_connected: MigrationService, database: Database, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    (queued,) = _messages_to(database, "cy@gmail.com")
    keeps_signing_in = (
        "Your Visual Studio subscription benefits carry over: you keep signing in as cy@gmail.com, so if the"
        " subscription is assigned to that address there is nothing to do."
    )
    assert keeps_signing_in in queued.payload["notes"]
    with database.session() as session:  # as the bot queued it before a list kept `facts`
        old = session.get_one(OutboundMessage, queued.id)
        old.payload = {key: value for key, value in old.payload.items() if key != "facts"}
        session.commit()
    found_connected.invite(None, dana)  # invited as cy@gmail.com: she still signs in with that address

    (her_list,) = _messages_to(database, "cy@gmail.com")
    assert her_list.payload["items"][0]["key"] == "accept-invitation"
    assert keeps_signing_in in her_list.payload["notes"]


def _fail(database: Database, message_id: int) -> None:
    """The worker could not reach her."""
    with database.session() as session:
        message = session.get_one(OutboundMessage, message_id)
        message.status, message.error_code, message.attempts = "failed", NOT_IN_CHAT, 1
        message.claimed_by = message.claimed_until = None
        message.in_flight = False
        session.commit()


@BOTH_BACKENDS
def test_retry_failed_clicked_while_invite_runs_lets_invite_finish(
    found_connected: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    dana: Actor,
) -> None:
    """*Retry failed* locks the migration while it reads what it withdraws, and leaves its version as it
    was: invite, which heartbeats on the version it read before each person, goes on with the next one.
    A retry that moved the version failed invite at Cy's heartbeat (fix156)."""
    found_connected.notify(None, dana)
    for message in queued(database, "todo_list"):
        assert message.id is not None
        _fail(database, message.id)  # nobody's list reached them
    tracking = Tracking(database, found_connected, clock=clock)
    retried: list[Retried] = []
    invite_guest = microsoft.invite_guest

    def retried_meanwhile(tenant_id: str, **invitation: str) -> Invitation:
        if not retried:  # an admin clicks *Retry failed* while Bob is invited, Cy next
            retried.append(tracking.retry_failed(None))
        return invite_guest(tenant_id, **invitation)

    microsoft.invite_guest = retried_meanwhile  # type: ignore[method-assign]
    result = found_connected.invite(None, dana)

    assert retried == [Retried(lists=len(queued(database, "todo_list")), news=0)]
    assert result.status.state == "users_notified" and not result.denied
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]
    assert {message.status for message in queued(database, "todo_list")} == {"pending"}


def test_progress_shows_the_invitation_notice_that_followed_a_delivered_list(
    found_connected: MigrationService, database: Database, clock: FakeClock, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    _lists_sent(database)
    found_connected.invite(None, dana)
    progress = Tracking(database, found_connected, clock=clock).progress(None)
    delivery = {user.email: user.delivery for user in progress.users}
    assert delivery["bob@outlook.com"] == "queued"  # told to accept the invitation: not yet delivered
    assert delivery["ann@fabrikam.com"] == "sent"


@BOTH_BACKENDS
def test_a_403_after_connecting_names_the_fix_and_invite_can_be_retried_without_a_cancel_path(
    found_connected: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    found_connected.notify(None, dana)
    microsoft.deny_invites = True
    refused = found_connected.invite(None, dana)
    assert refused.denied and refused.status.state == "users_notified"
    assert "refused to let dana@fabrikam.com invite guests (403 Forbidden)" in refused.message
    assert "External collaboration settings" in refused.message and "run `invite` again" in refused.message
    assert "cancel" not in refused.status.next_commands
    assert refused.status.blocked_reason is not None  # the status says why until the next `invite`

    microsoft.deny_invites = False
    retried = found_connected.invite(None, dana)
    assert not retried.denied and retried.status.state == "users_notified"
    assert retried.status.blocked_reason is None
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]


def test_invitations_the_directory_policy_forbids_are_not_even_tried(
    found_connected: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.allow_invites = "none"
    refused = found_connected.invite(None, dana)
    assert "invite_guest" not in microsoft.calls
    assert refused.denied and refused.status.state == "connected"
    assert refused.message.startswith(
        "2 users need a guest invitation, but the directory lets nobody invite guests,"
        " admins included (allowInvitesFrom: none). In the Microsoft Entra admin center open External"
        " Identities > External collaboration settings > Guest invite settings and choose 'Member users and"
        " users assigned to specific admin roles can invite'. Under 'No one in the organization can invite"
        " guest users' nobody can invite them, admins included, not even in the portal."
    )
    assert "then run `invite` again" in refused.message


@BOTH_BACKENDS
def test_an_outage_or_a_crash_after_connecting_comes_back_to_the_connected_step(
    found_connected: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
) -> None:
    microsoft.broken.add("snapshot")
    unread = found_connected.invite(None, dana)
    assert unread.status.state == "connected"
    assert unread.message.startswith("I could not read who needs an invitation, so nobody was invited:")
    assert unread.message.endswith(". Run `invite` again once the service answers; it looks again first.")
    microsoft.broken.clear()

    microsoft.kill_after_invitations = 1
    with pytest.raises(ProcessKilled):
        found_connected.invite(None, dana)
    microsoft.kill_after_invitations = None
    assert found_connected.status().state == "inviting_after_connecting"
    assert found_connected.status().next_commands == ("resume",)
    clock.advance(minutes=30)  # the lease of the killed step has run out
    resumed = make_service().resume(None, dana)
    assert resumed.state == "connected"
    assert sorted(microsoft.invitations) == ["bob@outlook.com", "cy@gmail.com"]  # nobody twice


def test_an_unexpected_error_after_connecting_goes_back_with_invite_as_the_retry(
    found_connected: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    microsoft.find_directory_user = broken  # type: ignore[assignment,method-assign]
    with pytest.raises(RuntimeError):
        found_connected.invite(None, dana)
    status = found_connected.status()
    assert status.state == "connected"
    assert status.blocked_fix is not None and status.blocked_fix.startswith("Run `invite` to try again")


def test_nobody_to_invite_after_an_interrupted_run_names_that_run_not_an_older_one(
    found_connected: MigrationService,
    database: Database,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    dana: Actor,
    lee: Actor,
) -> None:
    """rev73: the interrupted run recorded no `invitations_sent`, so Dana's earlier run was named as last."""
    found_connected.invite(None, dana)  # Bob and Cy, at 09:00
    joining = [
        OrgUser(id=f"e-{n}", principal_name=a, mail_address=a) for n, a in enumerate(("p0@x.com", "p1@x.com"))
    ]
    microsoft.users.extend(joining)
    clock.advance(hours=1)
    stopping = threading.Event()
    inviting = microsoft.invite_guest

    def then_stopping(tenant_id: str, **details: str) -> Invitation:
        stopping.set()  # SIGTERM while Microsoft answers the first
        return inviting(tenant_id, **details)

    microsoft.invite_guest = then_stopping  # type: ignore[method-assign]
    stopped = MigrationService(database, microsoft, clock=clock, stopping=stopping)
    assert stopped.invite(None, lee).message.startswith("The invitations were interrupted after 1 of 2")
    microsoft.users.remove(joining[1])  # the one left uninvited leaves the organization

    again = found_connected.invite(None, dana)

    assert again.outcomes == ()
    assert again.message == (
        "Nobody needs an invitation now: Lee last ran the invitations, interrupted at 2026-11-02 10:00 UTC."
    )


def test_nobody_to_invite_after_a_refused_run_names_that_run_and_whom_it_invited(
    found_connected: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    """fix132 3: Lee's run invited one newcomer, then the directory refused the next (403); that one leaves
    the organization, and Dana's `invite` finds nobody to invite. It names Lee's refused run, and whom it
    invited before the refusal, not Dana's earlier run as the last."""
    found_connected.invite(None, dana)  # Bob and Cy, at 09:00
    joining = [
        OrgUser(id=f"e-{n}", principal_name=a, mail_address=a) for n, a in enumerate(("p0@x.com", "p1@x.com"))
    ]
    microsoft.users.extend(joining)
    clock.advance(hours=1)
    inviting = microsoft.invite_guest

    def then_refusing(tenant_id: str, **details: str) -> Invitation:
        invited = inviting(tenant_id, **details)
        microsoft.deny_invites = True  # the directory's settings change after the first
        return invited

    microsoft.invite_guest = then_refusing  # type: ignore[method-assign]
    assert found_connected.invite(None, lee).denied
    microsoft.invite_guest = inviting  # type: ignore[method-assign]
    microsoft.deny_invites = False
    microsoft.users.remove(joining[1])  # the one refused leaves the organization
    clock.advance(hours=1)

    again = found_connected.invite(None, dana)

    assert again.outcomes == () and not again.denied
    assert again.message == (
        "Nobody needs an invitation now: Lee last ran the invitations, refused permission to invite guests at"
        " 2026-11-02 10:00 UTC after inviting 1 person."
    )
    assert found_connected.invite(None, lee).message == (  # Dana's run invited nobody: still Lee's
        "Nobody needs an invitation now: you last ran the invitations, refused permission to invite guests at"
        " 2026-11-02 10:00 UTC after inviting 1 person."
    )
