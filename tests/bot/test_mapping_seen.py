"""Someone mapped by hand hears when the admins have mapped them: the sign-in watch sees Azure DevOps show
their identity on the directory (the sandbox's *Resolve*, over loopback HTTP, on the rehearsal's clock),
ticks the wait on their list and tells them once to sign in and what their list still holds; a mapping to
another account than the plan's goes to each admin privately; `status` counts, `progress` names. Each later
change of a mapping (Microsoft Support's, `:remap`) is told once however often it flips, and someone removed
from the organization who is added back is watched again."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.console.rehearsal import RehearsalClock
from bot.runtime import Runtime
from msapi import from_environment
from sandbox import Sandbox
from tests.bot.conftest import CONNECTED, ORG, Rehearsal, rehearsed

FRIDAY_AFTERNOON = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
CAROL, CAROL_MSA = "carol@fabrikam.com", "carol.w@outlook.com"
KIM, KIM_MSA = "kim@fabrikam.com", "kim@fabrikam-old.com"
MAX, HANA = "max@fabrikam.com", "hana.hart@fabrikam.com"
"""Directory accounts with no entitlement: *Resolve* maps onto no member of the organization (Microsoft's
FAQ: `sandbox._resolve`)."""
FIRST_READ = ":later 1h"
"""After the lists went out (15:05): the watch's first, full, read finds Carol and Kim on their Microsoft
accounts."""


@pytest.fixture
def clock() -> RehearsalClock:
    return RehearsalClock(real=lambda: FRIDAY_AFTERNOON)


def _typed(runtime: Runtime, clock: RehearsalClock, lines: list[str]) -> str:
    """What the rehearsal printed for `lines`, typed after the lists went out and the first read."""
    rehearsal = Rehearsal(runtime, clock)
    rehearsed(rehearsal, CONNECTED)
    before = len(rehearsal.type([FIRST_READ]))
    return rehearsal.type(lines)[before:]


def _messages_to(text: str, address: str) -> list[str]:
    """Every direct message to `address`, its lines joined."""
    return [
        " ".join(m.split())
        for m in re.findall(rf"aadbot → DM to {re.escape(address)}:\n((?:  .*\n?)+)", text)
    ]


def _answer(text: str, asked: str) -> str:
    """The bot's answer to `asked`, its lines joined."""
    (answer,) = re.findall(rf"  {re.escape(asked)}\n\naadbot → [^\n]*:\n((?:  .*\n?)+)", text)
    return " ".join(answer.split())


def test_someone_mapped_by_hand_hears_once_that_they_can_sign_in_now(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    said = _typed(
        runtime,
        clock,
        [
            f":resolve {CAROL_MSA} {CAROL}",
            ":later 20m",  # the watch's next short read asks Azure DevOps for Carol's entitlement
            "check-sign-ins",  # a full read: nothing new to tell
            ":later 1d",
            f":as {CAROL}",
            "todo",
            ":as dana@fabrikam.com",
            "status",
            "progress",
        ],
    )
    (told,) = _messages_to(said, CAROL)
    assert told == (
        f"YOU CAN SIGN IN TO {ORG.upper()} NOW Hi Carol, your Azure DevOps identity in {ORG} is now mapped to"
        f" {CAROL}, which keeps your history yours: Azure DevOps lets you in with it. Sign in as {CAROL}."
        " Then do what your list still holds (personal access tokens you made before stopped working: make"
        " new ones). Press Done on each as you finish it."
        " 1. Sign in with your work account [Done: `done #16`] [I need help: `need-help #16`]"
        " 2. Clear your Git credential cache [Done: `done #17`] [I need help: `need-help #17`]"
        " 4. Recreate your personal access tokens [Done: `done #19`] [I need help: `need-help #19`]"
        " Say `todo` for the full steps of each."
    )
    assert _answer(said, "check-sign-ins") == (
        f"I read 11 users of {ORG}: no new sign-in with a work account since my last look."
    )
    todo = _answer(said, "todo")
    assert (
        "1. Sign in with your work account The migration admins mapped your old identity to"
        f" {CAROL}, which keeps your history yours: Azure DevOps lets you in with it now. Sign out of Azure"
        " DevOps everywhere."
    ) in todo
    assert "First the migration admins map" not in todo
    # the channel's status counts; progress, asked for, names
    assert (
        "To-do lists: 0 of 11 people done, 0 of 23 items, 0 seen signing in, 1 of 2 mapped by hand so far;"
        " `progress` has the details."
    ) in _answer(said, "status")
    progress = _answer(said, "progress")
    mapped = progress[progress.index("Identities mapped by hand") : progress.index(" [Refresh: ")]
    assert mapped.split(" ---")[0] == (
        "Identities mapped by hand, as Azure DevOps shows them: 1 of 2. user mapped to account"
    )
    assert mapped.endswith(f"- {CAROL_MSA} {CAROL} as planned")


def test_a_mapping_to_another_account_than_planned_goes_to_each_admin_privately(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    """Kim's identity is mapped to Max's account (one with no entitlement of its own): her history now goes
    with someone else's. Each admin hears it by name in a direct message, the channel nothing but a count,
    and Kim what Azure DevOps shows."""
    said = _typed(runtime, clock, [f":resolve {KIM_MSA} {MAX}", ":later 20m", "status"])
    warning = (
        f"⚠️ {KIM_MSA.upper()} WAS MAPPED TO ANOTHER ACCOUNT THAN PLANNED IN {ORG.upper()} Azure DevOps now"
        f" shows the identity of {KIM_MSA} in {ORG} mapped to {MAX}, but the plan mapped them to {KIM}. Their"
        f" work history goes with that mapping: if {MAX} is not theirs, it is attached to someone else's"
        " account. Check with them which account is theirs. To correct it, ask Microsoft Support, who map"
        " identities after a connection (https://azure.microsoft.com/support/devops/). My message telling"
        " them what Azure DevOps shows, and to ask you before signing in with an account that is not theirs,"
        " is on its way; I tell them again once Azure DevOps shows them mapped as planned."
    )
    assert _messages_to(said, "dana@fabrikam.com") == [warning]
    assert _messages_to(said, "lee@fabrikam.com") == [warning]
    status = _answer(said, "status")
    assert (
        ", 1 of 2 mapped by hand so far (1 to another account than planned); `progress` has the details."
        in status
    )
    assert KIM_MSA not in status and MAX not in status
    (kims,) = _messages_to(said, KIM)
    assert kims.startswith(
        f"YOUR IDENTITY IN {ORG.upper()} IS MAPPED TO ANOTHER ACCOUNT Hi Kim, Azure DevOps now shows your"
        f" identity in {ORG} mapped to {MAX}, not to {KIM} as your list said. I told the migration admins,"
        f" who check it with you. If {MAX} is yours, sign in with it; if it is not, do not: ask them first."
        " Once you are in, do what your list still holds"
    )


def test_resolve_in_the_console_says_what_it_needs_and_what_the_portal_refused(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    said = _typed(
        runtime,
        clock,
        [
            ":resolve carol",
            ":resolve ann@fabrikam.com ann@fabrikam.com",
            ":remap kim",
            f":resolve {KIM_MSA} ann@fabrikam.com",
        ],
    )
    assert said.splitlines() == [
        "Say whom to map, and to which account: `:resolve kim@fabrikam-old.com kim@fabrikam.com`.",
        'The emulator refused :resolve (409: {"error":"\'ann@fabrikam.com\' is on the directory already:'
        ' nothing to resolve"}).',
        "Say whom to map, and to which account: `:remap max@fabrikam.com kim@fabrikam.com`.",
        'The emulator refused :resolve (409: {"error":"\'ann@fabrikam.com\' is a member of fabrikam-fiber'
        ' already: map onto an account that is not one yet, or ask Microsoft Support"}).',
    ]


def test_every_change_of_a_mapping_is_told_once_however_often_it_flips(
    runtime: Runtime, clock: RehearsalClock
) -> None:
    """Kim is mapped to Max's account, then by Support to Hana's, Max's, Hana's again, her own, and Max's
    once more: each change seen by the next read is told once, to her and (a wrong one) to each admin,
    though the accounts come back, and though her mapping was as planned before the last."""
    flips = [(MAX, HANA), (HANA, MAX), (MAX, HANA), (HANA, KIM), (KIM, MAX)]
    said = _typed(
        runtime,
        clock,
        [
            f":resolve {KIM_MSA} {MAX}",
            ":later 20m",
            *(line for shown, account in flips for line in (f":remap {shown} {account}", ":later 1d")),
        ],
    )
    assert (
        f"(Microsoft Support: {MAX} mapped to {HANA} in {ORG}; the daily full read of the sign-ins will"
        " notice, or `check-sign-ins` now, or their sign-in)\n"
    ) in said
    heard = [
        re.sub(r"\. .*", "", told)
        for told in _messages_to(said, KIM)
        if told.startswith(("YOUR IDENTITY", "YOU CAN SIGN IN"))
    ]

    def elsewhere(account: str) -> str:
        return (
            f"YOUR IDENTITY IN {ORG.upper()} IS MAPPED TO ANOTHER ACCOUNT Hi Kim, Azure DevOps now shows your"
            f" identity in {ORG} mapped to {account}, not to {KIM} as your list said"
        )

    assert heard == [
        *(elsewhere(account) for account in (MAX, HANA, MAX, HANA)),
        f"YOU CAN SIGN IN TO {ORG.upper()} NOW Hi Kim, your Azure DevOps identity in {ORG} is now mapped to"
        f" {KIM}, which keeps your history yours: Azure DevOps lets you in with it",
        elsewhere(MAX),
    ]
    for admin in ("dana@fabrikam.com", "lee@fabrikam.com"):
        warned = [
            re.findall(r"mapped to (\S+), but", told)
            for told in _messages_to(said, admin)
            if "WAS MAPPED TO ANOTHER ACCOUNT" in told
        ]
        assert warned == [[MAX], [HANA], [MAX], [HANA], [MAX]]


def test_someone_removed_then_added_back_is_watched_again(
    runtime: Runtime, clock: RehearsalClock, box: Sandbox
) -> None:
    """Kim is removed from the organization by hand, so a short read finds her gone; added back, the next
    full read sees her there again: `progress` no longer names her removed, and the short reads ask for her
    again, so her mapping is told within the quarter hour."""
    rehearsal = Rehearsal(runtime, clock)
    rehearsed(rehearsal, CONNECTED)
    rehearsal.type([FIRST_READ])
    kims = next(e["id"] for e in box.state()["user_entitlements"] if e["user"]["principalName"] == KIM_MSA)
    present = box.save()
    with from_environment({"AADBOT_SANDBOX_URL": box.url}) as microsoft:
        microsoft.remove_org_user(ORG, kims)  # in the portal, over loopback as any client
    removed = f"Removed from the organization, so no longer watched for a mapping: {KIM_MSA}."
    gone = rehearsal.type([":later 20m", "progress"])
    assert removed in _answer(gone, "progress")
    box.restore(present)  # an admin adds her back: the same entitlement
    before = len(rehearsal.type([]))
    said = rehearsal.type([":later 1d", "progress", f":resolve {KIM_MSA} {KIM}", ":later 20m"])[before:]
    progress = _answer(said, "progress")
    assert progress[progress.index("Identities mapped by hand") : progress.index(" [Refresh: ")] == (
        "Identities mapped by hand, as Azure DevOps shows them: 0 of 2."
    )
    assert (
        f"(portal: {KIM_MSA} mapped to {KIM} in {ORG}; the sign-in checks ask Azure DevOps for it each"
        " quarter hour, or `check-sign-ins` now)\n"
    ) in said
    (told,) = _messages_to(said[said.index("(portal: ") :], KIM)
    assert told.startswith(
        f"YOU CAN SIGN IN TO {ORG.upper()} NOW Hi Kim, your Azure DevOps identity in {ORG} is now mapped to"
        f" {KIM}, which keeps your history yours"
    )
    audited = [e.action for e in runtime.service.audit_trail(ORG) if e.action.startswith("mapped_user")]
    assert audited == ["mapped_user_gone", "mapped_user_back"]
