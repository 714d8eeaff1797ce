"""Someone mapped by hand, seen mapped by the sign-in watch: recorded and told once whichever process reads
it, by a short read (one entitlement asked for) or the daily full one; a read of those entitlements that
fails costs nothing but the wait."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from storage import AffectedUser, Database
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from workflows.directory import DirectoryUser, OrgUser
from workflows.service import MigrationService

KIM, KIM_MSA = "kim@fabrikam.com", "kim.k@outlook.com"


@pytest.fixture
def microsoft() -> FakeMicrosoft:
    """Fabrikam, and Kim: her Microsoft account's address is no directory account's sign-in name, so
    Connect does not carry her over and the admins map her to kim@fabrikam.com by hand."""
    fake = FakeMicrosoft()
    fake.users.append(OrgUser(id="e-kim", principal_name=KIM_MSA, mail_address=KIM, display_name="Kim"))
    fake.directory.append(DirectoryUser(id="g-kim", user_principal_name=KIM, display_name="Kim", mail=KIM))
    return fake


def _resolve(microsoft: FakeMicrosoft, account: str, object_id: str) -> None:
    """What *Resolve* does to Kim's entitlement: the same one, on the directory account's identity."""
    microsoft.users = [
        replace(user, origin="aad", origin_id=object_id, principal_name=account)
        if user.id == "e-kim"
        else user
        for user in microsoft.users
    ]


def _kim(database: Database) -> AffectedUser:
    with database.session() as session:
        return session.exec(select(AffectedUser).where(AffectedUser.entitlement_id == "e-kim")).one()


def test_a_mapping_is_recorded_and_told_once_whichever_process_reads_it(
    notified: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
) -> None:
    assert _kim(database).outcome == "map"
    notified.check_due_sign_ins()  # the first read, everyone's: Kim still on her Microsoft account
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    asked = microsoft.calls.get("org_user", 0)
    (check,) = notified.check_due_sign_ins()  # a short read, which asks for Kim's entitlement
    assert not check.full and microsoft.calls["org_user"] == asked + 1
    assert [(m.principal_name, m.account, m.elsewhere) for m in check.mapped] == [(KIM_MSA, KIM, False)]
    restarted = make_service()
    clock.advance(minutes=15)
    restarted.check_due_sign_ins()
    clock.advance(days=1)
    restarted.check_due_sign_ins()  # the daily full read shows her mapped too
    (told,) = queued(database, "identity_mapped")
    assert (told.recipient, told.payload["account"], told.payload["planned"]) == (KIM, KIM, KIM)
    assert [item["key"] for item in told.payload["items"]] == [
        "sign-in-work-account",
        "clear-git-credentials",
        "recreate-pats",
    ]
    assert queued(database, "identity_mapped_elsewhere") == []
    audited = [e for e in notified.audit_trail() if e.action == "identity_mapped"]
    assert [e.details for e in audited] == [
        {"user": KIM_MSA, "account": KIM, "planned": KIM, "as_planned": True}
    ]
    kim = _kim(database)
    assert (kim.mapped_at, kim.mapped_to, kim.mapped_elsewhere) == (told.created_at, KIM, False)


def test_a_mapping_to_another_directory_account_is_told_to_each_admin(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Told by the account's object id, not its name: Ann's account is another person's."""
    notified.check_due_sign_ins()
    _resolve(microsoft, "ann@fabrikam.com", "g-ann")
    clock.advance(minutes=15)
    notified.check_due_sign_ins()
    warned = queued(database, "identity_mapped_elsewhere")
    assert sorted(m.recipient for m in warned) == ["dana@fabrikam.com", "lee@fabrikam.com"]
    assert {(m.payload["principal_name"], m.payload["account"], m.payload["planned"]) for m in warned} == {
        (KIM_MSA, "ann@fabrikam.com", KIM)
    }
    assert _kim(database).mapped_elsewhere is True


def test_a_failed_read_of_the_people_still_to_map_costs_only_the_wait(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    microsoft.broken.add("org_user")
    clock.advance(minutes=15)
    (check,) = notified.check_due_sign_ins()  # the sign-ins themselves were read
    assert check.mapped == () and queued(database, "identity_mapped") == []
    microsoft.broken.clear()
    clock.advance(minutes=15)
    (check,) = notified.check_due_sign_ins()
    assert [m.account for m in check.mapped] == [KIM]
