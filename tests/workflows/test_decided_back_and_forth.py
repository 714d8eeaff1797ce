"""An account decided for someone after their list reached them, then another, then back: what they read
is what they keep (the done marks, the numbers), and they hear only what differs from it. Hana's guest is
a real one here (accepted, with her own address), so her identity carries over to it: no new tokens."""

from dataclasses import replace

import pytest
from sqlmodel import select

from storage import Database, OutboundMessage
from tests.storage.databases import BOTH_BACKENDS, SQLITE_ONLY
from tests.workflows import test_lists_given_again as given_again
from tests.workflows.fakes import FakeClock, FakeMicrosoft
from tests.workflows.test_lists_given_again import HANA, HANA_AS_GUEST, HANA_AT_WORK, _deliver, _hanas
from workflows.directory import DirectoryUser
from workflows.results import Actor
from workflows.results_todo_lists import TodoEntry
from workflows.service import MigrationService
from workflows.tracking import Tracking

pytestmark = SQLITE_ONLY

tracking, notified, delivered = given_again.tracking, given_again.notified, given_again.delivered
"""`test_lists_given_again`'s, run here with this module's Hana."""
HANA_HERSELF = Actor(id="hana", email=HANA_AT_WORK, name="Hana")
EVERY_ITEM = ("sign-in-work-account", "clear-git-credentials", "re-add-ssh-keys", "recreate-pats")
"""Her list for her work account."""


@pytest.fixture
def with_hana(microsoft: FakeMicrosoft) -> FakeMicrosoft:
    """As `test_lists_given_again`'s, but her `#EXT#` account is a guest who accepted its invitation."""
    microsoft.users.append(replace(microsoft.users[2], id="e-hana", principal_name=HANA, mail_address=HANA))
    microsoft.directory += [
        DirectoryUser(
            id="g-guest",
            user_principal_name=HANA_AS_GUEST,
            mail=HANA,
            user_type="Guest",
            external_user_state="Accepted",
        ),
        DirectoryUser(id="g-hart", user_principal_name=HANA_AT_WORK, other_mails=(HANA,)),
    ]
    return microsoft


def _her_list(service: MigrationService, database: Database) -> dict[str, TodoEntry]:
    hana = int(_hanas(database)[0].payload["affected_user_id"])
    return {entry.key: entry for entry in service.todo_list(hana)}


def test_decided_back_to_the_account_that_reached_her_before_the_other_did_tells_her_nothing(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    for key in EVERY_ITEM:
        delivered.mark_done(_her_list(delivered, database)[key].id, HANA_HERSELF)
    read = _her_list(delivered, database)
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # takes her tokens item away; not sent
    assert "recreate-pats" not in _her_list(delivered, database)
    clock.advance(minutes=1)

    decided = delivered.decide_account(None, HANA, HANA_AT_WORK, lee)

    assert decided.list_changed and decided.as_told
    assert [(m.kind, m.payload.get("account")) for m in _hanas(database, "pending")] == []
    now = _her_list(delivered, database)
    assert now.keys() == read.keys()
    for key in EVERY_ITEM:  # as she read them, ticked as she ticked them
        assert (now[key].id, now[key].number, now[key].body) == (
            read[key].id,
            read[key].number,
            read[key].body,
        )
        assert now[key].done_at == read[key].done_at is not None


def test_an_account_changed_after_it_reached_her_opens_her_git_and_ssh_items_again_and_says_so(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """The procedure has SSH users "add new keys for the Azure AD user": done for one account, not for
    another, as the Git credential cache is."""
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    read = _her_list(delivered, database)
    for key in ("re-add-ssh-keys", "clear-git-credentials"):
        delivered.mark_done(read[key].id, HANA_HERSELF)
    clock.advance(minutes=1)

    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)

    now = _her_list(delivered, database)
    assert now["re-add-ssh-keys"].done_at is None and now["clear-git-credentials"].done_at is None
    (told,) = _hanas(database, "pending")
    assert [item["key"] for item in told.payload["items"]] == [
        "sign-in-work-account",
        "clear-git-credentials",
        "re-add-ssh-keys",
    ]


def test_her_tokens_item_taken_away_by_one_decision_and_given_back_by_the_next_is_told_again(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """What she was told is her messages replayed in order: the guest decision said her tokens item is no
    longer on her list, so the decision back must list it again, though the first one listed it too."""
    decided = given_again.decided_in_turn(
        (HANA_AT_WORK, HANA_AS_GUEST, HANA_AT_WORK), delivered, tracking, database, clock, lee
    )

    assert [[item["key"] for item in payload["dropped"]] for payload in decided] == [
        [],
        ["recreate-pats"],
        [],
    ]
    assert [item["key"] for item in decided[2]["items"]] == [
        "sign-in-work-account",
        "clear-git-credentials",
        "recreate-pats",
    ]


@pytest.mark.parametrize(
    "done_since", [("clear-git-credentials",), ("clear-git-credentials", "re-add-ssh-keys")]
)
def test_items_she_did_from_the_list_she_read_while_another_decision_waited_stay_done_when_decided_back(
    tracking: Tracking,
    delivered: MigrationService,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    done_since: tuple[str, ...],
) -> None:
    """The guest decision never reached her: she cleared Git (and re-added her SSH key) for her work
    account, as the list she read asked, so deciding that account back leaves them done and says nothing."""
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    read = _her_list(delivered, database)
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # not sent
    for key in done_since:  # with the buttons of the list she read, as chat now knows her
        delivered.mark_done(read[key].id, Actor(id="hana", email=HANA, name="Hana"))
    done = {key: entry.done_at for key, entry in _her_list(delivered, database).items() if entry.done_at}
    assert done.keys() == set(done_since)
    clock.advance(minutes=1)

    decided = delivered.decide_account(None, HANA, HANA_AT_WORK, lee)

    assert decided.as_told and _hanas(database, "pending") == []
    now = _her_list(delivered, database)
    assert {key: entry.done_at for key, entry in now.items() if entry.done_at} == done
    assert [(entry.id, entry.number, entry.body) for entry in now.values()] == [
        (entry.id, entry.number, entry.body) for entry in read.values()
    ]


def test_a_decision_queued_without_a_record_of_her_list_then_reversed_tells_her_all_it_may_have_reopened(
    tracking: Tracking, delivered: MigrationService, database: Database, clock: FakeClock, lee: Actor
) -> None:
    """A decision message queued before decisions recorded her list as it stood (no `before`): what it
    reopened cannot be given back, so the decision back tells her every item open again."""
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    for key in EVERY_ITEM:
        delivered.mark_done(_her_list(delivered, database)[key].id, HANA_HERSELF)
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)
    with database.session() as session:
        (queued,) = session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all()
        queued.payload = {key: value for key, value in queued.payload.items() if key != "before"}
        session.add(queued)
        session.commit()
    clock.advance(minutes=1)

    decided = delivered.decide_account(None, HANA, HANA_AT_WORK, lee)

    assert not decided.as_told
    now = _her_list(delivered, database)
    (told,) = _hanas(database, "pending")
    assert [item["key"] for item in told.payload["items"]] == [
        key for key, entry in now.items() if entry.done_at is None
    ]
    assert told.payload["items"]


@BOTH_BACKENDS
@pytest.mark.parametrize(("done_by", "done_after"), [("pressing Done", True), ("a sign-in seen", False)])
def test_signing_in_done_while_another_decision_waited_unread_stays_done_only_if_she_said_so(
    tracking: Tracking,
    delivered: MigrationService,
    microsoft: FakeMicrosoft,
    database: Database,
    clock: FakeClock,
    lee: Actor,
    done_by: str,
    done_after: bool,
) -> None:
    """Pressing *Done* on "Sign in as hana.hart" she did as she read it; the sign-in watch ticks the item
    for the account decided then (her guest), which says nothing of her work account."""
    delivered.decide_account(None, HANA, HANA_AT_WORK, lee)
    _deliver(tracking, database, clock)
    read = _her_list(delivered, database)
    clock.advance(minutes=1)
    delivered.decide_account(None, HANA, HANA_AS_GUEST, lee)  # not sent
    if done_by == "pressing Done":
        delivered.mark_done(read["sign-in-work-account"].id, Actor(id="hana", email=HANA, name="Hana"))
    else:
        microsoft.sign_in("e-hana", clock.now)
        delivered.check_sign_ins(None)
    assert _her_list(delivered, database)["sign-in-work-account"].done_at is not None
    clock.advance(minutes=1)

    decided = delivered.decide_account(None, HANA, HANA_AT_WORK, lee)

    assert decided.as_told  # item 1 is as she read it, or as she marked it
    assert (_her_list(delivered, database)["sign-in-work-account"].done_at is not None) is done_after
