"""Who is an admin, stale users, and removing users before connecting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storage import Database
from storage.admin_gate import DatabaseAdminMemory
from tests.storage.databases import SQLITE_ONLY
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.directory import MissingPermission
from workflows.errors import PermissionDenied, WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService

pytestmark = SQLITE_ONLY


def test_owner_and_collection_administrators_are_admins(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    ann = Actor("U-ANN", "ann@fabrikam.com", "Ann")
    assert service.is_admin("fabrikam", dana)
    assert service.is_admin("fabrikam", Actor("U-LEE", "LEE@Fabrikam.com", "Lee"))
    assert microsoft.calls["administrators"] == 1  # cached
    assert not service.is_admin("fabrikam", ann)
    assert microsoft.calls["administrators"] == 1  # a list under a minute old answers a refusal too
    assert service.is_admin("fabrikam", ann, extra_admin_ids=["U-ANN"])

    microsoft.org = replace(microsoft.org, administrators=(dana.email, "ann@fabrikam.com"))
    assert not service.is_admin("fabrikam", ann)  # her refusal is remembered
    clock.advance(minutes=6)
    assert service.is_admin("fabrikam", ann)
    assert not service.is_admin("fabrikam", lee)
    assert microsoft.calls["administrators"] == 2


def test_a_wave_of_people_asking_costs_azure_devops_one_read_of_the_admins_a_minute(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """Every FAQ question, help and App Home view checks the asker; a refusal reads a list over a minute old
    again (it is remembered for every replica), not every list."""
    assert service.is_admin("fabrikam", dana)
    people = [Actor(f"U-{n}", f"person{n}@fabrikam.com", f"Person {n}") for n in range(50)]
    assert not any(service.is_admin("fabrikam", person) for person in people[:25])
    assert microsoft.calls["administrators"] == 1
    clock.advance(seconds=61)
    assert not any(service.is_admin("fabrikam", person) for person in people[25:])
    assert microsoft.calls["administrators"] == 2


def test_a_replica_whose_admin_list_is_older_than_her_grant_asks_again_before_refusing_her(
    database: Database, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor
) -> None:
    """Each process caches the admin list, but a refusal is remembered for every replica: made on a list
    from before she was made an admin, it would refuse her everywhere for as long as it is remembered."""
    replicas = [
        MigrationService(database, microsoft, clock=clock, gate_memory=DatabaseAdminMemory(database))
        for _ in range(2)
    ]
    ann = Actor("U-ANN", "ann@fabrikam.com", "Ann")
    assert replicas[0].is_admin("fabrikam", dana)  # its list, cached, has no Ann
    microsoft.org = replace(microsoft.org, administrators=(*microsoft.org.administrators, ann.email))
    clock.advance(minutes=1)
    assert replicas[0].is_admin("fabrikam", ann)
    assert replicas[1].is_admin("fabrikam", ann)


def test_approvers_are_the_other_admins(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.org = replace(
        microsoft.org, administrators=("LEE@fabrikam.com", dana.email, "pat@fabrikam.com")
    )
    assert service.approver_emails("fabrikam", exclude=dana) == ["lee@fabrikam.com", "pat@fabrikam.com"]
    assert service.approver_emails("fabrikam", exclude=Actor("U-PAT", "Pat@Fabrikam.com", "Pat")) == [
        dana.email,
        "lee@fabrikam.com",
    ]


def test_an_outage_while_checking_admins_is_not_a_refusal_and_is_asked_again_once_over(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    # An admin must not be locked out of their migration because Azure DevOps failed for a moment: the
    # failure is told as such, and neither remembered nor counted as a refusal.
    microsoft.broken.add("administrators")
    verdict = service.admin_verdict("fabrikam", dana)
    assert verdict.kind == "unavailable" and verdict.reason and not service.is_admin("fabrikam", dana)
    microsoft.broken.discard("administrators")
    assert service.is_admin("fabrikam", dana)
    assert microsoft.calls["administrators"] == 3


def test_stale_users_are_those_not_seen_for_the_given_days(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock
) -> None:
    long_ago, lately = clock.now - timedelta(days=200), clock.now - timedelta(days=3)
    microsoft.users = [
        replace(microsoft.users[0], last_accessed=lately),
        replace(microsoft.users[2], last_accessed=long_ago),
        replace(microsoft.users[3], date_created=long_ago),
        microsoft.users[4],
    ]
    assert [user.id for user in service.stale_users("fabrikam")] == ["e-ann", "e-bob"]
    assert [user.id for user in service.stale_users("fabrikam", days=1)] == ["e-dana", "e-ann", "e-bob"]
    with pytest.raises(WorkflowError, match="1 or more"):
        service.stale_users("fabrikam", days=0)


def test_removing_users_audits_each_and_replans(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    with pytest.raises(WorkflowError, match="Not users of fabrikam: `e-nobody`"):
        service.remove_users(None, ["e-bob", "e-nobody"], dana)
    assert microsoft.removed == []
    result = service.remove_users(None, ["e-bob", "e-cy"], dana)
    assert result.removed == ("bob@outlook.com", "cy@gmail.com")
    assert result.status.state == "planned"
    assert result.status.counts["invite"] == 0
    removals = [entry for entry in service.audit_trail() if entry.action == "remove_user"]
    assert [(entry.actor_name, entry.details["principal_name"]) for entry in removals] == [
        ("Dana", "bob@outlook.com"),
        ("Dana", "cy@gmail.com"),
    ]


def test_users_cannot_be_removed_once_connecting(service: MigrationService, dana: Actor, lee: Actor) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    service.decide(service.request_approval(None, dana, anyway=True).approval_id, lee, approve=True)
    with pytest.raises(WorkflowError) as refused:
        service.remove_users(None, ["e-bob"], dana)
    assert str(refused.value) == (
        "`remove-users` does not fit now: the migration is connecting."
        " What you can do next: `check-connection`, `cancel`."
    )


def test_the_owner_and_the_administrators_are_never_removed(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    trail = len(service.audit_trail())
    with pytest.raises(PermissionDenied) as refused:
        service.remove_users(None, ["e-bob", "e-lee", "e-dana"], dana)
    assert "Project Collection Administrators of fabrikam: lee@fabrikam.com, dana@fabrikam.com" in str(
        refused.value
    )
    assert "Nothing was removed" in str(refused.value)
    assert microsoft.removed == [] and len(service.audit_trail()) == trail
    assert service.status().state == "planned"


def test_removing_is_a_busy_step_that_others_cannot_interleave_with(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    refusals: list[str] = []
    remove = microsoft.remove_org_user

    def remove_while_lee_asks_for_approval(organization: str, user_id: str) -> None:
        remove(organization, user_id)
        with pytest.raises(WorkflowError) as refused:
            service.request_approval(None, lee)
        refusals.append(str(refused.value))

    microsoft.remove_org_user = remove_while_lee_asks_for_approval  # type: ignore[method-assign]
    result = service.remove_users(None, ["e-bob", "e-cy"], dana)
    assert result.removed == ("bob@outlook.com", "cy@gmail.com") and result.message == ""
    assert result.status.state == "planned"
    assert len(refusals) == 2 and all("is now removing" in t or "is removing" in t for t in refusals)
    actions = [entry.action for entry in service.audit_trail()]
    assert actions[-5:] == [
        "remove_users",
        "remove_user",
        "remove_user",
        "users_removed",
        "prerequisites_passed",
    ]


def test_a_cancel_during_removals_stops_them_and_the_reply_says_who_was_removed(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor, lee: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    remove = microsoft.remove_org_user

    def remove_then_lee_cancels(organization: str, user_id: str) -> None:
        remove(organization, user_id)
        if len(microsoft.removed) == 1:
            service.cancel(None, lee, "not now")

    microsoft.remove_org_user = remove_then_lee_cancels  # type: ignore[method-assign]
    result = service.remove_users(None, ["e-bob", "e-cy"], dana)
    assert microsoft.removed == ["e-bob"]
    assert result.removed == ("bob@outlook.com",)
    assert result.message.startswith("Lee just cancelled the migration")
    assert result.message.endswith("Removed before that: bob@outlook.com.")
    assert result.status.state == "cancelled"


def test_an_unexpected_error_while_removing_fails_the_step_and_resume_finishes_it(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    service.start("fabrikam", "fabrikam.com", dana)
    remove = microsoft.remove_org_user

    def remove_bob_then_break(organization: str, user_id: str) -> None:
        if user_id == "e-cy":
            raise KeyError("id")
        remove(organization, user_id)

    microsoft.remove_org_user = remove_bob_then_break  # type: ignore[method-assign]
    result = service.remove_users(None, ["e-bob", "e-cy"], dana)
    assert result.removed == ("bob@outlook.com",)
    assert result.status.state == "failed"
    assert result.status.blocked_reason == "The removal of users stopped on an unexpected error (KeyError)."
    assert "Removed before that: bob@outlook.com." in result.message
    microsoft.remove_org_user = remove  # type: ignore[method-assign]
    assert service.resume(None, dana).state == "planned"
    assert microsoft.removed == ["e-bob", "e-cy"]  # Bob is not removed twice


def test_a_pat_that_may_not_remove_says_the_scope_and_the_portal_way_once(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    """`doctor` only warns about such a PAT (removing is optional): `remove-users` is where it tells."""
    service.start("fabrikam", "fabrikam.com", dana)
    calls: list[str] = []

    def refuse(organization: str, user_id: str) -> None:
        calls.append(user_id)
        raise MissingPermission(
            "Azure DevOps refused removing users (HTTP 401): the PAT lacks the scope"
            " vso.memberentitlementmanagement_write.",
            permission="vso.memberentitlementmanagement_write",
            fix="Azure DevOps > User settings > Personal access tokens",
        )

    microsoft.remove_org_user = refuse  # type: ignore[method-assign]
    result = service.remove_users(None, ["e-bob", "e-cy"], dana)
    assert calls == ["e-bob"]  # the second would be refused alike
    assert result.removed == ()
    assert result.failed == (
        ("bob@outlook.com", "not allowed (vso.memberentitlementmanagement_write)"),
        (result.failed[1][0], "not allowed (vso.memberentitlementmanagement_write)"),
    )
    assert "lacks the scope vso.memberentitlementmanagement_write" in result.message
    assert (
        "Fix: Azure DevOps > User settings > Personal access tokens; or remove them by hand:"
        in result.message
    )
    assert "https://dev.azure.com/fabrikam/_settings/users" in result.message
    assert result.status.state == "planned"  # nothing is left half done: remove-users again once fixed
