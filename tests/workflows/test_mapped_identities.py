"""Someone mapped by hand, seen mapped by the sign-in watch: recorded and told once whichever process reads
it, by a short read (one entitlement asked for) or the daily full one; a read of those entitlements that
fails costs nothing but the wait; only the object id tells a mapping to another account, and a correction
or a mapping to yet another account is recorded and told once too; someone removed from the organization
is recorded gone and no longer asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from bot.conversation import sign_in_views
from storage import AffectedUser, Database, Migration, TodoItem
from storage.database import alembic_config
from storage.outbox import NewMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows.conftest import ServiceFactory
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from tests.workflows.outbox import queued
from workflows.directory import DirectoryUser, OrgUser
from workflows.item_rewording import history_advice
from workflows.service import MigrationService
from workflows.stages import (
    mapped_identities,
    mapped_identities_looking,
    mapped_identities_recording,
    verification,
)
from workflows.stages.mapped_identities import Mapped, Watched
from workflows.stages.mapped_identities_looking import Found
from workflows.todo import ACCEPT_INVITATION
from workflows.waiting import SIGN_IN_ITEM

pytestmark = SQLITE_ONLY

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


def _mapped_to_ann(notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock) -> None:
    """The first read (everyone's), then a short one that sees Kim mapped to Ann's account."""
    notified.check_due_sign_ins()
    _resolve(microsoft, "ann@fabrikam.com", "g-ann")
    clock.advance(minutes=15)
    notified.check_due_sign_ins()


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
    _mapped_to_ann(notified, microsoft, clock)
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


def _sign_in_item(database: Database) -> TodoItem:
    with database.session() as session:
        return session.exec(
            select(TodoItem).where(
                TodoItem.affected_user_id == _kim(database).id, TodoItem.key == SIGN_IN_ITEM
            )
        ).one()


def test_a_mapping_to_their_own_account_under_another_name_is_as_planned(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim's account was renamed since the plan: the object id is hers, so nobody is alarmed and she hears
    that she can sign in."""
    notified.check_due_sign_ins()
    _resolve(microsoft, "kim.kay@fabrikam.com", "g-kim")
    clock.advance(minutes=15)
    (check,) = notified.check_due_sign_ins()
    assert check.mapped == (Mapped(KIM_MSA, "kim.kay@fabrikam.com", KIM, elsewhere=False, told=True),)
    assert queued(database, "identity_mapped_elsewhere") == []
    (told,) = queued(database, "identity_mapped")
    assert (told.payload["account"], told.payload["elsewhere"]) == ("kim.kay@fabrikam.com", False)
    assert _sign_in_item(database).body.startswith(
        "The migration admins mapped your old identity to kim.kay@fabrikam.com, which keeps your history"
        " yours: Azure DevOps lets you in with it now. "
    )


def test_only_the_object_id_tells_a_mapping_to_another_account() -> None:
    """A guest's sign-in name (`#EXT#`) is not the mail Azure DevOps shows; without an object id, no alarm."""
    guest = Watched("e-kim", directory_id="g-kim", wrongly_mapped=False)
    shown = OrgUser(id="e-kim", principal_name="kim@gmail.com", origin="aad", origin_id="g-kim")
    assert guest.mapped_elsewhere(shown) is False
    assert guest.mapped_elsewhere(replace(shown, origin_id="")) is False
    assert guest.mapped_elsewhere(replace(shown, origin_id="G-ANN")) is True


def test_a_mapping_seen_with_the_sign_in_is_counted_but_not_told_again(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Mapped and signed in before one read: the thanks for signing in told her, and the check's reply
    says nobody else was told."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    microsoft.sign_in("e-kim", clock.now)
    clock.advance(minutes=1)
    (check,) = notified.check_due_sign_ins()
    assert check.mapped == (Mapped(KIM_MSA, KIM, KIM, elsewhere=False, told=False),)
    assert queued(database, "identity_mapped") == []
    assert sign_in_views.sign_ins_checked(check, named=False).message.summary == (
        f"I read {check.read} users of fabrikam: 1 signed in with their work account since my last look;"
        " I ticked it off their lists; my message telling them is on its way. 1 person is now mapped by hand."
        " `progress` has the details."
    )


def test_a_wrong_mapping_that_support_corrects_is_recorded_and_told_once(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Mapped to Ann's account, then by Support to her own: the daily full read sees it; the short reads
    between do not ask for her entitlement (Support takes days)."""
    _mapped_to_ann(notified, microsoft, clock)
    _resolve(microsoft, KIM, "g-kim")
    asked = microsoft.calls.get("org_user", 0)
    clock.advance(minutes=15)
    (short,) = notified.check_due_sign_ins()
    assert (short.mapped, microsoft.calls.get("org_user", 0)) == ((), asked)
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full and full.mapped == (Mapped(KIM_MSA, KIM, KIM, elsewhere=False, told=True),)
    clock.advance(days=1)
    notified.check_due_sign_ins()
    kim = _kim(database)
    assert (kim.mapped_to, kim.mapped_elsewhere) == (KIM, False)
    assert [(m.payload["account"], m.payload["elsewhere"]) for m in queued(database, "identity_mapped")] == [
        ("ann@fabrikam.com", True),
        (KIM, False),
    ]
    assert len(queued(database, "identity_mapped_elsewhere")) == 2  # Dana and Lee, once
    audited = [e.details for e in notified.audit_trail() if e.action == "identity_mapped"]
    assert audited[1:] == [
        {"user": KIM_MSA, "account": KIM, "planned": KIM, "as_planned": True, "was": "ann@fabrikam.com"}
    ]
    assert _sign_in_item(database).body.startswith(
        f"The migration admins mapped your old identity to {KIM}, which keeps your history yours"
    )


@BOTH_BACKENDS
def test_a_second_wrong_mapping_is_recorded_and_told_once_then_a_correction_too(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Mapped to Ann's account, then to Bob's, then by Support to her own: each seen by a daily full read."""
    _mapped_to_ann(notified, microsoft, clock)
    _resolve(microsoft, "bob@fabrikam.com", "g-bob")
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full and full.mapped == (Mapped(KIM_MSA, "bob@fabrikam.com", KIM, elsewhere=True, told=True),)
    clock.advance(days=1)
    (again,) = notified.check_due_sign_ins()
    assert again.full and again.mapped == ()
    with database.session() as session:
        (seen,) = mapped_identities.seen_so_far(session, _kim(database).migration_id).mapped
    assert seen == Mapped(KIM_MSA, "bob@fabrikam.com", KIM, elsewhere=True)
    assert _sign_in_item(database).body.startswith(
        f"⚠️ Azure DevOps shows your old identity mapped to bob@fabrikam.com, not to {KIM}: the migration"
    )
    warned = queued(database, "identity_mapped_elsewhere")
    assert sorted((m.payload["account"], m.recipient) for m in warned) == [
        ("ann@fabrikam.com", "dana@fabrikam.com"),
        ("ann@fabrikam.com", "lee@fabrikam.com"),
        ("bob@fabrikam.com", "dana@fabrikam.com"),
        ("bob@fabrikam.com", "lee@fabrikam.com"),
    ]
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(days=1)
    notified.check_due_sign_ins()
    kim = _kim(database)
    assert (kim.mapped_to, kim.mapped_elsewhere) == (KIM, False)
    assert [(m.payload["account"], m.payload["elsewhere"]) for m in queued(database, "identity_mapped")] == [
        ("ann@fabrikam.com", True),
        ("bob@fabrikam.com", True),
        (KIM, False),
    ]
    audited = [e.details for e in notified.audit_trail() if e.action == "identity_mapped"]
    assert [(each["account"], each.get("was")) for each in audited] == [
        ("ann@fabrikam.com", None),
        ("bob@fabrikam.com", "ann@fabrikam.com"),
        (KIM, "bob@fabrikam.com"),
    ]


@BOTH_BACKENDS
def test_someone_removed_from_the_organization_is_recorded_gone_and_no_longer_asked_for(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim is removed by hand: one short read finds her gone, the next ones do not ask for her; added back
    and mapped, the daily full read sees it."""
    notified.check_due_sign_ins()
    kept = microsoft.users
    microsoft.users = [user for user in kept if user.id != "e-kim"]
    asked = microsoft.calls.get("org_user", 0)
    clock.advance(minutes=15)
    notified.check_due_sign_ins()
    assert microsoft.calls.get("org_user", 0) == asked + 1
    clock.advance(minutes=15)
    notified.check_due_sign_ins()
    assert microsoft.calls.get("org_user", 0) == asked + 1
    assert [e.details for e in notified.audit_trail() if e.action == "mapped_user_gone"] == [
        {"user": KIM_MSA}
    ]
    kim = _kim(database)
    with database.session() as session:
        seen = mapped_identities.seen_so_far(session, kim.migration_id)
    assert (seen.to_map, seen.mapped, seen.removed) == (1, (), (KIM_MSA,))
    microsoft.users = kept
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full and full.mapped == (Mapped(KIM_MSA, KIM, KIM, elsewhere=False, told=True),)
    with database.session() as session:
        seen = mapped_identities.seen_so_far(session, kim.migration_id)
    assert seen.removed == ()


@BOTH_BACKENDS
def test_two_processes_applying_one_mapping_at_once_record_and_tell_it_once(
    notified: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process records the mapping while this one is between reading and recording it."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    other = make_service()
    recording = mapped_identities_recording.record

    def after_the_other_process(
        session: Session, row: Migration, found: Found, now: datetime
    ) -> list[Mapped]:
        monkeypatch.setattr(mapped_identities_recording, "record", recording)
        assert row.id is not None
        assert isinstance(verification._apply(other._ctx, row.id, [], False, found), verification.SignInCheck)
        return recording(session, row, found, now)

    monkeypatch.setattr(mapped_identities_recording, "record", after_the_other_process)
    notified.check_due_sign_ins()
    assert len(queued(database, "identity_mapped")) == 1
    assert [e.action for e in notified.audit_trail()].count("identity_mapped") == 1


def test_downgrading_below_the_mapping_columns_keeps_everyone_and_their_lists(
    notified: MigrationService, database: Database
) -> None:
    """0018, 0010 and 0009 drop columns of the people that to-do items point at, with lists sent."""
    count = "SELECT (SELECT count(*) FROM affected_user), (SELECT count(*) FROM todo_item)"
    with database.engine.connect() as connection:
        before = tuple(connection.execute(text(count)).one())
    assert before[1] > 0
    with database.engine.begin() as connection:
        config = alembic_config(database.engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
        assert tuple(connection.execute(text(count)).one()) == before
        command.upgrade(config, "head")


def test_each_short_read_asks_for_the_next_people_still_to_map(
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past `LOOKED_UP_AT_MOST`, people never mapped (or gone from the organization) do not keep the
    others waiting for the daily read."""
    waiting = {f"e-{n}": Watched(f"e-{n}", f"g-{n}", wrongly_mapped=False) for n in range(30)}
    asked: list[str] = []
    monkeypatch.setattr(microsoft, "org_user", lambda organization, user_id: asked.append(user_id))
    for _ in range(2):
        read = mapped_identities_looking.Read(1, "fabrikam", "dana@fabrikam.com", clock.now, full=False)
        mapped_identities_looking.look_for(notified._ctx, read, [], waiting)
        clock.advance(minutes=15)
    assert len(asked) == 2 * mapped_identities_looking.LOOKED_UP_AT_MOST and set(asked) == set(waiting)


def _signed_in(microsoft: FakeMicrosoft, at: datetime) -> None:
    """Kim's entitlement accessed at `at`, on whichever identity it shows."""
    microsoft.users = [replace(u, last_accessed=at) if u.id == "e-kim" else u for u in microsoft.users]


def _corrected_by_a_newer_read_first(
    monkeypatch: pytest.MonkeyPatch,
    other: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    *,
    records: list[str],
    short: bool = False,
) -> None:
    """The next read, once it has looked, waits while Support maps Kim to her own account and `other` (another
    process) runs `check-sign-ins`, which records the accounts `records`; then the read is applied. `short`:
    Kim signs in instead, and `other`'s next short read returns her."""
    looking = mapped_identities_looking.look_for

    def before_a_newer_read_is_applied(*args: object) -> Found:
        found = looking(*args)  # type: ignore[arg-type]
        monkeypatch.setattr(mapped_identities_looking, "look_for", looking)
        _resolve(microsoft, KIM, "g-kim")
        if short:
            _signed_in(microsoft, clock.now)
            clock.advance(minutes=15)
            (newer,) = other.check_due_sign_ins()
            assert not newer.full and newer.read == 1
        else:
            clock.advance(minutes=5)
            newer = other.check_sign_ins("fabrikam")
        assert [m.account for m in newer.mapped] == records
        return found

    monkeypatch.setattr(mapped_identities_looking, "look_for", before_a_newer_read_is_applied)


def test_a_read_applied_after_a_newer_one_does_not_undo_the_correction_it_recorded(
    notified: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kim mapped to Ann's account, then by Support to Bob's: a slow daily read sees Bob's; meanwhile
    Support corrects it to her own and `check-sign-ins` in another process records that. The slow read,
    applied last, records nothing of what it saw: her row stays hers, nobody hears of Bob."""
    _mapped_to_ann(notified, microsoft, clock)
    _resolve(microsoft, "bob@fabrikam.com", "g-bob")
    clock.advance(days=1)
    _corrected_by_a_newer_read_first(monkeypatch, make_service(), microsoft, clock, records=[KIM])
    (slow,) = notified.check_due_sign_ins()
    assert slow.full and slow.mapped == ()
    kim = _kim(database)
    assert (kim.mapped_to, kim.mapped_elsewhere) == (KIM, False)
    assert [m.payload["account"] for m in queued(database, "identity_mapped")] == ["ann@fabrikam.com", KIM]
    assert {m.payload["account"] for m in queued(database, "identity_mapped_elsewhere")} == {
        "ann@fabrikam.com"
    }


def test_a_short_read_loads_only_people_still_waiting_yet_sees_a_change_of_whom_it_returns(
    notified: MigrationService,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each quarter hour's read loads nobody settled (20,000 of them cost a poll 0.3-0.6 s); someone
    settled whom the read returns (they signed in) is looked at all the same."""
    _mapped_to_ann(notified, microsoft, clock)
    loaded: list[set[str]] = []
    looking = mapped_identities_looking.look_for

    def look_for(*args: object) -> Found:
        loaded.append(set(cast(dict[str, Watched], args[-1])))
        return looking(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mapped_identities_looking, "look_for", look_for)
    _resolve(microsoft, KIM, "g-kim")  # Support corrects her mapping, and she signs in
    _signed_in(microsoft, clock.now)
    clock.advance(minutes=15)
    (short,) = notified.check_due_sign_ins()
    assert loaded == [set()]
    assert not short.full and short.mapped == (Mapped(KIM_MSA, KIM, KIM, elsewhere=False, told=True),)
    assert _kim(database).mapped_to == KIM


@BOTH_BACKENDS
def test_two_processes_reading_one_version_before_either_commits_tell_the_change_once(
    notified: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both load Kim's row and list at one version; the other process records and commits first: this
    one's change, keyed by the same version, is refused, so one message goes out, once."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    other = make_service()
    ticking, enqueuing = mapped_identities_recording.mapping_seen, mapped_identities_recording.enqueue_all
    keys: list[list[str]] = []

    def after_loading(body: str, account: str, **how: Any) -> str:
        monkeypatch.setattr(mapped_identities_recording, "mapping_seen", ticking)
        assert [m.account for m in other.check_sign_ins("fabrikam").mapped] == [KIM]
        return ticking(body, account, **how)

    def enqueue_all(session: Session, messages: list[NewMessage], *, now: datetime) -> None:
        keys.append([message.idempotency_key for message in messages])
        enqueuing(session, messages, now=now)

    monkeypatch.setattr(mapped_identities_recording, "mapping_seen", after_loading)
    monkeypatch.setattr(mapped_identities_recording, "enqueue_all", enqueue_all)
    assert notified.check_due_sign_ins() == []  # its commit refused: nothing recorded twice
    kim = _kim(database)
    assert keys == [[f"migration-{kim.migration_id}-identity-{kim.id}-change-1"]] * 2
    assert len(queued(database, "identity_mapped")) == 1
    assert [e.action for e in notified.audit_trail()].count("identity_mapped") == 1


def test_a_full_read_records_gone_someone_seen_mapped_whom_it_does_not_return(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim is mapped, then removed by hand: the short reads no longer ask for her, the daily one finds her
    missing; `progress` names her removed instead of mapped."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    notified.check_due_sign_ins()
    microsoft.users = [user for user in microsoft.users if user.id != "e-kim"]
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full
    assert [e.details for e in notified.audit_trail() if e.action == "mapped_user_gone"] == [
        {"user": KIM_MSA, "was": KIM}
    ]
    kim = _kim(database)
    with database.session() as session:
        seen = mapped_identities.seen_so_far(session, kim.migration_id)
    assert (seen.mapped, seen.removed) == ((), (KIM_MSA,))


def _verified_as_herself(notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock) -> None:
    """The first read, then Kim mapped as planned and signing in, seen by the next read."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    microsoft.sign_in("e-kim", clock.now)
    clock.advance(minutes=1)
    notified.check_due_sign_ins()


@BOTH_BACKENDS
def test_someone_seen_signing_in_then_mapped_elsewhere_has_the_sign_in_to_do_again(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim's sign-in with her work account was verified; then Support maps her identity to Ann's account:
    Azure DevOps lets her identity in with Ann's account only, so her item is open again, the later reads
    do not tick it for the sign-in seen before, and her next sign-in does."""
    _verified_as_herself(notified, microsoft, clock)
    assert _sign_in_item(database).verified_at is not None
    _resolve(microsoft, "ann@fabrikam.com", "g-ann")
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.mapped == (Mapped(KIM_MSA, "ann@fabrikam.com", KIM, elsewhere=True, told=True),)
    item = _sign_in_item(database)
    assert (item.verified_at, item.done_at, item.done_by) == (None, None, None)
    (told,) = queued(database, "identity_mapped")
    assert told.payload["items"][0]["key"] == SIGN_IN_ITEM
    audited = [e.details for e in notified.audit_trail() if e.action == "identity_mapped"]
    assert audited[-1]["sign_in_unticked"] is True
    clock.advance(days=1)
    notified.check_due_sign_ins()
    assert _sign_in_item(database).verified_at is None
    _signed_in(microsoft, clock.now)
    clock.advance(minutes=15)
    (check,) = notified.check_due_sign_ins()
    assert check.verified == (KIM_MSA,) and _sign_in_item(database).verified_at == clock.now - timedelta(
        minutes=15
    )


def test_without_an_object_id_another_name_is_a_change_of_a_mapping_as_planned() -> None:
    """Nothing else could tell that Support mapped someone planned without an object id elsewhere."""
    planned = Watched("e-kim", directory_id=None, wrongly_mapped=False, mapped_to=KIM)
    shown = OrgUser(id="e-kim", principal_name=KIM, origin="aad", origin_id="g-kim")
    assert planned.news(shown) is False
    assert planned.news(replace(shown, principal_name="ann@fabrikam.com", origin_id="g-ann")) is True


def test_a_sign_in_seen_with_a_change_of_mapping_is_not_thanked(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim, mapped to Ann's account, signs in; Support corrects the mapping before the next read, which sees
    both: her sign-in may have been with Ann's account, so she is not thanked for it (and then told to
    sign in again) in one read: her item stays to do, and she hears of the correction only."""
    _mapped_to_ann(notified, microsoft, clock)
    clock.advance(minutes=1)
    _signed_in(microsoft, clock.now)
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(days=1)
    (check,) = notified.check_due_sign_ins()
    assert check.verified == () and [m.account for m in check.mapped] == [KIM]
    assert queued(database, "sign_in_verified") == []
    assert [m.payload["account"] for m in queued(database, "identity_mapped")] == ["ann@fabrikam.com", KIM]
    item = _sign_in_item(database)
    assert (item.verified_at, item.done_at) == (None, None)


def test_the_sign_in_that_counts_after_an_untick_is_thanked(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim's sign-in was verified and thanked; Support then maps her to Ann's account, which unticks it:
    her next sign-in is thanked too, as it is the one that counts now."""
    _verified_as_herself(notified, microsoft, clock)
    _resolve(microsoft, "ann@fabrikam.com", "g-ann")
    clock.advance(days=1)
    notified.check_due_sign_ins()
    assert _sign_in_item(database).verified_at is None
    clock.advance(minutes=1)
    _signed_in(microsoft, clock.now)
    signed_in = clock.now
    clock.advance(minutes=15)
    (check,) = notified.check_due_sign_ins()
    assert check.verified == (KIM_MSA,)
    thanked = [m.payload["signed_in_at"] for m in queued(database, "sign_in_verified")]
    assert len(thanked) == 2 and thanked[-1] == signed_in.isoformat()


@pytest.mark.parametrize("short", [False, True], ids=["check-sign-ins", "short read"])
def test_a_slow_read_of_a_mapping_a_newer_read_saw_as_recorded_records_nothing(
    notified: MigrationService,
    make_service: ServiceFactory,
    microsoft: FakeMicrosoft,
    clock: FakeClock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    short: bool,
) -> None:
    """Kim is recorded mapped to her own account; Support maps her to Bob's by mistake, and a slow daily read
    sees it; Support corrects it at once and a newer read in another process finds her as recorded (nothing
    to record): `check-sign-ins`, whose full read leaves her row as it is, or, as she signs in, the next short
    read, which returns her. The slow read, applied last, records nothing (her row stays hers, nobody hears of
    Bob) and unticks no sign-in the short read verified; the next daily read still records a change."""
    _mapped_as_planned(notified, microsoft, clock)
    _resolve(microsoft, "bob@fabrikam.com", "g-bob")
    clock.advance(days=1)
    _corrected_by_a_newer_read_first(monkeypatch, make_service(), microsoft, clock, records=[], short=short)
    (slow,) = notified.check_due_sign_ins()
    assert slow.full and slow.mapped == ()
    assert (_kim(database).mapped_to, _kim(database).mapped_elsewhere) == (KIM, False)
    assert queued(database, "identity_mapped_elsewhere") == []
    assert (_sign_in_item(database).verified_at is not None) is short
    _resolve(microsoft, "ann@fabrikam.com", "g-ann")
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full and [m.account for m in full.mapped] == ["ann@fabrikam.com"]


def _mapped_as_planned(notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock) -> None:
    """The first read (everyone's), then a short one that sees Kim mapped to her own account."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    notified.check_due_sign_ins()


def _shown_kim(microsoft: FakeMicrosoft) -> OrgUser:
    return next(user for user in microsoft.users if user.id == "e-kim")


def _applied_as_short(notified: MigrationService, database: Database, found: Found) -> None:
    """`found` applied as a short read's that saw no sign-in."""
    assert isinstance(
        verification._apply(notified._ctx, _kim(database).migration_id, [], False, found),
        verification.SignInCheck,
    )


def test_a_short_read_stamps_nobody_an_older_read_recorded_otherwise_after_it_looked(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """A short read returns Kim mapped as recorded (to her own account); before it is applied, an older read
    that saw her mapped to Bob's is: the short read leaves the older one's record as it is (stamped, her row
    would say that a read as late as the short one saw Bob's), and the next full read records her own."""
    _mapped_as_planned(notified, microsoft, clock)
    as_recorded = _shown_kim(microsoft)
    _resolve(microsoft, "bob@fabrikam.com", "g-bob")
    clock.advance(minutes=15)
    older, short = clock.now - timedelta(minutes=2), clock.now - timedelta(minutes=1)
    _applied_as_short(notified, database, Found(older, [_shown_kim(microsoft)], ()))
    _applied_as_short(notified, database, Found(short, [], (), as_recorded=(as_recorded,)))
    assert (_kim(database).mapped_at, _kim(database).mapped_to) == (older, "bob@fabrikam.com")
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(days=1)
    (full,) = notified.check_due_sign_ins()
    assert full.full and [m.account for m in full.mapped] == [KIM]


def test_a_short_read_applied_after_a_newer_one_moves_no_stamp_back(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Two short reads return Kim mapped as recorded; the newer one is applied first."""
    _mapped_as_planned(notified, microsoft, clock)
    clock.advance(minutes=15)
    older, newer = clock.now - timedelta(minutes=2), clock.now - timedelta(minutes=1)
    for read_at in (newer, older):
        _applied_as_short(notified, database, Found(read_at, [], (), as_recorded=(_shown_kim(microsoft),)))
    assert _kim(database).mapped_at == newer


def test_without_an_object_id_in_the_plan_the_account_seen_renamed_is_no_change(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """The account Kim was seen mapped to is recorded with its object id: should it be renamed, a plan
    with none still knows it (no change, no untick), while another account is a change."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=15)
    notified.check_due_sign_ins()
    assert _kim(database).mapped_origin_id == "g-kim"
    seen = replace(Watched.of(_kim(database)), directory_id=None)
    shown = OrgUser(id="e-kim", principal_name="kim.k@fabrikam.com", origin="aad", origin_id="g-kim")
    assert seen.news(shown) is False
    assert seen.news(replace(shown, principal_name="ann@fabrikam.com", origin_id="g-ann")) is True


def test_a_sign_in_seen_late_after_a_first_mapping_counts(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim signs in right after the Resolve, but Azure DevOps shows her last access only after the read
    that records her mapping (asked for her by id): her sign-in before that read was with her work account
    (no other gets in as her before a first mapping), so the daily read that shows it ticks her item."""
    notified.check_due_sign_ins()
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(minutes=1)
    signed_in = clock.now
    clock.advance(minutes=15)
    (mapped,) = notified.check_due_sign_ins()
    assert [m.account for m in mapped.mapped] == [KIM] and mapped.verified == ()
    _signed_in(microsoft, signed_in)
    clock.advance(days=1)
    (check,) = notified.check_due_sign_ins()
    assert check.full and check.verified == (KIM_MSA,) and _sign_in_item(database).verified_at == signed_in


INVITED = (
    "Microsoft sent an invitation email from invites@microsoft.com to kim@gmail.com to join Fabrikam as a"
    " guest. Open it and select *Accept invitation*, then sign in to https://dev.azure.com/fabrikam with that"
    " same address. fabrikam already signs in with Fabrikam accounts: accepting gets your access back."
)
"""A late invitee's *Accept the invitation*, before what it says of her earlier history."""
NO_EMAIL = " No email? Check your spam folder, then press *I need help*."


def _accepting(database: Database) -> TodoItem:
    with database.session() as session:
        kim = _kim(database).id
        mine = (TodoItem.affected_user_id == kim) & (TodoItem.key == ACCEPT_INVITATION)
        return session.exec(select(TodoItem).where(mine)).one()


def test_an_invitation_item_on_the_list_says_where_the_mapping_shows_her_history(
    notified: MigrationService, microsoft: FakeMicrosoft, clock: FakeClock, database: Database
) -> None:
    """Kim's list also holds a late invitee's *Accept the invitation*, advising the admins to map her earlier
    history to her guest account: once Azure DevOps shows it mapped, that item says where, as her sign-in
    item does (never ✅ on one and "map it" on the other), and says it again when the mapping changes
    (rev72 1)."""
    with database.session() as session:
        kim = session.exec(select(AffectedUser).where(AffectedUser.entitlement_id == "e-kim")).one()
        assert kim.id is not None
        advice = history_advice("your guest account kim@gmail.com")
        session.add(
            TodoItem(
                affected_user_id=kim.id,
                position=9,
                key=ACCEPT_INVITATION,
                title="Accept the invitation to the directory",
                body=INVITED + advice + NO_EMAIL,
            )
        )
        session.commit()
    _mapped_to_ann(notified, microsoft, clock)
    shown = "Azure DevOps shows your old identity, with your earlier work history, mapped to"
    assert _accepting(database).body == (
        f"{INVITED} ⚠️ {shown} ann@fabrikam.com, not to kim@gmail.com: the migration admins check it with you."
        f" If ann@fabrikam.com is not yours, do not sign in with it.{NO_EMAIL}"
    )
    _resolve(microsoft, KIM, "g-kim")
    clock.advance(days=1)
    notified.check_due_sign_ins()  # the daily full read sees the mapping corrected
    assert _accepting(database).body == f"{INVITED} ✅ {shown} {KIM}: it stays yours.{NO_EMAIL}"
