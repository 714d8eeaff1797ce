"""Watching the connection, telling users what to do, billing, completion."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from storage import AffectedUser, Database, Migration, OutboundMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements, verbs
from tests.workflows.fakes import OTHER_TENANT_ID, SUBSCRIPTION_ID, FakeMicrosoft, connect
from tests.workflows.outbox import queued
from tests.workflows.replays import replayed
from workflows.directory import MSA_TENANT_ID, OrgUser, Subscription
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService
from workflows.todo import required

pytestmark = SQLITE_ONLY


@pytest.fixture
def connecting(
    request: pytest.FixtureRequest,
    service: MigrationService,
    microsoft: FakeMicrosoft,
    dana: Actor,
    lee: Actor,
) -> MigrationService:
    def steps() -> None:
        service.start("fabrikam", "fabrikam.com", dana)
        service.invite(None, dana)
        approval = service.request_approval(None, dana)
        service.decide(approval.approval_id, lee, approve=True)

    replayed(request, service, microsoft, steps)
    return service


@pytest.fixture
def notified(connecting: MigrationService, microsoft: FakeMicrosoft, dana: Actor) -> MigrationService:
    microsoft.connect(connecting.status().tenant_id)
    connecting.check_connection()
    connecting.notify(None, dana)
    return connecting


def test_the_watch_reports_waiting_another_tenant_and_connected(
    connecting: MigrationService, microsoft: FakeMicrosoft
) -> None:
    waiting = connecting.check_connection()
    assert (waiting.outcome, waiting.observed_tenant_id) == ("waiting", MSA_TENANT_ID)
    microsoft.connect(OTHER_TENANT_ID)
    wrong = connecting.check_connection("fabrikam")
    assert wrong.outcome == "other-tenant"
    assert OTHER_TENANT_ID in wrong.message and "Disconnect" in wrong.message
    assert wrong.status.state == "connecting"
    microsoft.connect(connecting.status().tenant_id)
    done = connecting.check_connection()
    assert (done.outcome, done.status.state) == ("connected", "connected")
    assert connecting.check_connection().outcome == "connected"  # a late poll is harmless
    confirmations = [e for e in connecting.audit_trail() if e.action == "connection_confirmed"]
    assert len(confirmations) == 1 and confirmations[0].actor_name == "aadbot"


def test_before_approval_the_watch_looks_and_moves_only_for_a_connection_to_the_target(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    waiting = service.check_connection()
    assert (waiting.outcome, waiting.status.state, waiting.noticed) == ("waiting", "planned", False)
    assert waiting.message.startswith(
        "fabrikam is not connected to a directory yet; the migration is planned."
    )
    microsoft.connect(OTHER_TENANT_ID)  # the wrong directory: the prerequisite checks say so, as before
    elsewhere = service.check_connection()
    assert (elsewhere.outcome, elsewhere.status.state, elsewhere.noticed) == (
        "other-tenant",
        "planned",
        False,
    )
    microsoft.connect(service.status().tenant_id)
    found = service.check_connection()
    assert (found.outcome, found.status.state, found.noticed) == ("connected", "connected", True)
    assert found.outside_approval is not None and found.outside_approval.state_before == "planned"
    (entry,) = [e for e in service.audit_trail() if e.state_after == "connected"]
    assert (entry.action, entry.actor_name, entry.details["approved_by"]) == (
        "connected_outside_approval",
        "aadbot",
        None,
    )


def test_the_watch_refuses_while_a_step_runs(
    service: MigrationService, database: Database, dana: Actor
) -> None:
    """A step's own prerequisite check finds the connection (`found_connected`) when it ends."""
    service.start("fabrikam", "fabrikam.com", dana)
    with database.session() as session:
        row = session.exec(select(Migration)).one()
        row.state = "inviting"
        session.add(row)
        session.commit()
    with pytest.raises(WorkflowError, match="`check-connection` does not fit now: the migration is inviting"):
        service.check_connection()


def test_a_microsoft_outage_during_the_watch_changes_nothing(
    connecting: MigrationService, microsoft: FakeMicrosoft
) -> None:
    microsoft.broken.add("organization_tenant_id")
    with pytest.raises(WorkflowError, match="could not look at fabrikam"):
        connecting.check_connection()
    assert connecting.status().state == "connecting"


def test_notify_queues_one_message_per_user_with_their_own_items(
    notified: MigrationService, database: Database
) -> None:
    assert notified.status().state == "users_notified"
    with database.session() as session:
        messages = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "todo_list")).all()
        users = session.exec(select(AffectedUser)).all()
    assert len(messages) == len(users) == 5  # beside the approval's and the connection's notices
    by_recipient = {message.recipient: message for message in messages}
    bob = by_recipient["bob@outlook.com"].payload
    assert bob["items"][0]["key"] == "accept-invitation"
    assert bob["outcome"] == "invite"
    cy = by_recipient["cy@gmail.com"].payload  # Cy's license comes from a Visual Studio subscription
    assert "visual-studio-subscription" not in [
        item["key"] for item in cy["items"]
    ]  # a guest as cy@gmail.com
    assert (
        "Your Visual Studio subscription benefits carry over: you keep signing in as cy@gmail.com"
        in cy["notes"][1]
    )
    assert all(message.status == "pending" for message in messages)
    assert len({message.idempotency_key for message in messages}) == 5


def test_notify_writes_a_wave_in_a_few_statements_not_a_round_per_person(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    wave = 40
    for n in range(wave):
        email = f"person{n}@fabrikam.com"
        microsoft.users.append(OrgUser(id=f"e-{n}", principal_name=email, mail_address=email))
        if n % 2 == 0:  # the others have no directory account: their records' directory columns are NULL
            microsoft.add_directory_user(email)
    service.start("fabrikam", "fabrikam.com", dana)
    connect(service, microsoft, dana, lee)
    with statements(database) as seen:
        notified = service.notify(None, dana)

    assert len(notified.users) == len(queued(database, "todo_list")) == wave + 5
    messages = [statement for statement in seen if " outbound_message" in statement.split(" WHERE ")[0]]
    assert verbs(messages) == {"SELECT": 1, "INSERT": 1}  # the keys looked up, the messages inserted
    # on SQLite too, where a flush inserts each record and item on its own: their ids come back matched
    # by their unique columns, in a statement or two per table for the whole wave
    rows = [s for s in seen if s.startswith(("INSERT INTO affected_user ", "INSERT INTO todo_item "))]
    assert len(rows) <= 4
    assert len(seen) < wave // 2


@BOTH_BACKENDS
def test_a_user_marks_their_own_items_done(notified: MigrationService, lee: Actor, dana: Actor) -> None:
    items = notified.todo_list(lee.email)
    assert items and all(item.done_at is None for item in items)
    with pytest.raises(WorkflowError) as foreign:
        notified.mark_done(items[0].id, dana)
    # not whose it is: Dana hears the numbers of her own list
    assert str(foreign.value).startswith("That item is not on your list. Say `done 1`, `done 2`")
    result = notified.mark_done(items[0].id, lee)
    assert not result.already_done and result.remaining == len(required(items)) - 1
    assert result.item.done_by == lee.id
    again = notified.mark_done(items[0].id, lee)
    assert again.already_done
    by_id = notified.todo_list(items[0].affected_user_id)
    assert [item.done_at is not None for item in by_id] == [True] + [False] * (len(items) - 1)
    with pytest.raises(WorkflowError) as missing:
        notified.mark_done(999, lee)
    assert str(missing.value).startswith("That item is not on your list. Say `done 2`,")


def test_billing_in_another_directory_gives_the_steps(
    notified: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=OTHER_TENANT_ID)
    result = notified.check_billing(None, dana)
    assert not result.ok
    assert result.subscription_tenant_id == OTHER_TENANT_ID
    assert result.status.state == "users_notified"
    assert any("Change directory" in step for step in result.steps)
    # who can move it, and what to ask for when that is someone else (walk 33, finding 12)
    moving, changing, _ = result.steps
    assert "transfer it to your work account" not in moving
    assert moving.endswith(
        "that takes the subscription's Owner. If that is not you, ask the Owner to change its directory, or"
        " to make you Owner or Contributor on a subscription in Fabrikam for the next step."
    )
    assert "that takes a Project Collection Administrator who is also Owner or Contributor on the Azure" in (
        changing
    )
    assert result.message.endswith(
        "Until billing moves, what fabrikam already pays for keeps working and renews each month, but"
        " nobody can buy or change its purchases. To move it:"
    )
    waiting = notified.complete(None, dana)  # it looks at billing itself, and goes no further
    assert waiting.billing is not None and not waiting.billing.ok and not waiting.completed
    assert waiting.status.state == "users_notified"
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(
        id=SUBSCRIPTION_ID, tenant_id=notified.status().tenant_id
    )
    assert notified.check_billing(None, dana).ok
    asked = notified.complete(None, dana)  # nobody has done anything yet: it only names them
    assert (asked.completed, asked.status.state) == (False, "billing_checked")
    completed = notified.complete(None, dana, confirmed=True).status
    assert completed.state == "completed" and completed.next_commands == ()


def test_no_billing_subscription_means_nothing_to_change(
    notified: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.org = microsoft.org.__class__(
        name="fabrikam", owner=dana.email, connected_tenant_id=microsoft.org.connected_tenant_id
    )
    result = notified.check_billing("fabrikam", dana)
    assert result.ok and result.subscription_id is None
    assert result.status.state == "billing_checked"


def test_billing_reads_only_the_subscription_with_the_migrations_tenant(
    notified: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    admin_reads = microsoft.calls.get("administrators", 0)
    microsoft.subscription_tenants.clear()
    assert notified.check_billing(None, dana).ok
    assert microsoft.calls.get("administrators", 0) == admin_reads  # no administrators' walk
    assert microsoft.calls["billing_subscription_id"] == 1
    assert microsoft.subscription_tenants == [notified.status().tenant_id]


def test_an_organization_already_connected_skips_approval_and_the_portal_step(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor
) -> None:
    microsoft.connect(microsoft.tenant_info.id)  # someone clicked Connect before the bot was asked
    started = service.start("fabrikam", "fabrikam.com", dana)
    assert started.state == "connected"
    assert started.next_commands == ("notify", "invite")
    refused = "`request-approval` does not fit now: the migration is connected"
    with pytest.raises(WorkflowError, match=refused):
        service.request_approval(None, dana)
    found = [entry for entry in service.audit_trail() if entry.action == "found_connected"]
    assert [(e.state_before, e.state_after) for e in found] == [("checking_prerequisites", "connected")]
    assert service.notify(None, dana).status.state == "users_notified"
    with database.session() as session:
        kinds = set(session.exec(select(OutboundMessage.kind)).all())
    assert "todo_list" in kinds and not kinds & {"approval_prompt", "approval_approved", "portal_steps"}


@BOTH_BACKENDS
def test_connected_in_the_portal_while_awaiting_approval_voids_it_instead_of_asking_to_connect(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    request = service.request_approval(None, dana, anyway=True)
    microsoft.connect(microsoft.tenant_info.id)
    decided = service.decide(request.approval_id, lee, approve=True)
    assert (decided.outcome, decided.status.state) == ("void", "connected")
    assert decided.connector is None
    assert decided.message == (
        "fabrikam is already connected to Fabrikam, so there is nothing to approve or connect."
        " Next: `notify` the users."
    )


def test_the_operator_log_warns_once_when_the_watch_finds_another_directory(
    connecting: MigrationService, microsoft: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aadbot.migration")
    microsoft.connect(OTHER_TENANT_ID)
    for _ in range(3):  # the watch looks every AADBOT_POLL_SECONDS
        connecting.check_connection()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"fabrikam is connected to another directory ({OTHER_TENANT_ID}), not to Fabrikam. Disconnect it"
        " (Organization settings > Microsoft Entra ID > Disconnect directory), then connect the right one."
    ]
