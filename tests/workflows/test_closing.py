"""Ending a migration: `complete` goes ahead at once only when nobody is left behind; a later migration of
the connected organization gives a list only to whoever has none, or had no way in and has one now."""

from __future__ import annotations

import re

from storage import Database
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.storage.statements import statements
from tests.workflows.fakes import SUBSCRIPTION_ID, FakeClock, FakeMicrosoft, connect_and_notify
from workflows.directory import Subscription
from workflows.results import Actor
from workflows.results_todo_lists import Closure, NotifyResult
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


def _billing_moved(service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor) -> None:
    connect_and_notify(service, microsoft, dana, lee)
    tenant = service.status().tenant_id
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=tenant)
    assert service.check_billing(None, dana).ok


def test_complete_goes_ahead_at_once_when_everyone_signed_in_and_ticked_everything(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.invite(None, dana)
    _billing_moved(service, microsoft, dana, lee)
    clock.advance(minutes=5)
    for user in microsoft.users:
        microsoft.sign_in(user.id, clock.now)
    service.check_sign_ins(None)
    waiting = service.complete(None, dana)
    assert (waiting.completed, waiting.status.state) == (False, "billing_checked")
    assert waiting.left.not_signed_in == ()
    assert waiting.left.open == (
        "dana@fabrikam.com",
        "lee@fabrikam.com",
        "ann@fabrikam.com",
        "bob@outlook.com",
        "cy@gmail.com",
    )
    for user in microsoft.users:
        person = Actor(f"U-{user.id}", user.mail_address, user.display_name)
        for entry in service.todo_list(person):
            if entry.done_at is None:
                service.mark_done(entry.id, person)
    done = service.complete(None, dana)
    assert (done.completed, done.status.state, done.left.anyone) == (True, "completed", False)


def _listed_again(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> NotifyResult:
    """Fabrikam migrated with bob and cy never invited, then again once bob has a directory account."""
    service.start("fabrikam", "fabrikam.com", dana)  # bob and cy are never invited: no way in
    _billing_moved(service, microsoft, dana, lee)
    assert service.complete(None, dana, confirmed=True).completed
    microsoft.add_directory_user("bob@outlook.com")
    again = service.start("fabrikam", "fabrikam.com", dana)
    assert again.state == "connected"
    return service.notify(None, dana)


@BOTH_BACKENDS
def test_a_later_migration_lists_only_who_had_no_way_in_and_has_one_now(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    notified = _listed_again(service, microsoft, dana, lee)
    assert [user.email for user in notified.users] == ["bob@outlook.com"]
    assert notified.listed_before == (
        "dana@fabrikam.com",
        "lee@fabrikam.com",
        "ann@fabrikam.com",
        "cy@gmail.com",
    )
    assert [entry.key for entry in service.todo_list("ann@fabrikam.com")].count("sign-in-work-account") == 1


def test_the_lists_of_someone_in_several_migrations_are_read_in_three_statements_without_the_plans(
    service: MigrationService, microsoft: FakeMicrosoft, database: Database, dana: Actor, lee: Actor
) -> None:
    _listed_again(service, microsoft, dana, lee)
    with statements(database) as seen:
        bob = service.todo_list("bob@outlook.com")
    migrations = [entry.migration_id for entry in bob]
    assert len(set(migrations)) == 2 and migrations == sorted(migrations, reverse=True)  # newest first
    for migration in set(migrations):
        numbers = [entry.number for entry in bob if entry.migration_id == migration]
        assert numbers == list(range(1, len(numbers) + 1))  # each list in its own order
    assert len(seen) == 3  # the person's records, their migrations, their items: not one query per list
    assert not any(re.search(r'\bmigration\."?plan\b', statement) for statement in seen)


def test_complete_before_billing_is_confirmed_looks_at_it_first_in_the_same_call(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    """One call of the service: the bot no longer reads the state, then billing, then completes (rev34 #5),
    so a state moving between its calls cannot turn `complete` into `check-billing`'s refusal."""
    service.start("fabrikam", "fabrikam.com", dana)
    connect_and_notify(service, microsoft, dana, lee)
    elsewhere = "5e1f0c2a-0000-4000-8000-0000000000aa"  # still in the old directory
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(id=SUBSCRIPTION_ID, tenant_id=elsewhere)
    waiting = service.complete(None, dana)
    assert waiting.billing is not None and not waiting.billing.ok and not waiting.completed
    assert waiting.status.state == "users_notified" and waiting.left.people == 0  # nothing else looked at
    microsoft.subscriptions[SUBSCRIPTION_ID] = Subscription(
        id=SUBSCRIPTION_ID, tenant_id=waiting.status.tenant_id
    )
    looked = service.complete(None, dana)
    assert looked.billing is not None and looked.billing.ok, looked.billing
    assert looked.status.state in {"billing_checked", "completed"} and looked.left.people > 0
    assert service.complete(None, dana, confirmed=True).billing is None  # confirmed already: no second look


def test_the_list_of_who_completed_it_asks_azure_devops_for_the_other_admins_only_when_shown(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    """rev48: every reader of Dana's lists (`help`, each question she asked, `done`) asked Azure DevOps for
    the admins of the migration she closed, and waited through its retries while it was slow."""
    service.start("fabrikam", "fabrikam.com", dana)
    _billing_moved(service, microsoft, dana, lee)
    assert service.complete(None, dana, confirmed=True).completed
    clock.advance(days=1)  # past the admins' list as read at the approval
    asked = microsoft.calls.get("administrators", 0)
    read = service.todo_list(dana)
    assert microsoft.calls.get("administrators", 0) == asked
    assert {entry.closed for entry in read} == {Closure(f"Dana ({dana.email})", by_them=True)}
    shown = service.todo_list(dana, shown=True)
    assert microsoft.calls["administrators"] == asked + 1
    assert {entry.closed for entry in shown} == {
        Closure(f"Dana ({dana.email})", by_them=True, other_admins=(lee.email,))
    }
