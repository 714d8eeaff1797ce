"""fix81: a step's own prerequisite check (a `resume` after a failure, the end of an `invite`, the final
approval, a `connect-as-me`) that finds the organization connected in the portal once a plan existed takes
the watch's path: recorded by the bot as connected outside the approval, every admin alarmed at once. Only
an organization connected before anything was planned is simply found connected (`start`). The admins'
list the alarm goes to is read with no database transaction open, by the watch and by a step alike."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation.messages import Channel, DirectMessage, Outgoing
from sandbox import Sandbox
from tests.bot.conftest import DANA, LEE, ORG, Chat, failed_recheck, started
from tests.bot.test_connected_outside_approval import LOCKED_OUT, LOCKED_OUT_COUNTED, URGENT, said, urgent
from tests.bot.test_guest_starter_taken_over import START, dana_a_guest
from workflows.directory import MicrosoftError
from workflows.stages.admins import Administrators


def found_by_the_check(chat: Chat, came_from: str, approval_id: int | None = None) -> None:
    """Connected, by the bot's event that names nobody's approval and where the migration rested; never
    `found_connected`."""
    assert chat.state() == "connected"
    trail = chat.runtime.service.audit_trail(ORG)
    assert "found_connected" not in [entry.action for entry in trail]
    entry = trail[-1]
    assert (entry.action, entry.actor_id, entry.state_after) == (
        "connected_outside_approval",
        "aadbot",
        "connected",
    )
    assert (entry.details["approved_by"], entry.details["state_before"], entry.details["approval_id"]) == (
        None,
        came_from,
        approval_id,
    )


INVITED_LOCKED_OUT_COUNTED = (
    "Locked out now: • 2 users — disabled or ambiguous account: decide for them (`plan` shows their choices)"
    " • 2 users — invited, not accepted yet: in once they accept"
)
INVITED_LOCKED_OUT = (
    "Locked out now: • gus@fabrikam.com, hana@contoso.com (2) — disabled or ambiguous account: decide for"
    " them (`plan` shows their choices) • erin.eng@gmail.com, frank.f@outlook.com (2) — invited, not accepted"
    " yet: in once they accept"
)


def alarmed_everyone(
    told: list[Outgoing], when: str, locked_out: tuple[str, str] = (LOCKED_OUT_COUNTED, LOCKED_OUT)
) -> None:
    """The watch's alarm: once in the channel, counting the people `locked_out`, and to each admin, naming
    them (by the plan the check just made)."""
    alarms = urgent(told)
    assert [message.to for message in alarms] == [
        Channel("#aad-migration"),
        DirectMessage(DANA),
        DirectMessage(LEE),
    ]
    happened = (
        f"Someone connected fabrikam-fiber to Fabrikam in the portal {when}. Nobody approved it and I did not"
        " authorise it: I recorded it as connected outside the approval."
    )
    for alarm in alarms:
        assert happened in said([alarm])
    counted, named = locked_out
    assert counted in said(alarms[:1]) and "erin.eng@gmail.com" not in said(alarms[:1])
    assert all(named in said([alarm]) for alarm in alarms[1:])


def test_a_resume_after_a_failure_that_finds_the_click_alarms_every_admin(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The brief's repro: `resume` recorded `found_connected` and went on as if all were fine."""
    failed_recheck(chat, box, monkeypatch)
    chat.portal_connect()
    told = chat.say(DANA, "resume")
    found_by_the_check(chat, "failed")
    assert told[0].message.summary == "fabrikam-fiber: connected"  # the checks it ran, then the alarm
    alarmed_everyone(told[1:], "while the migration was failed")
    assert chat.runtime.conversation.watch() == []  # told once: the watch finds nothing new


def test_the_plan_a_resume_made_on_finding_the_click_says_when_and_how(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rev48: the plan that `resume`'s own check made (and whose org-connection check says connected) was
    shown as "made before connecting"."""
    failed_recheck(chat, box, monkeypatch)
    chat.portal_connect()
    chat.say(DANA, "resume")
    found = chat.runtime.service.audit_trail(ORG)[-1]
    assert (found.action, found.state_before) == ("connected_outside_approval", "checking_prerequisites")
    shown = said(chat.say(DANA, f"plan {ORG}", in_dm=True))
    assert shown.startswith(
        f"PLAN FOR {ORG.upper()} → FABRIKAM The plan made on {found.at:%Y-%m-%d}, when a check found the"
        " organization connected outside the approval. Its checks are as they stood then; `status` shows"
        " where the migration stands now."
    )


def test_the_plan_the_watch_found_connected_is_the_one_made_before(chat: Chat) -> None:
    """The watch makes no plan: the one shown is the last check's, before the click."""
    started(chat)
    chat.portal_connect()
    chat.runtime.conversation.watch()
    assert chat.state() == "connected"
    shown = said(chat.say(DANA, f"plan {ORG}", in_dm=True))
    assert shown.startswith(
        f"PLAN FOR {ORG.upper()} → FABRIKAM The plan made before connecting. Its checks are as they stood"
        " then; `status` shows where the migration stands now."
    )


def test_the_end_of_an_invite_that_finds_the_click_alarms_every_admin(chat: Chat) -> None:
    started(chat)
    chat.portal_connect()
    chat.say(DANA, "invite")
    found_by_the_check(chat, "inviting")
    told = chat.runtime.conversation.watch()  # the outbox's next round
    alarmed_everyone(
        told, "while the migration was inviting", (INVITED_LOCKED_OUT_COUNTED, INVITED_LOCKED_OUT)
    )


def test_a_final_approval_that_finds_the_click_alarms_every_admin_and_voids_the_request(chat: Chat) -> None:
    started(chat)
    chat.say(DANA, "request-approval anyway")
    chat.portal_connect()
    told = chat.say(LEE, "approve 1")
    found_by_the_check(chat, "awaiting_approval", approval_id=1)
    alarmed_everyone(told, "while approval #1 was still waiting (it is void now)")
    assert "fabrikam-fiber is already connected to Fabrikam, so there is nothing to approve or connect." in (
        said(told)
    )


def test_a_take_over_that_finds_the_click_answers_with_the_alarm(
    chat: Chat, box: Sandbox, fabrikam: dict[str, Any]
) -> None:
    dana_a_guest(box, fabrikam)
    chat.say(DANA, START)
    assert chat.state() == "blocked"
    chat.portal_connect()
    told = chat.say(LEE, f"connect-as-me {ORG}")
    found_by_the_check(chat, "blocked")
    # answered as a `recheck` that finds it: with the alarm, not "you are the one who connects"
    assert [(message.to, message.message.summary) for message in told] == [
        (Channel("#aad-migration"), URGENT),
        (DirectMessage(DANA), URGENT),
        (DirectMessage(LEE), URGENT),
    ]
    assert "in the portal while the migration was blocked." in said(told[:1])


def test_a_take_over_that_voided_a_waiting_request_names_it_in_the_alarm(chat: Chat) -> None:
    """rev48: the take-over's re-check voided approval #1, yet the alarm said "while the migration was
    awaiting approval" and recorded no request."""
    started(chat)
    chat.say(DANA, "request-approval anyway")
    chat.portal_connect()
    told = chat.say(LEE, f"connect-as-me {ORG}")
    found_by_the_check(chat, "awaiting_approval", approval_id=1)
    alarmed_everyone(told, "while approval #1 was still waiting (it is void now)")


def test_a_recheck_that_voided_a_waiting_request_names_it_in_the_alarm(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-check's own look at the connection fails (Azure DevOps did not answer it); the check that
    follows finds the click, after voiding approval #1."""
    started(chat)
    chat.say(DANA, "request-approval anyway")
    chat.portal_connect()

    def unanswered(organization: str) -> str:
        raise MicrosoftError("Azure DevOps did not answer in time.")

    monkeypatch.setattr(chat.runtime.microsoft, "organization_tenant_id", unanswered)
    told = chat.say(DANA, "recheck")
    found_by_the_check(chat, "awaiting_approval", approval_id=1)
    alarmed_everyone(told, "while approval #1 was still waiting (it is void now)")


def test_found_connected_before_anything_was_planned_stays_a_start_that_found_it_so(chat: Chat) -> None:
    chat.portal_connect()
    summary = started(chat)
    assert chat.state() == "connected"
    (entry,) = [entry for entry in chat.runtime.service.audit_trail(ORG) if entry.state_after == "connected"]
    assert (entry.action, entry.state_before) == ("found_connected", "checking_prerequisites")
    assert urgent(summary) == [] and urgent(chat.runtime.conversation.watch()) == []


def connections_held_while_the_admins_are_listed(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The database connections checked out each time Azure DevOps is asked for the admins (afresh)."""
    pool = chat.runtime.database.engine.pool
    held: list[int] = []
    listing = Administrators._fetch

    def listed(self: Administrators, organization: str) -> tuple[str, ...]:
        held.append(pool.checkedout())  # type: ignore[attr-defined]
        return listing(self, organization)

    monkeypatch.setattr(Administrators, "_cached", lambda self, organization: None)
    monkeypatch.setattr(Administrators, "_fetch", listed)
    return held


def test_the_watchs_alarm_lists_the_admins_with_no_transaction_open(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(chat)
    chat.portal_connect()
    held = connections_held_while_the_admins_are_listed(chat, monkeypatch)
    told = chat.runtime.conversation.watch()
    assert held == [0]
    assert [message.to for message in urgent(told)] == [
        Channel("#aad-migration"),
        DirectMessage(DANA),
        DirectMessage(LEE),
    ]


def test_a_resumes_alarm_lists_the_admins_with_no_transaction_open(
    chat: Chat, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_recheck(chat, box, monkeypatch)
    chat.portal_connect()
    held = connections_held_while_the_admins_are_listed(chat, monkeypatch)
    told = chat.say(DANA, "resume")
    assert held and set(held) == {0}  # the asker's admin check too, and the alarm's list
    assert [message.to for message in urgent(told)] == [
        Channel("#aad-migration"),
        DirectMessage(DANA),
        DirectMessage(LEE),
    ]
