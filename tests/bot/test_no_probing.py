"""Nobody can use the bot to probe Azure DevOps: arguments are checked first, refusals are remembered and
limited per person and organization, and the reply does not tell whether an organization exists; an
admin is never locked out by typos or by Azure DevOps failing."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

import pytest
from sqlalchemy import func, select

from bot.conversation.help_views import admin_refusal
from msapi import HttpSession, permissions
from storage import AdminRefusal
from tests.bot.conftest import ORG, Chat, started, text_of
from tests.fakes.runtimes import runtime_on
from tests.storage.statements import failing
from workflows.admin_gate import ADMIN, LOOK_UP_LEASE, MEMORY_FAILED, AdminGate, AdminVerdict
from workflows.admin_memory import (
    AdminMemory,
    Confirmation,
    InMemoryAdminMemory,
    Kept,
    MemoryFailed,
    Refusal,
    Remembered,
)
from workflows.arguments import ArgumentError, organization_name, tenant_name, user_reference
from workflows.directory import MicrosoftError, OrganizationNotFound

if TYPE_CHECKING:
    from sandbox import Sandbox
    from storage import Database

STRANGER = "mallory@outlook.com"


def _devops_requests(chat: Chat) -> int:
    assert chat.runtime.sandbox is not None
    counts = chat.runtime.sandbox.request_counts()
    return sum(count for host, count in counts.items() if host.endswith("dev.azure.com"))


def _without_name(text: str, name: str) -> str:
    return " ".join(text.replace(name, "ORG").split())


def test_a_stranger_starting_twenty_times_costs_a_bounded_number_of_requests(chat: Chat) -> None:
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    replies = [text_of(chat.say(STRANGER, f"start probe-org-{n} fabrikam.com")) for n in range(20)]
    assert _devops_requests(chat) <= 3 * 6  # three look-ups at most, a handful of requests each
    assert all("is for the organization's admins" in reply for reply in replies)


def test_a_stranger_round_robined_across_three_replicas_costs_what_one_allows(
    box: Sandbox, sqlite_url: str
) -> None:
    """Three runtimes with an engine each on one database, as three `serve` processes have: with a
    gate's memory each, they would look up three times as many organizations."""
    replicas = [Chat(runtime_on(box, sqlite_url)) for _ in range(3)]
    try:
        box.request_counts(reset=True)
        replies = [
            text_of(replicas[n % 3].say(STRANGER, f"start probe-org-{n} fabrikam.com")) for n in range(20)
        ]
        assert sum(c for host, c in box.request_counts().items() if host.endswith("dev.azure.com")) <= 3 * 6
        assert all("is for the organization's admins" in reply for reply in replies)
    finally:
        for replica in replicas:
            replica.runtime.close()


def test_the_refusal_is_the_same_whether_or_not_the_organization_exists(chat: Chat) -> None:
    existing = _without_name(
        text_of(chat.say(STRANGER, "start fabrikam-fiber fabrikam.com")), "fabrikam-fiber"
    )
    missing = _without_name(text_of(chat.say(STRANGER, "start no-such-org fabrikam.com")), "no-such-org")
    assert existing == missing


def test_a_non_admin_of_a_migration_the_bot_holds_is_told_so_and_who_its_admins_are(chat: Chat) -> None:
    """`status` shows anyone the migrations the bot holds: refusing one says it exists, not "spelling"."""
    started(chat)
    for typed in (f"announce {ORG} tomorrow", "invite"):  # named, or the one migration implied
        reply = " ".join(text_of(chat.say("ann@fabrikam.com", typed)).split())
        assert f"Administrators of {ORG}), and Azure DevOps does not list you as one" in reply, reply
        assert "Its admins: dana@fabrikam.com, lee@fabrikam.com. Ask one of them" in reply, reply
        assert "spelling" not in reply and "found no organization" not in reply, reply
    unheld = " ".join(text_of(chat.say("ann@fabrikam.com", "start nonexistent-org fabrikam.com")).split())
    assert unheld.startswith("Sorry Ann, I found no organization `nonexistent-org` that you administer")
    assert "I do not say which" in unheld and "dana@" not in unheld and "spelling" not in unheld


def test_dotdot_never_reaches_azure_devops(chat: Chat) -> None:
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    reply = text_of(chat.say("dana@fabrikam.com", "remove-users .. x"))
    assert "not an Azure DevOps organization name" in reply
    reply = text_of(chat.say("dana@fabrikam.com", "remove-users fabrikam-fiber .."))
    assert "`..` names no user" in reply
    assert _devops_requests(chat) == 0


@pytest.mark.parametrize("bad", ["..", "a/b", "-lead", "trail-", "x" * 51, "a b", ""])
def test_organization_names_follow_azure_devops_rules(bad: str) -> None:
    with pytest.raises(ArgumentError):
        organization_name(bad)
    assert organization_name(" fabrikam-fiber ") == "fabrikam-fiber"


def test_tenants_and_user_references_are_checked() -> None:
    assert tenant_name("contoso.com") == "contoso.com"
    assert tenant_name("3c0a7f5e-8d2b-4f61-9a7c-5e4b2d1f0a11")
    for bad in ("..", "contoso", "a/b.com"):
        with pytest.raises(ArgumentError):
            tenant_name(bad)
    assert user_reference(" Gus Gone ") == "Gus Gone"
    for bad in ("../x", "..", "a\\b", "x?y"):
        with pytest.raises(ArgumentError):
            user_reference(bad)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _no_such_organization(asked: list[str], organization: str) -> Callable[[], bool]:
    def look_up() -> bool:
        asked.append(organization)
        raise OrganizationNotFound(f"VS800075: The organization '{organization}' was not found.")

    return look_up


@pytest.fixture(params=["process", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gate_memory(request: pytest.FixtureRequest) -> AdminMemory:
    """Where the gate remembers: the same rules whether in this process or in the database."""
    if request.param == "process":
        return InMemoryAdminMemory()
    from storage.admin_gate import DatabaseAdminMemory

    request.getfixturevalue(f"{request.param}_url")  # emptied for this test
    return DatabaseAdminMemory(request.getfixturevalue(f"process_{request.param}"))


def test_the_gate_remembers_refusals_and_limits_lookups_per_person_and_organization(
    gate_memory: AdminMemory,
) -> None:
    clock = _Clock()
    gate = AdminGate(
        clock,
        memory=gate_memory,
        remember=timedelta(minutes=10),
        limit=3,
        organizations=5,
        window=timedelta(hours=1),
    )
    asked: list[str] = []
    verdicts = [gate.verdict("U1", f"org-{n}", _no_such_organization(asked, f"org-{n}")) for n in range(10)]
    assert len(asked) == 5  # five organizations per hour are looked up; the rest are refused without asking
    assert [v.kind for v in verdicts] == ["refused"] * 5 + ["limited"] * 5
    assert verdicts[5].wait == timedelta(hours=1)  # the real wait: until the first refusal leaves the hour
    assert not gate.allows("U1", "org-0", lambda: True)  # remembered, not asked again
    assert gate.allows("U2", "org-0", lambda: True)  # another person is not affected
    for _ in range(3):  # one organization at most three times an hour, whatever the memory's length
        clock.now += timedelta(minutes=11)
        gate.verdict("U1", "org-0", _no_such_organization(asked, "org-0"))
    assert asked.count("org-0") == 3
    limited = gate.verdict("U1", "org-0", lambda: True)
    assert limited.kind == "limited" and limited.wait == timedelta(minutes=27)
    clock.now += limited.wait - timedelta(seconds=1)
    assert not gate.allows("U1", "org-0", lambda: True)
    clock.now += timedelta(seconds=1)
    assert gate.allows("U1", "org-0", lambda: True)  # the wait stated was the real one


def test_a_confirmed_admin_is_never_limited_and_an_outage_is_no_refusal(gate_memory: AdminMemory) -> None:
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=3)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)
    asked: list[str] = []
    for typo in ("fabrikam-fibre", "fabrikam-fibr", "fabrikamfiber", "fabrikam-fyber"):
        verdict = gate.verdict("dana", typo, _no_such_organization(asked, typo))
        assert verdict.confirmed == ("fabrikam-fiber",)  # her typo can be pointed home
    assert gate.verdict("dana", "elsewhere", lambda: True).kind == "limited"
    assert gate.allows("dana", "Fabrikam-Fiber", lambda: True)  # still looked up, never limited

    def outage() -> bool:
        raise MicrosoftError("Azure DevOps refused reading the organization's groups: HTTP 503")

    for _ in range(10):
        verdict = gate.verdict("lee", "fabrikam-fiber", outage)
        assert verdict.kind == "unavailable" and "HTTP 503" in verdict.reason
    assert gate.allows("lee", "fabrikam-fiber", lambda: True)  # neither remembered nor counted


def test_a_look_up_failing_unexpectedly_is_no_refusal_either(gate_memory: AdminMemory) -> None:
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=5)

    def bug() -> bool:
        raise KeyError("descriptor")

    for _ in range(3):
        with pytest.raises(KeyError):
            gate.verdict("dana", "fabrikam-fiber", bug)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)


def test_a_look_up_never_settled_counts_only_for_its_lease(
    gate_memory: AdminMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its process died, or the database failed as the outcome was written: the look-up is not left
    counting as a refusal for the hour, limiting a real admin."""
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=5)

    def database_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(gate_memory, "settle", database_down)
        for _ in range(3):
            assert gate.verdict("dana", "fabrikam-fiber", lambda: True) == ADMIN
    limited = gate.verdict("dana", "fabrikam-fiber", lambda: True)
    assert limited.kind == "limited" and limited.wait == LOOK_UP_LEASE
    clock.now += LOOK_UP_LEASE
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)


def test_look_ups_under_way_limit_only_until_their_lease_ends(gate_memory: AdminMemory) -> None:
    """A first-time admin's fourth request while three are looked up (a slow Azure DevOps, double clicks):
    the wait told is the real one, not the hour a refusal counts."""
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=5)
    fourth: list[AdminVerdict] = []

    def under_way(requests: int) -> Callable[[], bool]:
        def look_up() -> bool:  # the next request comes while this one is looked up
            clock.now += timedelta(seconds=10)
            if requests < 3:
                assert gate.allows("dana", "fabrikam-fiber", under_way(requests + 1))
            else:
                fourth.append(gate.verdict("dana", "fabrikam-fiber", lambda: True))
            return True

        return look_up

    assert gate.allows("dana", "fabrikam-fiber", under_way(1))
    assert fourth[0].kind == "limited" and fourth[0].wait == LOOK_UP_LEASE - timedelta(seconds=30)
    assert gate.allows("dana", "fabrikam-fiber", lambda: True)  # the three settled: confirmed


def _locked(*args: object, **kwargs: object) -> NoReturn:
    raise MemoryFailed("OperationalError")


def test_a_failing_memory_is_an_unavailable_check_held_against_nobody(
    gate_memory: AdminMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its database locked or gone as the person is recalled or a refusal written: refused for now like an
    Azure DevOps outage, never a refusal; an outage's own reason stands, and a bug whose look-up cannot be
    settled either is still raised."""
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=5)

    def outage() -> bool:
        raise MicrosoftError("Azure DevOps refused reading the organization's groups: HTTP 503")

    def bug() -> bool:
        raise KeyError("descriptor")

    with monkeypatch.context() as patched:
        patched.setattr(gate_memory, "recall", _locked)
        verdict = gate.verdict("dana", "fabrikam-fiber", lambda: True)
    assert verdict.kind == "unavailable" and verdict.reason == MEMORY_FAILED
    with monkeypatch.context() as patched:
        patched.setattr(gate_memory, "settle", _locked)
        for _ in range(3):
            assert gate.verdict("mallory", "fabrikam-fiber", lambda: False).kind == "unavailable"
        verdict = gate.verdict("kim", "fabrikam-fiber", outage)
        assert verdict.kind == "unavailable" and "HTTP 503" in verdict.reason
        with pytest.raises(KeyError):
            gate.verdict("lee", "fabrikam-fiber", bug)
    clock.now += LOOK_UP_LEASE  # the look-ups whose outcome could not be written count no more
    assert gate.allows("mallory", "fabrikam-fiber", lambda: True)
    assert gate.allows("lee", "fabrikam-fiber", lambda: True)


def test_an_admin_azure_devops_confirmed_is_let_through_though_the_outcome_cannot_be_written(
    gate_memory: AdminMemory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing else reads the record. Refused as unavailable, she would try again within the lease, each
    look-up still counted, until told she was refused too often."""
    clock = _Clock()
    gate = AdminGate(clock, memory=gate_memory, limit=3, organizations=5)
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING):
        patched.setattr(gate_memory, "settle", _locked)
        for _ in range(2):
            assert gate.verdict("dana", "fabrikam-fiber", lambda: True) == ADMIN
            clock.now += timedelta(seconds=20)
    assert "recording an admin check of fabrikam-fiber as admin failed (OperationalError)" in caplog.text
    assert "dana" not in caplog.text
    for _ in range(3):  # written once the database answers: never limited since, within the lease too
        assert gate.verdict("dana", "fabrikam-fiber", lambda: True) == ADMIN
        clock.now += timedelta(seconds=20)


def test_a_bug_recording_an_outcome_hides_neither_an_outage_nor_the_look_ups_own_exception(
    gate_memory: AdminMemory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Logged where it was raised, not what it says (the person); only a refusal's record, whose wait is
    told from it, is raised."""
    gate = AdminGate(_Clock(), memory=gate_memory, limit=3, organizations=5)

    def outage() -> bool:
        raise MicrosoftError("Azure DevOps refused reading the organization's groups: HTTP 503")

    def bug() -> bool:
        raise KeyError("descriptor")

    def broken(person: str, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"cannot record {person}")

    with monkeypatch.context() as patched, caplog.at_level(logging.ERROR):
        patched.setattr(gate_memory, "settle", broken)
        verdict = gate.verdict("kim@contoso.com", "fabrikam-fiber", outage)
        assert verdict.kind == "unavailable" and "HTTP 503" in verdict.reason
        with pytest.raises(KeyError, match="descriptor"):
            gate.verdict("lee@contoso.com", "fabrikam-fiber", bug)
        with pytest.raises(TypeError):
            gate.verdict("mallory", "fabrikam-fiber", lambda: False)
    assert caplog.text.count("as unavailable failed (TypeError), a bug; traceback:") == 2
    assert "in broken" in caplog.text and "@contoso.com" not in caplog.text


def test_credentials_lacking_a_permission_are_for_the_operators_to_fix_not_a_wait() -> None:
    gate = AdminGate(_Clock())

    def scope_missing() -> bool:  # the look-up's own (msapi._devops)
        raise permissions.missing(permissions.GRAPH_READ, "Azure DevOps", "looking up administrators", 401)

    def outage() -> bool:
        raise MicrosoftError("Azure DevOps refused reading the organization's groups: HTTP 503")

    verdict = gate.verdict("dana", "fabrikam-fiber", scope_missing)
    assert verdict.kind == "unavailable" and verdict.operators_must_fix
    reply = " ".join(admin_refusal("Dana", "invite", "fabrikam-fiber", verdict).split())
    assert "vso.graph" in reply and "Fix:" in reply, reply
    assert "the bot's operators fix this" in reply and "try again" not in reply and "just now" not in reply
    verdict = gate.verdict("dana", "fabrikam-fiber", outage)
    assert verdict.kind == "unavailable" and not verdict.operators_must_fix
    assert "try again in a few minutes" in admin_refusal("Dana", "invite", "fabrikam-fiber", verdict)


def test_both_memories_recall_and_keep_the_same_rows(gate_memory: AdminMemory) -> None:
    """What the gate still reads (`Kept`): the in-process memory and the database's alike."""
    start = _Clock().now

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    gate_memory.settle(
        "dana", "Fabrikam-Fiber", look_up=None, outcome="admin", now=at(0), remember_until=at(0)
    )
    gate_memory.settle("dana", "Tailspin", look_up=None, outcome="admin", now=at(10), remember_until=at(10))
    for minutes in (0, 10):
        gate_memory.settle(
            "dana",
            "Contoso",
            look_up=None,
            outcome="refused",
            now=at(minutes),
            remember_until=at(minutes + 5),
        )
    begun = gate_memory.recall(
        "dana",
        "elsewhere",
        now=at(20),
        kept=Kept(refusals_from=at(10), confirmations_from=at(10)),
        answer=lambda remembered: None,
    )
    assert begun.remembered.confirmed == {"tailspin": Confirmation("Tailspin", at(10))}  # keyed folded
    assert begun.remembered.refusals == (Refusal("contoso", at(10), at(15)),)
    assert begun.look_up is not None

    def everything() -> Remembered:  # what is left, however old
        since_ever = Kept(refusals_from=at(0), confirmations_from=at(0))
        answered = gate_memory.recall(
            "dana", "elsewhere", now=at(20), kept=since_ever, answer=lambda remembered: "from memory"
        )
        return answered.remembered

    gate_memory.forget(kept=Kept(refusals_from=at(11), confirmations_from=at(0)))
    assert everything().refusals == (Refusal("elsewhere", at(20), None),)
    assert list(everything().confirmed) == ["fabrikam-fiber", "tailspin"]
    gate_memory.forget(kept=Kept(refusals_from=at(11), confirmations_from=at(10)))
    assert list(everything().confirmed) == ["tailspin"]
    retyped = gate_memory.recall(
        "dana", "TAILSPIN", now=at(20), kept=Kept(at(10), at(10)), answer=lambda remembered: "limited"
    )
    assert retyped.answer is None and retyped.look_up is None  # confirmed however typed: never limited


def test_the_lease_of_a_look_up_outlasts_an_azure_devops_request_given_up() -> None:
    defaults = inspect.signature(HttpSession).parameters
    timeout, attempts, backoff = (defaults[name].default for name in ("timeout", "max_attempts", "backoff"))
    given_up_after = timedelta(seconds=attempts * timeout + sum(backoff * 2**n for n in range(attempts - 1)))
    assert given_up_after < LOOK_UP_LEASE <= given_up_after * 1.25


def test_mistyped_organizations_do_not_lock_the_owner_out_of_her_migration(chat: Chat) -> None:
    dana = "dana@fabrikam.com"
    chat.say(dana, "start fabrikam-fiber fabrikam.com")
    for typo in ("fabrikam-fibre", "fabrikam-fibr", "fabrikamfiber"):
        reply = " ".join(text_of(chat.say(dana, f"start {typo} fabrikam.com")).split())
        assert f"I found no organization `{typo}` that you administer" in reply, reply
        assert "You are an admin of `fabrikam-fiber`" in reply
        assert "try again in a few minutes" not in reply
    reply = text_of(chat.say(dana, "invite fabrikam-fiber"))
    assert "is for the organization's admins" not in reply, reply
    assert "invit" in reply.casefold()


@pytest.mark.parametrize("command", ["start", "doctor"])
@pytest.mark.parametrize("pasted", ["zq7wpatsecret" + "k3" * 19 + "a", "notadomain"])
def test_a_tenant_that_is_neither_guid_nor_domain_is_refused_unechoed_before_any_call(
    chat: Chat, command: str, pasted: str
) -> None:
    """A secret pasted where the tenant goes must not be repeated in the channel nor sent to Microsoft."""
    assert chat.runtime.sandbox is not None
    chat.runtime.sandbox.request_counts(reset=True)
    reply = text_of(chat.say("dana@fabrikam.com", f"{command} fabrikam-fiber {pasted}"))
    assert "not a tenant" in reply and "contoso.com" in reply, reply
    assert pasted not in reply
    assert sum(chat.runtime.sandbox.request_counts().values()) == 0


def test_the_watch_forgets_refusals_the_rules_no_longer_read(box: Sandbox, sqlite_database: Database) -> None:
    """Who asked about which organization is not kept in a quiet bot, where no look-up comes to sweep."""
    clock = _Clock()
    runtime = runtime_on(box, sqlite_database, clock=clock)
    try:
        Chat(runtime).say(STRANGER, "start probe-org fabrikam.com")
        assert _refusals(sqlite_database) == 1
        clock.now += timedelta(hours=1, seconds=1)
        runtime.conversation.watch()
        assert _refusals(sqlite_database) == 0
    finally:
        runtime.close()


def test_a_watch_whose_forgetting_fails_still_looks_at_the_rest(
    box: Sandbox, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_on(box, sqlite_database, clock=_Clock())
    reminded: list[bool] = []

    def remind() -> list[object]:
        reminded.append(True)
        return []

    monkeypatch.setattr(runtime.conversation, "remind", remind)
    try:
        with failing(sqlite_database, "admin_refusal"), caplog.at_level(logging.WARNING):
            runtime.conversation.watch()
    finally:
        runtime.close()
    assert reminded == [True]
    assert "forgetting old admin verdicts failed (OperationalError)" in caplog.text


def _refusals(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(select(func.count()).select_from(AdminRefusal)).scalar_one())
