"""Who is an admin, stale users, and removing users before connecting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.workflows.fakes import FakeClock, FakeMicrosoft
from workflows.errors import WorkflowError
from workflows.results import Actor
from workflows.service import MigrationService


def test_owner_and_collection_administrators_are_admins(
    service: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, dana: Actor, lee: Actor
) -> None:
    ann = Actor("U-ANN", "ann@fabrikam.com", "Ann")
    assert service.is_admin("fabrikam", dana)
    assert service.is_admin("fabrikam", Actor("U-LEE", "LEE@Fabrikam.com", "Lee"))
    assert not service.is_admin("fabrikam", ann)
    assert service.is_admin("fabrikam", ann, extra_admin_ids=["U-ANN"])
    assert microsoft.calls["organization"] == 1  # cached

    microsoft.org = replace(microsoft.org, administrators=(dana.email, "ann@fabrikam.com"))
    assert not service.is_admin("fabrikam", ann)  # still the cached answer
    clock.advance(minutes=6)
    assert service.is_admin("fabrikam", ann)
    assert not service.is_admin("fabrikam", lee)
    assert microsoft.calls["organization"] == 2


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


def test_an_outage_while_checking_admins_is_a_clear_error(
    service: MigrationService, microsoft: FakeMicrosoft, dana: Actor
) -> None:
    microsoft.broken.add("organization")
    with pytest.raises(WorkflowError, match="could not check the administrators of fabrikam"):
        service.is_admin("fabrikam", dana)


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
    with pytest.raises(WorkflowError, match="Not users of fabrikam: e-nobody"):
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
    service.decide(service.request_approval(None, dana).approval_id, lee, approve=True)
    with pytest.raises(WorkflowError, match="only be removed before connecting"):
        service.remove_users(None, ["e-bob"], dana)
